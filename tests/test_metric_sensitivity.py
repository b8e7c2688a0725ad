"""The definition of "the metric works": the headline digits FID must score each known failure
clearly worse than real held-out data at the same sample size, and the memorisation audit must
flag a generator that replays its training set.

Protocol (the one `kgan.evaluation.Evaluator("digits")` uses): the reference is the whole
training split (scikit-learn's first 1,500 digits), the floor is the FID of the whole test
split (the last 297, other writers) against it, and every failure is a set of N = 297 images
too, so floor and failure carry the same small-sample bias. Failures built from test images
(blur, noise) differ from the floor only by the corruption; the class-imbalanced set is a
subset of the test split and is compared with balanced test subsets of its own size.

Margins come from measurements (kgan/assets/README.md has the table): each is well below the
value `digits_pixels` measures and, for prototype collapse with k = 10, above what the old
classifier space measures (1.74x), which is why that space fails here.
"""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from sklearn.datasets import load_digits

from kgan import features, metrics

N = 297
#: Minimum FID / floor for each failure (measured on digits_pixels: 8.96, 3.77, 2.53, 10.5,
#: 3.09 and 1.49; on the old digits_classifier space: 5.76, 2.60, 1.74, 10.5, 4.57, 2.75).
MARGINS = {
    "prototypes k=1": 4.0,
    "prototypes k=3": 2.5,
    "prototypes k=10": 2.0,
    "blur sigma=1px": 4.0,
    "noise sigma=0.5": 2.0,
    "imbalanced": 1.3,
}
HEADLINE = features.default_for("digits")


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    x = (data.images.astype(np.float32) / 8.0 - 1.0)[..., None]
    y = data.target
    return x[:1500], y[:1500], x[1500:], y[1500:]


def prototypes(train, labels, k, *, first=True, seed=0):
    """N images that replay k training images per class (the first k of each class in the
    split's order, or k at random), each with N(0, 0.05) pixel noise."""
    rng = np.random.default_rng(seed)
    parts = []
    for c in range(10):
        pool = np.flatnonzero(labels == c)
        chosen = pool[:k] if first else rng.choice(pool, k, replace=False)
        parts.append(train[chosen[rng.integers(0, k, N // 10 + 1)]])
    x = np.concatenate(parts)[:N]
    return np.clip(x + rng.normal(0, 0.05, x.shape), -1, 1).astype(np.float32)


def blur(images, sigma=1.0):
    return np.stack(
        [gaussian_filter(im[..., 0], sigma, mode="constant", cval=-1.0) for im in images]
    )[..., None].astype(np.float32)


def noisy(images, sigma=0.5, seed=1):
    noise = np.random.default_rng(seed).normal(0, sigma, images.shape)
    return np.clip(images + noise, -1, 1).astype(np.float32)


def imbalanced(test, labels, seed=2):
    """The test split with classes 5-9 cut to a quarter (classes 0-4 then make 80%)."""
    rng = np.random.default_rng(seed)
    keep = []
    for c in range(10):
        pool = np.flatnonzero(labels == c)
        keep += list(pool if c < 5 else rng.choice(pool, len(pool) // 4, replace=False))
    return test[np.sort(keep)]


def measure(space, digits):
    """{case: (fid, floor at the same N)} in one feature space."""
    train, ytrain, test, ytest = digits
    extractor = features.get(space)
    reference = extractor.features(train)

    def fid(images):
        return metrics.fid(reference, extractor.features(images))["fid"]

    floor = fid(test)
    found = {f"prototypes k={k}": (fid(prototypes(train, ytrain, k)), floor) for k in (1, 3, 10)}
    found["blur sigma=1px"] = (fid(blur(test)), floor)
    found["noise sigma=0.5"] = (fid(noisy(test)), floor)
    skewed = imbalanced(test, ytest)
    rng = np.random.default_rng(3)
    balanced = [fid(test[rng.choice(N, len(skewed), replace=False)]) for _ in range(5)]
    found["imbalanced"] = (fid(skewed), float(np.mean(balanced)))
    return found


def failures(found):
    return {
        case: round(value / floor, 2)
        for case, (value, floor) in found.items()
        if value < MARGINS[case] * floor
    }


def test_headline_is_not_the_classifier_space():
    assert HEADLINE == "digits_pixels"


def test_headline_fid_scores_every_failure_clearly_worse_than_the_floor(digits):
    found = measure(HEADLINE, digits)
    assert failures(found) == {}, {c: round(v / f, 2) for c, (v, f) in found.items()}
    floor = found["blur sigma=1px"][1]
    assert 1.0 < floor < 1.7  # 1.354: real test vs real train, N = 297


def test_the_old_classifier_space_fails_the_suite(digits):
    """The space kgan reported until now cannot tell prototype collapse from real data."""
    failed = failures(measure("digits_classifier", digits))
    assert "prototypes k=10" in failed and failed["prototypes k=10"] < 2.0


@pytest.mark.parametrize("space", [HEADLINE, "digits_classifier"])
def test_memorisation_audit_flags_replay_and_not_real_data(digits, space):
    train, ytrain, test, _ = digits
    extractor = features.get(space)
    reference = extractor.features(train)

    def share(images):
        return metrics.memorisation(reference, extractor.features(images))["near_copy_share"]

    assert share(test) == 0.0  # held-out real data: no near-copies
    assert share(train[:N]) == 1.0  # exact replay of training images
    if space == HEADLINE:
        # 10 random training images per class with N(0, 0.05) noise: FID at N = 297 cannot
        # see this collapse in any space measured (1.0-1.2x the floor in pixels), the audit
        # can (0.84 of the samples are near-copies).
        assert share(prototypes(train, ytrain, 10, first=False)) > 0.5
