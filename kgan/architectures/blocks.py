"""Building blocks shared by the convolutional families: shape checks and residual blocks.

Blocks are plain functions that create built-in Keras layers and apply them to a functional
tensor, so the models they build save and load with `safe_mode=True` (no custom layers).

Example:
    >>> h = up_residual_block(h, filters=256, name="g_block_0")
"""

from __future__ import annotations

from typing import Callable, Sequence

import keras

from kgan.errors import KganError

Wrap = Callable[[keras.layers.Layer], keras.layers.Layer]


def square_image_size(family: str, data_shape: Sequence[int], sizes: Sequence[int]) -> int:
    """The side of a square `(S, S, C)` image shape, checked against a family's valid sizes.

    Raises a KganError (a ValueError) that names the nearest valid sizes, so that the CLI
    reports it in one line.
    """
    shape = tuple(int(d) for d in data_shape)
    valid = ", ".join(str(s) for s in sizes)
    if len(shape) != 3 or shape[0] != shape[1] or shape[0] not in sizes or shape[2] < 1:
        fix = f"use an image_size in {{{valid}}}"
        if len(shape) == 3 and shape[0] == shape[1] and shape[2] >= 1:
            below = [s for s in sizes if s < shape[0]]
            above = [s for s in sizes if s > shape[0]]
            nearest = [str(s) for s in (below[-1:] + above[:1])]
            fix = f"use image_size {' or '.join(nearest)}"
        elif len(shape) != 3:
            fix = f"use the mlp architecture for data of shape {shape}, or images of {{{valid}}}"
        raise KganError(
            f"{family} builds square images (size, size, channels) with size in {{{valid}}}; "
            f"got data_shape {shape}; {fix}"
        )
    return shape[0]


def batch_norm(name: str) -> keras.layers.BatchNormalization:
    """kgan's BatchNormalization, with its statistics taken over the *global* batch
    under `tf.distribute` (`synchronized`), so that several replicas train the same model as
    one device (on one device it is plain batch norm)."""
    return keras.layers.BatchNormalization(synchronized=True, name=name)


def up_residual_block(h, filters: int, name: str):
    """SNGAN generator block: BN-ReLU-upsample-conv3-BN-ReLU-conv3, plus upsample-conv1 shortcut."""
    shortcut = keras.layers.UpSampling2D(name=f"{name}_shortcut_up")(h)
    shortcut = keras.layers.Conv2D(filters, 1, name=f"{name}_shortcut_conv")(shortcut)
    h = batch_norm(f"{name}_bn_0")(h)
    h = keras.layers.ReLU(name=f"{name}_relu_0")(h)
    h = keras.layers.UpSampling2D(name=f"{name}_up")(h)
    h = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv_0")(h)
    h = batch_norm(f"{name}_bn_1")(h)
    h = keras.layers.ReLU(name=f"{name}_relu_1")(h)
    h = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv_1")(h)
    return keras.layers.Add(name=f"{name}_add")([h, shortcut])


def down_residual_block(h, filters: int, sn: Wrap, downsample: bool, first: bool, name: str):
    """SNGAN discriminator block: (ReLU)-conv3-ReLU-conv3-(avgpool), plus a shortcut.

    The `first` block of a discriminator (SNGAN's "optimised block") sees raw pixels, so it
    starts with a convolution instead of a ReLU and pools its shortcut before the 1x1 conv.
    The shortcut is the identity when neither the channels nor the size change.
    """
    x = h
    if not first:
        h = keras.layers.ReLU(name=f"{name}_relu_0")(h)
    h = sn(keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv_0"))(h)
    h = keras.layers.ReLU(name=f"{name}_relu_1")(h)
    h = sn(keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv_1"))(h)
    if downsample:
        h = keras.layers.AveragePooling2D(2, name=f"{name}_pool")(h)

    shortcut = x
    if first:
        shortcut = keras.layers.AveragePooling2D(2, name=f"{name}_shortcut_pool")(shortcut)
        shortcut = sn(keras.layers.Conv2D(filters, 1, name=f"{name}_shortcut_conv"))(shortcut)
    elif downsample or x.shape[-1] != filters:
        shortcut = sn(keras.layers.Conv2D(filters, 1, name=f"{name}_shortcut_conv"))(shortcut)
        if downsample:
            shortcut = keras.layers.AveragePooling2D(2, name=f"{name}_shortcut_pool")(shortcut)
    return keras.layers.Add(name=f"{name}_add")([h, shortcut])
