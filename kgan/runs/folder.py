"""`Run`, one run folder, and finding runs under a root (`open_run`, `new_run`, `list_runs`)."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ContextManager, Iterable

from kgan.runs.files import _unlink, append_line, jsonable, write_json, write_text
from kgan.runs.layout import (
    _CHECKPOINT,
    _LOCK_SUFFIX,
    _LOCK_WAIT,
    _SAMPLE,
    _TEMP_PREFIX,
    CHECKPOINT_DIR,
    CONFIG,
    EXPORT_DIR,
    FORMAT_VERSION,
    GENERATOR,
    HISTORY,
    INTERRUPTED,
    METADATA,
    METRICS,
    SAMPLES_DIR,
    TENSORBOARD_DIR,
    RunError,
    checkpoint_filename,
    default_root,
    now,
    resolve,
    sample_filename,
    validate_name,
)
from kgan.runs.lock import (
    _HELD,
    RunLock,
    Trainer,
    _lock_owner,
    _lock_taken,
    _owner_alive,
    lock_run,
    process_identity,
)
from kgan.runs.schema import _check_metadata, _read_history, _read_json, _read_jsonl

if TYPE_CHECKING:
    from kgan.config import RunConfig


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

    def run_config(self) -> RunConfig:
        """The run's `kgan.config.RunConfig`, read back from config.json's "run" section."""
        from kgan.config import RunConfig

        try:
            return RunConfig.from_dict(self.config()["run"])
        except (KeyError, TypeError):
            raise RunError(
                f"{self.config_path} has no valid 'run' section; the run is corrupt"
            ) from None

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
        """Every metric evaluation of `metrics.jsonl`, oldest first (a line torn by a crash
        is skipped)."""
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
        epochs, epochs_done, steps_done, training_time_s, created, updated, metrics (each
        metric's latest value) and metric_details (the model card's whole entry of each, e.g.
        FID's real-vs-real floor).
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
        card = meta.get("metrics") or {}
        row["metrics"] = {
            name: (m.get("value") if isinstance(m, dict) else m) for name, m in card.items()
        }
        row["metric_details"] = {name: dict(m) for name, m in card.items() if isinstance(m, dict)}
        return row

    def load_generator(self, compile: bool = False):
        """The sampling generator as a `keras.Model`, loaded with `safe_mode=True`."""
        import keras

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

    def recording(self) -> ContextManager[Run]:
        """`with run.recording():` marks the run running for the block, then complete, or
        failed with the reason the block raised (`kgan.runs.lifecycle.recording`)."""
        from kgan.runs.lifecycle import recording

        return recording(self)

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
        append_line(self.metrics_path, json.dumps(jsonable(record), allow_nan=False))
        meta = self.metadata()
        metrics = dict(meta.get("metrics") or {})
        metrics[name] = {k: v for k, v in record.items() if k != "metric"}
        self.update_metadata(metrics=metrics)
        return record


#: What `mark_complete` and `mark_failed` write over `process_identity`'s fields.
_NO_PROCESS = {"pid": None, "pid_start": None, "boot_id": None}


def _numbered(folder: Path, pattern: re.Pattern) -> list[tuple[int, Path]]:
    """The regular files of `folder` named like `pattern`, by number. kgan never writes
    symlinks, so a linked folder or file (which could lead outside the runs folder, e.g. in a
    shared run) is skipped."""
    if folder.is_symlink():
        return []
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for path in entries:
        match = pattern.match(path.name)
        if match and not path.is_symlink() and path.is_file():
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


