"""Distances between the real and generated feature distributions: FID and KID."""

from __future__ import annotations

from typing import Any

import numpy as np

from kgan.errors import KganError
from kgan.metrics.arrays import as_features, same_width
from kgan.metrics.registry import register


def feature_stats(features: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (unbiased, rows are samples) of a feature matrix.

    Example:
        >>> mu, sigma = feature_stats(np.random.default_rng(0).normal(size=(100, 3)))
    """
    x = as_features(features, "features")
    return x.mean(0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def frechet_distance(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """Fréchet distance between Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    `|mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))`. The trace of the matrix
    square root is the sum of the square roots of the eigenvalues of `sigma1 @ sigma2`, which
    are real and non-negative for covariance matrices (tiny negative round-off is clipped), so
    no iterative `sqrtm` is needed and singular covariances are fine.

    Example:
        >>> frechet_distance([0, 0], np.eye(2), [3, 4], 4 * np.eye(2))
        27.0
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, float)), np.atleast_1d(np.asarray(mu2, float))
    sigma1, sigma2 = (
        np.atleast_2d(np.asarray(sigma1, float)),
        np.atleast_2d(np.asarray(sigma2, float)),
    )
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise KganError(
            f"Mismatched Gaussian shapes: {mu1.shape}, {sigma1.shape} "
            f"vs {mu2.shape}, {sigma2.shape}"
        )
    eig = np.linalg.eigvals(sigma1 @ sigma2).real
    tr_sqrt = np.sqrt(np.clip(eig, 0.0, None)).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_sqrt
    return float(max(value, 0.0))


@register("fid", inputs=("real_features", "fake_features"))
def fid(real_features: Any, fake_features: Any) -> dict:
    """Fréchet distance between Gaussians fitted to real and generated features (FID).

    Biased upwards at small sample sizes, so compare values computed with equal counts.

    Example:
        >>> fid(real, fake)
        {'fid': 3.1, 'num_real': 5000, 'num_fake': 5000}
    """
    real = as_features(real_features, "real_features")
    fake = as_features(fake_features, "fake_features")
    same_width(real, fake)
    value = frechet_distance(*feature_stats(real), *feature_stats(fake))
    return {"fid": value, "num_real": len(real), "num_fake": len(fake)}


def _cubic_kernel(a: np.ndarray, b: np.ndarray, d: int) -> np.ndarray:
    """`(a @ b.T / d + 1) ** 3`, in place and by multiplication (3x faster than `** 3`)."""
    k = a @ b.T
    k /= d
    k += 1.0
    cube = k * k
    cube *= k
    return cube


@register("kid", inputs=("real_features", "fake_features"))
def kid(
    real_features: Any,
    fake_features: Any,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> dict:
    """Kernel distance (KID, Bińkowski et al. 2018): unbiased MMD² with a cubic polynomial kernel.

    `k(x, y) = (x·y / d + 1)^3`; the unbiased MMD² estimate is averaged over `num_subsets`
    random subsets of `min(subset_size, N, M)` rows drawn from each side (reproducible from
    `seed`). `kid` is the mean (it can be slightly negative when the two sides match) and
    `kid_std` the standard deviation over subsets.

    Example:
        >>> kid(real, fake, num_subsets=10, subset_size=500)
        {'kid': 0.002, 'kid_std': 0.0004, 'num_real': 5000, 'num_fake': 5000, ...}
    """
    real = as_features(real_features, "real_features")
    fake = as_features(fake_features, "fake_features")
    same_width(real, fake)
    if num_subsets < 1:
        raise KganError(f"num_subsets must be at least 1, got {num_subsets}")
    m = min(subset_size, len(real), len(fake))
    if m < 2:
        raise KganError(f"KID needs subsets of at least 2 samples, got {m}")
    d = real.shape[1]
    rng = np.random.default_rng(seed)
    values = np.empty(num_subsets)
    for i in range(num_subsets):
        x = fake[rng.choice(len(fake), m, replace=False)]
        y = real[rng.choice(len(real), m, replace=False)]
        kxx, kyy, kxy = _cubic_kernel(x, x, d), _cubic_kernel(y, y, d), _cubic_kernel(x, y, d)
        within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        values[i] = within - 2.0 * kxy.mean()
    return {
        "kid": float(values.mean()),
        "kid_std": float(values.std()),
        "num_real": len(real),
        "num_fake": len(fake),
        "num_subsets": int(num_subsets),
        "subset_size": int(m),
    }
