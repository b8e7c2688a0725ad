"""Manifold metrics on k-nearest-neighbour balls: precision/recall and density/coverage."""

from __future__ import annotations

from typing import Any

from kgan.metrics.arrays import as_features, same_width
from kgan.metrics.neighbours import balls_containing, inside_any_ball, knn_radii, nearest
from kgan.metrics.registry import register


@register("pr", inputs=("real_features", "fake_features"))
def precision_recall(real_features: Any, fake_features: Any, k: int = 3) -> dict:
    """Improved precision and recall (Kynkäänniemi et al. 2019) on k-nearest-neighbour manifolds.

    Each set's manifold is the union of balls around its points with radius the distance to
    the point's k-th nearest neighbour in the same set. Precision is the share of generated
    samples inside the real manifold (fidelity); recall the share of real samples inside
    the generated manifold (coverage). Both lie in [0, 1].

    Example:
        >>> precision_recall(real, fake, k=3)
        {'precision': 0.81, 'recall': 0.62, 'k': 3, 'num_real': 5000, 'num_fake': 5000}
    """
    real = as_features(real_features, "real_features", min_rows=k + 1)
    fake = as_features(fake_features, "fake_features", min_rows=k + 1)
    same_width(real, fake)
    precision = inside_any_ball(fake, real, knn_radii(real, k)).mean()
    recall = inside_any_ball(real, fake, knn_radii(fake, k)).mean()
    return {
        "precision": float(precision),
        "recall": float(recall),
        "k": int(k),
        "num_real": len(real),
        "num_fake": len(fake),
    }


@register("dc", inputs=("real_features", "fake_features"))
def density_coverage(real_features: Any, fake_features: Any, k: int = 5) -> dict:
    """Density and coverage (Naeem et al. 2020) on the real k-nearest-neighbour balls.

    Ball i is centred on real sample i with radius its distance to its k-th nearest other
    real sample. Density is the mean number of real balls a generated sample lies in,
    divided by k: about 1 when generated samples sit where real ones do, above 1 when they
    crowd the dense regions, and, unlike precision, not inflated by real outliers. Coverage
    is the share of real balls holding at least one generated sample: it falls when modes
    are missing. Balls are open (as in the paper's code); compare at equal N.

    Example:
        >>> density_coverage(real, fake)
        {'density': 0.97, 'coverage': 0.94, 'k': 5, 'num_real': 5000, 'num_fake': 5000}
    """
    real = as_features(real_features, "real_features", min_rows=k + 1)
    fake = as_features(fake_features, "fake_features", min_rows=1)
    same_width(real, fake)
    radii = knn_radii(real, k)
    density = balls_containing(fake, real, radii).sum() / (k * len(fake))
    coverage = (nearest(real, fake)[0] < radii).mean()
    return {
        "density": float(density),
        "coverage": float(coverage),
        "k": int(k),
        "num_real": len(real),
        "num_fake": len(fake),
    }
