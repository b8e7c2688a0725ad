"""The `inception` extractor: Inception-v3's 2048-d pool features, from weights the user supplies
(kgan cannot ship or download them)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from kgan.errors import KganError
from kgan.features.base import FeatureExtractor
from kgan.features.model_files import FileFingerprint, load_model
from kgan.features.registry import EXTRACTORS

INCEPTION_ENV = "KGAN_INCEPTION_WEIGHTS"


@EXTRACTORS.register("inception")
class Inception(FileFingerprint, FeatureExtractor):
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

    def get_config(self) -> dict:
        return {"name": self.name, "weights": self.weights}

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
        return load_model(path, mtime)
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
