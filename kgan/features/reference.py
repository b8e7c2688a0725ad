"""Features and statistics of real data, computed once per (dataset, split, extractor weights,
count) and cached as .npz: what FID and KID compare generated samples against."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from kgan.errors import KganError
from kgan.features.base import FeatureExtractor
from kgan.features.registry import get
from kgan.cache import CACHE_ENV, cache_root



@dataclass(frozen=True)
class ReferenceStats:
    """Features of real data and their mean and covariance, as cached by `reference_stats`."""

    features: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    dataset: str
    split: str
    extractor: str
    count: int
    path: Path | None = None


def default_cache_dir() -> Path:
    """`$KGAN_CACHE_DIR`, else `~/.cache/kgan/reference_stats` (created only when written)."""
    root = os.environ.get(CACHE_ENV)  # the stats sit at the top of a cache dir given explicitly
    return Path(root).expanduser() if root else cache_root() / "reference_stats"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def cache_path(
    dataset: str,
    split: str,
    extractor: FeatureExtractor,
    count: int,
    cache_dir: str | os.PathLike | None = None,
) -> Path:
    """Where `reference_stats` keeps one (dataset, split, extractor weights, count) entry."""
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    key = (
        f"{_safe(dataset)}-{_safe(split)}-{extractor.name}-{extractor.fingerprint}-{int(count)}.npz"
    )
    return root / key


def reference_stats(
    dataset: str,
    extractor: str | FeatureExtractor,
    images: np.ndarray | Callable[[], np.ndarray],
    *,
    split: str = "train",
    count: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    batch_size: int = 256,
) -> ReferenceStats:
    """Features and statistics of `count` real images, computed once and cached as .npz.

    The cache key is the dataset name, split, extractor name and weights fingerprint, and
    `count`. `images` is an array (its first `count` rows are used; `count` defaults to all)
    or a function returning one, called only when the cache has no entry (then `count` is
    required). The cache folder is `cache_dir`, else `default_cache_dir()`.

    Example:
        >>> stats = reference_stats("digits", "digits", lambda: load_real(), count=1437,
        ...                         cache_dir="/tmp/kgan-cache")
        >>> kgan.metrics.frechet_distance(stats.mean, stats.cov, *kgan.metrics.feature_stats(f))
    """
    from kgan.metrics import feature_stats

    extractor = get(extractor)
    if count is None:
        if callable(images):
            raise KganError("reference_stats needs count= when images is a function")
        count = len(images)
    if count < 2:
        raise KganError(f"reference_stats needs at least 2 images, got count={count}")
    path = cache_path(dataset, split, extractor, count, cache_dir)
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            return ReferenceStats(
                data["features"],
                data["mean"],
                data["cov"],
                dataset,
                split,
                extractor.name,
                count,
                path,
            )

    array = np.asarray(images() if callable(images) else images)
    if len(array) < count:
        raise KganError(f"{dataset} ({split}) has {len(array)} images, fewer than count={count}")
    feats = extractor.features(array[:count], batch_size=batch_size)
    mean, cov = feature_stats(feats)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, features=feats, mean=mean, cov=cov)
    os.replace(tmp, path)
    return ReferenceStats(feats, mean, cov, dataset, split, extractor.name, count, path)
