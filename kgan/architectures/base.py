"""The architecture interface and the pieces every family shares."""

from __future__ import annotations

from typing import Sequence

import keras

from kgan.registry import Registry, constructor_config

REGISTRY: Registry["Architecture"] = Registry("architecture")

#: Largest base width of the convolutional families (filters reach 8-16x it: ~16k) and of
#: an MLP layer: beyond them a model does not fit in any machine's memory.
MAX_WIDTH = 1024
MAX_UNITS = 16384
MAX_DEPTH = 64


def int_option(arch: str, key: str, value, low: int, high: int) -> int:
    """`value` as an int in `low..high`, else a KganError naming the option as `--arch-arg`
    (values come from JSON or the command line: integral floats and digit strings pass)."""
    from kgan.errors import KganError

    import numbers

    number = None
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            pass
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = int(value)
    if number is None:
        raise KganError(f"{arch}: --arch-arg {key} must be an integer, got {value!r}")
    if not low <= number <= high:
        raise KganError(
            f"{arch}: --arch-arg {key} must be between {low} and {high}, got {number}"
        )
    return number


class Architecture:
    """A parameterised family that builds a generator and a discriminator for one data shape.

    Conventions every family follows (the GAN model relies on them):
    - the generator takes `z` of shape `(latent_dim,)`, or `[z, label]` when conditional
      (`label` int32 of shape `()`), and outputs data in [-1, 1] (images) in float32;
    - the discriminator takes `x`, or `[x, label]`, and outputs float32 logits `(B, 1)`.

    Subclasses keep every constructor argument as an attribute of the same name, so that
    `get_config()` returns them and `get(name, **config)` rebuilds the same family.
    """

    name: str

    def generator(
        self, data_shape: Sequence[int], latent_dim: int, num_classes: int | None = None
    ) -> keras.Model:
        raise NotImplementedError

    def discriminator(
        self, data_shape: Sequence[int], num_classes: int | None = None
    ) -> keras.Model:
        raise NotImplementedError

    def build(
        self, data_shape: Sequence[int], latent_dim: int, num_classes: int | None = None
    ) -> tuple[keras.Model, keras.Model]:
        """(generator, discriminator) for data of `data_shape` (without the batch axis)."""
        data_shape = tuple(int(d) for d in data_shape)
        return (
            self.generator(data_shape, latent_dim, num_classes),
            self.discriminator(data_shape, num_classes),
        )

    def get_config(self) -> dict:
        """The constructor arguments (kept as attributes of the same names)."""
        return constructor_config(self)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def generator_inputs(latent_dim: int, num_classes: int | None):
    """The generator's Input layers and the tensor its body starts from.

    A conditional generator embeds the label into a latent-sized vector and concatenates it
    with `z` (as in cGAN / BigGAN's shared embedding), so every family conditions the same way.
    """
    z = keras.Input((latent_dim,), name="z")
    if not num_classes:
        return z, z
    label = keras.Input((), dtype="int32", name="label")
    embedded = keras.layers.Embedding(num_classes, latent_dim, name="label_embedding")(label)
    return [z, label], keras.layers.Concatenate(name="z_label")([z, embedded])


def discriminator_inputs(data_shape: Sequence[int], num_classes: int | None):
    """The discriminator's Input layers: `x`, plus `label` when conditional."""
    x = keras.Input(tuple(data_shape), name="x")
    if not num_classes:
        return x, x, None
    label = keras.Input((), dtype="int32", name="label")
    return [x, label], x, label


def logit_head(features, label, num_classes: int | None, sn) -> keras.KerasTensor:
    """Linear logit on `features`, plus a projection term <embed(y), features> when conditional.

    The projection discriminator (Miyato & Koyama 2018) conditions by an inner product with a
    class embedding, which trains better than concatenating the label to the input.
    """
    logit = sn(keras.layers.Dense(1, dtype="float32", name="logit"))(features)
    if not num_classes:
        return logit
    embedded = keras.layers.Embedding(num_classes, features.shape[-1], name="class_projection")(label)
    projection = keras.layers.Dot(axes=1, dtype="float32", name="projection")([embedded, features])
    return keras.layers.Add(dtype="float32", name="conditional_logit")([logit, projection])


def spectral(enabled: bool):
    """Wraps a layer in `keras.layers.SpectralNormalization` when `enabled`, else leaves it."""
    if not enabled:
        return lambda layer: layer
    # The wrapper casts its output to its input's dtype: giving it the layer's policy keeps a
    # float32 logit float32 under mixed precision.
    return lambda layer: keras.layers.SpectralNormalization(layer, dtype=layer.dtype_policy)
