"""SNGAN residual generator and discriminator for 32 and 64 pixel images."""

from __future__ import annotations

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
from kgan.architectures.blocks import (
    batch_norm,
    down_residual_block,
    square_image_size,
    up_residual_block,
)

# Filters as multiples of `width`, per image size (Miyato et al. 2018, appendix B; the 64 px
# layout follows their ImageNet/STL models). Generator: the 4x4 projection, then one
# upsampling block per doubling. Discriminator: (multiple, downsample) per residual block.
_GENERATOR = {32: (4, 4, 4, 4), 64: (16, 8, 4, 2, 1)}
_DISCRIMINATOR = {
    32: ((2, True), (2, True), (2, False), (2, False)),
    64: ((1, True), (2, True), (4, True), (8, True), (16, False)),
}
SIZES = tuple(sorted(_GENERATOR))


@REGISTRY.register("resnet")
class ResNet(Architecture):
    """SNGAN's residual networks (Miyato et al. 2018).

    The generator projects `z` to 4x4, stacks upsampling residual blocks (batch norm, ReLU,
    nearest-neighbour upsampling, two 3x3 convolutions), then BN-ReLU-conv3-tanh. The
    discriminator stacks downsampling residual blocks (ReLU, two 3x3 convolutions, average
    pooling), then ReLU, global sum pooling and the shared logit head (projection when
    conditional). At width 64 a 32 px model has SNGAN CIFAR-10's 256 generator and 128
    discriminator filters.

    Args:
        width: base number of filters, 1 to 1024.
        spectral_norm: spectral-normalise every discriminator convolution and the logit.

    Example:
        >>> generator, discriminator = get("resnet", width=32).build((32, 32, 3), latent_dim=128)
    """

    def __init__(self, width: int = 64, spectral_norm: bool = True) -> None:
        self.width = int_option("resnet", "width", width, 1, MAX_WIDTH)
        self.spectral_norm = bool(spectral_norm)

    def generator(self, data_shape: Sequence[int], latent_dim: int, num_classes=None):
        size = square_image_size("resnet", data_shape, SIZES)
        channels = int(data_shape[-1])
        projection, *blocks = (self.width * m for m in _GENERATOR[size])
        inputs, h = generator_inputs(latent_dim, num_classes)
        h = keras.layers.Dense(4 * 4 * projection, name="project")(h)
        h = keras.layers.Reshape((4, 4, projection), name="project_reshape")(h)
        for i, filters in enumerate(blocks):
            h = up_residual_block(h, filters, name=f"block_{i}")
        h = batch_norm("out_bn")(h)
        h = keras.layers.ReLU(name="out_relu")(h)
        h = keras.layers.Conv2D(channels, 3, padding="same", name="to_image")(h)
        out = keras.layers.Activation("tanh", dtype="float32", name="sample")(h)
        return keras.Model(inputs, out, name="generator")

    def discriminator(self, data_shape: Sequence[int], num_classes=None):
        size = square_image_size("resnet", data_shape, SIZES)
        inputs, h, label = discriminator_inputs(data_shape, num_classes)
        sn = spectral(self.spectral_norm)
        for i, (multiple, downsample) in enumerate(_DISCRIMINATOR[size]):
            h = down_residual_block(
                h, self.width * multiple, sn, downsample, first=i == 0, name=f"block_{i}"
            )
        h = keras.layers.ReLU(name="out_relu")(h)
        # Global sum pooling = global average pooling times the number of positions.
        positions = h.shape[1] * h.shape[2]
        h = keras.layers.GlobalAveragePooling2D(name="pool")(h)
        h = keras.layers.Rescaling(float(positions), name="sum_pool")(h)
        return keras.Model(inputs, logit_head(h, label, num_classes, sn), name="discriminator")
