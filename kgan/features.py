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
| `inception` | any size, 1 or 3 channels           | 2048-d pool features of Inception-v3   |

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
`kgan/assets/classifiers.json` holds the exact figures. Inception-v3 weights are not
shipped and cannot be downloaded at run time: pass `weights=` or set
`KGAN_INCEPTION_WEIGHTS` (see `Inception`).

Example:
    >>> from kgan import features
    >>> extractor = features.get(features.default_for("digits"))  # digits_pixels
    >>> extractor.features(images).shape
    (100, 64)
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from kgan.errors import KganError
from kgan.registry import Registry

ASSETS = Path(__file__).parent / "assets"
INCEPTION_ENV = "KGAN_INCEPTION_WEIGHTS"
CACHE_ENV = "KGAN_CACHE_DIR"

_EXTRACTORS: Registry = Registry("feature extractor")
_DEFAULTS = {"digits": "digits_pixels", "mnist": "mnist_pooled"}


def names() -> list[str]:
    """The registered extractor names."""
    return _EXTRACTORS.names()


def get(identifier: Any, **kwargs: Any) -> "FeatureExtractor":
    """An extractor from a name (constructor kwargs allowed), a config dict, or an instance.

    Example:
        >>> get("mnist").name
        'mnist'
        >>> get("inception", weights="/data/fid_inception.keras")
    """
    return _EXTRACTORS.get(identifier, **kwargs)


def default_for(dataset: str) -> str | None:
    """The extractor kgan uses by default for a dataset name, or None when it has none.

    Datasets without a default need `inception` (with user-supplied weights) or no image
    metric at all (the 2-D toy mixtures use `kgan.metrics.mode_coverage`).

    Example:
        >>> default_for("digits"), default_for("mnist:3.0.1"), default_for("cifar10")
        ('digits_pixels', 'mnist_pooled', None)
    """
    base = re.split(r"[:/\[]", str(dataset), maxsplit=1)[0].strip().lower()
    return _DEFAULTS.get(base)


@functools.lru_cache(maxsize=None)
def _load_model(path: str, mtime: float):
    """A Keras model file, loaded once per process (per path and modification time) in safe
    mode; a corrupt or tampered file is a one-line `KganError`, not a traceback."""
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - whatever the file does, it is refused
        raise KganError(
            f"cannot load the Keras model {path}: {_refusal(path, error)}; kgan loads models "
            "in safe mode and runs no code from them: replace it with an unmodified .keras file"
        ) from None


def _refusal(path: str, error: Exception) -> str:
    """Why a .keras file was refused, in one short clause (not Keras' advice to turn safe mode
    off, nor its "File not found" for a file that exists but is not a .keras archive)."""
    import zipfile

    if not zipfile.is_zipfile(path):
        return "it is not a .keras (zip) archive, so it is corrupt or not a Keras model"
    text = " ".join(str(error).split())
    first = re.split(r"(?<=\.)\s", text, maxsplit=1)[0][:200] if text else type(error).__name__
    return f"it is corrupt or was tampered with ({first.rstrip('.')})"


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 (hex) of a file's bytes, read in 1 MiB blocks: what fingerprints weights
    files here, array sources (`kgan.data.version`) and downloads (`kgan.data.prepare`)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _to_numpy(x: Any) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x))


class FeatureExtractor:
    """Maps images in [-1, 1] to feature vectors; subclasses implement `_run`.

    `image_shape` is the `(H, W, C)` the extractor takes (None where any size goes);
    `num_features` the width of `features`; `fingerprint` identifies the weights (it is part
    of the reference-statistics cache key); `num_classes` is None for non-classifiers.
    """

    name: str
    image_shape: tuple[int | None, int | None, int | None] = (None, None, None)
    num_features: int
    num_classes: int | None = None

    def features(self, images: Any, batch_size: int = 256) -> np.ndarray:
        """`(N, num_features)` float32 features of `(N, H, W, C)` images in [-1, 1].

        Example:
            >>> get("digits").features(np.zeros((5, 8, 8, 1))).shape
            (5, 64)
        """
        return self._batched(images, batch_size, want_probabilities=False)

    def probabilities(self, images: Any, batch_size: int = 256) -> np.ndarray:
        """`(N, num_classes)` class probabilities; only for classifier extractors.

        Example:
            >>> get("mnist").probabilities(images).argmax(1)  # predicted digits
        """
        if self.num_classes is None:
            raise KganError(
                f"The {self.name!r} extractor is not a classifier: it has no probabilities"
            )
        return self._batched(images, batch_size, want_probabilities=True)

    @property
    def fingerprint(self) -> str:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config()})"

    # -- internals

    def _run(self, batch: np.ndarray) -> tuple[Any, Any]:
        """(features, probabilities or None) for one prepared batch."""
        raise NotImplementedError

    def _prepare(self, images: Any) -> np.ndarray:
        x = np.asarray(images, dtype=np.float32)
        h, w, c = self.image_shape
        if x.ndim == 3 and c in (1, None):
            x = x[..., None]
        if x.ndim != 4:
            raise KganError(
                f"The {self.name!r} extractor takes (N, H, W, C) images, got shape {x.shape}"
            )
        for got, want, what in zip(
            x.shape[1:], (h, w, c), ("height", "width", "channels"), strict=True
        ):
            if want is not None and got != want:
                raise KganError(
                    f"The {self.name!r} extractor takes {self._shape_text()} images; "
                    f"got {what} {got} (shape {x.shape})"
                )
        if x.size and not np.all(np.isfinite(x)):
            raise KganError("Images contain NaN or infinite values")
        if x.size and (x.min() < -1.5 or x.max() > 1.5):
            raise KganError(
                f"Feature extractors take images scaled to [-1, 1]; got values in "
                f"[{x.min():g}, {x.max():g}] (for 0-255 pixels use x / 127.5 - 1)"
            )
        return np.clip(x, -1.0, 1.0)

    def _shape_text(self) -> str:
        return "x".join("any" if d is None else str(d) for d in self.image_shape)

    def _batched(self, images: Any, batch_size: int, want_probabilities: bool) -> np.ndarray:
        if batch_size < 1:
            raise KganError(f"batch_size must be at least 1, got {batch_size}")
        x = self._prepare(images)
        parts = []
        for start in range(0, len(x), batch_size):
            feats, probs = self._run(x[start : start + batch_size])
            parts.append(_to_numpy(probs if want_probabilities else feats).astype(np.float32))
        if not parts:
            width = self.num_classes if want_probabilities else self.num_features
            return np.zeros((0, width), np.float32)
        return np.concatenate(parts)


class KerasClassifier(FeatureExtractor):
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
        self._digest: str | None = None

    def get_config(self) -> dict:
        return {"name": self.name, "path": self.path}

    @property
    def fingerprint(self) -> str:
        if self._digest is None:
            self._digest = file_sha256(self._file)[:12]
        return self._digest

    @property
    def model(self):
        """The loaded classifier (shared by every instance in this process)."""
        return _load_model(str(self._file.resolve()), self._file.stat().st_mtime)

    def _run(self, batch: np.ndarray):
        return _two_headed(self.model)(batch, training=False)


@functools.lru_cache(maxsize=None)
def _two_headed(model):
    import keras

    return keras.Model(model.input, [model.get_layer("features").output, model.output])


@_EXTRACTORS.register("digits_classifier")
class DigitsClassifier(KerasClassifier):
    """Penultimate features of kgan's CNN for scikit-learn's 8x8 digits (64-d, 10 classes).

    Input: `(N, 8, 8, 1)` in [-1, 1], i.e. scikit-learn's 0-16 values as `v / 8 - 1`.
    Blind to diversity within a class (see the module docstring); not the default any more.

    Example:
        >>> get("digits_classifier").probabilities(images).argmax(1)
    """

    asset = "digits_classifier.keras"
    image_shape = (8, 8, 1)
    num_features = 64
    num_classes = 10


@_EXTRACTORS.register("digits")
class LegacyDigitsClassifier(DigitsClassifier):
    """`digits_classifier` under its old name `digits` (the same weights and fingerprint), so
    runs that name the space `digits` keep working. Numbers recorded before the `digits`
    2.0.0 split were measured with other weights (their recorded fingerprint says so)."""


@_EXTRACTORS.register("digits_pixels")
class DigitsPixels(FeatureExtractor):
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

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.DEFINITION.encode()).hexdigest()[:12]

    def _run(self, batch: np.ndarray):
        return batch.reshape(len(batch), -1), None


@_EXTRACTORS.register("mnist")
class MnistClassifier(KerasClassifier):
    """Penultimate features of kgan's CNN for MNIST (128-d, 10 classes).

    Input: `(N, 28, 28, 1)` in [-1, 1], i.e. 0-255 pixels as `p / 127.5 - 1`. Ranks class
    balance above diversity (see the module docstring); not the default any more.

    Example:
        >>> get("mnist").features(images).shape
        (1000, 128)
    """

    asset = "mnist_classifier.keras"
    image_shape = (28, 28, 1)
    num_features = 128
    num_classes = 10


@_EXTRACTORS.register("mnist_pooled")
class MnistPooled(FeatureExtractor):
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

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.DEFINITION.encode()).hexdigest()[:12]

    def _run(self, batch: np.ndarray):
        n, side = len(batch), self.image_shape[0] // self._BLOCK
        blocks = batch.reshape(n, side, self._BLOCK, side, self._BLOCK)
        return blocks.mean(axis=(2, 4)).reshape(n, -1), None


@_EXTRACTORS.register("inception")
class Inception(FeatureExtractor):
    """The 2048-d pool features of Inception-v3, from weights the user supplies.

    kgan cannot ship or download these weights (~90 MB). `weights` (or the environment
    variable `KGAN_INCEPTION_WEIGHTS`) is one of:

    - a `.keras` model taking `(N, 299, 299, 3)` images in [-1, 1] to `(N, 2048)` features,
      such as a Keras port of the TF 2015-12-05 FID Inception graph (loaded with
      `safe_mode=True`); this gives FIDs comparable with published ones.
    - an `.h5` weights file for `keras.applications.InceptionV3(include_top=False,
      pooling="avg")`, e.g. Keras' `inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5`.
      These ImageNet weights differ from the FID graph, so the numbers are only comparable
      among themselves.

    Images of any size are resized bilinearly to 299x299; grayscale is repeated to RGB.

    Example:
        >>> get("inception", weights="~/models/inception_v3_notop.h5").features(images)
    """

    image_shape = (None, None, None)
    num_features = 2048
    size = 299

    def __init__(self, weights: str | os.PathLike | None = None) -> None:
        self.weights = str(weights) if weights is not None else None
        source = self.weights or os.environ.get(INCEPTION_ENV)
        if not source:
            raise KganError(
                "The 'inception' extractor needs Inception-v3 weights, which kgan cannot "
                f"download: pass weights=PATH or set {INCEPTION_ENV}=PATH to a .keras FID "
                "Inception model or to Keras' "
                "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
            )
        self._file = Path(source).expanduser()
        if not self._file.is_file():
            raise KganError(f"Inception-v3 weights not found: {self._file}")
        if not self._file.name.endswith((".keras", ".h5")):
            raise KganError(
                "Inception-v3 weights must be a .keras model or an .h5 weights file, "
                f"got {self._file.name}"
            )
        self._digest: str | None = None

    def get_config(self) -> dict:
        return {"name": self.name, "weights": self.weights}

    @property
    def fingerprint(self) -> str:
        if self._digest is None:
            self._digest = file_sha256(self._file)[:12]
        return self._digest

    @property
    def model(self):
        return _load_inception(str(self._file.resolve()), self._file.stat().st_mtime)

    def _run(self, batch: np.ndarray):
        import keras

        if batch.shape[-1] == 1:
            batch = np.repeat(batch, 3, axis=-1)
        elif batch.shape[-1] != 3:
            raise KganError(f"Inception takes 1 or 3 channels, got {batch.shape[-1]}")
        x = keras.ops.image.resize(batch, (self.size, self.size), interpolation="bilinear")
        feats = self.model(x, training=False)
        if tuple(feats.shape[1:]) != (self.num_features,):
            raise KganError(
                f"{self._file.name} gives features of shape {tuple(feats.shape[1:])}, "
                f"expected ({self.num_features},)"
            )
        return feats, None


@functools.lru_cache(maxsize=None)
def _load_inception(path: str, mtime: float):
    if path.endswith(".keras"):
        return _load_model(path, mtime)
    import keras

    try:
        return keras.applications.InceptionV3(
            include_top=False, weights=path, input_shape=(299, 299, 3), pooling="avg"
        )
    except Exception as error:  # noqa: BLE001 - a corrupt .h5 fails in many ways
        first = " ".join(str(error).split())[:200] or type(error).__name__
        raise KganError(
            f"{path} is not an InceptionV3 (include_top=False) weights file: {first}"
        ) from None


# --------------------------------------------------------------------------- real-data statistics


@dataclass(frozen=True)
class ReferenceStats:
    """Features of real data and their mean and covariance, as cached by `reference_stats`."""

    features: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    dataset: str
    split: str
    extractor: str
    count: int
    path: Path | None = None


def default_cache_dir() -> Path:
    """`$KGAN_CACHE_DIR`, else `~/.cache/kgan/reference_stats` (created only when written)."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "kgan" / "reference_stats"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def cache_path(
    dataset: str,
    split: str,
    extractor: FeatureExtractor,
    count: int,
    cache_dir: str | os.PathLike | None = None,
) -> Path:
    """Where `reference_stats` keeps one (dataset, split, extractor weights, count) entry."""
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    key = (
        f"{_safe(dataset)}-{_safe(split)}-{extractor.name}-{extractor.fingerprint}-{int(count)}.npz"
    )
    return root / key


def reference_stats(
    dataset: str,
    extractor: str | FeatureExtractor,
    images: np.ndarray | Callable[[], np.ndarray],
    *,
    split: str = "train",
    count: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    batch_size: int = 256,
) -> ReferenceStats:
    """Features and statistics of `count` real images, computed once and cached as .npz.

    The cache key is the dataset name, split, extractor name and weights fingerprint, and
    `count`. `images` is an array (its first `count` rows are used; `count` defaults to all)
    or a function returning one, called only when the cache has no entry (then `count` is
    required). The cache folder is `cache_dir`, else `default_cache_dir()`.

    Example:
        >>> stats = reference_stats("digits", "digits", lambda: load_real(), count=1437,
        ...                         cache_dir="/tmp/kgan-cache")
        >>> kgan.metrics.frechet_distance(stats.mean, stats.cov, *kgan.metrics.feature_stats(f))
    """
    from kgan.metrics import feature_stats

    extractor = get(extractor)
    if count is None:
        if callable(images):
            raise KganError("reference_stats needs count= when images is a function")
        count = len(images)
    if count < 2:
        raise KganError(f"reference_stats needs at least 2 images, got count={count}")
    path = cache_path(dataset, split, extractor, count, cache_dir)
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            return ReferenceStats(
                data["features"],
                data["mean"],
                data["cov"],
                dataset,
                split,
                extractor.name,
                count,
                path,
            )

    array = np.asarray(images() if callable(images) else images)
    if len(array) < count:
        raise KganError(f"{dataset} ({split}) has {len(array)} images, fewer than count={count}")
    feats = extractor.features(array[:count], batch_size=batch_size)
    mean, cov = feature_stats(feats)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, features=feats, mean=mean, cov=cov)
    os.replace(tmp, path)
    return ReferenceStats(feats, mean, cov, dataset, split, extractor.name, count, path)
