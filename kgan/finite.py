"""`non_finite(gan)`: which parts of a GAN hold a NaN or an infinity, in one compiled call.

Checked on the weights themselves, not on the losses: fused CPU kernels (oneDNN's matmul +
activation) can turn NaN activations into finite values, so a model with NaN weights may still
report finite losses. The outputs of the generator (and the EMA generator) on a fixed latent
batch are checked too.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from kgan import sampling

#: Latents of the output check: a fixed, small batch.
CHECK_NUM = 16
CHECK_SEED = 0x600D


def named_state(gan) -> list[tuple[str, object]]:
    """Every float variable of `gan`'s state, named by the part it belongs to."""
    parts = [("generator", gan.generator.variables),
             ("discriminator", gan.discriminator.variables)]
    if gan.ema_generator is not None:
        parts.append(("ema_generator", gan.ema_generator.variables))
    for part, optimizer in (("d_optimizer", getattr(gan, "d_optimizer", None)),
                            ("g_optimizer", getattr(gan, "g_optimizer", None))):
        if optimizer is not None:
            parts.append((part, optimizer.variables))
    found, seen = [], set()
    for part, variables in parts:
        for v in variables:
            if id(v) in seen or not v.dtype.startswith(("float", "bfloat")):
                continue
            seen.add(id(v))
            found.append((f"{part}/{v.path}", v))
    return found


def _compiled_check(gan):
    """The names checked and a `tf.function` returning one finiteness flag per name."""
    named = named_state(gan)
    names = [name for name, _ in named]
    variables = [v for _, v in named]
    networks = [("generator output", gan.generator)]
    if gan.ema_generator is not None:
        networks.append(("ema_generator output", gan.ema_generator))
    names += [name for name, _ in networks]
    z = sampling.sample_latents(CHECK_NUM, CHECK_SEED, gan.latent_dim)
    labels = sampling.labels_for(CHECK_NUM, gan.num_classes, None)
    inputs = z if labels is None else [z, tf.constant(labels)]

    @tf.function
    def check():
        flags = [tf.reduce_all(tf.math.is_finite(v)) for v in variables]
        flags += [
            tf.reduce_all(tf.math.is_finite(tf.cast(net(inputs, training=False), tf.float32)))
            for _, net in networks
        ]
        return tf.stack(flags)

    return names, check


def non_finite(gan) -> list[str]:
    """The names of `gan`'s parts that hold a NaN or an infinity; empty when it is healthy.
    The compiled check is built once per model and kept on it."""
    if getattr(gan, "_finite_check", None) is None:
        object.__setattr__(gan, "_finite_check", _compiled_check(gan))
    names, check = gan._finite_check
    flags = keras.ops.convert_to_numpy(check())
    return [name for name, ok in zip(names, flags) if not ok]


__all__ = ["named_state", "non_finite"]
