"""Where a run keeps its files: names, paths and statuses of the run folder, and the
run-name rules (`validate_name`, `resolve`)."""

from __future__ import annotations

import datetime as _dt
import os
import re
from pathlib import Path

from kgan.errors import KganError

FORMAT_VERSION = 1

CONFIG = "config.json"
METADATA = "metadata.json"
HISTORY = "history.jsonl"
METRICS = "metrics.jsonl"
SAMPLES_DIR = "samples"
GENERATOR = "generator.keras"
CHECKPOINT_DIR = "checkpoint"
EXPORT_DIR = "export"
TENSORBOARD_DIR = "tensorboard"

STATUSES = ("running", "complete", "failed")
#: What `Run.status` reports for a run whose metadata says "running" but that nobody trains:
#: no process holds its lock and the process its card names is gone (killed, or its pid now
#: belongs to another process, or the machine rebooted) or ran on another host;
#: `kgan train --resume NAME` continues it.
INTERRUPTED = "interrupted"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SAMPLE = re.compile(r"^epoch-(\d+)\.png$")
_CHECKPOINT = re.compile(r"^epoch-(\d+)\.keras$")
_TEMP_PREFIX = ".tmp-"
_LOCK_SUFFIX = ".lock"
#: How long `lock_run` retries a lock that is taken (another reader may be probing it).
_LOCK_WAIT = 1.0
#: Seconds of clock disagreement tolerated when a card without `pid_start` is checked.
_CLOCK_SLACK = 60.0


class RunError(KganError):
    """A missing, invalid or corrupt run; the message names the run and the fix."""


def default_root() -> Path:
    """`$KGAN_RUNS_DIR` when set, else `saved_models` (relative to the working directory)."""
    return Path(os.environ.get("KGAN_RUNS_DIR") or "saved_models")


def sample_filename(epoch: int) -> str:
    return f"epoch-{int(epoch):04d}.png"


def checkpoint_filename(epoch: int) -> str:
    return f"epoch-{int(epoch):04d}.keras"


def now() -> str:
    """The current UTC time as ISO 8601 with seconds."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def duration(seconds) -> str:
    """A model card's `training_time_s` for people ("42.0 s", "3.5 min", "2.1 h"; "–" when
    it is not a number), as `kgan train` and the dashboard show it."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return "–"
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


# ----------------------------------------------------------------------------- names


def validate_name(name: str) -> str:
    """`name` if it is a valid run name, else a `RunError` saying what is allowed."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise RunError(
            f"invalid run name {name!r}: use 1-100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (no '/' or '..')"
        )
    return name


def resolve(root: str | os.PathLike, name: str) -> Path:
    """The folder of run `name` under `root`, guaranteed to stay inside `root`.

    Example:
        >>> resolve("saved_models", "digits")
        PosixPath('.../saved_models/digits')
        >>> resolve("saved_models", "../etc")    # raises RunError
    """
    validate_name(name)
    root = Path(root).resolve()
    path = (root / name).resolve()
    if path.parent != root:
        raise RunError(f"run {name!r} points outside the runs folder {root}; refusing to use it")
    return path


