"""Checks that turn a metric's inputs into validated float feature rows and integer labels."""

from __future__ import annotations

from typing import Any

import numpy as np

from kgan.errors import KganError


def as_features(x: Any, what: str, min_rows: int = 2) -> np.ndarray:
    """`x` as a finite 2-D float64 `(samples, features)` array of at least `min_rows` rows;
    `KganError` naming `what` otherwise."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise KganError(f"{what} must be a 2-D (samples, features) array, got shape {x.shape}")
    if len(x) < min_rows:
        raise KganError(f"{what} needs at least {min_rows} samples, got {len(x)}")
    if not np.all(np.isfinite(x)):
        raise KganError(f"{what} contains NaN or infinite values")
    return x


def same_width(a: np.ndarray, b: np.ndarray) -> None:
    """Fails unless both feature matrices have as many columns (features of one extractor)."""
    if a.shape[1] != b.shape[1]:
        raise KganError(
            f"Feature widths differ: {a.shape[1]} vs {b.shape[1]} (same extractor on both sides?)"
        )


def as_labels(x: Any, rows: int, what: str) -> np.ndarray:
    """`x` as a 1-D int64 array of `rows` classes; `KganError` naming `what` otherwise."""
    y = np.asarray(x)
    if y.ndim != 1 or len(y) != rows:
        raise KganError(f"{what} must be a 1-D array of {rows} classes, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise KganError(f"{what} must hold integer classes, got dtype {y.dtype}")
    return y.astype(np.int64)
