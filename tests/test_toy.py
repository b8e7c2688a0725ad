import numpy as np
import pytest

from kgan import toy


def test_samples_are_reproducible_and_near_the_modes():
    a, b = toy.sample("grid25", 1000, seed=3), toy.sample("grid25", 1000, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.shape == (1000, 2)
    assert not np.array_equal(a, toy.sample("grid25", 1000, seed=4))
    np.testing.assert_allclose(np.abs(toy.sample("ring8", 2000)).max(), 1.0, atol=0.05)


@pytest.mark.parametrize("name,modes", [("ring8", 8), ("grid25", 25)])
def test_real_data_covers_every_mode_with_high_quality(name, modes):
    result = toy.mode_coverage(toy.sample(name, 2500, seed=0), name)
    assert result["modes"] == modes == result["num_modes"]
    assert result["high_quality"] > 0.98  # 3 std holds 98.9% of a 2-D Gaussian
    assert result["reverse_kl"] < 0.02


def test_collapsed_samples_score_one_mode_and_log_k_kl():
    collapsed = np.tile([[2.0, -2.0]], (2500, 1))
    result = toy.mode_coverage(collapsed, "grid25")
    assert result["modes"] == 1 and result["high_quality"] == 1.0
    np.testing.assert_allclose(result["reverse_kl"], np.log(25))


def test_points_between_modes_are_not_high_quality():
    result = toy.mode_coverage(np.array([[1.0, 1.0], [0.0, 0.1], [0.0, 0.2]]), "grid25")
    assert result["modes"] == 1 and result["high_quality"] == pytest.approx(1 / 3)


def test_unknown_name():
    with pytest.raises(ValueError, match="grid25, ring8"):
        toy.sample("ring9", 4)
