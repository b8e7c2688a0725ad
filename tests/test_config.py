"""`RunConfig` validation: every field is checked when the config is made, with one line."""

import pytest

from kgan.config import RunConfig
from kgan.errors import KganError


def test_deterministic_is_a_validated_bool():
    assert RunConfig().deterministic is False
    assert RunConfig(deterministic=True).to_dict()["deterministic"] is True
    with pytest.raises(KganError, match="deterministic must be true or false, got 'yes'"):
        RunConfig(deterministic="yes")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"g_lr": float("inf")}, "g_lr must be a finite number > 0, got inf"),
        ({"d_lr": float("nan")}, "d_lr must be a finite number > 0, got nan"),
        ({"g_lr": 0.0}, "g_lr must be a finite number > 0, got 0.0"),
        ({"d_lr": "fast"}, "d_lr must be a finite number > 0, got 'fast'"),
        ({"regularizer_weight": float("nan")}, "regularizer_weight must be a finite number >= 0"),
        ({"regularizer_weight": float("inf")}, "regularizer_weight must be a finite number >= 0"),
        ({"regularizer_weight": -1.0}, "regularizer_weight must be a finite number >= 0"),
        ({"epochs": 10**20}, "epochs must be at most 1,000,000, got 100,000,000,000,000,000,000"),
        ({"steps_per_epoch": 2 * 10**9}, "steps_per_epoch must be at most 1,000,000,000"),
        ({"epochs": 10**6, "steps_per_epoch": 10**9, "batch_size": 2},
         "epochs x steps_per_epoch x batch_size (the examples drawn) must be at most 10**15"),
        ({"grid_size": 400}, "grid_size must be at most 32, got 400"),
        ({"latent_dim": 4097}, "latent_dim must be at most 4,096, got 4,097"),
    ],
)
def test_values_that_would_fail_during_training_are_refused(changes, message):
    with pytest.raises(KganError) as error:
        RunConfig(**changes)
    assert message in str(error.value)


def test_the_bounds_themselves_are_allowed():
    config = RunConfig(latent_dim=4096, grid_size=32, epochs=10**6, steps_per_epoch=10**3,
                       batch_size=1000, regularizer_weight=0.0, g_lr=1e-9)
    assert config.epochs * config.steps_per_epoch * config.batch_size == 10**12
