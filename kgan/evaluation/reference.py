"""The real side of an evaluation: reference and held-out features, their classes, on-disk cache.

`RealData` belongs to one `Evaluator` and reads through it (`real_labelled`, `features`), so
the real rows are loaded and mapped to the feature space exactly as generated ones are.
Image extractors' features are cached by `kgan.features.reference_stats`; the classes of the
same rows sit beside them as `<stats>.labels.npy`, under the same cache key.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from kgan import features as features_lib
from kgan import metrics as metrics_lib
from kgan.evaluation.defaults import FLOOR_SPLIT


class RealData:
    """The real rows an `Evaluator` compares with, loaded once and cached on disk.

    Example:
        >>> real = RealData(Evaluator("digits"))
        >>> real.reference().features.shape, real.reference_labels().shape
    """

    def __init__(self, evaluator: Any) -> None:
        self.evaluator = evaluator
        self._reference = None
        self._floor: Any = None  # held-out features; False when there are none
        self._key: str | None = None
        self._labels: dict[str, np.ndarray | None] = {}  # split -> classes of its rows
        self._fresh_labels: dict[str, np.ndarray] = {}  # read with the images, not yet cached

    def reference(self) -> features_lib.ReferenceStats:
        """Features and statistics of the first `reference_num` real training examples
        (computed once, then cached on disk for image extractors)."""
        if self._reference is None:
            self._reference = self._load_reference()
        return self._reference

    def _load_reference(self) -> features_lib.ReferenceStats:
        ev = self.evaluator
        if ev.extractor is None:
            x = ev.features(self._read(ev.reference_num, ev.split))
            mean, cov = metrics_lib.feature_stats(x)
            return features_lib.ReferenceStats(x, mean, cov, ev.dataset, ev.split, "raw", len(x))
        return self._cached_stats(ev.split, ev.reference_num)

    def floor_features(self) -> np.ndarray | None:
        """Features of the held-out real split (`FLOOR_SPLIT`, up to `reference_num`), the
        real-vs-real floor's other side; None when the data has no such split (or it is the
        reference split itself)."""
        if self._floor is None:
            self._floor = self._load_floor()
        return self._floor if isinstance(self._floor, np.ndarray) else None

    def _load_floor(self):
        from kgan import data

        ev = self.evaluator
        if ev.split == FLOOR_SPLIT or ev.feature_space is None:
            return False
        try:
            info = data.info(
                ev.dataset, split=FLOOR_SPLIT, image_size=ev.image_size,
                channels=ev.channels, data_dir=ev.data_dir,
            )
            count = int(min(ev.reference_num, info.num_examples or ev.reference_num))
        except Exception:  # noqa: BLE001 - no held-out split: FID is reported without a floor
            return False
        if count < 2:
            return False
        if ev.extractor is None:
            return ev.features(self._read(count, FLOOR_SPLIT))
        return self._cached_stats(FLOOR_SPLIT, count).features

    def _cached_stats(self, split: str, count: int) -> features_lib.ReferenceStats:
        """The extractor's statistics of `split`'s first `count` rows, from the cache or fresh."""
        ev = self.evaluator
        return features_lib.reference_stats(
            self.cache_key(),
            ev.extractor,
            lambda: ev._fit(self._read(count, split)),
            split=split,
            count=count,
            cache_dir=ev.cache_dir,
        )

    def reference_labels(self) -> np.ndarray | None:
        """Classes of the reference rows (the first `reference_num` of the split), None when
        the data has no labels; cached on disk beside the reference features."""
        return self._split_labels(self.evaluator.split, len(self.reference().features))

    def floor_labels(self) -> np.ndarray | None:
        """Classes of the held-out rows of `floor_features()` (None: no floor or no labels)."""
        held_out = self.floor_features()
        return None if held_out is None else self._split_labels(FLOOR_SPLIT, len(held_out))

    def _read(self, limit: int, split: str) -> np.ndarray:
        """`evaluator.real(limit, split)`, keeping the classes read in the same pass for
        `_split_labels` (a cold cache then reads the data once)."""
        x, y = self.evaluator.real_labelled(limit, split)
        if y is not None:
            self._fresh_labels[split] = y
        return x

    def _split_labels(self, split: str, count: int) -> np.ndarray | None:
        if split not in self._labels:
            num_classes = self.evaluator.num_classes
            self._labels[split] = self._load_labels(split, count) if num_classes else None
        return self._labels[split]

    def _load_labels(self, split: str, count: int) -> np.ndarray:
        path = self._labels_path(split, count)
        num_classes = self.evaluator.num_classes
        found = read_labels(path, count, num_classes) if path is not None else None
        if found is not None:
            return found
        y = self._fresh_labels.pop(split, None)
        if y is None or len(y) != count:
            y = self.evaluator.real_labelled(count, split)[1]
        y = np.asarray(y, np.int32)
        if path is not None:
            write_labels(path, y)
        return y

    def _labels_path(self, split: str, count: int):
        """The labels' file beside the split's cached features (same key; None for `raw`)."""
        ev = self.evaluator
        if ev.extractor is None:
            return None
        stats = features_lib.cache_path(self.cache_key(), split, ev.extractor, count, ev.cache_dir)
        return stats.with_name(f"{stats.stem}.labels.npy")

    def cache_key(self) -> str:
        """The cached statistics' name: dataset, size, channels and the data's version."""
        if self._key is None:
            ev = self.evaluator
            self._key = cache_key(ev.dataset, ev.image_size, ev.channels, ev.data_dir)
        return self._key


def cache_key(
    dataset: str, image_size: int | None, channels: int | None, data_dir: str | None
) -> str:
    """The name a dataset's statistics are cached under, at a run's size and channels; it
    carries the data's version, so a changed folder or file gets new statistics."""
    from kgan import data

    key = re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset)
    if image_size:
        key += f"-{image_size}px"
    if channels:
        key += f"-{channels}ch"
    version = data.version(dataset, data_dir)
    if version:
        key += f"-{version}"
    return key


def read_labels(path, count: int, num_classes: int) -> np.ndarray | None:
    """Cached labels, or None when the file is missing or not `count` classes in range."""
    try:
        y = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if y.shape != (count,) or not np.issubdtype(y.dtype, np.integer):
        return None
    if count and (y.min() < 0 or y.max() >= num_classes):
        return None
    return y.astype(np.int32)


def write_labels(path, labels: np.ndarray) -> None:
    """Writes labels as .npy through a temporary file (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, labels)
    os.replace(tmp, path)
