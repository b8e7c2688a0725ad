"""The pixel-space extractors, the headline spaces of digits and MNIST: no weights, the
features are the (pooled) pixels themselves, and their classifier score comes from a classifier.
"""

from __future__ import annotations

import hashlib

import numpy as np

from kgan.features.base import FeatureExtractor
from kgan.features.registry import EXTRACTORS


class PixelSpace(FeatureExtractor):
    """An extractor defined by a fixed transform of the pixels: its `fingerprint` is a digest
    of the transform's description `DEFINITION`, and `classifier` names the extractor that
    gives its class probabilities (the classifier score)."""

    DEFINITION: str
    classifier: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.DEFINITION.encode()).hexdigest()[:12]


@EXTRACTORS.register("digits_pixels")
class DigitsPixels(PixelSpace):
    """The 64 pixels of scikit-learn's 8x8 digits, in [-1, 1], as the feature vector.

    No weights: the definition is this flattening, and `fingerprint` is a digest of its
    description (`DEFINITION`). Its classifier score comes from `digits_classifier`
    (`classifier`). Input: `(N, 8, 8, 1)` in [-1, 1].

    Example:
        >>> get("digits_pixels").features(np.zeros((5, 8, 8, 1))).shape
        (5, 64)
    """

    DEFINITION = "digits_pixels v1: the (8, 8, 1) image in [-1, 1] flattened row-major to 64"
    image_shape = (8, 8, 1)
    num_features = 64
    #: The extractor that gives class probabilities (the classifier score) for this space.
    classifier = "digits_classifier"

    def _run(self, batch: np.ndarray):
        return batch.reshape(len(batch), -1), None


@EXTRACTORS.register("mnist_pooled")
class MnistPooled(PixelSpace):
    """MNIST's 28x28 pixels in [-1, 1], averaged over 2x2 blocks: a 196-d feature vector.

    No weights: the definition is this pooling, and `fingerprint` is a digest of `DEFINITION`.
    Pooling keeps the covariance well conditioned at N = 1,000 (the full 784 pixels' FID is
    mostly small-sample bias there) while blur and noise stay visible; the classifier score
    comes from `mnist` (`classifier`). Input: `(N, 28, 28, 1)` in [-1, 1]; a run at 32x32 is
    resized to it by `kgan.evaluation.Evaluator`.

    Example:
        >>> get("mnist_pooled").features(np.zeros((5, 28, 28, 1))).shape
        (5, 196)
    """

    DEFINITION = (
        "mnist_pooled v1: the (28, 28, 1) image in [-1, 1], each 2x2 block averaged to "
        "(14, 14), flattened row-major to 196"
    )
    image_shape = (28, 28, 1)
    num_features = 196
    #: The extractor that gives class probabilities (the classifier score) for this space.
    classifier = "mnist"
    _BLOCK = 2

    def _run(self, batch: np.ndarray):
        n, side = len(batch), self.image_shape[0] // self._BLOCK
        blocks = batch.reshape(n, side, self._BLOCK, side, self._BLOCK)
        return blocks.mean(axis=(2, 4)).reshape(n, -1), None
