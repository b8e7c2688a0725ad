"""`kgan.registry`: name lookup, and the one `get_config` derived from the constructor."""

import pytest

from kgan import architectures, regularizers
from kgan.registry import Registry, constructor_config


class _Penalty:
    def __init__(self, weight=1.0, *extra, every=1, **ignored):
        self.weight, self.every = float(weight), int(every)


def test_constructor_config_reads_the_named_arguments_back():
    assert constructor_config(_Penalty(2, every=3)) == {"weight": 2.0, "every": 3}


def test_a_constructor_argument_without_its_attribute_is_an_error():
    class Forgetful(_Penalty):
        def __init__(self, weight=1.0, scale=2.0):
            super().__init__(weight)

    with pytest.raises(AttributeError, match="scale"):
        constructor_config(Forgetful())


# The keys saved in `.keras` files and run folders: loading older files depends on them.
SAVED_KEYS = {
    "dcgan": ["width", "spectral_norm", "generator_batch_norm", "discriminator_batch_norm",
              "upsampling"],
    "mlp": ["units", "depth", "spectral_norm", "output_activation"],
    "resnet": ["width", "spectral_norm"],
    "gradient_penalty": ["weight", "every", "epsilon", "final_weight", "steps"],
    "r1": ["weight", "every", "final_weight", "steps"],
    "r2": ["weight", "every", "final_weight", "steps"],
}
# Keys that later versions added, with defaults: files saved before them still load.
ADDED_KEYS = {"gradient_penalty": ["final_weight", "steps"], "r1": ["final_weight", "steps"],
              "r2": ["final_weight", "steps"]}


@pytest.mark.parametrize("name", sorted(SAVED_KEYS))
def test_saved_config_keys_stay_the_same(name):
    kind = architectures if name in architectures.names() else regularizers
    obj = kind.get(name)
    assert list(obj.get_config()) == SAVED_KEYS[name]
    assert kind.get({"name": name, **obj.get_config()}).get_config() == obj.get_config()
    older = {k: v for k, v in obj.get_config().items() if k not in ADDED_KEYS.get(name, [])}
    assert kind.get({"name": name, **older}).get_config() == obj.get_config()


def test_registry_get_names_the_valid_choices():
    registry = Registry("penalty")
    registry.register("p")(_Penalty)
    assert registry.get("p", weight=3).weight == 3.0
    with pytest.raises(ValueError, match="valid names: p"):
        registry.get("q")
