"""The metric maths pinned against closed forms, brute force and constructed cases."""

import json
import math

import numpy as np
import pytest
import scipy.linalg

from kgan import metrics, toy
from kgan.errors import KganError


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
    )
    for name in metrics.names():
        result = metrics.compute(name, **inputs)
        json.loads(json.dumps(result))
        assert all(isinstance(v, (int, float)) for v in result.values()), (name, result)
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
