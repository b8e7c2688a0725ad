"""Feature extractors for the sample-quality metrics, by name, and cached real-data statistics.

Every extractor maps images scaled to [-1, 1], shaped `(N, H, W, C)`, to a `(N, D)` float32
feature matrix; the classifier ones also give class probabilities (for the classifier score).

| name        | input                               | features                               |
| ----------- | ----------------------------------- | -------------------------------------- |
| `digits_pixels` | `(N, 8, 8, 1)`: scikit-learn digits | the 64 pixels themselves (headline)  |
| `digits_classifier` | `(N, 8, 8, 1)`                | 64-d penultimate layer of a small CNN  |
| `digits`    | `(N, 8, 8, 1)`                      | legacy name of `digits_classifier`     |
| `mnist_pooled` | `(N, 28, 28, 1)`: MNIST          | 196 pixels, 2x2 average-pooled (headline) |
| `mnist`     | `(N, 28, 28, 1)`                    | 128-d penultimate layer of a small CNN |
| `inception` | any size, 1 or 3 channels           | 2048-d pool3 of the FID Inception-v3   |

`digits_pixels` is the default for `digits` (`default_for`): the classifier's features are
trained to forget what distinguishes two "3"s, so a FID there measures class balance, not
diversity (a set of 10 training images per class replayed with noise scored better than real
held-out data). FID on the raw pixels sees blur, noise, class imbalance and collapse onto a few
writers; `tests/test_metric_sensitivity.py` measures that, and `kgan/assets/README.md` holds
the numbers. The classifier stays available as `digits_classifier` (and gives `digits_pixels`
its classifier score). Likewise `mnist_pooled` is the default for `mnist`: in the `mnist`
classifier's space 100 training images replayed score better than a diverse set with skewed
classes, and noise of sigma 0.2 is 1.4x the floor at N = 1,000; the pooled pixels rank the
replay 2.8x worse than the skew and see the noise at 2.9x.

The two classifiers ship inside the package (`kgan/assets/`, trained by
`scripts/train_classifiers.py`): `digits` has 97.98% test accuracy (291 of the 297 images
of the `digits` dataset's test split), `mnist` 98.99% (the 10,000 official test images);
`kgan/assets/classifiers.json` holds the exact figures. The FID Inception-v3 is not shipped
and never downloaded at run time: `kgan features install inception` converts it once
(`inception_install`, reading the TorchScript archive with `torchscript`, building
`inception_v3`); `weights=` or `KGAN_INCEPTION_WEIGHTS` override it (see `Inception`).

Modules: `registry` (`get`, `names`, `default_for`), `base` (`FeatureExtractor`), `pixels`,
`classifiers` and `inception` (the extractors), `inception_v3` (the FID network in Keras and
its preprocessing), `inception_install` and `torchscript` (its conversion), `model_files`
(weights fingerprints and safe loading), `reference` (cached real-data statistics), `modes`
(mode classifiers: StackedMNIST's digit triple, `channel_digits`, by the `mnist`
classifier). Import from `kgan.features` itself.

Example:
    >>> from kgan import features
    >>> extractor = features.get(features.default_for("digits"))  # digits_pixels
    >>> extractor.features(images).shape
    (100, 64)
"""

from kgan.features.base import FeatureExtractor
from kgan.features.classifiers import (
    ASSETS,
    DigitsClassifier,
    KerasClassifier,
    LegacyDigitsClassifier,
    MnistClassifier,
)
from kgan.features.inception import INCEPTION_ENV, Inception
from kgan.features.model_files import file_sha256
from kgan.features.modes import MODE_CLASSIFIERS, ChannelDigits, get_mode_classifier, modes_for
from kgan.features.pixels import DigitsPixels, MnistPooled, PixelSpace
from kgan.features.reference import (
    CACHE_ENV,
    ReferenceStats,
    cache_path,
    default_cache_dir,
    reference_stats,
)
from kgan.features.registry import default_for, get, names

__all__ = [
    "ASSETS",
    "CACHE_ENV",
    "ChannelDigits",
    "INCEPTION_ENV",
    "DigitsClassifier",
    "DigitsPixels",
    "FeatureExtractor",
    "Inception",
    "KerasClassifier",
    "LegacyDigitsClassifier",
    "MODE_CLASSIFIERS",
    "MnistClassifier",
    "MnistPooled",
    "PixelSpace",
    "ReferenceStats",
    "cache_path",
    "default_cache_dir",
    "default_for",
    "file_sha256",
    "get",
    "get_mode_classifier",
    "modes_for",
    "names",
    "reference_stats",
]
