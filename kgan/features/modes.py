"""Mode classifiers: images to the index of the data mode they show (StackedMNIST's 1,000).

A mode classifier reads a discrete mode off each image, so a generator's mode histogram can be
compared with the data's (metric `stacked_modes`). `channel_digits` classifies each of the R,
G, B channels of a StackedMNIST image with kgan's MNIST classifier (`mnist`, 98.99% test
accuracy) and returns `100 * r + 10 * g + b`. `modes_for(dataset)` names a dataset's own.

Example:
    >>> classifier = get_mode_classifier(modes_for("stacked_mnist"))
    >>> classifier.modes(images)            # (N,) ints in 0..999
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from kgan.errors import KganError
from kgan.features.registry import get as get_extractor
from kgan.registry import Registry

MODE_CLASSIFIERS: Registry = Registry("mode classifier")
_DEFAULTS = {"stacked_mnist": "channel_digits"}


@MODE_CLASSIFIERS.register("channel_digits")
class ChannelDigits:
    """The mode of a `(N, H, W, 3)` StackedMNIST image in [-1, 1]: each channel's digit by the
    `classifier` extractor (10 classes, 1-channel input; channels resized to its input size,
    bilinear with antialiasing, when the run's images are e.g. 32x32), as `100r + 10g + b`.

    Example:
        >>> ChannelDigits().modes(stacked_images)
        array([ 37, 768, ...])
    """

    num_modes = 1000

    def __init__(self, classifier: str = "mnist") -> None:
        self.classifier = classifier
        self._extractor = get_extractor(classifier)
        if self._extractor.num_classes != 10:
            raise KganError(f"channel_digits needs a 10-class digit classifier, not {classifier!r}")

    @property
    def fingerprint(self) -> str:
        """The digit classifier's weights fingerprint (what a result's numbers depend on)."""
        return f"{self.classifier}:{self._extractor.fingerprint}"

    def digits(self, images: Any, batch_size: int = 256) -> np.ndarray:
        """`(N, 3)` int64: the classifier's digit of the R, G and B channel of each image."""
        x = np.asarray(images, np.float32)
        if x.ndim != 4 or x.shape[-1] != 3:
            raise KganError(
                f"channel_digits takes (N, H, W, 3) images (three stacked digits), got shape "
                f"{x.shape}"
            )
        n, h, w, _ = x.shape
        gray = np.moveaxis(x, -1, 1).reshape(n * 3, h, w, 1)  # image 0's R, G, B, image 1's ...
        size = self._extractor.image_shape[:2]
        if (h, w) != size:
            import tensorflow as tf

            gray = tf.image.resize(gray, size, method="bilinear", antialias=True).numpy()
        probabilities = self._extractor.probabilities(np.clip(gray, -1.0, 1.0), batch_size)
        return probabilities.argmax(1).astype(np.int64).reshape(n, 3)

    def modes(self, images: Any, batch_size: int = 256) -> np.ndarray:
        """`(N,)` int64 modes 0..999 of `(N, H, W, 3)` images in [-1, 1]."""
        d = self.digits(images, batch_size)
        return d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2]


def get_mode_classifier(identifier: Any, **kwargs: Any):
    """A mode classifier from a name (constructor kwargs allowed), a config dict, or an
    instance; the error lists the valid names."""
    return MODE_CLASSIFIERS.get(identifier, **kwargs)


def modes_for(dataset: str) -> str | None:
    """The mode classifier of a dataset name (`stacked_mnist`, also `stacked_mnist:1.0.0`),
    None for data without discrete modes kgan can read off an image."""
    base = re.split(r"[:/\[]", str(dataset), maxsplit=1)[0].strip().lower()
    return _DEFAULTS.get(base)


__all__ = ["MODE_CLASSIFIERS", "ChannelDigits", "get_mode_classifier", "modes_for"]
