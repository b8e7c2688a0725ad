"""The classifier extractors: kgan's small CNNs for digits and MNIST, shipped in `kgan/assets/`.

Their features are the penultimate layer (named `features`), their probabilities the softmax.
`scripts/train_classifiers.py` trains them; `kgan/assets/classifiers.json` holds their test
accuracies.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from kgan.errors import KganError
from kgan.features.base import FeatureExtractor
from kgan.features.model_files import FileFingerprint, load_model
from kgan.features.registry import EXTRACTORS

ASSETS = Path(__file__).parent.parent / "assets"


class KerasClassifier(FileFingerprint, FeatureExtractor):
    """A Keras classifier whose layer named `features` gives the features.

    The model file must be a `.keras` archive of a functional model with a softmax output
    and a layer named `features` (as `scripts/train_classifiers.py` writes them); it is
    loaded with `safe_mode=True`, once per process.
    """

    asset: str = ""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = str(path) if path is not None else None
        self._file = Path(path) if path is not None else ASSETS / self.asset
        if not self._file.is_file():
            raise KganError(
                f"Classifier weights for the {self.name!r} extractor are missing: {self._file} "
                f"(re-run scripts/train_classifiers.py, or reinstall kgan)"
            )

    def get_config(self) -> dict:
        return {"name": self.name, "path": self.path}

    @property
    def model(self):
        """The loaded classifier (shared by every instance in this process)."""
        return load_model(str(self._file.resolve()), self._file.stat().st_mtime)

    def _run(self, batch: np.ndarray):
        return _two_headed(self.model)(batch, training=False)


@functools.lru_cache(maxsize=None)
def _two_headed(model):
    import keras

    return keras.Model(model.input, [model.get_layer("features").output, model.output])


@EXTRACTORS.register("digits_classifier")
class DigitsClassifier(KerasClassifier):
    """Penultimate features of kgan's CNN for scikit-learn's 8x8 digits (64-d, 10 classes).

    Input: `(N, 8, 8, 1)` in [-1, 1], i.e. scikit-learn's 0-16 values as `v / 8 - 1`.
    Blind to diversity within a class (see `kgan.features`); not the default any more.

    Example:
        >>> get("digits_classifier").probabilities(images).argmax(1)
    """

    asset = "digits_classifier.keras"
    image_shape = (8, 8, 1)
    num_features = 64
    num_classes = 10


@EXTRACTORS.register("digits")
class LegacyDigitsClassifier(DigitsClassifier):
    """`digits_classifier` under its old name `digits` (the same weights and fingerprint), so
    runs that name the space `digits` keep working. Numbers recorded before the `digits`
    2.0.0 split were measured with other weights (their recorded fingerprint says so)."""


@EXTRACTORS.register("mnist")
class MnistClassifier(KerasClassifier):
    """Penultimate features of kgan's CNN for MNIST (128-d, 10 classes).

    Input: `(N, 28, 28, 1)` in [-1, 1], i.e. 0-255 pixels as `p / 127.5 - 1`. Ranks class
    balance above diversity (see `kgan.features`); not the default any more.

    Example:
        >>> get("mnist").features(images).shape
        (1000, 128)
    """

    asset = "mnist_classifier.keras"
    image_shape = (28, 28, 1)
    num_features = 128
    num_classes = 10
