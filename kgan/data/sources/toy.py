"""`ToySource`: fixed draws of the 2-D mixtures (`ring8`, `grid25`)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kgan.data.sources.base import VECTOR, Native, Source


class ToySource(Source):
    """`ring8`, `grid25`: fixed draws of the 2-D mixtures of `kgan.toy` (train: 10,000 points
    drawn with seed 0; test: 2,000 with seed 1). Points are used as they are (not rescaled)."""

    SIZES = {"train": (10_000, 0), "test": (2_000, 1)}

    def splits(self) -> list[str]:
        return list(self.SIZES)

    def _points(self, split: str) -> np.ndarray:
        from kgan import toy

        self.check_split(split)
        n, seed = self.SIZES[split]
        return toy.sample(self.source, n, seed)

    def native(self, split: str) -> Native:
        self.check_split(split)
        return Native(kind=VECTOR, shape=(2,), num_examples=self.SIZES[split][0])

    def examples(self, split, channels, *, shuffle_files=False, seed=None):
        points = self._points(split)
        return tf.data.Dataset.from_tensor_slices(
            (points, np.full((len(points),), -1, np.int32))
        )


__all__ = ["ToySource"]
