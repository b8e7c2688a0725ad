"""Discriminator regularisers: WGAN-GP gradient penalty and the zero-centred R1 / R2 penalties
(alone or together as `r1r2`).

A regulariser returns a per-example penalty (already multiplied by its weight, which may
follow a cosine to `final_weight`) so the model can average it over the global batch. `every=N` applies it lazily, every N-th discriminator
update with its weight multiplied by N (StyleGAN2's lazy regularisation), which keeps the
expected penalty the same at a fraction of the cost.

Example:
    >>> gp = get("gradient_penalty", weight=10.0)
    >>> gp(critic, real, fake, uniform)  # (B,) weighted penalty
"""

from __future__ import annotations

from typing import Callable

import keras
import tensorflow as tf

from kgan import schedules
from kgan.registry import Registry, constructor_config

_REGISTRY: Registry["Regularizer"] = Registry("regularizer")

Critic = Callable[[tf.Tensor], tf.Tensor]


def register(name: str):
    def decorator(cls):
        cls = keras.saving.register_keras_serializable(package="kgan.regularizers", name=name)(cls)
        return _REGISTRY.register(name)(cls)

    return decorator


def _input_gradient(critic: Critic, x: tf.Tensor, loss_scale: tf.Tensor | float) -> tf.Tensor:
    """d sum(D(x)) / dx as float32 `(B, features)`.

    Under mixed_float16 the inner backward pass runs in float16, so the logits are
    multiplied by the optimizer's loss scale before differentiating and the gradient is
    divided by it afterwards, exactly as the outer loss is scaled.
    """
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = tf.cast(critic(x), tf.float32)
        scaled = tf.reduce_sum(logits) * tf.cast(loss_scale, tf.float32)
    grads = tf.cast(tape.gradient(scaled, x), tf.float32) / tf.cast(loss_scale, tf.float32)
    return tf.reshape(grads, [tf.shape(grads)[0], -1])


class Regularizer:
    """A weighted per-example penalty on the discriminator, applied every `every` steps.

    Subclasses keep every constructor argument as an attribute of the same name: that is
    their `get_config()`, which saved models are rebuilt from.
    """

    name: str

    def __init__(
        self, weight: float = 10.0, every: int = 1, final_weight: float | None = None,
        steps: int = 0,
    ) -> None:
        if weight < 0:
            raise ValueError(f"{type(self).__name__}: weight must be >= 0, got {weight}")
        if int(every) < 1:
            raise ValueError(f"{type(self).__name__}: every must be >= 1, got {every}")
        if final_weight is not None and (final_weight < 0 or int(steps) < 1):
            raise ValueError(
                f"{type(self).__name__}: a final_weight ({final_weight}) must be >= 0 and comes "
                f"with the steps (>= 1) it is reached at, got steps={steps}"
            )
        self.weight = float(weight)
        self.every = int(every)
        self.final_weight = None if final_weight is None else float(final_weight)
        self.steps = int(steps)

    def weight_at(self, step) -> tf.Tensor | float:
        """The weight at discriminator update `step`: `weight`, or with a `final_weight` a
        cosine from `weight` to it over `steps` updates (R3GAN's decaying gamma)."""
        if self.final_weight is None:
            return self.weight
        return schedules.cosine(self.weight, self.final_weight, step, self.steps)

    def penalty(
        self, critic: Critic, real: tf.Tensor, fake: tf.Tensor, uniform: tf.Tensor, loss_scale
    ) -> tf.Tensor:
        """The unweighted per-example penalty.

        `uniform` holds one U(0, 1) number per example, drawn by the model so that the draws do
        not depend on how the global batch is split across replicas.
        """
        raise NotImplementedError

    def __call__(
        self,
        critic: Critic,
        real: tf.Tensor,
        fake: tf.Tensor,
        uniform: tf.Tensor,
        step: tf.Tensor | int = 0,
        loss_scale: tf.Tensor | float = 1.0,
    ) -> tf.Tensor:
        """Weighted per-example penalty; zeros on the steps that lazy regularisation skips."""
        weight = self.weight_at(step) * self.every
        if self.every == 1:
            return weight * self.penalty(critic, real, fake, uniform, loss_scale)
        return tf.cond(
            tf.equal(tf.math.floormod(tf.cast(step, tf.int64), self.every), 0),
            lambda: weight * self.penalty(critic, real, fake, uniform, loss_scale),
            lambda: tf.zeros([tf.shape(real)[0]], tf.float32),
        )

    def get_config(self) -> dict:
        """The constructor arguments (kept as attributes of the same names)."""
        return constructor_config(self)

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@register("gradient_penalty")
class GradientPenalty(Regularizer):
    """WGAN-GP (Gulrajani et al. 2017): (||grad D(x_hat)|| - 1)^2 on real/fake interpolates.

    The interpolation weight is uniform per example; `epsilon` under the square root keeps
    the gradient of the norm finite when the input gradient is exactly zero.
    """

    def __init__(
        self, weight: float = 10.0, every: int = 1, epsilon: float = 1e-12,
        final_weight: float | None = None, steps: int = 0,
    ) -> None:
        super().__init__(weight, every, final_weight, steps)
        self.epsilon = float(epsilon)

    def penalty(self, critic, real, fake, uniform, loss_scale):
        real = tf.cast(real, tf.float32)
        fake = tf.cast(fake, tf.float32)
        shape = tf.concat([tf.shape(real)[:1], tf.ones([tf.rank(real) - 1], tf.int32)], 0)
        alpha = tf.reshape(tf.cast(uniform, tf.float32), shape)
        x_hat = real + alpha * (fake - real)
        grads = _input_gradient(critic, x_hat, loss_scale)
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=1) + self.epsilon)
        return tf.square(norm - 1.0)


@register("r1")
class R1(Regularizer):
    """Zero-centred penalty on real data (Mescheder et al. 2018): weight/2 * ||grad D(x)||^2."""

    def penalty(self, critic, real, fake, uniform, loss_scale):
        grads = _input_gradient(critic, tf.cast(real, tf.float32), loss_scale)
        return 0.5 * tf.reduce_sum(tf.square(grads), axis=1)


@register("r2")
class R2(Regularizer):
    """Zero-centred penalty on generated data: weight/2 * ||grad D(G(z))||^2."""

    def penalty(self, critic, real, fake, uniform, loss_scale):
        grads = _input_gradient(critic, tf.cast(fake, tf.float32), loss_scale)
        return 0.5 * tf.reduce_sum(tf.square(grads), axis=1)


@register("r1r2")
class R1R2(Regularizer):
    """R1 and R2 as one penalty (the R3GAN recipe): weight/2 * (||grad D(x)||^2 +
    ||grad D(G(z))||^2), with one weight and one lazy schedule for both."""

    def penalty(self, critic, real, fake, uniform, loss_scale):
        on_real = _input_gradient(critic, tf.cast(real, tf.float32), loss_scale)
        on_fake = _input_gradient(critic, tf.cast(fake, tf.float32), loss_scale)
        return 0.5 * (tf.reduce_sum(tf.square(on_real), axis=1)
                      + tf.reduce_sum(tf.square(on_fake), axis=1))


def get(identifier, **kwargs) -> Regularizer:
    """A regulariser from its name (plus `weight=`, `every=`), a config dict, or an instance."""
    return _REGISTRY.get(identifier, **kwargs)


def names() -> list[str]:
    return _REGISTRY.names()
