"""`RunConfig` validation: every field is checked when the config is made, with one line."""

import dataclasses

import keras
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


def _toy(**changes):
    return RunConfig(dataset="ring8", arch="mlp", arch_kwargs={"units": 8, "depth": 1},
                     latent_dim=4, **changes)


def test_steps_per_execution_that_does_not_divide_the_epoch_is_lowered_with_a_warning(capsys):
    gan = _toy(steps_per_execution=4).build_gan((2,), steps_per_epoch=10)
    assert gan.get_compile_config()["steps_per_execution"] == 2
    assert capsys.readouterr().out == (
        "kgan: warning: steps_per_execution 4 does not divide the 10 steps per epoch; using 2 "
        "(pass a divisor of 10 to --steps-per-execution)\n"
    )
    gan = _toy(steps_per_execution=5).build_gan((2,), steps_per_epoch=10)
    assert gan.get_compile_config()["steps_per_execution"] == 5
    assert capsys.readouterr().out == ""


def test_every_field_but_arch_kwargs_is_a_kgan_train_flag_documented_once():
    from kgan import cli, losses, regularizers

    train = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {}
    for action in train._actions:  # a field's first flag: --conditional, not --unconditional
        flags.setdefault(action.dest, action)
    for field in dataclasses.fields(RunConfig):
        if field.name == "arch_kwargs":
            assert field.name not in flags
            continue
        assert flags[field.name].help.startswith(field.metadata["help"])
        assert flags[field.name].default is None  # a preset's value stays unless given
    assert flags["beta_1"].option_strings == ["--beta1"]
    assert flags["batch_size"].type is int and flags["ema"].type is float
    assert flags["on_warning"].choices == ("warn", "stop", "rollback")
    text = train.format_help()
    assert f"loss pair: {', '.join(losses.names())} (default: hinge)" in " ".join(text.split())
    assert f"{', '.join(regularizers.names())}, none" in " ".join(text.split())


def test_resume_error_names_the_flags_as_typed(capsys):
    from kgan import cli

    assert cli.main(["train", "--resume", "r", "--beta1", "0.1", "--batch-size", "8"]) == 2
    assert "drop --beta1, --batch-size (only --epochs may change)" in capsys.readouterr().err


def test_the_architecture_follows_the_data_unless_named():
    """No --arch: mlp for vector data, dcgan for images (a named one always wins)."""
    assert RunConfig().arch is None
    assert RunConfig(dataset="grid25").for_data("vector").arch == "mlp"
    assert RunConfig().for_data("image").arch == "dcgan"
    assert RunConfig(arch="resnet").for_data("vector").arch == "resnet"
    vector = RunConfig(dataset="grid25", latent_dim=4).build_gan((2,))
    assert vector.generator.output.shape[1:] == (2,)
    assert not any(isinstance(l, keras.layers.Conv2D) for l in vector.generator.layers)
    image = RunConfig(arch_kwargs={"width": 2}).build_gan((28, 28, 1))
    assert image.generator.output.shape[1:] == (28, 28, 1)
    assert image.generator.get_layer("project_reshape").output.shape[1:3] == (7, 7)
