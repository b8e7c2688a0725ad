"""Memorisation audit: how close generated samples come to the training set."""

from __future__ import annotations

from typing import Any

import numpy as np

from kgan.errors import KganError
from kgan.metrics.arrays import as_features, same_width
from kgan.metrics.neighbours import knn_radii, nearest
from kgan.metrics.registry import register

#: A generated sample is a near-copy below this ratio of its gap to the training data to
#: the training data's own spacing there (see `memorisation`).
NEAR_COPY_THRESHOLD = 0.2


@register("memorisation", inputs=("train_features", "fake_features"))
def memorisation(
    train_features: Any, fake_features: Any, threshold: float = NEAR_COPY_THRESHOLD
) -> dict:
    """Memorisation audit: how close generated samples come to their nearest training example.

    For each generated sample g with nearest training example t, the ratio
    `|g - t| / |t - t'|`, where t' is t's own nearest other training example, compares the
    gap to the training data with the spacing of the training data around that spot. A fresh
    sample of the data distribution typically has a ratio near 1; a copy has 0. A sample is
    a *near-copy* when its ratio is below `threshold` (default 0.2: it is at least five times
    closer to a training example than that example's own nearest neighbour is). Reported:
    `median_ratio`, `near_copy_share`, and the median nearest-neighbour distances of the
    generated samples to the training set and of the training set to itself (leave-one-out).

    Example:
        >>> memorisation(train_feats, train_feats[:10])["near_copy_share"]
        1.0
    """
    train = as_features(train_features, "train_features")
    fake = as_features(fake_features, "fake_features", min_rows=1)
    same_width(train, fake)
    if not threshold > 0:
        raise KganError(f"threshold must be positive, got {threshold}")
    train_nn = knn_radii(train, 1)
    fake_nn, closest = nearest(fake, train)
    spacing = train_nn[closest]
    ratio = np.where(fake_nn == 0, 0.0, fake_nn / np.maximum(spacing, 1e-12))
    return {
        "median_ratio": float(np.median(ratio)),
        "near_copy_share": float((ratio < threshold).mean()),
        "threshold": float(threshold),
        "median_fake_to_train": float(np.median(fake_nn)),
        "median_train_to_train": float(np.median(train_nn)),
        "num_train": len(train),
        "num_fake": len(fake),
    }
