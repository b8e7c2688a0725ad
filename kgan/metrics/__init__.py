"""Sample-quality metrics as small registered functions over features (numpy/scipy only).

Feature extraction lives in `kgan.features`; every function here takes arrays and returns a
plain, JSON-serialisable dict of numbers that always includes the sample sizes it used.
Each metric declares the inputs it needs in `metric.inputs`, from this vocabulary:

| input                | meaning                                                          |
| -------------------- | ---------------------------------------------------------------- |
| `real_features`      | `(N, D)` features of real (reference) data                      |
| `fake_features`      | `(M, D)` features of generated samples                          |
| `train_features`     | `(N, D)` features of the generator's training set               |
| `fake_probabilities` | `(M, C)` class probabilities of generated samples               |
| `fake_samples`       | `(M, 2)` raw generated points (toy 2-D mixtures)                |
| `dataset`            | dataset name (toy 2-D mixtures)                                 |
| `real_labels`        | `(N,)` integer classes of the real rows                         |
| `fake_labels`        | `(M,)` classes of the generated rows (asked for, or classified) |

so a caller holding some of these can run any metric by name:

    >>> from kgan import metrics
    >>> metrics.compute("fid", real_features=real, fake_features=fake, extractor="digits")
    {'fid': 1.23, 'num_real': 1000, 'num_fake': 1000, 'extractor': 'digits'}

Registered names: `fid`, `kid`, `pr` (improved precision and recall), `dc` (density and
coverage), `classifier_score`, `memorisation`, `mode_coverage`, `class_diversity` (spread
and recall inside each class), `class_balance` (each class's share of the samples).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from kgan import toy
from kgan.errors import KganError
from kgan.registry import Registry

INPUTS = (
    "real_features",
    "fake_features",
    "train_features",
    "fake_probabilities",
    "fake_samples",
    "dataset",
    "real_labels",
    "fake_labels",
)

_METRICS: Registry = Registry("metric")


def register(name: str, inputs: tuple[str, ...]) -> Callable[[Callable], Callable]:
    """Registers a metric function under `name`, declaring the inputs it takes by keyword.

    Example:
        >>> @register("mean_gap", inputs=("real_features", "fake_features"))
        ... def mean_gap(real_features, fake_features):
        ...     return {"mean_gap": float(np.abs(real_features.mean() - fake_features.mean()))}
    """
    unknown = set(inputs) - set(INPUTS)
    if unknown:
        raise ValueError(f"Unknown metric inputs {sorted(unknown)}; valid: {', '.join(INPUTS)}")

    def decorator(fn: Callable) -> Callable:
        fn.inputs = tuple(inputs)
        return _METRICS.register(name)(fn)

    return decorator


def names() -> list[str]:
    """The registered metric names."""
    return _METRICS.names()


def get(identifier: str | Callable) -> Callable[..., dict]:
    """The metric function registered under a name; the error lists the valid names.

    Example:
        >>> get("fid").inputs
        ('real_features', 'fake_features')
    """
    if isinstance(identifier, str):
        return _METRICS.cls(identifier)
    if callable(identifier) and getattr(identifier, "name", None) in _METRICS.names():
        return identifier
    raise ValueError(f"Expected a metric name ({', '.join(names())}), got {identifier!r}")


def compute(
    identifier: str | Callable,
    extractor: Any = None,
    options: dict | None = None,
    **inputs: Any,
) -> dict:
    """Runs one metric on the inputs it declares (others are ignored); records the extractor.

    `extractor` is the name of the features' extractor, or the `kgan.features` extractor
    itself (then its weights fingerprint is recorded too). `options` are the metric's own
    keyword arguments (e.g. `{"num_subsets": 10}` for KID).

    Example:
        >>> compute("kid", real_features=real, fake_features=fake, extractor="mnist",
        ...         options={"num_subsets": 10})["kid"]
    """
    metric = get(identifier)
    missing = [k for k in metric.inputs if inputs.get(k) is None]
    if missing:
        raise KganError(f"Metric {metric.name!r} needs {', '.join(missing)}")
    result = metric(**{k: inputs[k] for k in metric.inputs}, **(options or {}))
    if extractor is not None:
        result["extractor"] = str(getattr(extractor, "name", extractor))
        if hasattr(extractor, "fingerprint"):
            result["extractor_fingerprint"] = str(extractor.fingerprint)
    return result


# --------------------------------------------------------------------------- helpers


def _as_features(x: Any, what: str, min_rows: int = 2) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise KganError(f"{what} must be a 2-D (samples, features) array, got shape {x.shape}")
    if len(x) < min_rows:
        raise KganError(f"{what} needs at least {min_rows} samples, got {len(x)}")
    if not np.all(np.isfinite(x)):
        raise KganError(f"{what} contains NaN or infinite values")
    return x


def _same_width(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[1] != b.shape[1]:
        raise KganError(
            f"Feature widths differ: {a.shape[1]} vs {b.shape[1]} (same extractor on both sides?)"
        )


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0)


def _chunks(n: int, rows: int):
    for start in range(0, n, rows):
        yield slice(start, min(start + rows, n))


def _chunk_rows(m: int) -> int:
    """Rows per block so a block of distances to `m` points stays near 32 MB."""
    return max(1, min(4096, (4 << 20) // max(m, 1)))


def knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row of `x` to its k-th nearest other row (leave-one-out).

    Example:
        >>> knn_radii(np.array([[0.0], [1.0], [3.0]]), 1)
        array([1., 1., 2.])
    """
    x = np.asarray(x, dtype=np.float64)
    if not 1 <= k < len(x):
        raise KganError(f"k must be between 1 and {len(x) - 1} for {len(x)} samples, got {k}")
    radii = np.empty(len(x))
    for rows in _chunks(len(x), _chunk_rows(len(x))):
        d = _squared_distances(x[rows], x)
        d[np.arange(d.shape[0]), np.arange(rows.start, rows.stop)] = np.inf  # leave self out
        radii[rows] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return np.sqrt(radii)


def _nearest(queries: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance to and index of each query's nearest point."""
    dist = np.empty(len(queries))
    index = np.empty(len(queries), dtype=np.int64)
    for rows in _chunks(len(queries), _chunk_rows(len(points))):
        d = _squared_distances(queries[rows], points)
        index[rows] = d.argmin(1)
        dist[rows] = d[np.arange(d.shape[0]), index[rows]]
    return np.sqrt(dist), index


def _inside_any_ball(queries: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Whether each query lies within radius of at least one centre (boundary included)."""
    inside = np.zeros(len(queries), dtype=bool)
    r2 = radii**2
    for rows in _chunks(len(queries), _chunk_rows(len(centres))):
        inside[rows] = (_squared_distances(queries[rows], centres) <= r2[None, :]).any(1)
    return inside


# --------------------------------------------------------------------------- Fréchet distance


def feature_stats(features: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (unbiased, rows are samples) of a feature matrix.

    Example:
        >>> mu, sigma = feature_stats(np.random.default_rng(0).normal(size=(100, 3)))
    """
    x = _as_features(features, "features")
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
    real = _as_features(real_features, "real_features")
    fake = _as_features(fake_features, "fake_features")
    _same_width(real, fake)
    value = frechet_distance(*feature_stats(real), *feature_stats(fake))
    return {"fid": value, "num_real": len(real), "num_fake": len(fake)}


# --------------------------------------------------------------------------- kernel distance


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
    real = _as_features(real_features, "real_features")
    fake = _as_features(fake_features, "fake_features")
    _same_width(real, fake)
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


# --------------------------------------------------------------------------- precision / recall


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
    real = _as_features(real_features, "real_features", min_rows=k + 1)
    fake = _as_features(fake_features, "fake_features", min_rows=k + 1)
    _same_width(real, fake)
    precision = _inside_any_ball(fake, real, knn_radii(real, k)).mean()
    recall = _inside_any_ball(real, fake, knn_radii(fake, k)).mean()
    return {
        "precision": float(precision),
        "recall": float(recall),
        "k": int(k),
        "num_real": len(real),
        "num_fake": len(fake),
    }


def _balls_containing(queries: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """How many centres' open balls (distance strictly under the radius) hold each query."""
    counts = np.zeros(len(queries), dtype=np.int64)
    r2 = radii**2
    for rows in _chunks(len(queries), _chunk_rows(len(centres))):
        counts[rows] = (_squared_distances(queries[rows], centres) < r2[None, :]).sum(1)
    return counts


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
    real = _as_features(real_features, "real_features", min_rows=k + 1)
    fake = _as_features(fake_features, "fake_features", min_rows=1)
    _same_width(real, fake)
    radii = knn_radii(real, k)
    density = _balls_containing(fake, real, radii).sum() / (k * len(fake))
    coverage = (_nearest(real, fake)[0] < radii).mean()
    return {
        "density": float(density),
        "coverage": float(coverage),
        "k": int(k),
        "num_real": len(real),
        "num_fake": len(fake),
    }


# --------------------------------------------------------------------------- classifier score


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


# --------------------------------------------------------------------------- memorisation


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
    train = _as_features(train_features, "train_features")
    fake = _as_features(fake_features, "fake_features", min_rows=1)
    _same_width(train, fake)
    if not threshold > 0:
        raise KganError(f"threshold must be positive, got {threshold}")
    train_nn = knn_radii(train, 1)
    fake_nn, nearest = _nearest(fake, train)
    spacing = train_nn[nearest]
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


# --------------------------------------------------------------------------- inside each class


def _labels(x: Any, rows: int, what: str) -> np.ndarray:
    y = np.asarray(x)
    if y.ndim != 1 or len(y) != rows:
        raise KganError(f"{what} must be a 1-D array of {rows} classes, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise KganError(f"{what} must hold integer classes, got dtype {y.dtype}")
    return y.astype(np.int64)


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
    real = _as_features(real_features, "real_features")
    fake = _as_features(fake_features, "fake_features")
    _same_width(real, fake)
    real_y = _labels(real_labels, len(real), "real_labels")
    fake_y = _labels(fake_labels, len(fake), "fake_labels")
    classes, spreads, recalls, skipped = [], [], [], []
    for c in np.unique(np.concatenate([real_y, fake_y])):
        r, f = _equal_subsets(real[real_y == c], fake[fake_y == c], seed + int(c))
        if len(r) <= k:
            skipped.append(int(c))
            continue
        classes.append(int(c))
        spreads.append(spread(f) / max(spread(r), 1e-12))
        recalls.append(float(_inside_any_ball(r, f, knn_radii(f, k)).mean()))
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
    p = _as_features(fake_probabilities, "fake_probabilities", min_rows=1)
    shares = np.bincount(p.argmax(1), minlength=p.shape[1]) / len(p)
    return {
        "min_share": float(shares.min()),
        "max_share": float(shares.max()),
        "share_by_class": [float(v) for v in shares],
        "num_classes": int(p.shape[1]),
        "num_fake": len(p),
    }


# --------------------------------------------------------------------------- toy mixtures


@register("mode_coverage", inputs=("fake_samples", "dataset"))
def mode_coverage(fake_samples: Any, dataset: str, quality_stds: float = 3.0) -> dict:
    """Modes captured, share of high-quality samples and reverse KL on a toy 2-D mixture.

    A registered wrapper around `kgan.toy.mode_coverage` (see there for the protocol).

    Example:
        >>> mode_coverage(toy.sample("ring8", 2500), "ring8")["modes"]
        8
    """
    return toy.mode_coverage(fake_samples, dataset, quality_stds=quality_stds)
