"""kgan: train, evaluate, browse and serve GANs with Keras 3, TensorFlow and TFDS.

Submodules and `GAN` are imported on first use, so `import kgan` (and `kgan --help`) does not
pay for TensorFlow until something needs it.

Example:
    >>> import kgan
    >>> generator, discriminator = kgan.architectures.get("mlp").build((2,), latent_dim=8)
    >>> gan = kgan.GAN(generator, discriminator)
"""

import importlib as _importlib
import os as _os

# kgan's engine uses tf.GradientTape; Keras must run on the TensorFlow backend.
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

_SUBMODULES = (
    "architectures", "callbacks", "data", "evaluation", "export", "features", "health",
    "losses", "metrics", "presets", "regularizers", "runs", "toy", "training",
)
_FROM_GAN = ("GAN", "sample_latents")


def __getattr__(name: str):
    if name in _SUBMODULES:
        return _importlib.import_module(f"kgan.{name}")
    if name in _FROM_GAN:
        return getattr(_importlib.import_module("kgan.gan"), name)
    raise AttributeError(f"module 'kgan' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES, *_FROM_GAN])


__all__ = [*_FROM_GAN, *_SUBMODULES, "__version__"]
