"""Presets: every one is a valid configuration whose models build for its dataset's shape."""

import keras
import pytest

from kgan import presets
from kgan.config import RunConfig
from kgan.errors import KganError

SHAPES = {"digits": ((8, 8, 1), 10), "mnist": ((28, 28, 1), 10), "ring8": ((2,), None),
          "grid25": ((2,), None), "stacked_mnist": ((28, 28, 3), 1000)}


def test_the_required_presets_exist():
    assert set(presets.names()) >= {"digits", "mnist", "ring8", "grid25", "stacked_mnist"}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_preset_builds_its_models(name):
    config = presets.get(name)
    assert config.dataset == name
    assert RunConfig.from_dict(config.to_dict()) == config
    shape, classes = SHAPES[name]
    # what the processor favours is measured at run time (tests/test_autotune.py), not here
    assert config.jit_compile == "auto"
    config = config.replace(jit_compile=False, precision="float32")
    keras.utils.set_random_seed(0)
    gan = config.build_gan(shape, classes, steps_per_epoch=10)
    config.check_model(gan)
    assert gan.data_shape == shape
    assert gan.num_classes == (classes if config.conditional else None)


def test_digits_preset_is_small_enough_for_a_cpu():
    keras.utils.set_random_seed(0)
    gan = presets.get("digits").build_gan((8, 8, 1), 10, steps_per_epoch=23)
    weights = sum(w.size for w in gan.generator.get_weights() + gan.discriminator.get_weights())
    assert weights < 500_000


def test_presets_are_not_shared_mutable_state():
    config = presets.get("digits").replace(arch_kwargs={"width": 8})
    assert presets.get("digits").arch_kwargs == {"width": 32}
    assert config.arch_kwargs == {"width": 8}


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(KganError, match="valid presets: digits, grid25, mnist, ring8, stacked_mnist"):
        presets.get("cifar")
