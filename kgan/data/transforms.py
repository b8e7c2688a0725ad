"""Per-image TensorFlow ops of the pipeline: channels, centre crop, antialiased resize, scaling.

All of them work on one float32 image in [0, 1] of shape `(H, W, C)` and are traced into
`tf.data` maps, so they also run inside graphs and under `tf.distribute`.

Example:
    >>> image = to_unit(tf.zeros((28, 28, 1), tf.uint8))
    >>> image = to_channels(image, 3)
    >>> to_signed(square_resize(image, 32)).shape
    TensorShape([32, 32, 3])
"""

from __future__ import annotations

import tensorflow as tf

#: ITU-R BT.601 luma, as PIL's "L" conversion and tf.image.rgb_to_grayscale use; every RGB to
#: gray conversion in kgan (data and the evaluator's extractor input) uses these weights.
LUMA = (0.2989, 0.5870, 0.1140)


def to_unit(image: tf.Tensor) -> tf.Tensor:
    """uint8 [0, 255] (or uint16 [0, 65535]) to float32 [0, 1]; float images are taken to be
    in [0, 1] already."""
    if image.dtype == tf.uint8:
        return tf.cast(image, tf.float32) / 255.0
    if image.dtype == tf.uint16:
        return tf.cast(image, tf.float32) / 65535.0
    return tf.cast(image, tf.float32)


def _composite_on_white(color: tf.Tensor, alpha: tf.Tensor) -> tf.Tensor:
    return color * alpha + (1.0 - alpha)


def _gray(rgb: tf.Tensor) -> tf.Tensor:
    return tf.tensordot(rgb, tf.constant(LUMA, rgb.dtype), axes=[[-1], [0]])[..., None]


def to_channels(image: tf.Tensor, channels: int) -> tf.Tensor:
    """Converts an image with a static channel count (1, 2, 3 or 4) to 1 or 3 channels.

    Transparency (gray+alpha, RGBA) is composited on white; RGB becomes gray by BT.601 luma;
    gray becomes RGB by repetition.
    """
    have = image.shape[-1]
    if have is None:
        raise ValueError("to_channels needs a static channel count; use to_channels_dynamic")
    if have in (2, 4):
        image = _composite_on_white(image[..., :-1], image[..., -1:])
        have -= 1
    if have == channels:
        return image
    if channels == 1:
        return _gray(image)
    return tf.tile(image, [1, 1, 3])


def to_channels_dynamic(image: tf.Tensor, channels: int) -> tf.Tensor:
    """`to_channels` for a decoded file whose channel count is only known at run time."""
    branches = []
    for have in (1, 2, 3, 4):

        def branch(have=have):
            fixed = tf.ensure_shape(image, [None, None, have])
            return to_channels(fixed, channels)

        branches.append(branch)
    out = tf.switch_case(tf.shape(image)[-1] - 1, branches)
    return tf.ensure_shape(out, [None, None, channels])


def centre_crop(image: tf.Tensor) -> tf.Tensor:
    """The largest centred square of a (possibly non-square) image."""
    height, width = image.shape[0], image.shape[1]
    if height is not None and height == width:
        return image
    shape = tf.shape(image)
    side = tf.minimum(shape[0], shape[1])
    top = (shape[0] - side) // 2
    left = (shape[1] - side) // 2
    return image[top : top + side, left : left + side]


def square_resize(image: tf.Tensor, size: int) -> tf.Tensor:
    """Centre-crops to a square, then resizes to `size` x `size` (bilinear, antialiased)."""
    image = centre_crop(image)
    if image.shape[0] == size and image.shape[1] == size:
        return image
    image = tf.image.resize(image, (size, size), method="bilinear", antialias=True)
    return tf.clip_by_value(image, 0.0, 1.0)


def to_signed(image: tf.Tensor) -> tf.Tensor:
    """[0, 1] to [-1, 1], the range of a tanh generator."""
    return image * 2.0 - 1.0
