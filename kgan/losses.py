"""GAN objectives as (discriminator, generator) loss pairs on discriminator logits.

Each loss returns one value per example (patch outputs `(B, H, W, 1)` are averaged over
their patch), so the model can average over the *global* batch under `tf.distribute`.
Log-sigmoids are written with softplus, which never overflows:
`-log(sigmoid(x)) = softplus(-x)` and `-log(1 - sigmoid(x)) = softplus(x)`.

Example:
    >>> loss = get("hinge")
    >>> loss.discriminator_loss(real_logits, fake_logits)   # shape (B,)
"""

from __future__ import annotations

import keras
import tensorflow as tf

from kgan.registry import Registry

_REGISTRY: Registry["GANLoss"] = Registry("loss")


def _per_example(x: tf.Tensor) -> tf.Tensor:
    """Mean over every axis but the batch axis, in float32."""
    x = tf.cast(x, tf.float32)
    return tf.reduce_mean(tf.reshape(x, [tf.shape(x)[0], -1]), axis=1)


class GANLoss:
    """A pair of per-example losses on logits; subclasses define the two methods.

    `generator_loss` also receives the logits of the batch's real examples when the loss sets
    `needs_real_logits` (relativistic losses compare each fake with a real); the model skips
    that discriminator pass for every other loss, which ignores the argument.
    """

    name: str
    needs_real_logits = False

    def discriminator_loss(self, real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def generator_loss(
        self, fake_logits: tf.Tensor, real_logits: tf.Tensor | None = None
    ) -> tf.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "GANLoss":
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def register(name: str):
    """Registers a loss class under `name` for `get` and for `.keras` deserialisation."""

    def decorator(cls):
        cls = keras.saving.register_keras_serializable(package="kgan.losses", name=name)(cls)
        return _REGISTRY.register(name)(cls)

    return decorator


@register("minimax")
class Minimax(GANLoss):
    """The original objective min_G max_D E[log D(x)] + E[log(1 - D(G(z)))].

    D minimises softplus(-real) + softplus(fake); G minimises log(1 - D(G(z))) =
    -softplus(fake), the saturating form whose gradient vanishes when D wins.
    """

    def discriminator_loss(self, real_logits, fake_logits):
        return _per_example(tf.nn.softplus(-real_logits)) + _per_example(
            tf.nn.softplus(fake_logits)
        )

    def generator_loss(self, fake_logits, real_logits=None):
        return _per_example(-tf.nn.softplus(fake_logits))


@register("nonsaturating")
class NonSaturating(Minimax):
    """Same discriminator as minimax; G maximises log D(G(z)), i.e. minimises softplus(-fake)."""

    def generator_loss(self, fake_logits, real_logits=None):
        return _per_example(tf.nn.softplus(-fake_logits))


@register("wasserstein")
class Wasserstein(GANLoss):
    """WGAN critic: D minimises fake - real, G minimises -fake (pair with a gradient penalty)."""

    def discriminator_loss(self, real_logits, fake_logits):
        return _per_example(fake_logits) - _per_example(real_logits)

    def generator_loss(self, fake_logits, real_logits=None):
        return -_per_example(fake_logits)


@register("hinge")
class Hinge(GANLoss):
    """Hinge loss (Geometric GAN / SNGAN): D minimises relu(1 - real) + relu(1 + fake)."""

    def discriminator_loss(self, real_logits, fake_logits):
        return _per_example(tf.nn.relu(1.0 - tf.cast(real_logits, tf.float32))) + _per_example(
            tf.nn.relu(1.0 + tf.cast(fake_logits, tf.float32))
        )

    def generator_loss(self, fake_logits, real_logits=None):
        return -_per_example(fake_logits)


@register("least_squares")
class LeastSquares(GANLoss):
    """LSGAN (a=0, b=c=1): D minimises ((real-1)^2 + fake^2)/2, G minimises (fake-1)^2/2."""

    def discriminator_loss(self, real_logits, fake_logits):
        real = tf.cast(real_logits, tf.float32)
        fake = tf.cast(fake_logits, tf.float32)
        return 0.5 * (_per_example(tf.square(real - 1.0)) + _per_example(tf.square(fake)))

    def generator_loss(self, fake_logits, real_logits=None):
        return 0.5 * _per_example(tf.square(tf.cast(fake_logits, tf.float32) - 1.0))


@register("relativistic")
class Relativistic(GANLoss):
    """Relativistic pairing GAN (RpGAN; Jolicoeur-Martineau 2019, the R3GAN baseline of Huang
    et al. 2024): each real example is paired with the fake of the same batch position.

    D minimises softplus(-(real - fake)), G minimises softplus(-(fake - real)); the G step
    needs the real logits (`needs_real_logits`). Pair it with R1 + R2 (`r1r2`).
    """

    needs_real_logits = True

    def discriminator_loss(self, real_logits, fake_logits):
        real = tf.cast(real_logits, tf.float32)
        fake = tf.cast(fake_logits, tf.float32)
        return _per_example(tf.nn.softplus(fake - real))

    def generator_loss(self, fake_logits, real_logits=None):
        if real_logits is None:
            raise ValueError("relativistic: generator_loss needs the real logits of the batch")
        real = tf.cast(real_logits, tf.float32)
        fake = tf.cast(fake_logits, tf.float32)
        return _per_example(tf.nn.softplus(real - fake))


def get(identifier) -> GANLoss:
    """A loss from its name, a config dict `{"name": ...}`, or an instance."""
    return _REGISTRY.get(identifier)


def names() -> list[str]:
    return _REGISTRY.names()
