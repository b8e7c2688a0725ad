"""Schedules of run recipes: the learning rate (serialisable, so checkpoints reload them),
a cosine ramp for any value of the step (the regularisers' weight, Adam's beta_2 in
`CosineBeta2Adam`), and the EMA's decay from a half-life in images.

Keras' own `keras.optimizers.schedules.CosineDecay` is the cosine learning rate
(`RunConfig.lr_final`); `cosine` is the same curve for values that are not learning rates.

Example:
    >>> keras.optimizers.Adam(HoldThenDecay(1e-3, steps=3000, decay_fraction=0.5))
    >>> cosine(2.0, 0.2, step=500, steps=1000)   # halfway: 1.1
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf


def cosine(start: float, end: float, step, steps: int) -> tf.Tensor:
    """`start` at step 0 to `end` at `steps` along half a cosine, `end` after (float32)."""
    progress = tf.minimum(tf.cast(step, tf.float32) / float(max(int(steps), 1)), 1.0)
    return end + (start - end) * 0.5 * (1.0 + tf.cos(math.pi * progress))


def half_life_decay(images_per_step, images_seen, half_life: float,
                    rampup: float | None = None) -> tf.Tensor:
    """The EMA decay of a step of `images_per_step` images for a half-life of `half_life`
    images: `0.5 ** (images_per_step / h)`, where `h = min(half_life, rampup * images_seen)`
    with a ramp-up (StyleGAN2's `ema_kimg` / `ema_rampup`)."""
    h = tf.constant(float(half_life), tf.float32)
    if rampup is not None:
        h = tf.minimum(h, float(rampup) * tf.cast(images_seen, tf.float32))
    return tf.pow(0.5, tf.cast(images_per_step, tf.float32) / tf.maximum(h, 1e-8))


@keras.saving.register_keras_serializable(package="kgan.schedules")
class HoldThenDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`learning_rate`, then a linear decay to 0 over the last `decay_fraction` of `steps`.

    Args:
        learning_rate: the rate held at first.
        steps: the optimizer step at which the rate reaches 0.
        decay_fraction: the share of `steps` (at the end) over which it decays; 0 holds the
            rate constant.
    """

    def __init__(self, learning_rate: float, steps: int, decay_fraction: float) -> None:
        if not 0.0 <= float(decay_fraction) <= 1.0:
            raise ValueError(f"decay_fraction must be in [0, 1], got {decay_fraction}")
        self.learning_rate = float(learning_rate)
        self.steps = int(steps)
        self.decay_fraction = float(decay_fraction)

    def __call__(self, step):
        if self.decay_fraction == 0.0:
            return keras.ops.convert_to_tensor(self.learning_rate, "float32")
        decay_steps = max(self.steps * self.decay_fraction, 1.0)
        left = (self.steps - keras.ops.cast(step, "float32")) / decay_steps
        return self.learning_rate * keras.ops.clip(left, 0.0, 1.0)

    def get_config(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "steps": self.steps,
            "decay_fraction": self.decay_fraction,
        }


@keras.saving.register_keras_serializable(package="kgan.schedules")
class CosineBeta2Adam(keras.optimizers.Adam):
    """Keras' Adam whose `beta_2` follows a cosine from `beta_2` to `beta_2_final` over
    `beta_2_steps` updates (R3GAN's schedule; Keras' Adam takes `beta_2` as a number only).

    The bias correction uses the current `beta_2`, as PyTorch's Adam does when a schedule
    changes its betas.

    Example:
        >>> CosineBeta2Adam(2e-4, beta_1=0.0, beta_2=0.9, beta_2_final=0.99, beta_2_steps=10**5)
    """

    def __init__(self, *args, beta_2_final: float = 0.999, beta_2_steps: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        if not 0.0 <= float(beta_2_final) < 1.0:
            raise ValueError(f"beta_2_final must be in [0, 1), got {beta_2_final}")
        self.beta_2_final = float(beta_2_final)
        self.beta_2_steps = max(1, int(beta_2_steps))

    def update_step(self, gradient, variable, learning_rate):
        fixed = self.beta_2
        # Adam's update reads `self.beta_2`: this step's value, for the time of the update.
        self.beta_2 = cosine(fixed, self.beta_2_final, self.iterations, self.beta_2_steps)
        try:
            super().update_step(gradient, variable, learning_rate)
        finally:
            self.beta_2 = fixed

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_2_final": self.beta_2_final,
                "beta_2_steps": self.beta_2_steps}


__all__ = ["CosineBeta2Adam", "HoldThenDecay", "cosine", "half_life_decay"]
