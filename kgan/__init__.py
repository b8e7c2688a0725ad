"""kgan: train, evaluate, browse and serve GANs with Keras 3, TensorFlow and TFDS."""

import os as _os

# kgan's engine uses tf.GradientTape; Keras must run on the TensorFlow backend.
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from kgan import architectures, losses, regularizers, toy  # noqa: E402
from kgan.gan import GAN, sample_latents  # noqa: E402

__version__ = "0.1.0"

__all__ = ["GAN", "architectures", "losses", "regularizers", "sample_latents", "toy", "__version__"]
