"""The metric maths pinned against closed forms, brute force and constructed cases."""

import json
import math

import numpy as np
import pytest
import scipy.linalg
import scipy.spatial

from kgan import metrics, toy
from kgan.errors import KganError
from kgan.metrics import neighbours


def _random_cov(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def _closed_form_fid(mu1, s1, mu2, s2):
    """The textbook formula with scipy's iterative matrix square root."""
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean))


# --------------------------------------------------------------------------- registry


def test_registry_names_and_error_lists_them():
    assert set(metrics.names()) >= {
        "fid",
        "kid",
        "pr",
        "dc",
        "classifier_score",
        "memorisation",
        "mode_coverage",
    }
    assert metrics.get("fid") is metrics.fid
    assert metrics.get(metrics.kid) is metrics.kid
    with pytest.raises(ValueError, match="valid names: .*fid.*kid"):
        metrics.get("fld")


def test_compute_passes_declared_inputs_and_records_extractor():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 3)), rng.normal(size=(60, 3))
    result = metrics.compute(
        "fid", real_features=x, fake_features=y, dataset="ignored", extractor="digits"
    )
    assert result["extractor"] == "digits"
    assert (result["num_real"], result["num_fake"]) == (50, 60)
    assert result["fid"] == pytest.approx(metrics.fid(x, y)["fid"])
    with pytest.raises(KganError, match="needs train_features"):
        metrics.compute("memorisation", fake_features=y)
    kid = metrics.compute(
        "kid", real_features=x, fake_features=y, options={"num_subsets": 3, "subset_size": 20}
    )
    assert (kid["num_subsets"], kid["subset_size"]) == (3, 20)


def test_every_metric_returns_json_serialisable_numbers():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(40, 4)), rng.normal(size=(30, 4))
    probs = rng.dirichlet(np.ones(10), size=30)
    inputs = dict(
        real_features=real,
        fake_features=fake,
        train_features=real,
        fake_probabilities=probs,
        fake_samples=toy.sample("ring8", 100),
        dataset="ring8",
        real_labels=np.arange(40) % 3,
        fake_labels=np.arange(30) % 3,
        fake_modes=np.arange(30) * 37 % 1000,
    )
    for name in metrics.names():
        result = metrics.compute(name, **inputs)
        json.loads(json.dumps(result))
        for value in result.values():  # numbers, or per-class lists of numbers
            values = value if isinstance(value, list) else [value]
            assert all(isinstance(v, (int, float)) for v in values), (name, result)
        assert any(k.startswith("num_") for k in result), name


def test_bad_input_is_a_user_error():
    with pytest.raises(KganError, match="2-D"):
        metrics.fid(np.zeros(10), np.zeros(10))
    with pytest.raises(KganError, match="widths differ"):
        metrics.fid(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(KganError, match="NaN"):
        metrics.kid(np.full((10, 3), np.nan), np.zeros((10, 3)))


# --------------------------------------------------------------------------- FID


def test_frechet_distance_known_values():
    # |(3,4)|^2 + tr(I) + tr(4I) - 2 tr(2I) = 25 + 2 + 8 - 8
    assert metrics.frechet_distance([0, 0], np.eye(2), [3, 4], 4 * np.eye(2)) == pytest.approx(27.0)
    # Diagonal covariances commute: sum((sqrt(a) - sqrt(b))^2).
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.0])
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert metrics.frechet_distance(
        np.zeros(3), np.diag(a), np.zeros(3), np.diag(b)
    ) == pytest.approx(expected)


def test_frechet_distance_matches_scipy_sqrtm_for_non_commuting_covariances():
    rng = np.random.default_rng(2)
    d = 6
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _random_cov(rng, d), _random_cov(rng, d)
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(
        _closed_form_fid(mu1, s1, mu2, s2), rel=1e-9
    )


def test_fid_of_samples_from_two_gaussians_approaches_the_closed_form():
    rng = np.random.default_rng(3)
    d = 4
    mu1, mu2 = np.zeros(d), np.array([1.0, -0.5, 0.0, 2.0])
    s1, s2 = _random_cov(rng, d), _random_cov(rng, d)
    x = rng.multivariate_normal(mu1, s1, size=200_000)
    y = rng.multivariate_normal(mu2, s2, size=200_000)
    expected = _closed_form_fid(mu1, s1, mu2, s2)
    assert expected > 5
    assert metrics.fid(x, y)["fid"] == pytest.approx(expected, rel=0.01)


def test_fid_of_a_set_with_itself_is_zero_even_with_singular_covariance():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(100, 64))  # fewer samples than dimensions: rank-deficient covariance
    assert metrics.fid(x, x)["fid"] == pytest.approx(0.0, abs=1e-6)
    assert metrics.fid(x, x + 1.0)["fid"] == pytest.approx(64.0, rel=1e-6)


# --------------------------------------------------------------------------- KID


def _brute_force_mmd2(x, y):
    d = x.shape[1]
    k = lambda a, b: (a @ b / d + 1) ** 3  # noqa: E731
    m = len(x)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_with_one_full_subset_equals_brute_force_unbiased_mmd():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(12, 3)), rng.normal(0.3, 1.0, size=(12, 3))
    result = metrics.kid(x, y, num_subsets=1, subset_size=12)
    assert result["kid"] == pytest.approx(_brute_force_mmd2(x, y), rel=1e-10)
    assert result["kid_std"] == 0.0
    assert result["subset_size"] == 12


def test_kid_is_near_zero_for_one_distribution_and_positive_for_shifted_ones():
    rng = np.random.default_rng(6)
    real = rng.normal(size=(2000, 16))
    same = rng.normal(size=(2000, 16))
    shifted = rng.normal(0.3, 1.0, size=(2000, 16))
    near = metrics.kid(real, same, num_subsets=20, subset_size=500)
    far = metrics.kid(real, shifted, num_subsets=20, subset_size=500)
    assert abs(near["kid"]) < 0.01
    assert far["kid"] > 0.1
    assert far["kid"] > 10 * far["kid_std"]
    # Reproducible from the seed.
    assert metrics.kid(real, same, num_subsets=5, subset_size=100, seed=1) == metrics.kid(
        real, same, num_subsets=5, subset_size=100, seed=1
    )


# --------------------------------------------------------------------------- precision / recall


def test_knn_radii():
    np.testing.assert_allclose(metrics.knn_radii(np.array([[0.0], [1.0], [3.0]]), 1), [1, 1, 2])
    np.testing.assert_allclose(metrics.knn_radii(np.array([[0.0], [1.0], [3.0]]), 2), [3, 2, 3])
    with pytest.raises(KganError, match="k must be"):
        metrics.knn_radii(np.zeros((3, 2)), 3)


def test_precision_recall_disjoint_supports_are_zero():
    rng = np.random.default_rng(7)
    real = rng.normal(size=(300, 2))
    fake = rng.normal(size=(300, 2)) + 100.0
    result = metrics.precision_recall(real, fake)
    assert result["precision"] == 0.0 and result["recall"] == 0.0


def test_precision_recall_identical_sets_are_one_and_fresh_samples_high():
    rng = np.random.default_rng(8)
    real = rng.normal(size=(500, 3))
    same = metrics.precision_recall(real, real.copy())
    assert same["precision"] == 1.0 and same["recall"] == 1.0
    fresh = metrics.precision_recall(real, rng.normal(size=(500, 3)))
    assert fresh["precision"] > 0.85 and fresh["recall"] > 0.85


def test_fake_covering_one_of_four_modes_has_high_precision_low_recall():
    rng = np.random.default_rng(9)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], float)
    real = centres[rng.integers(0, 4, 2000)] + rng.normal(size=(2000, 2))
    fake = centres[0] + rng.normal(size=(500, 2))
    result = metrics.precision_recall(real, fake, k=3)
    assert result["precision"] > 0.9
    assert 0.15 < result["recall"] < 0.3
    assert result["k"] == 3 and result["num_real"] == 2000 and result["num_fake"] == 500


# --------------------------------------------------------------------------- density / coverage


def test_density_coverage_hand_checked():
    # Real 0, 1, 2, 3, 10 with k = 2: radii 2, 1, 1, 2, 8. Each fake at 1.5 lies strictly
    # inside the balls of 0, 1, 2 and 3 (distances 1.5, .5, .5, 1.5) but not of 10 (8.5), the
    # fake at 30 in none: density (4 + 4 + 0) / (2 * 3). Every real point but 10 has a fake
    # within its radius: coverage 4 / 5.
    real = np.array([[0.0], [1.0], [2.0], [3.0], [10.0]])
    result = metrics.density_coverage(real, np.array([[1.5], [1.5], [30.0]]), k=2)
    assert result == {"density": 4 / 3, "coverage": 0.8, "k": 2, "num_real": 5, "num_fake": 3}
    # The real set itself: balls are open, so 1 is not inside the ball of 2 (distance 1,
    # radius 1); the points lie in 1, 2, 2, 2 and 1 balls, and each covers its own ball.
    assert metrics.compute("dc", real_features=real, fake_features=real, options={"k": 2}) == {
        "density": 0.8, "coverage": 1.0, "k": 2, "num_real": 5, "num_fake": 5}


def test_density_coverage_match_brute_force_across_chunks(monkeypatch):
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(60, 3)), rng.normal(size=(45, 3)) + 0.5
    distances = scipy.spatial.distance.cdist(real, real)
    radii = np.sort(distances, axis=1)[:, 5]  # column 0 is the point itself
    inside = scipy.spatial.distance.cdist(real, fake) < radii[:, None]
    monkeypatch.setattr(neighbours, "_chunk_rows", lambda m: 7)  # several blocks per side
    result = metrics.density_coverage(real, fake)
    assert result["density"] == pytest.approx(inside.sum() / (5 * 45), abs=1e-12)
    assert result["coverage"] == pytest.approx(inside.any(1).mean(), abs=1e-12)
    assert result["k"] == 5


def test_density_coverage_of_the_data_itself():
    rng = np.random.default_rng(4)
    real = rng.normal(size=(1000, 4))
    fresh = metrics.density_coverage(real, rng.normal(size=(1000, 4)))
    assert 0.9 < fresh["density"] < 1.1  # fresh samples of the same distribution
    assert fresh["coverage"] > 0.93  # 1 - 2^-5 = 0.97 expected at equal N
    assert metrics.density_coverage(real, real.copy())["coverage"] == 1.0


def test_density_coverage_see_collapse_that_density_alone_misses():
    rng = np.random.default_rng(9)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], float)
    real = centres[rng.integers(0, 4, 2000)] + rng.normal(size=(2000, 2))
    one_mode = metrics.density_coverage(real, centres[0] + rng.normal(size=(2000, 2)))
    assert 0.85 < one_mode["density"] < 1.15  # each fake is as plausible as a real sample
    assert 0.2 < one_mode["coverage"] < 0.3  # but a quarter of the data is covered
    one_point = metrics.density_coverage(real, np.repeat(centres[:1], 500, axis=0))
    assert one_point["coverage"] < 0.01 and one_point["num_fake"] == 500


# --------------------------------------------------------------------------- classifier score


def test_classifier_score_hand_checked():
    # p(y) = (0.75, 0.25); KLs are 0.5 ln(4/3) and ln(4/3); score = exp(0.75 ln(4/3)).
    result = metrics.classifier_score([[0.5, 0.5], [1.0, 0.0]], num_splits=1)
    assert result["classifier_score"] == pytest.approx((4 / 3) ** 0.75, rel=1e-12)
    assert result["num_fake"] == 2 and result["num_classes"] == 2


def test_classifier_score_ranges_from_one_to_number_of_classes():
    confident = np.eye(10)[np.arange(1000) % 10]
    assert metrics.classifier_score(confident)["classifier_score"] == pytest.approx(10.0)
    assert metrics.classifier_score(confident)["classifier_score_std"] == pytest.approx(0.0)
    collapsed = np.tile(np.eye(10)[3], (1000, 1))
    assert metrics.classifier_score(collapsed)["classifier_score"] == pytest.approx(1.0)
    unsure = np.full((100, 10), 0.1)
    assert metrics.classifier_score(unsure)["classifier_score"] == pytest.approx(1.0)
    with pytest.raises(KganError, match="sum to 1"):
        metrics.classifier_score(np.ones((5, 3)))


# --------------------------------------------------------------------------- memorisation


def test_memorisation_flags_exact_copies_and_not_fresh_samples():
    rng = np.random.default_rng(10)
    train = rng.normal(size=(1000, 8))
    copies = metrics.memorisation(train, train[:200])
    assert copies["near_copy_share"] == 1.0
    assert copies["median_ratio"] == 0.0
    assert copies["median_fake_to_train"] == 0.0
    fresh = metrics.memorisation(train, rng.normal(size=(200, 8)))
    assert fresh["near_copy_share"] < 0.03
    assert 0.6 < fresh["median_ratio"] < 1.6
    half = metrics.memorisation(
        train, np.concatenate([train[:100] + 1e-4, rng.normal(size=(100, 8))])
    )
    assert half["near_copy_share"] == pytest.approx(0.5, abs=0.02)
    assert (half["num_train"], half["num_fake"], half["threshold"]) == (1000, 200, 0.2)


def test_memorisation_ratio_uses_the_local_training_spacing():
    # Train points at 0, 1 and 20, 30: spacings 1, 1, 10, 10. A sample at 22 is 2 from its
    # neighbour 20 whose own spacing is 10 -> ratio 0.2; a sample at 0.4 -> 0.4 / 1.
    train = np.array([[0.0], [1.0], [20.0], [30.0]])
    result = metrics.memorisation(train, np.array([[22.0], [0.4]]), threshold=0.3)
    assert result["median_ratio"] == pytest.approx((0.2 + 0.4) / 2)
    assert result["near_copy_share"] == 0.5
    assert result["median_train_to_train"] == pytest.approx(5.5)


# --------------------------------------------------------------------------- inside each class


def test_class_diversity_hand_checked():
    # 1-D, k = 1. Class 0: real 0, 2, 4, 6 (std sqrt 5), generated 0, 1, 2, 3 (std sqrt 5 / 2):
    # spread ratio 1/2; the generated k-NN radii are all 1, so real 0, 2, 4 are covered and 6
    # is not: recall 3/4. Class 1: real 10, 12 (std 1), generated 10, 14 (std 2, radii 4):
    # ratio 2, recall 1. Class 2 has one row a side, not more than k: skipped.
    real = np.array([[0.0], [2.0], [4.0], [6.0], [10.0], [12.0], [20.0]])
    fake = np.array([[0.0], [1.0], [2.0], [3.0], [10.0], [14.0], [20.0]])
    labels = np.array([0, 0, 0, 0, 1, 1, 2])
    result = metrics.compute(
        "class_diversity", real_features=real, real_labels=labels, fake_features=fake,
        fake_labels=labels, options={"k": 1},
    )
    lists = ("spread_ratio_by_class", "recall_by_class", "classes", "skipped_classes")
    assert {k: v for k, v in result.items() if k not in lists} == pytest.approx({
        "spread_ratio": 1.25, "min_spread_ratio": 0.5, "worst_class": 0, "class_recall": 0.875,
        "min_class_recall": 0.75, "k": 1, "num_real": 7, "num_fake": 7})
    assert result["spread_ratio_by_class"] == pytest.approx([0.5, 2.0])
    assert result["recall_by_class"] == [0.75, 1.0]
    assert (result["classes"], result["skipped_classes"]) == ([0, 1], [2])


def test_class_diversity_compares_equal_numbers_of_each_class():
    rng = np.random.default_rng(5)
    real = rng.normal(size=(600, 3))
    real_y = np.repeat([0, 1], 300)
    fake, fake_y = rng.normal(size=(60, 3)), np.repeat([0, 1], 30)
    result = metrics.class_diversity(real, real_y, fake, fake_y)
    # Fresh samples of the same distribution: as varied, and the recall of 30 real rows of
    # each class (not of all 300, which 30 generated ones could never cover).
    assert 0.85 < result["spread_ratio"] < 1.15 and result["class_recall"] > 0.6
    assert result["classes"] == [0, 1] and (result["num_real"], result["num_fake"]) == (600, 60)
    assert metrics.class_diversity(real, real_y, fake, fake_y) == result  # fixed subsets


def test_class_balance_hand_checked():
    p = np.array([[0.9, 0.1, 0, 0], [0.2, 0.7, 0.1, 0], [0.6, 0.3, 0.1, 0], [0.1, 0.1, 0.8, 0]])
    assert metrics.compute("class_balance", fake_probabilities=p) == {
        "min_share": 0.0, "max_share": 0.5, "share_by_class": [0.5, 0.25, 0.25, 0.0],
        "num_classes": 4, "num_fake": 4}


@pytest.fixture(scope="module")
def digit_rows():
    """kgan's offline digits (train: first 1,500, test: last 297) as pixel rows in [-1, 1]."""
    from kgan import data

    (x, y), (xt, yt) = (data.load_arrays("digits", split=s, labels=True) for s in ("train", "test"))
    return x.reshape(len(x), -1), y, xt.reshape(len(xt), -1), yt


def test_class_diversity_sees_prototype_collapse_and_passes_real_digits(digit_rows):
    train, y, test, y_test = digit_rows
    held_out = metrics.class_diversity(train, y, test, y_test)
    assert 0.9 <= held_out["spread_ratio"] <= 1.1 and held_out["min_spread_ratio"] > 0.8
    assert held_out["class_recall"] > 0.5 and held_out["num_fake"] == 297
    # One training image per class, replayed 30 times with N(0, 0.05) pixel noise.
    rng = np.random.default_rng(0)
    first = np.stack([train[y == c][0] for c in range(10)])
    labels = np.repeat(np.arange(10), 30)
    replay = np.clip(first[labels] + rng.normal(0, 0.05, (300, 64)), -1, 1)
    collapsed = metrics.class_diversity(train, y, replay, labels)
    assert collapsed["spread_ratio"] < 0.3 and collapsed["min_spread_ratio"] < 0.2
    assert collapsed["class_recall"] < 0.05 and collapsed["min_class_recall"] == 0.0


def test_class_metrics_refuse_bad_labels():
    real, fake = np.zeros((6, 2)), np.ones((4, 2))
    good = np.array([0, 0, 0, 1, 1, 1])
    with pytest.raises(KganError, match="fake_labels must be a 1-D array of 4 classes, got shape"):
        metrics.class_diversity(real, good, fake, np.array([0, 1, 1]))
    with pytest.raises(KganError, match="real_labels must hold integer classes, got dtype float"):
        metrics.class_diversity(real, good.astype(float), fake, np.array([0, 0, 1, 1]))
    with pytest.raises(KganError, match="fake_labels must be a 1-D array"):
        metrics.class_diversity(real, good, fake, np.zeros((4, 1), int))
    with pytest.raises(KganError, match="needs more than 3 rows of some class"):
        metrics.class_diversity(real, good, fake, np.array([0, 0, 1, 1]))
    with pytest.raises(KganError, match="needs real_labels, fake_labels"):
        metrics.compute("class_diversity", real_features=real, fake_features=fake)
    with pytest.raises(KganError, match="non-negative|2-D"):
        metrics.class_balance(np.zeros(4))


# --------------------------------------------------------------------------- mode coverage


def test_mode_coverage_is_registered_and_separates_healthy_from_collapsed():
    full = metrics.compute(
        "mode_coverage", fake_samples=toy.sample("grid25", 2500), dataset="grid25"
    )
    assert full["modes"] == 25 and full["high_quality"] > 0.95
    assert full["reverse_kl"] < 0.05
    one = np.tile([[2.0, 2.0]], (500, 1))
    collapsed = metrics.mode_coverage(one, "grid25")
    assert collapsed["modes"] == 1
    assert collapsed["reverse_kl"] == pytest.approx(math.log(25))
