"""The run folder: the one module that knows where a training run keeps its files.

Training (through `kgan.callbacks`), the CLI and the dashboard all go through this module; no
other code joins run paths by hand. Every file is written to a temporary name in the same folder
and renamed with `os.replace`, so a reader never sees a half-written file. Folders are
append-only during training except for the files that are rewritten whole (marked "rewritten").

Layout of `ROOT/NAME/` (ROOT defaults to `$KGAN_RUNS_DIR` or `saved_models/`)::

    config.json          the resolved configuration (rewritten when a resume extends `epochs`):
                           {"format": 1,
                            "run":     the `kgan.config.RunConfig` fields (data and recipe),
                            "model":   the GAN's Keras config (`serialize_keras_object(gan)`),
                            "compile": the GAN's compile config (optimizers, loss, regularisers)}
    metadata.json        the model card (rewritten at every epoch):
                           name, status ("running" | "complete" | "failed"), reason (why it
                           failed, else null), created/updated (ISO 8601 UTC), pid, host,
                           pid_start, boot_id (the training process while running), dataset,
                           split, kind ("image" | "vector"), data_shape, latent_dim,
                           num_classes, class_names, conditional, architecture, loss,
                           regularizers, ema_decay, epochs (planned), epochs_done, steps_done,
                           steps_per_epoch, batch_size, num_examples, training_time_s,
                           metrics ({name: {value, epoch, step, num_samples, feature_extractor,
                           ...}} — latest value of each), warnings ([{epoch, kind, message}]
                           from the health monitor), versions ({kgan, tensorflow, keras,
                           python})
    history.jsonl        one JSON object per finished epoch (rewritten whole, one line each):
                           {"epoch": 1, "step": 28, "time": 12.3 (training seconds since the
                            run began, summed over resumes), "epoch_time": 6.1,
                            "d_loss": .., "g_loss": .., "d_real": .., "d_fake": ..,
                            <regulariser name>: .., <metric name>: .. (when measured)}
                           non-finite values are written as null. Records that are not
                           valid (torn line, "epoch" not a whole number >= 1, a value that is
                           not a number or null) are skipped on read (`Run.history_problems`).
    metrics.jsonl        one JSON object per metric evaluation (append-only log):
                           {"metric": "fid", "value": .., "epoch": .., "step": ..,
                            "num_samples": .., "feature_extractor": .., "time": ISO 8601}
    samples/epoch-0000.png   sample grid per epoch from the run's fixed latent grid
                             (epoch 0 = before training; vector data: a scatter plot)
    generator.keras      the sampling generator (EMA weights when EMA is on), rewritten every
                         epoch; load with `Run.load_generator()` (safe_mode=True)
    checkpoint/epoch-0003.keras   the whole GAN after that epoch (both networks, the EMA
                         generator, both optimizers and their iteration counters) — what
                         `resume` restarts from; the newest two are kept
    export/              TF SavedModel of the sampling generator (`kgan export`), signatures
                         `serving_default` (z[, label] -> images|samples) and `sample`
                         (num, seed[, label] -> images|samples)
    tensorboard/         TensorBoard event files (with `--tensorboard`): the history's numbers
                         as scalars and the sample grid as an image, step = epoch

Beside the folder, `ROOT/.NAME.lock` is the run's lock file: the training process holds an
exclusive `flock` on it (`lock_run`) from before it deletes or writes anything until it marks
the run complete or failed, so that two processes never train one run. It lives outside the
folder so that `--overwrite`, which deletes the folder, cannot take it away.

Run names: 1-100 characters from letters, digits, `.`, `_`, `-`, starting with a letter or a
digit. Names from users or URLs go through `resolve`, which refuses anything that could leave
the root (separators, `..`, symlinks pointing outside).

Example:
    >>> for run in list_runs("saved_models"):
    ...     print(run.name, run.status, run.error)
    >>> run = open_run("saved_models", "digits")
    >>> run.history()[-1]["g_loss"], run.samples()[-1]
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import math
import os
import re
import shutil
import socket
import stat as _stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from kgan.errors import KganError

try:
    import fcntl
except ImportError:  # not POSIX: runs are not locked
    fcntl = None

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


# ----------------------------------------------------------------------------- reading


def _read_json(path: Path, what: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise RunError(f"{path} is missing; the run folder is incomplete") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RunError(f"{path} is not valid JSON ({e}); the {what} is corrupt") from None
    except OSError as e:
        raise RunError(f"cannot read {path}: {e.strerror}") from None
    if not isinstance(data, dict):
        raise RunError(f"{path} should hold a JSON object; the {what} is corrupt")
    return data


def _read_jsonl(path: Path) -> list[dict]:
    """The JSON objects of a .jsonl file; unreadable lines are skipped."""
    records = []
    for _, line in _jsonl_lines(path):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def _jsonl_lines(path: Path) -> list[tuple[int, str]]:
    """The non-blank lines of a .jsonl file with their 1-based line numbers (none if absent)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise RunError(f"cannot read {path}: {e}") from None
    return [(i, line.strip()) for i, line in enumerate(text.splitlines(), 1) if line.strip()]


def _history_problem(record: Any) -> str | None:
    """Why `record` is not a valid history record, else None."""
    if not isinstance(record, dict):
        return "it is not a JSON object"
    epoch = record.get("epoch")
    if not _is_int(epoch) or epoch < 1:
        return f"its 'epoch' should be a whole number >= 1, got {_shown(epoch)}"
    for key, value in record.items():
        if key == "warnings":
            if value is not None and not isinstance(value, list):
                return f"its 'warnings' should be a list, got {_shown(value)}"
        elif key != "epoch" and value is not None and not _is_number(value):
            return f"its {key!r} should be a number or null, got {_shown(value)}"
    return None


def _read_history(path: Path) -> tuple[list[dict], list[str]]:
    """The valid records of `history.jsonl` (the last one of each epoch, in epoch order) and
    one line per invalid record that was skipped."""
    by_epoch: dict[int, dict] = {}
    problems = []
    for number, line in _jsonl_lines(path):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"line {number} of {path} is not valid JSON (a torn or corrupt write)")
            continue
        problem = _history_problem(record)
        if problem:
            problems.append(f"line {number} of {path} is skipped: {problem}")
            continue
        by_epoch[record["epoch"]] = record
    return [by_epoch[e] for e in sorted(by_epoch)], problems


# ----------------------------------------------------------------------------- model card schema


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    """`value` for an error message: its JSON type and a short repr."""
    kind = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if _is_number(value) else "null" if value is None else "a value"
    )
    text = repr(value)
    return f"{kind} ({text[:40] + '...' if len(text) > 40 else text})"


def _metric_entry_ok(entry: Any) -> bool:
    """A model card metric: {value: number|null, epoch/step/num_samples: int|null, ...}."""
    if entry is None or _is_number(entry):
        return True
    if not isinstance(entry, dict):
        return False
    if entry.get("value") is not None and not _is_number(entry["value"]):
        return False
    return all(entry.get(k) is None or _is_int(entry[k]) for k in ("epoch", "step", "num_samples"))


_TEXT = ("a string", lambda v: isinstance(v, str))
_COUNT = ("a whole number >= 0", lambda v: _is_int(v) and v >= 0)
_INT = ("a whole number", _is_int)
_NUMBER = ("a number", _is_number)
_FLAG = ("true or false", lambda v: isinstance(v, bool))
_LIST = ("a list", lambda v: isinstance(v, list))
_OBJECT = ("an object", lambda v: isinstance(v, dict))

#: What each field of the model card must hold when it is not null; other keys are free.
_METADATA_FIELDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    **dict.fromkeys(
        ("name", "reason", "created", "updated", "host", "boot_id", "dataset", "split", "kind",
         "architecture", "loss"),
        _TEXT,
    ),
    "status": (f"one of {', '.join(STATUSES)}", lambda v: v in STATUSES),
    **dict.fromkeys(
        ("pid", "pid_start", "num_examples", "num_classes", "latent_dim", "n_critic",
         "batch_size", "epochs", "steps_per_epoch", "epochs_done", "steps_done"),
        _COUNT,
    ),
    "seed": _INT,
    **dict.fromkeys(("training_time_s", "ema_decay"), _NUMBER),
    "conditional": _FLAG,
    "data_shape": ("a list of whole numbers", lambda v: isinstance(v, list)
                   and all(_is_int(d) for d in v)),
    "class_names": _LIST,
    **dict.fromkeys(("architecture_config", "sample_grid", "versions"), _OBJECT),
    "regularizers": ("a list of objects", lambda v: isinstance(v, list)
                     and all(isinstance(r, dict) for r in v)),
    "metrics": ("an object of {value, epoch, step, num_samples, ...} objects",
                lambda v: isinstance(v, dict) and all(_metric_entry_ok(m) for m in v.values())),
    "warnings": ("a list of {epoch, kind, message} objects", lambda v: isinstance(v, list)
                 and all(isinstance(w, (dict, str)) for w in v)),
}


def _check_metadata(path: Path, meta: dict) -> dict:
    """`meta` if every known field has its type, else a `RunError` naming the file and field."""
    for key, (want, ok) in _METADATA_FIELDS.items():
        value = meta.get(key)
        if value is not None and not ok(value):
            raise RunError(
                f"{path}: field {key!r} should be {want}, got {_shown(value)}; the model card "
                "is corrupt (fix or delete that field)"
            )
    return meta


# ----------------------------------------------------------------------------- processes


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError, TypeError):
        return True
    return True


def _boot_id() -> str | None:
    """This boot of this machine (Linux), so a pid recorded before a reboot is never trusted."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _start_ticks(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot (Linux `/proc/PID/stat` field 22);
    a reused pid gets a different value. None where there is no /proc."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])  # the command name may hold ')' or ' '
    except (OSError, ValueError, OverflowError, IndexError):
        return None


def _started_at(pid: int) -> float | None:
    """When process `pid` started as Unix time (Linux), for cards written before `pid_start`."""
    ticks = _start_ticks(pid)
    try:
        lines = Path("/proc/stat").read_text().splitlines()
        boot = next(int(line.split()[1]) for line in lines if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK") if ticks is not None else None
    except (OSError, ValueError, StopIteration, IndexError):
        return None


def _unix_time(stamp: Any) -> float | None:
    try:
        return _dt.datetime.fromisoformat(str(stamp)).timestamp()
    except ValueError:
        return None


def process_identity() -> dict:
    """This process as a model card records it: pid, host, pid_start, boot_id."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "pid_start": _start_ticks(os.getpid()),
        "boot_id": _boot_id(),
    }


def _owner_alive(meta: dict) -> bool:
    """Whether the process a "running" card names may still be training it: on this host, in
    this boot, alive, and the same process (start time) rather than a reuse of its pid."""
    pid = meta.get("pid")
    if pid is None:
        return True  # nothing to check: trust the card
    if meta.get("host") is not None and meta["host"] != socket.gethostname():
        return False  # another machine's process: it cannot be checked from here
    boot = _boot_id()
    if meta.get("boot_id") and boot and meta["boot_id"] != boot:
        return False
    if not _pid_alive(pid):
        return False
    recorded, current = meta.get("pid_start"), _start_ticks(pid)
    if recorded is not None and current is not None:
        return recorded == current
    began, updated = _started_at(pid), _unix_time(meta.get("updated"))
    if recorded is None and began is not None and updated is not None:
        return began <= updated + _CLOCK_SLACK  # a process started after the card is not its own
    return True


# ----------------------------------------------------------------------------- locks

#: The run locks this process holds, by lock file.
_HELD: dict[str, RunLock] = {}


def lock_path(root: str | os.PathLike, name: str) -> Path:
    """The lock file of run `name`: `ROOT/.NAME.lock`, beside its folder (hidden from
    `list_runs`), so that deleting the folder (`--overwrite`) keeps the lock."""
    path = resolve(root, name)
    return path.parent / f".{name}{_LOCK_SUFFIX}"


class RunLock:
    """An exclusive OS lock (`flock`) on one run, from `lock_run`. Held by a training process
    from before it deletes or writes anything until `release` (which `Run.mark_complete` and
    `Run.mark_failed` call); the OS frees it when the process dies."""

    def __init__(self, name: str, path: Path, fd: int) -> None:
        self.name, self.path, self._fd = name, path, fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Frees the lock (again: nothing); the lock file stays."""
        if self._fd is None:
            return
        _HELD.pop(str(self.path), None)
        fd, self._fd = self._fd, None
        os.close(fd)  # closing the last descriptor drops the flock

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"RunLock({self.name!r}, held={self.held})"


@dataclass(frozen=True)
class Trainer:
    """The process training a run: `pid` and `host` (None when unknown); `locked` when it
    was found by the run's lock rather than by its model card."""

    pid: int | None
    host: str | None
    locked: bool


def _open_lock_file(path: Path, flags: int) -> int:
    """A descriptor of the regular file `path`, never through a symlink, never blocking."""
    for extra in ("O_CLOEXEC", "O_NONBLOCK", "O_NOFOLLOW"):  # those this OS has
        flags |= getattr(os, extra, 0)
    fd = os.open(path, flags, _file_mode())
    if not _stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IsADirectoryError(f"{path} is not a regular file")
    return fd


def _lock_owner(path: Path) -> Trainer:
    """Who holds the lock at `path`, as its holder wrote it into the file."""
    try:
        owner = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        owner = {}
    owner = owner if isinstance(owner, dict) else {}
    pid, host = owner.get("pid"), owner.get("host")
    return Trainer(pid if _is_int(pid) else None, host if isinstance(host, str) else None, True)


def _lock_taken(path: Path) -> bool:
    """Whether some process (this one included) holds the lock at `path`; a missing or
    unreadable lock file counts as free."""
    if str(path) in _HELD:
        return True
    if fcntl is None:
        return False
    try:
        fd = _open_lock_file(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def busy_error(name: str, trainer: Trainer) -> RunError:
    """The one-line refusal to touch run `name` while `trainer` trains it, with the way out."""
    who = f"process {trainer.pid}" if trainer.pid is not None else "process unknown"
    host = f" on host {trainer.host}" if trainer.host else ""
    if trainer.locked:
        why = f" by another process{host} that holds its lock"
    else:
        why = f"{host}: its model card says running and that process is alive"
    return RunError(
        f"run {name!r} is being trained right now ({who}){why}; wait for it to finish or "
        f"stop it, then continue the run with --resume {name}"
    )


def lock_run(root: str | os.PathLike, name: str, wait: float = _LOCK_WAIT) -> RunLock:
    """Takes the exclusive lock of run `name` (creating the root if needed); a `RunError` when
    another process holds it. Take it before deleting or writing anything of the run.

    Example:
        >>> lock = lock_run("saved_models", "digits")    # RunError if it is being trained
        >>> ...; lock.release()
    """
    path = lock_path(root, name)
    if str(path) in _HELD:
        raise RunError(
            f"run {name!r} is already being trained by this process (process {os.getpid()}); "
            "wait for that training to end"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = _open_lock_file(path, os.O_RDWR | os.O_CREAT)
    except OSError as e:
        raise RunError(
            f"cannot open the lock file {path} of run {name!r} ({e.strerror or e}); it must be "
            f"a regular file (remove anything else there) in a writable folder {path.parent}"
        ) from None
    try:
        _flock(fd, wait)
    except BlockingIOError:
        os.close(fd)
        raise busy_error(name, _lock_owner(path)) from None
    except OSError as e:
        os.close(fd)
        raise RunError(f"cannot lock {path} of run {name!r}: {e.strerror or e}") from None
    owner = json.dumps({**process_identity(), "since": now()}).encode()
    os.ftruncate(fd, 0)
    os.write(fd, owner)  # who holds it, for the refusal message of the next process
    lock = _HELD[str(path)] = RunLock(name, path, fd)
    return lock


def _flock(fd: int, wait: float) -> None:
    """An exclusive flock on `fd`, retried for `wait` seconds (readers probe locks briefly);
    `BlockingIOError` when it stays taken."""
    if fcntl is None:
        return
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


@dataclass(frozen=True)
class Run:
    """One run folder. Every method reads the files afresh (a running run keeps changing).

    Attributes:
        name: the run's name (its folder name).
        path: its folder.
    """

    name: str
    path: Path

    # -- files

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG

    @property
    def metadata_path(self) -> Path:
        return self.path / METADATA

    @property
    def history_path(self) -> Path:
        return self.path / HISTORY

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS

    @property
    def samples_dir(self) -> Path:
        return self.path / SAMPLES_DIR

    @property
    def generator_path(self) -> Path:
        """The sampling generator as `.keras` (may not exist before the first epoch ends)."""
        return self.path / GENERATOR

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / CHECKPOINT_DIR

    @property
    def export_dir(self) -> Path:
        """Where the SavedModel export lives (`has_export` says whether it was written)."""
        return self.path / EXPORT_DIR

    @property
    def tensorboard_dir(self) -> Path:
        """TensorBoard event files (written only when the run asks for them)."""
        return self.path / TENSORBOARD_DIR

    @property
    def lock_path(self) -> Path:
        """`ROOT/.NAME.lock`, the run's lock file (see `lock_run`)."""
        return self.path.parent / f".{self.name}{_LOCK_SUFFIX}"

    def sample_path(self, epoch: int) -> Path:
        return self.samples_dir / sample_filename(epoch)

    def checkpoint_path(self, epoch: int) -> Path:
        return self.checkpoint_dir / checkpoint_filename(epoch)

    # -- contents

    def config(self) -> dict:
        """`config.json`: {"format", "run", "model", "compile"}."""
        return _read_json(self.config_path, "run configuration")

    def metadata(self) -> dict:
        """`metadata.json`, the model card; a `RunError` naming the field when a known field
        has the wrong type (so a tampered card shows as broken, never as a traceback)."""
        return _check_metadata(self.metadata_path, _read_json(self.metadata_path, "model card"))

    def history(self) -> list[dict]:
        """The valid per-epoch records of `history.jsonl`, one per epoch (the last written),
        in epoch order; invalid lines are skipped (`history_problems` lists them)."""
        return _read_history(self.history_path)[0]

    def history_problems(self) -> list[str]:
        """One line per record of `history.jsonl` that `history` skips (torn or wrong-typed)."""
        return _read_history(self.history_path)[1]

    def history_gap(self, epoch: int) -> str | None:
        """None when `history.jsonl` has a valid record of every epoch 1..`epoch`, else one
        line naming the missing epochs and why (what a resume from `epoch` must report)."""
        records, problems = _read_history(self.history_path)
        have = {r["epoch"] for r in records}
        lacking = (e for e in range(1, int(epoch) + 1) if e not in have)
        missing = list(itertools.islice(lacking, 11))  # a huge epoch never builds a huge list
        if not missing:
            return None
        shown = ", ".join(map(str, missing[:10])) + (", ..." if len(missing) > 10 else "")
        why = f" ({'; '.join(problems[:3])})" if problems else ""
        return (
            f"{self.history_path} has no valid record of epoch(s) {shown}{why}; the checkpoint "
            f"of epoch {epoch} is intact and training continues from it, but the losses of "
            "those epochs are lost (a gap in the curves)"
        )

    def metric_records(self) -> list[dict]:
        """Every metric evaluation of `metrics.jsonl`, oldest first."""
        return _read_jsonl(self.metrics_path)

    def samples(self) -> list[tuple[int, Path]]:
        """The per-epoch sample grids as (epoch, path), in epoch order."""
        return _numbered(self.samples_dir, _SAMPLE)

    def checkpoints(self) -> list[tuple[int, Path]]:
        """The resumable checkpoints as (epoch, path), in epoch order."""
        return _numbered(self.checkpoint_dir, _CHECKPOINT)

    def latest_checkpoint(self) -> tuple[int, Path] | None:
        found = self.checkpoints()
        return found[-1] if found else None

    def resume_point(self) -> tuple[int, Path] | None:
        """The checkpoint a resume continues from: the newest one whose epochs 1..E all have a
        valid history record, so that an epoch whose record was lost is redone rather than left
        as a gap; else (no such checkpoint is kept) the newest one."""
        found = self.checkpoints()
        have = {r["epoch"] for r in self.history()}
        for epoch, path in reversed(found):
            if all(e in have for e in range(1, epoch + 1)):
                return epoch, path
        return found[-1] if found else None

    def resume_message(self, epoch: int) -> str | None:
        """What a resume from the checkpoint of `epoch` (`resume_point`) must tell the user
        about the history, as "warning: ..." (records of epochs 1..`epoch` are lost) or
        "note: ..." (newer checkpoints are passed over to redo a lost record); else None."""
        gap = self.history_gap(epoch)
        if gap:
            return f"warning: {gap}"
        latest = self.latest_checkpoint()
        if latest and latest[0] > epoch:
            problems = self.history_problems()
            why = f" ({'; '.join(problems[:3])})" if problems else ""
            return (
                f"note: {self.history_path} has no valid record of epoch {epoch + 1}{why}; "
                f"resuming from the checkpoint of epoch {epoch}, not {latest[0]}, to redo it"
            )
        return None

    @property
    def has_generator(self) -> bool:
        return self.generator_path.is_file()

    @property
    def has_export(self) -> bool:
        return (self.export_dir / "saved_model.pb").is_file()

    @property
    def status(self) -> str:
        """"running", "complete", "failed", or "interrupted" (metadata says running but nobody
        trains it: see `trainer`). Raises `RunError` for a broken run."""
        meta = self.metadata()
        status = meta.get("status")
        if status == "running" and self.trainer(meta, own=True) is None:
            return INTERRUPTED
        return status

    def trainer(self, meta: dict | None = None, own: bool = False) -> Trainer | None:
        """The process training this run right now: the holder of its lock, else the process
        a "running" model card names if it is provably that process, alive on this host; None
        when nobody trains it. A lock this process holds counts only with `own`."""
        if (own or str(self.lock_path) not in _HELD) and _lock_taken(self.lock_path):
            if str(self.lock_path) in _HELD:
                return Trainer(os.getpid(), socket.gethostname(), True)
            return _lock_owner(self.lock_path)
        meta = self.metadata() if meta is None else meta
        if meta.get("status") == "running" and _owner_alive(meta):
            return Trainer(meta.get("pid"), meta.get("host"), False)
        return None

    @property
    def reason(self) -> str | None:
        """Why the run failed (or was interrupted), else None."""
        meta = self.metadata()
        if self.status == INTERRUPTED:
            pid, host = meta.get("pid"), meta.get("host")
            if host is not None and host != socket.gethostname():
                return (
                    f"marked running by process {pid} on host {host}, which cannot be checked "
                    f"from here; once that process has ended, continue it with --resume "
                    f"{self.name}"
                )
            return (
                f"its training process (pid {pid}) ended without finishing; continue it with "
                f"--resume {self.name}"
            )
        return meta.get("reason")

    @property
    def error(self) -> str | None:
        """None for a readable run, else one line saying what is wrong with the folder."""
        try:
            validate_name(self.name)
            self.metadata()
            config = self.config()
        except RunError as e:
            return str(e)
        if not isinstance(config.get("run"), dict) or not isinstance(config.get("model"), dict):
            return f"{self.config_path} lacks its 'run' or 'model' section; the run is corrupt"
        return None

    def summary(self) -> dict:
        """One row for a runs table; broken runs give their `error` and little else.

        Keys: name, path, error, status, reason, dataset, architecture, loss, conditional,
        epochs, epochs_done, steps_done, training_time_s, created, updated, metrics.
        """
        row = {"name": self.name, "path": str(self.path), "error": self.error}
        try:
            if row["error"] is None:
                meta = self.metadata()
                row["status"], row["reason"] = self.status, self.reason
        except RunError as e:  # it broke between the check and the read
            row["error"] = str(e)
        if row["error"]:
            row["status"] = "broken"
            return row
        for key in (
            "dataset",
            "architecture",
            "loss",
            "conditional",
            "epochs",
            "epochs_done",
            "steps_done",
            "training_time_s",
            "created",
            "updated",
        ):
            row[key] = meta.get(key)
        row["metrics"] = {
            name: (m.get("value") if isinstance(m, dict) else m)
            for name, m in (meta.get("metrics") or {}).items()
        }
        return row

    def load_generator(self, compile: bool = False):
        """The sampling generator as a `keras.Model`, loaded with `safe_mode=True`."""
        import keras

        import kgan  # noqa: F401  (registers kgan's layers for deserialisation)

        if not self.has_generator:
            raise RunError(
                f"run {self.name!r} has no generator yet ({self.generator_path} is missing); "
                "it is saved at the end of the first epoch"
            )
        try:
            return keras.saving.load_model(self.generator_path, compile=compile, safe_mode=True)
        except Exception as e:  # noqa: BLE001 - any load failure means a corrupt file
            raise RunError(f"cannot load {self.generator_path}: {e}") from None

    # -- writing (training process and `kgan evaluate` only; the dashboard never calls these)

    def write_config(self, config: dict) -> None:
        write_json(self.config_path, {"format": FORMAT_VERSION, **config})

    def update_metadata(self, **fields) -> dict:
        """Merges `fields` into the model card, stamps `updated`, and writes it atomically."""
        try:
            meta = self.metadata()
        except RunError:
            meta = {"name": self.name, "created": now()}
        meta.update(fields)
        meta["updated"] = now()
        write_json(self.metadata_path, meta)
        return meta

    def lock(self, wait: float = _LOCK_WAIT) -> RunLock:
        """`lock_run(root, name)` of this run."""
        return lock_run(self.path.parent, self.name, wait=wait)

    def mark_running(self) -> dict:
        """Marks the run running by this process (pid, host, pid_start, boot_id)."""
        return self.update_metadata(status="running", reason=None, **process_identity())

    def mark_complete(self) -> dict:
        """Marks the run complete and ends this process's training of it (frees its lock)."""
        try:
            return self.update_metadata(status="complete", reason=None, **_NO_PROCESS)
        finally:
            self._release_lock()

    def mark_failed(self, reason: str) -> dict:
        """Marks the run failed and ends this process's training of it (frees its lock)."""
        try:
            return self.update_metadata(status="failed", reason=str(reason), **_NO_PROCESS)
        finally:
            self._release_lock()

    def _release_lock(self) -> None:
        lock = _HELD.get(str(self.lock_path))
        if lock is not None:
            lock.release()

    def remove_temp_files(self) -> list[Path]:
        """Deletes the `.tmp-*` leftovers of killed writes (files and folders) in the run folder,
        `samples/` and `checkpoint/`; call it holding the run's lock, so that no live writer owns
        them. Symlinks are removed themselves, never followed. Returns what was removed."""
        removed = []
        for folder in (self.path, self.samples_dir, self.checkpoint_dir):
            if folder != self.path and (folder.is_symlink() or not folder.is_dir()):
                continue
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if not entry.name.startswith(_TEMP_PREFIX):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path)
                    else:
                        os.unlink(entry.path)
                except OSError:
                    continue  # best effort: a leftover that cannot go does no harm
                removed.append(Path(entry.path))
        return removed

    def write_history(self, records: Iterable[dict]) -> None:
        """Rewrites `history.jsonl` with `records` (one JSON object per line)."""
        lines = [json.dumps(jsonable(r), allow_nan=False) for r in records]
        write_text(self.history_path, "".join(line + "\n" for line in lines))

    def append_history(self, record: dict) -> None:
        """Adds (or replaces) the record of `record["epoch"]`."""
        records = [r for r in self.history() if r.get("epoch") != record["epoch"]]
        self.write_history([*records, record])

    def truncate(self, epoch: int) -> None:
        """Forgets everything recorded after `epoch` (history, sample grids, checkpoints), and
        invalid history lines: what a resume from the checkpoint of `epoch` will redo."""
        self.write_history([r for r in self.history() if r["epoch"] <= epoch])
        for e, path in self.samples():
            if e > epoch:
                _unlink(path)
        for e, path in self.checkpoints():
            if e > epoch:
                _unlink(path)

    def record_metric(
        self,
        name: str,
        value: float,
        *,
        epoch: int | None = None,
        step: int | None = None,
        num_samples: int | None = None,
        feature_extractor: str | None = None,
        **details,
    ) -> dict:
        """Appends a metric evaluation to `metrics.jsonl` and makes it the model card's
        latest value of `name`. For `kgan evaluate` and metric callbacks.

        Example:
            >>> run.record_metric("fid", 12.3, epoch=20, num_samples=10000,
            ...                   feature_extractor="inception_v3")
        """
        record = {
            "metric": name,
            "value": float(value),
            "epoch": epoch,
            "step": step,
            "num_samples": num_samples,
            "feature_extractor": feature_extractor,
            **details,
            "time": now(),
        }
        lines = [json.dumps(jsonable(r), allow_nan=False) for r in [*self.metric_records(), record]]
        write_text(self.metrics_path, "".join(line + "\n" for line in lines))
        meta = self.metadata()
        metrics = dict(meta.get("metrics") or {})
        metrics[name] = {k: v for k, v in record.items() if k != "metric"}
        self.update_metadata(metrics=metrics)
        return record


#: What `mark_complete` and `mark_failed` write over `process_identity`'s fields.
_NO_PROCESS = {"pid": None, "pid_start": None, "boot_id": None}


def _numbered(folder: Path, pattern: re.Pattern) -> list[tuple[int, Path]]:
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for path in entries:
        match = pattern.match(path.name)
        if match and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


# ----------------------------------------------------------------------------- listing


def open_run(root: str | os.PathLike, name: str) -> Run:
    """The existing run `name` under `root`; a `RunError` names the available runs if absent."""
    path = resolve(root, name)
    if not path.is_dir():
        available = [r.name for r in list_runs(root)]
        hint = f"available runs: {', '.join(available)}" if available else "there are no runs yet"
        raise RunError(f"no run named {name!r} in {Path(root)} ({hint}); see `kgan list`")
    return Run(name, path)


def new_run(root: str | os.PathLike, name: str, overwrite: bool = False) -> Run:
    """Creates the folder of a new run `name`; refuses to replace an existing one unless
    `overwrite` (which deletes it first)."""
    import shutil

    path = check_new_name(root, name, overwrite)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return Run(name, path)


def check_new_name(root: str | os.PathLike, name: str, overwrite: bool = False) -> Path:
    """The folder a new run `name` would get; a `RunError` if the name is invalid, or taken
    and `overwrite` is False."""
    path = resolve(root, name)
    if path.exists() and not path.is_dir():
        raise RunError(
            f"{path} is a file, not a run folder; kgan does not replace it even with "
            "--overwrite: move it away or choose another --name"
        )
    if path.exists() and not overwrite:
        raise RunError(
            f"run {name!r} already exists in {Path(root)}; continue it with "
            f"--resume {name}, replace it with --overwrite, or choose another --name"
        )
    return path


def list_runs(root: str | os.PathLike | None = None) -> list[Run]:
    """Every run folder directly under `root`, sorted by name, broken ones included
    (check `run.error`). Hidden folders, files and symlinks leaving the root are skipped.

    Example:
        >>> [(r.name, r.error) for r in list_runs("saved_models")]
    """
    root = Path(root) if root is not None else default_root()
    try:
        entries = sorted(root.iterdir(), key=lambda p: p.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    runs = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        path = entry.resolve()
        if path.parent != root.resolve():
            continue  # a symlink leading out of the root
        runs.append(Run(entry.name, path))  # an invalid name shows up as `run.error`
    return runs


__all__ = [
    "CHECKPOINT_DIR",
    "CONFIG",
    "EXPORT_DIR",
    "GENERATOR",
    "HISTORY",
    "INTERRUPTED",
    "METADATA",
    "METRICS",
    "SAMPLES_DIR",
    "STATUSES",
    "TENSORBOARD_DIR",
    "Run",
    "RunError",
    "RunLock",
    "Trainer",
    "busy_error",
    "check_new_name",
    "default_root",
    "list_runs",
    "lock_path",
    "lock_run",
    "new_run",
    "open_run",
    "process_identity",
    "resolve",
    "validate_name",
    "write_bytes",
    "write_json",
    "write_text",
]
