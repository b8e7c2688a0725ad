"""DCGAN generator and discriminator for square images of 8 to 128 pixels (4 or 7 times a power of 2)."""

from __future__ import annotations

import math
from typing import Sequence

import keras

from kgan.architectures.base import (
    MAX_WIDTH,
    REGISTRY,
    Architecture,
    discriminator_inputs,
    generator_inputs,
    int_option,
    logit_head,
    spectral,
)
from kgan.architectures.blocks import batch_norm, square_image_size
from kgan.errors import KganError

SIZES = (8, 14, 16, 28, 32, 56, 64, 112, 128)
# The resolution the generator starts from and the discriminator ends at: 4x4 for powers of
# two, 7x7 for MNIST-sized 14/28/56/112 px images (as the Keras DCGAN example), so 28x28
# data trains at its own size instead of being resized.
_BASES = (4, 7)


def base_resolution(size: int) -> int:
    """The smallest feature map of a `size`-pixel DCGAN: 4 or 7, with `size` = base * 2**k."""
    return next(b for b in _BASES if size % b == 0 and (size // b) & (size // b - 1) == 0)
UPSAMPLING = ("transposed", "nearest")
_MAX_MULTIPLIER = 8  # filters never exceed 8 * width (DCGAN's 512 at width 64)


@REGISTRY.register("dcgan")
class DCGAN(Architecture):
    """Radford et al. (2016): strided (transposed) convolutions between 4x4 (7x7 for 28 px and
    its doublings) and the image size.

    The generator projects `z` to 4x4 (or 7x7) features, doubles the resolution until the image size
    (halving the filters), and ends in a 3x3 convolution to the image's channels with tanh.
    The discriminator mirrors it: a 3x3 convolution from the image, then 4x4 stride-2
    convolutions with LeakyReLU down to 4x4 or 7x7 (the extra first layer keeps an 8 px
    discriminator from being a single convolution), then flattens into the shared logit
    head (plus a projection term when conditional).
    An `r`-pixel feature map has `width * min(8, size / r)` filters in the generator and
    `width * min(8, size / 2r)` in the discriminator (at least `width`), so 64 px at width 64
    is the DCGAN paper's 512-256-128-64 and 8 px digits stay small (width 32: ~0.1 M weights).

    Args:
        width: base number of filters (the width multiplier), 1 to 1024.
        spectral_norm: spectral-normalise the discriminator's convolutions and logit.
        generator_batch_norm: batch norm after every generator layer but the output.
        discriminator_batch_norm: batch norm in the discriminator (after all convolutions but
            the first two; off by default, and best left off with gradient penalties).
        upsampling: "transposed" (4x4 stride-2 transposed convolutions, as in DCGAN) or
            "nearest" (nearest-neighbour upsampling then a 3x3 convolution, which avoids
            checkerboard artefacts).

    Example:
        >>> generator, discriminator = get("dcgan", width=32).build((8, 8, 1), latent_dim=64)
    """

    def __init__(
        self,
        width: int = 64,
        spectral_norm: bool = False,
        generator_batch_norm: bool = True,
        discriminator_batch_norm: bool = False,
        upsampling: str = "transposed",
    ) -> None:
        width = int_option("dcgan", "width", width, 1, MAX_WIDTH)
        if upsampling not in UPSAMPLING:
            raise KganError(
                f"dcgan: upsampling must be one of {', '.join(UPSAMPLING)}; got {upsampling!r}"
            )
        self.width = int(width)
        self.spectral_norm = bool(spectral_norm)
        self.generator_batch_norm = bool(generator_batch_norm)
        self.discriminator_batch_norm = bool(discriminator_batch_norm)
        self.upsampling = upsampling

    def _filters(self, ratio: int) -> int:
        """Filters of a feature map `ratio` times smaller than the image (at least 1x)."""
        return self.width * min(_MAX_MULTIPLIER, max(1, ratio))

    def generator(self, data_shape: Sequence[int], latent_dim: int, num_classes=None):
        size = square_image_size("dcgan", data_shape, SIZES)
        channels = int(data_shape[-1])
        inputs, h = generator_inputs(latent_dim, num_classes)

        def normalise_and_activate(h, name):
            if self.generator_batch_norm:
                h = batch_norm(f"{name}_bn")(h)
            return keras.layers.ReLU(name=f"{name}_relu")(h)

        base = base_resolution(size)
        filters = self._filters(size // base)
        h = keras.layers.Dense(
            base * base * filters, use_bias=not self.generator_batch_norm, name="project"
        )(h)
        h = keras.layers.Reshape((base, base, filters), name="project_reshape")(h)
        h = normalise_and_activate(h, "project")
        for i in range(int(math.log2(size // base))):
            resolution = 2 * base * 2**i
            name = f"up_{resolution}"
            filters = self._filters(size // resolution)
            if self.upsampling == "transposed":
                conv = keras.layers.Conv2DTranspose(
                    filters, 4, strides=2, padding="same",
                    use_bias=not self.generator_batch_norm, name=f"{name}_conv",
                )
            else:
                h = keras.layers.UpSampling2D(name=f"{name}_upsample")(h)
                conv = keras.layers.Conv2D(
                    filters, 3, padding="same",
                    use_bias=not self.generator_batch_norm, name=f"{name}_conv",
                )
            h = normalise_and_activate(conv(h), name)
        h = keras.layers.Conv2D(channels, 3, padding="same", name="to_image")(h)
        out = keras.layers.Activation("tanh", dtype="float32", name="sample")(h)
        return keras.Model(inputs, out, name="generator")

    def discriminator(self, data_shape: Sequence[int], num_classes=None):
        size = square_image_size("dcgan", data_shape, SIZES)
        inputs, h, label = discriminator_inputs(data_shape, num_classes)
        sn = spectral(self.spectral_norm)
        h = sn(keras.layers.Conv2D(self.width, 3, padding="same", name="from_image"))(h)
        h = keras.layers.LeakyReLU(0.2, name="from_image_lrelu")(h)
        resolution, base = size, base_resolution(size)
        while resolution > base:
            resolution //= 2
            name = f"down_{resolution}"
            filters = self._filters(size // (2 * resolution))
            h = sn(keras.layers.Conv2D(filters, 4, strides=2, padding="same", name=f"{name}_conv"))(h)
            if self.discriminator_batch_norm and resolution < size // 2:
                h = batch_norm(f"{name}_bn")(h)
            h = keras.layers.LeakyReLU(0.2, name=f"{name}_lrelu")(h)
        h = keras.layers.Flatten(name="flatten")(h)
        return keras.Model(inputs, logit_head(h, label, num_classes, sn), name="discriminator")
