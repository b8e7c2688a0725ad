"""Weights files of the extractors: their sha256 fingerprint and safe, cached Keras loading."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from pathlib import Path

from kgan.errors import KganError


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 (hex) of a file's bytes, read in 1 MiB blocks: what fingerprints weights
    files here, array sources (`kgan.data.version`) and downloads (`kgan.data.prepare`)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class FileFingerprint:
    """Mixin giving an extractor whose weights are the file `self._file` its `fingerprint`:
    the first 12 hex digits of the file's sha256, computed once per instance."""

    _file: Path
    _digest: str | None = None

    @property
    def fingerprint(self) -> str:
        if self._digest is None:
            self._digest = file_sha256(self._file)[:12]
        return self._digest


@functools.lru_cache(maxsize=None)
def load_model(path: str, mtime: float):
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
