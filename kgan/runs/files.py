"""Atomic writes: every file of a run folder is written to a temporary name beside it and
renamed with `os.replace`, so a reader never sees a half-written file."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from kgan.runs.layout import _TEMP_PREFIX

# ----------------------------------------------------------------------------- atomic writes


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes `data` to `path` through a temporary file in the same folder and `os.replace`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def append_line(path: str | os.PathLike, line: str) -> None:
    """Appends `line` and a newline to `path` (created if missing) and syncs it to disk: an
    append-only log. A torn last line left by a crash is closed first, so it stays one
    unreadable line that readers skip instead of swallowing the new record."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab+") as f:
        torn = False
        if f.seek(0, os.SEEK_END) > 0:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b"\n"
        f.write((("\n" if torn else "") + line + "\n").encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(jsonable(obj), indent=2, sort_keys=False, allow_nan=False) + "\n")


def temp_path(path: str | os.PathLike) -> Path:
    """A fresh temporary name beside `path` with the same suffix, for writers (like Keras'
    `save`) that need a file name; `os.replace` it onto `path` when done."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, _file_mode())
    return Path(tmp)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _file_mode() -> int:
    """What `open` would give a new file (mkstemp's files are private to the owner)."""
    return 0o666 & ~_umask()


def make_readable(folder: str | os.PathLike) -> None:
    """Gives a folder made by `mkdtemp` (and its subfolders) the usual umask permissions, so
    other users (e.g. a TF Serving container) can read what it holds once it is renamed."""
    mode = 0o777 & ~_umask()
    for dirpath, _, _ in os.walk(folder):
        os.chmod(dirpath, mode)


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def jsonable(obj: Any) -> Any:
    """`obj` with numpy scalars/arrays as Python values, tuples as lists and non-finite floats
    as None (strict JSON has no NaN)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return jsonable(obj.tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


