"""`FeatureExtractor`, the base of every extractor: input checks, batching, the interface.

Subclasses say what images they take (`image_shape`), how wide their features are and how they
are fingerprinted, and implement `_run` on one prepared batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kgan.errors import KganError


def _to_numpy(x: Any) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x))


class FeatureExtractor:
    """Maps images in [-1, 1] to feature vectors; subclasses implement `_run`.

    `image_shape` is the `(H, W, C)` the extractor takes (None where any size goes);
    `num_features` the width of `features`; `fingerprint` identifies the weights (it is part
    of the reference-statistics cache key); `num_classes` is None for non-classifiers.
    """

    name: str
    image_shape: tuple[int | None, int | None, int | None] = (None, None, None)
    num_features: int
    num_classes: int | None = None

    def features(self, images: Any, batch_size: int = 256) -> np.ndarray:
        """`(N, num_features)` float32 features of `(N, H, W, C)` images in [-1, 1].

        Example:
            >>> get("digits").features(np.zeros((5, 8, 8, 1))).shape
            (5, 64)
        """
        return self._batched(images, batch_size, want_probabilities=False)

    def probabilities(self, images: Any, batch_size: int = 256) -> np.ndarray:
        """`(N, num_classes)` class probabilities; only for classifier extractors.

        Example:
            >>> get("mnist").probabilities(images).argmax(1)  # predicted digits
        """
        if self.num_classes is None:
            raise KganError(
                f"The {self.name!r} extractor is not a classifier: it has no probabilities"
            )
        return self._batched(images, batch_size, want_probabilities=True)

    @property
    def fingerprint(self) -> str:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config()})"

    # -- internals

    def _run(self, batch: np.ndarray) -> tuple[Any, Any]:
        """(features, probabilities or None) for one prepared batch."""
        raise NotImplementedError

    def _prepare(self, images: Any) -> np.ndarray:
        x = np.asarray(images, dtype=np.float32)
        h, w, c = self.image_shape
        if x.ndim == 3 and c in (1, None):
            x = x[..., None]
        if x.ndim != 4:
            raise KganError(
                f"The {self.name!r} extractor takes (N, H, W, C) images, got shape {x.shape}"
            )
        for got, want, what in zip(
            x.shape[1:], (h, w, c), ("height", "width", "channels"), strict=True
        ):
            if want is not None and got != want:
                raise KganError(
                    f"The {self.name!r} extractor takes {self._shape_text()} images; "
                    f"got {what} {got} (shape {x.shape})"
                )
        if x.size and not np.all(np.isfinite(x)):
            raise KganError("Images contain NaN or infinite values")
        if x.size and (x.min() < -1.5 or x.max() > 1.5):
            raise KganError(
                f"Feature extractors take images scaled to [-1, 1]; got values in "
                f"[{x.min():g}, {x.max():g}] (for 0-255 pixels use x / 127.5 - 1)"
            )
        return np.clip(x, -1.0, 1.0)

    def _shape_text(self) -> str:
        return "x".join("any" if d is None else str(d) for d in self.image_shape)

    def _batched(self, images: Any, batch_size: int, want_probabilities: bool) -> np.ndarray:
        if batch_size < 1:
            raise KganError(f"batch_size must be at least 1, got {batch_size}")
        x = self._prepare(images)
        parts = []
        for start in range(0, len(x), batch_size):
            feats, probs = self._run(x[start : start + batch_size])
            parts.append(_to_numpy(probs if want_probabilities else feats).astype(np.float32))
        if not parts:
            width = self.num_classes if want_probabilities else self.num_features
            return np.zeros((0, width), np.float32)
        return np.concatenate(parts)
