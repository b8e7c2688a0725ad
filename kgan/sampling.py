"""One sampling path: the latents, labels, batches and grid shape behind every kgan sample.

`GAN.generate`, `kgan sample`, the sample-grid callback, the evaluator, the dashboard and the
SavedModel's `sample` signature all draw through here, so one seed gives the same samples in
each. Importing this module does not load TensorFlow (the dashboard imports it early).

Example:
    >>> pixels = draw(run.load_generator(), 64, seed=0, num_classes=10, uint8=True)
    >>> picture = kgan.images.grid(pixels, cols=grid_columns(64, num_classes=10))
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

#: A grid gets one column per class up to this many classes (more would be too wide).
MAX_CLASS_COLUMNS = 16
#: Samples per generator call.
BATCH_SIZE = 256


def sample_latents(num, seed, latent_dim: int, truncation=None):
    """Standard-normal latents `(num, latent_dim)` (a `tf.Tensor`) that depend only on
    `(num, seed)`.

    Drawn by inverse-CDF from stateless uniforms, so a `truncation` t gives the same samples
    pulled inside [-t, t] (the truncation trick) and the same function can live inside an
    exported SavedModel (it is traced into the `sample` signature when exporting).

    Example:
        >>> sample_latents(4, seed=0, latent_dim=8).shape
        TensorShape([4, 8])
    """
    import tensorflow as tf

    key = tf.stack([tf.cast(seed, tf.int64), tf.constant(0x6B67616E, tf.int64)])
    u = tf.random.stateless_uniform(
        tf.stack([tf.cast(num, tf.int32), latent_dim]), seed=key, dtype=tf.float64
    )
    if truncation is None:
        low = tf.constant(1e-12, tf.float64)
    else:
        t = tf.abs(tf.cast(truncation, tf.float64))
        low = tf.math.maximum(0.5 * tf.math.erfc(t / np.sqrt(2.0)), 1e-12)  # Phi(-t)
    high = 1.0 - low
    return tf.cast(tf.math.ndtri(low + u * (high - low)), tf.float32)


def default_labels(num: int, num_classes: int) -> np.ndarray:
    """0, 1, ..., K-1, 0, 1, ... — every class equally often in a grid of samples.

    Example:
        >>> default_labels(5, 3)
        array([0, 1, 2, 0, 1], dtype=int32)
    """
    return (np.arange(num) % num_classes).astype(np.int32)


def labels_for(num: int, num_classes: int | None, labels=None) -> np.ndarray | None:
    """The class ids of `num` samples: `labels` (one int or `num` ints) checked against the
    `num_classes` classes, else `default_labels`; None for an unconditional model.

    Example:
        >>> labels_for(3, 10, labels=7)
        array([7, 7, 7], dtype=int32)
    """
    if not num_classes:
        if labels is not None:
            raise ValueError("labels were given but the model is unconditional")
        return None
    if labels is None:
        return default_labels(num, num_classes)
    labels = np.broadcast_to(np.asarray(labels, np.int32), (num,)).copy()
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must be in [0, {num_classes - 1}], got {sorted(set(labels.tolist()))}"
        )
    return labels


def grid_columns(num: int, num_classes: int | None = None, label: int | None = None) -> int:
    """Columns of a grid of `num` samples: one per class when the classes cycle (a conditional
    model, no fixed `label`, at most `MAX_CLASS_COLUMNS` classes and at least one full row),
    else about square.

    Example:
        >>> grid_columns(30, num_classes=10), grid_columns(30)
        (10, 6)
    """
    if num_classes and label is None and num_classes <= MAX_CLASS_COLUMNS and num >= num_classes:
        return int(num_classes)
    return max(1, math.ceil(math.sqrt(num)))


def _source(model, num_classes: int | None, use_ema: bool):
    """`(call(z, labels), latent_dim, num_classes, sample_shape)` of a `kgan.GAN`, a generator
    `keras.Model` or a compiled sampler (a callable with `latent_dim`, `num_classes` and
    `data_shape`, such as `kgan.dashboard.sampling.Sampler`)."""
    import keras

    if isinstance(model, keras.Model) and hasattr(model, "sampler"):  # a kgan.GAN
        network = model.sampler if use_ema else model.generator
        return _keras_call(network), model.latent_dim, model.num_classes, model.data_shape
    if isinstance(model, keras.Model):
        if len(model.inputs) > 1 and not num_classes:
            raise ValueError("the generator is conditional; pass num_classes")
        shape = tuple(model.outputs[0].shape[1:])
        return _keras_call(model), int(model.inputs[0].shape[-1]), num_classes, shape
    return model, int(model.latent_dim), model.num_classes, tuple(model.data_shape)


def _keras_call(network):
    import keras

    def call(z, labels):
        inputs = z if labels is None else [z, labels]
        return keras.ops.convert_to_numpy(network(inputs, training=False))

    return call


def draw_batches(
    model,
    num: int,
    seed: int = 0,
    *,
    labels=None,
    num_classes: int | None = None,
    truncation: float | None = None,
    batch_size: int = BATCH_SIZE,
    use_ema: bool = True,
) -> Iterator[np.ndarray]:
    """`draw`'s float32 samples, `batch_size` at a time (for progress bars)."""
    import tensorflow as tf

    call, latent_dim, num_classes, _ = _source(model, num_classes, use_ema)
    z = sample_latents(num, seed, latent_dim, truncation)
    labels = labels_for(num, num_classes, labels)
    for start in range(0, num, batch_size):
        stop = min(start + batch_size, num)
        ys = None if labels is None else tf.constant(labels[start:stop])
        yield np.asarray(call(z[start:stop], ys), np.float32)


def draw(
    model,
    num: int,
    seed: int = 0,
    *,
    labels=None,
    num_classes: int | None = None,
    truncation: float | None = None,
    batch_size: int = BATCH_SIZE,
    use_ema: bool = True,
    uint8: bool = False,
) -> np.ndarray:
    """`num` samples of `seed`: float32 (images in [-1, 1]), or uint8 pixels with `uint8`.

    Args:
        model: a `kgan.GAN` (its EMA generator unless `use_ema=False`), a generator
            `keras.Model` such as `Run.load_generator()` (conditional ones need `num_classes`),
            or a compiled sampler with `latent_dim`, `num_classes` and `data_shape`.
        labels: classes of a conditional model (an int or `num` ints); by default 0..K-1 cycle.
        truncation: draw the latents inside [-t, t] (the truncation trick).

    Example:
        >>> draw(gan, 16, seed=0).shape
        (16, 8, 8, 1)
    """
    batches = list(
        draw_batches(model, num, seed, labels=labels, num_classes=num_classes,
                     truncation=truncation, batch_size=batch_size, use_ema=use_ema)
    )
    if batches:
        samples = np.concatenate(batches)
    else:
        samples = np.zeros((0, *_source(model, num_classes, use_ema)[3]), np.float32)
    if uint8:
        from kgan import images

        return images.to_uint8(samples)
    return samples


__all__ = [
    "BATCH_SIZE",
    "MAX_CLASS_COLUMNS",
    "default_labels",
    "draw",
    "draw_batches",
    "grid_columns",
    "labels_for",
    "sample_latents",
]
