"""kgan: train, evaluate, browse and serve GANs with Keras 3, TensorFlow and TFDS."""

import importlib as _importlib
import os as _os

# kgan's engine uses tf.GradientTape; Keras must run on the TensorFlow backend.
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from kgan import architectures, losses, regularizers, toy  # noqa: E402
from kgan.gan import GAN, sample_latents  # noqa: E402

__version__ = "0.1.0"

# Imported on first use: they pull in tensorflow-datasets, scipy or PIL, which `import kgan`
# alone should not pay for.
_LAZY = (
    "data", "metrics", "features", "evaluation", "runs", "training", "export", "callbacks",
    "presets",
)


def __getattr__(name: str):
    if name in _LAZY:
        return _importlib.import_module(f"kgan.{name}")
    raise AttributeError(f"module 'kgan' has no attribute {name!r}")


__all__ = [
    "GAN", "architectures", "losses", "regularizers", "sample_latents", "toy", "__version__", *_LAZY
]
