"""Metrics over classes: classifier score, diversity inside each class, class balance."""

from __future__ import annotations

from typing import Any

import numpy as np

from kgan.errors import KganError
from kgan.metrics.arrays import as_features, as_labels, same_width
from kgan.metrics.neighbours import inside_any_ball, knn_radii
from kgan.metrics.registry import register


@register("classifier_score", inputs=("fake_probabilities",))
def classifier_score(fake_probabilities: Any, num_splits: int = 10) -> dict:
    """Inception-score-style classifier score: `exp(E_x KL(p(y|x) || p(y)))`.

    Computed on each of `num_splits` consecutive splits (at most one per sample), giving the
    mean and standard deviation. It ranges from 1 (every sample gets the same prediction)
    to the number of classes (confident predictions, classes equally frequent).

    Example:
        >>> classifier_score([[0.5, 0.5], [1.0, 0.0]], num_splits=1)["classifier_score"]
        1.2408...
    """
    p = np.asarray(fake_probabilities, dtype=np.float64)
    if p.ndim != 2 or len(p) < 1:
        raise KganError(f"fake_probabilities must be a (samples, classes) array, got {p.shape}")
    if np.any(p < 0) or not np.allclose(p.sum(1), 1.0, atol=1e-3):
        raise KganError("fake_probabilities rows must be non-negative and sum to 1")
    splits = max(1, min(int(num_splits), len(p)))
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0)
        scores.append(np.exp(terms.sum(1).mean()))
    return {
        "classifier_score": float(np.mean(scores)),
        "classifier_score_std": float(np.std(scores)),
        "num_fake": len(p),
        "num_splits": splits,
        "num_classes": int(p.shape[1]),
    }


def spread(x: np.ndarray) -> float:
    """Mean per-feature standard deviation: how much a set of rows varies."""
    return float(np.mean(np.std(np.asarray(x, np.float64), axis=0)))


def _equal_subsets(a: np.ndarray, b: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`a` and `b` cut to the size of the smaller (a fixed random subset of the larger):
    k-NN radii and spreads shrink or wobble with set size, so both sides get the same N."""
    n = min(len(a), len(b))
    rng = np.random.default_rng(seed)

    def cut(x: np.ndarray) -> np.ndarray:
        return x if len(x) == n else x[np.sort(rng.choice(len(x), n, replace=False))]

    return cut(a), cut(b)


@register("class_diversity", inputs=("real_features", "real_labels", "fake_features", "fake_labels"))
def class_diversity(
    real_features: Any,
    real_labels: Any,
    fake_features: Any,
    fake_labels: Any,
    k: int = 3,
    seed: int = 0,
) -> dict:
    """Diversity inside each class: the generated rows of class c against the real rows of c.

    A generator can draw every class and still ignore its latent inside one (each "3" the
    same "3"): FID over all classes barely sees that, these numbers do. Per class, at equal
    N on both sides: `spread_ratio` = generated spread / real spread (mean per-feature
    standard deviation; 1 is as varied as the data) and `recall` (improved recall, k-NN
    manifolds with `k`). Reported as per-class lists (`classes`, `spread_ratio_by_class`,
    `recall_by_class`), their means (`spread_ratio`, `class_recall`) and minima
    (`min_spread_ratio`, `min_class_recall`, `worst_class`: the class of the lowest spread).
    Classes with fewer than k + 1 rows on either side are skipped (`skipped_classes`).

    Example:
        >>> class_diversity(real, real_y, fake, fake_y)["spread_ratio"]
        0.97
    """
    real = as_features(real_features, "real_features")
    fake = as_features(fake_features, "fake_features")
    same_width(real, fake)
    real_y = as_labels(real_labels, len(real), "real_labels")
    fake_y = as_labels(fake_labels, len(fake), "fake_labels")
    classes, spreads, recalls, skipped = [], [], [], []
    for c in np.unique(np.concatenate([real_y, fake_y])):
        r, f = _equal_subsets(real[real_y == c], fake[fake_y == c], seed + int(c))
        if len(r) <= k:
            skipped.append(int(c))
            continue
        classes.append(int(c))
        spreads.append(spread(f) / max(spread(r), 1e-12))
        recalls.append(float(inside_any_ball(r, f, knn_radii(f, k)).mean()))
    if not classes:
        raise KganError(f"class_diversity needs more than {k} rows of some class on both sides")
    worst = int(np.argmin(spreads))
    return {
        "spread_ratio": float(np.mean(spreads)),
        "min_spread_ratio": float(spreads[worst]),
        "worst_class": classes[worst],
        "class_recall": float(np.mean(recalls)),
        "min_class_recall": float(np.min(recalls)),
        "classes": classes,
        "spread_ratio_by_class": [float(v) for v in spreads],
        "recall_by_class": recalls,
        "skipped_classes": skipped,
        "k": int(k),
        "num_real": len(real),
        "num_fake": len(fake),
    }


@register("class_balance", inputs=("fake_probabilities",))
def class_balance(fake_probabilities: Any) -> dict:
    """Each class's share of the generated samples, by the classifier's top class.

    A balanced generator of C classes gives each about 1/C; `min_share` and `max_share`
    show the rarest and the most common (`share_by_class` lists all).

    Example:
        >>> class_balance(np.eye(10)[np.arange(1000) % 10])["min_share"]
        0.1
    """
    p = as_features(fake_probabilities, "fake_probabilities", min_rows=1)
    shares = np.bincount(p.argmax(1), minlength=p.shape[1]) / len(p)
    return {
        "min_share": float(shares.min()),
        "max_share": float(shares.max()),
        "share_by_class": [float(v) for v in shares],
        "num_classes": int(p.shape[1]),
        "num_fake": len(p),
    }
