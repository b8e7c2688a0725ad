"""Two-dimensional Gaussian mixtures for GAN stability studies, and their mode-coverage metric.

`ring8` (8 Gaussians on the unit circle, std 0.01) and `grid25` (25 Gaussians on
{-4,-2,0,2,4}^2, std 0.05) are the standard mode-collapse benchmarks of the GAN literature
(Metz et al. 2017, Srivastava et al. 2017; VEEGAN/PacGAN protocol).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Mixture:
    """Equal-weight isotropic Gaussian mixture in 2-D."""

    centres: np.ndarray
    std: float

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        which = rng.integers(0, len(self.centres), size=n)
        noise = rng.normal(0.0, self.std, size=(n, 2))
        return (self.centres[which] + noise).astype(np.float32)


def _ring(k: int, radius: float) -> np.ndarray:
    angles = 2 * np.pi * np.arange(k) / k
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)


MIXTURES: dict[str, Mixture] = {
    "ring8": Mixture(_ring(8, 1.0), 0.01),
    "grid25": Mixture(
        np.array([(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], float), 0.05
    ),
}


def get(name: str) -> Mixture:
    """The named mixture; the error lists the valid names."""
    try:
        return MIXTURES[name]
    except KeyError:
        raise ValueError(
            f"Unknown toy dataset {name!r}; valid names: {', '.join(sorted(MIXTURES))}"
        ) from None


def sample(name: str, n: int, seed: int = 0) -> np.ndarray:
    """`n` points of the named mixture as float32 `(n, 2)`, reproducible from `seed`.

    Example:
        >>> sample("ring8", 4, seed=0).shape
        (4, 2)
    """
    return get(name).sample(n, seed)


def mode_coverage(samples: np.ndarray, name: str, quality_stds: float = 3.0) -> dict:
    """Modes captured, share of high-quality samples and reverse KL for a toy mixture.

    A sample is high quality when it lies within `quality_stds` standard deviations of its
    nearest mode; a mode is captured when it holds at least one high-quality sample
    (the protocol of VEEGAN / PacGAN, usually evaluated on 2,500 samples). Reverse KL is
    KL(generated mode histogram || uniform) over high-quality samples, so 0 means all modes
    are hit equally and log(K) means one mode only.
    """
    mixture = get(name)
    samples = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    dists = np.linalg.norm(samples[:, None, :] - mixture.centres[None], axis=-1)
    nearest = dists.argmin(axis=1)
    good = dists[np.arange(len(samples)), nearest] <= quality_stds * mixture.std
    k = len(mixture.centres)
    counts = np.bincount(nearest[good], minlength=k).astype(np.float64)
    if counts.sum() > 0:
        p = counts / counts.sum()
        nz = p > 0
        reverse_kl = float(np.sum(p[nz] * np.log(p[nz] * k)))
    else:
        reverse_kl = float(np.log(k))
    return {
        "modes": int((counts > 0).sum()),
        "num_modes": k,
        "high_quality": float(good.mean()) if len(samples) else 0.0,
        "reverse_kl": reverse_kl,
        "num_samples": int(len(samples)),
    }
