"""The definition of "the metric works": the headline digits FID must score each known failure
clearly worse than real held-out data at the same sample size, and the memorisation audit must
flag a generator that replays its training set.

Protocol (the one `kgan.evaluation.Evaluator("digits")` uses): the reference is the whole
training split (1,500 digits), the floor is the FID of the whole test split (297 digits held
out across all writers, stratified by class: `digits` 2.0.0) against it, and every failure is
a set of N = 297 images too, so floor and failure carry the same small-sample bias. Failures
built from test images (blur, noise) differ from the floor only by the corruption; the
class-imbalanced set is a subset of the test split and is compared with balanced test
subsets of its own size.

Margins come from measurements (kgan/assets/README.md has the table): each is about half the
value `digits_pixels` measures. The old protocol (the classifier's features, and scikit-learn's
last 297 images, other writers, as the floor) fails them: prototype collapse with k = 10
scored 1.74x a floor that was itself inflated by the writers' shift.
"""

import gzip
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from sklearn.datasets import load_digits

import kgan.data
from kgan import features, metrics
from kgan.evaluation import Evaluator
from kgan.data.builders.digits.digits_dataset_builder import split_indices

N = 297
#: Minimum FID / floor for each failure. Measured on digits_pixels (floor 0.443): 26.7, 11.8,
#: 6.97, 3.48, 31.9, 8.46 and 1.87; on digits_classifier (retrained on the 2.0.0 split): 23.1,
#: 10.4, 5.52, 2.34, 32.4, 13.5 and 4.68. Old protocol (old classifier, last-297 floor 1.47):
#: 5.76, 2.60, 1.74, -, 10.5, 4.57, 2.75.
MARGINS = {
    "prototypes k=1": 10.0,
    "prototypes k=3": 5.0,
    "prototypes k=10": 3.0,
    "prototypes k=10 random": 2.0,
    "blur sigma=1px": 10.0,
    "noise sigma=0.5": 4.0,
    "imbalanced": 1.4,
}
HEADLINE = features.default_for("digits")


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    x = (data.images.astype(np.float32) / 8.0 - 1.0)[..., None]
    y = data.target
    train, test = split_indices(y)  # kgan's digits splits: 297 stratified held-out images
    return x[train], y[train], x[test], y[test]


def prototypes(train, labels, k, *, first=True, seed=0, n=N):
    """n images that replay k training images per class (the first k of each class in the
    split's order, or k at random), each with N(0, 0.05) pixel noise."""
    rng = np.random.default_rng(seed)
    parts = []
    for c in range(10):
        pool = np.flatnonzero(labels == c)
        chosen = pool[:k] if first else rng.choice(pool, k, replace=False)
        parts.append(train[chosen[rng.integers(0, k, n // 10 + 1)]])
    x = np.concatenate(parts)[:n]
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
    found["prototypes k=10 random"] = (fid(prototypes(train, ytrain, 10, first=False)), floor)
    found["blur sigma=1px"] = (fid(blur(test)), floor)
    found["noise sigma=0.5"] = (fid(noisy(test)), floor)
    skewed = imbalanced(test, ytest)
    rng = np.random.default_rng(3)
    balanced = [fid(test[rng.choice(N, len(skewed), replace=False)]) for _ in range(5)]
    found["imbalanced"] = (fid(skewed), float(np.mean(balanced)))
    return found


def failures(found, margins=MARGINS):
    """{case: FID / floor} of the cases that score below their margin."""
    return {
        case: round(value / floor, 2)
        for case, (value, floor) in found.items()
        if value < margins[case] * floor
    }


def test_headline_is_not_the_classifier_space():
    assert HEADLINE == "digits_pixels"


def test_headline_fid_scores_every_failure_clearly_worse_than_the_floor(digits):
    found = measure(HEADLINE, digits)
    assert failures(found) == {}, {c: round(v / f, 2) for c, (v, f) in found.items()}
    floor = found["blur sigma=1px"][1]
    assert 0.3 < floor < 0.6  # 0.443: real test vs real train, N = 297


def test_the_old_protocol_fails_the_suite():
    """Until digits 2.0.0 the floor was scikit-learn's last 297 images (other writers, a
    shifted population): against it even a generator replaying 10 images per class looked
    close to real data, in pixels as in the classifier's features."""
    data = load_digits()
    x = (data.images.astype(np.float32) / 8.0 - 1.0)[..., None]
    y = data.target
    failed = failures(measure(HEADLINE, (x[:1500], y[:1500], x[1500:], y[1500:])))
    assert "prototypes k=10" in failed and failed["prototypes k=10"] < 3.0
    assert "prototypes k=10 random" in failed and failed["prototypes k=10 random"] < 1.5


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
        # 10 random training images per class with N(0, 0.05) noise: FID sees it (3.5x the
        # floor), and the audit names it (0.80 of the samples are near-copies).
        assert share(prototypes(train, ytrain, 10, first=False)) > 0.5


# --------------------------------------------------------------------------- MNIST
#
# Protocol (the one `Evaluator("mnist", image_size=32)` uses for the `mnist` preset): images
# go through kgan's pipeline at the run's 32x32 (28 -> 32, bilinear, antialiased) and every
# set, real or failed, is mapped back to the extractor's 28x28 by `Evaluator.features`. The
# reference is the first 10,000 training images (IDX order: the test reads the shared IDX
# files, not a prepared TFDS copy, whose order is shuffled), the floor is a fixed random
# N = 1,000 of the 10,000 test images (as `Evaluator.fid_floor` draws it: the IDX test file's
# first half and second half are different writer populations, so its first N would inflate
# the floor 2-3x), and every failure is N = 1,000 too (`RunConfig.eval_num`, what training
# measures; at `kgan evaluate`'s 5,000 every ratio is larger). Failures are made at 32x32, as a
# generator would draw them: blur and noise of the floor's images, prototypes from the
# reference, the class-imbalanced set drawn from the test split against balanced test subsets.

MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
MNIST_N = 1000
MNIST_REFERENCE = 10_000
#: Images the memorisation test audits against: the first 3,000 of the reference (the audit's
#: leave-one-out radii over all 10,000 cost 7 s per call here; replay is flagged either way).
MNIST_AUDITED = 3000
MNIST_HEADLINE = features.default_for("mnist")
#: Minimum FID / floor per failure, each about half the value `mnist_pooled` measures at
#: N = 1,000 (floor 0.534): 46.7, 23.7, 9.05, 7.69, 4.14, 2.86, 13.4 and 2.48 (over 4 seeds of
#: the floor subset and failures: k=10 7.8-9.1, random 6.4-7.6, blur 3.6-4.1, noise 0.2
#: 2.6-2.9, imbalanced 2.0-2.8 of a single floor). The `mnist` classifier space (floor 1.13):
#: 24.2, 13.0, 5.07, 4.60, 24.3, 1.41, 8.57 and 8.90; kgan/assets/README.md has the table.
MNIST_MARGINS = {
    "prototypes k=1": 20.0,
    "prototypes k=3": 10.0,
    "prototypes k=10": 4.0,
    "prototypes k=10 random": 3.5,
    "blur sigma=1px": 2.5,
    "noise sigma=0.2": 1.8,
    "noise sigma=0.5": 6.0,
    "imbalanced": 1.6,
}


def _idx(name: str) -> np.ndarray:
    """The array of one gzipped IDX file (big-endian header: magic, then one size per dim)."""
    raw = gzip.open(MNIST_DIR / name).read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    """(source, train x, train y, test x, test y): the first 10,000 training and all 10,000
    test images as an `npz:` source, loaded at 32x32 through `kgan.data.load_arrays`."""
    if not MNIST_DIR.is_dir():
        pytest.skip(f"{MNIST_DIR} is absent (the shared MNIST copies exist on the project's "
                    "machines only)")
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    np.savez(
        path,
        x_train=_idx("train-images-idx3-ubyte.gz")[:MNIST_REFERENCE],
        y_train=_idx("train-labels-idx1-ubyte.gz")[:MNIST_REFERENCE],
        x_test=_idx("t10k-images-idx3-ubyte.gz"),
        y_test=_idx("t10k-labels-idx1-ubyte.gz"),
    )
    source = f"npz:{path}"
    train = kgan.data.load_arrays(source, split="train", image_size=32, labels=True)
    test = kgan.data.load_arrays(source, split="test", image_size=32, labels=True)
    return (source, *train, *test)


def mnist_imbalanced(labels, n, seed=2):
    """Indices of n test images drawn with classes 5-9 cut to a quarter (0-4 make 80%)."""
    rng = np.random.default_rng(seed)
    keep = []
    for c in range(10):
        pool = np.flatnonzero(labels == c)
        keep += list(pool if c < 5 else rng.choice(pool, len(pool) // 4, replace=False))
    return np.sort(rng.choice(np.array(keep), n, replace=False))


def measure_mnist(space, mnist):
    """{case: (fid, floor at the same N)} in one feature space, through `Evaluator.features`."""
    source, train, ytrain, test, ytest = mnist
    evaluator = Evaluator(source, image_size=32, extractor=space)
    reference = metrics.feature_stats(evaluator.features(train))  # once: 10,000 rows
    test_features = evaluator.features(test)

    def fid(rows):
        return metrics.frechet_distance(*reference, *metrics.feature_stats(rows))

    def fid_of(images):
        return fid(evaluator.features(images))

    n = MNIST_N
    held_out = np.sort(np.random.default_rng(0).choice(len(test), n, replace=False))
    floor = fid(test_features[held_out])
    found = {
        f"prototypes k={k}": (fid_of(prototypes(train, ytrain, k, n=n)), floor) for k in (1, 3, 10)
    }
    replay = prototypes(train, ytrain, 10, first=False, n=n)
    found["prototypes k=10 random"] = (fid_of(replay), floor)
    found["blur sigma=1px"] = (fid_of(blur(test[held_out])), floor)
    for sigma in (0.2, 0.5):
        found[f"noise sigma={sigma}"] = (fid_of(noisy(test[held_out], sigma)), floor)
    rng = np.random.default_rng(3)
    balanced = [fid(test_features[rng.choice(len(test), n, replace=False)]) for _ in range(5)]
    skewed = fid(test_features[mnist_imbalanced(ytest, n)])
    found["imbalanced"] = (skewed, float(np.mean(balanced)))
    return found


@pytest.fixture(scope="module")
def mnist_found(mnist):
    """`measure_mnist` of the headline and the classifier space, computed once per module."""
    return {space: measure_mnist(space, mnist) for space in (MNIST_HEADLINE, "mnist")}


def _ratios(found):
    return {case: round(value / floor, 2) for case, (value, floor) in found.items()}


def test_mnist_headline_is_not_the_classifier_space():
    assert MNIST_HEADLINE == "mnist_pooled"
    assert features.get(MNIST_HEADLINE).classifier == "mnist"


def test_mnist_headline_fid_scores_every_failure_clearly_worse_than_the_floor(mnist_found):
    found = mnist_found[MNIST_HEADLINE]
    assert failures(found, MNIST_MARGINS) == {}, _ratios(found)
    floor = found["blur sigma=1px"][1]
    assert 0.35 < floor < 0.8  # 0.534: 1,000 real test vs 10,000 real train images


def test_mnist_classifier_space_ranks_class_balance_above_diversity(mnist_found):
    """In the classifier's space a diverse set with skewed classes scores worse than replaying
    10 training images per class (8.85 against 5.73 and 5.20), and noise of sigma 0.2 is
    1.41x the floor; the pooled pixels rank replay 2.8x worse than the skew and see the noise."""
    classifier, headline = mnist_found["mnist"], mnist_found[MNIST_HEADLINE]
    skewed = classifier["imbalanced"][0]
    assert skewed > 1.3 * classifier["prototypes k=10"][0]
    assert skewed > 1.3 * classifier["prototypes k=10 random"][0]
    assert headline["prototypes k=10 random"][0] > 2.0 * headline["imbalanced"][0]
    failed = failures(classifier, MNIST_MARGINS)
    assert set(failed) == {"noise sigma=0.2"}, _ratios(classifier)


def test_mnist_memorisation_audit_flags_replay_and_not_real_data(mnist):
    source, train, ytrain, test, _ = mnist
    evaluator = Evaluator(source, image_size=32, extractor=MNIST_HEADLINE)
    audited, labels = train[:MNIST_AUDITED], ytrain[:MNIST_AUDITED]
    reference = evaluator.features(audited)

    def share(images):
        return metrics.memorisation(reference, evaluator.features(images))["near_copy_share"]

    held_out = np.sort(np.random.default_rng(0).choice(len(test), MNIST_N, replace=False))
    assert share(test[held_out]) == 0.0  # held-out real data: no near-copies
    assert share(audited[:MNIST_N]) == 1.0  # exact replay of training images
    # 10 random audited images per class with N(0, 0.05) noise: FID sees it (7.7x the floor)
    # and the audit names it: 0.90 near-copies (0.90 against all 10,000 reference images too).
    assert share(prototypes(audited, labels, 10, first=False, n=MNIST_N)) > 0.5
