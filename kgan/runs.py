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
                           dataset, split, kind ("image" | "vector"), data_shape, latent_dim,
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
                           non-finite values are written as null.
    metrics.jsonl        one JSON object per metric evaluation (append-only log):
                           {"metric": "fid", "value": .., "epoch": .., "step": ..,
                            "num_samples": .., "feature_extractor": .., "time": ISO 8601}
    samples/epoch-0000.png   sample grid per epoch from the run's fixed latent grid
                             (epoch 0 = before training; vector data: a scatter plot)
    generator.keras      the sampling generator (EMA weights when EMA is on), rewritten every
                         epoch; load with `Run.load_generator()` (safe_mode=True)
    checkpoint/epoch-0003.keras   the whole GAN after that epoch (both networks, the EMA
                         generator, both optimizers and their iteration counters) — what
                         `resume` restarts from; only the newest one is kept
    export/              TF SavedModel of the sampling generator (`kgan export`), signatures
                         `serving_default` (z[, label] -> images|samples) and `sample`
                         (num, seed[, label] -> images|samples)
    tensorboard/         TensorBoard event files (with `--tensorboard`): the history's numbers
                         as scalars and the sample grid as an image, step = epoch

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
import json
import math
import os
import re
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

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
#: What `Run.status` reports for a run whose metadata says "running" but whose training
#: process (same host) is gone, e.g. killed; `kgan train --resume NAME` continues it.
INTERRUPTED = "interrupted"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SAMPLE = re.compile(r"^epoch-(\d+)\.png$")
_CHECKPOINT = re.compile(r"^epoch-(\d+)\.keras$")
_TEMP_PREFIX = ".tmp-"


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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise RunError(f"cannot read {path}: {e}") from None
    records = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError, TypeError):
        return True
    return True


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

    def sample_path(self, epoch: int) -> Path:
        return self.samples_dir / sample_filename(epoch)

    def checkpoint_path(self, epoch: int) -> Path:
        return self.checkpoint_dir / checkpoint_filename(epoch)

    # -- contents

    def config(self) -> dict:
        """`config.json`: {"format", "run", "model", "compile"}."""
        return _read_json(self.config_path, "run configuration")

    def metadata(self) -> dict:
        """`metadata.json`, the model card."""
        return _read_json(self.metadata_path, "model card")

    def history(self) -> list[dict]:
        """The per-epoch records of `history.jsonl`, in epoch order."""
        return sorted(_read_jsonl(self.history_path), key=lambda r: r.get("epoch", 0))

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

    @property
    def has_generator(self) -> bool:
        return self.generator_path.is_file()

    @property
    def has_export(self) -> bool:
        return (self.export_dir / "saved_model.pb").is_file()

    @property
    def status(self) -> str:
        """"running", "complete", "failed", or "interrupted" (metadata says running but the
        training process on this host is gone). Raises `RunError` for a broken run."""
        meta = self.metadata()
        status = meta.get("status")
        if status == "running" and meta.get("host") == socket.gethostname():
            if meta.get("pid") and not _pid_alive(meta["pid"]):
                return INTERRUPTED
        return status

    @property
    def reason(self) -> str | None:
        """Why the run failed (or was interrupted), else None."""
        status = self.status
        if status == INTERRUPTED:
            return "the training process stopped without finishing; resume it with --resume"
        return self.metadata().get("reason")

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
        if row["error"]:
            row["status"] = "broken"
            return row
        meta = self.metadata()
        row["status"] = self.status
        row["reason"] = self.reason
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

    def mark_running(self) -> dict:
        return self.update_metadata(
            status="running", reason=None, pid=os.getpid(), host=socket.gethostname()
        )

    def mark_complete(self) -> dict:
        return self.update_metadata(status="complete", reason=None, pid=None)

    def mark_failed(self, reason: str) -> dict:
        return self.update_metadata(status="failed", reason=str(reason), pid=None)

    def write_history(self, records: Iterable[dict]) -> None:
        """Rewrites `history.jsonl` with `records` (one JSON object per line)."""
        lines = [json.dumps(jsonable(r), allow_nan=False) for r in records]
        write_text(self.history_path, "".join(line + "\n" for line in lines))

    def append_history(self, record: dict) -> None:
        """Adds (or replaces) the record of `record["epoch"]`."""
        records = [r for r in self.history() if r.get("epoch") != record["epoch"]]
        self.write_history([*records, record])

    def truncate(self, epoch: int) -> None:
        """Forgets everything recorded after `epoch` (history, sample grids, checkpoints):
        what a resume from the checkpoint of `epoch` will redo."""
        self.write_history([r for r in self.history() if r.get("epoch", 0) <= epoch])
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
    "check_new_name",
    "default_root",
    "list_runs",
    "new_run",
    "open_run",
    "resolve",
    "validate_name",
    "write_bytes",
    "write_json",
    "write_text",
]
