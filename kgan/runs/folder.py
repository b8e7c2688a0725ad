"""`Run`, one run folder, and finding runs under a root (`open_run`, `new_run`, `list_runs`).

`Run` is put together from one class per job: `paths.RunPaths` (where its files are),
`card.RunCard` (config and model card), `records.RunRecords` (history and metric log),
`epochs.RunEpochs` (sample grids, checkpoints, the resume point) and `status.RunStatus`
(status, trainer and the marks training leaves); this module adds the checks and the
generator.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from kgan.runs.epochs import RunEpochs
from kgan.runs.layout import _TEMP_PREFIX, RunError, default_root, resolve, validate_name
from kgan.runs.status import RunStatus


@dataclass(frozen=True)
class Run(RunEpochs, RunStatus):
    """One run folder. Every method reads the files afresh (a running run keeps changing).

    Attributes:
        name: the run's name (its folder name).
        path: its folder.
    """

    name: str
    path: Path

    @property
    def has_generator(self) -> bool:
        return self.generator_path.is_file()

    @property
    def has_export(self) -> bool:
        return (self.export_dir / "saved_model.pb").is_file()

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

    def copy_resume_point(self, root: str | os.PathLike) -> "Run":
        """A copy of this run under `root` holding what a resume reads (config, model card,
        history, metric log and the resume-point checkpoint), as nobody's: a multi-worker
        job's other workers resume from it while the chief trains the original."""
        from kgan.runs.files import write_json

        copy = Run(self.name, Path(root) / self.name)
        copy.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        for source in (self.config_path, self.history_path, self.metrics_path):
            if source.is_file():
                shutil.copyfile(source, copy.path / source.name)
        meta = self.metadata()
        if meta.get("status") == "running":  # the chief's process, not the copy's
            meta.update(status="failed", reason="a worker's copy of the run", pid=None)
        write_json(copy.metadata_path, meta)
        point = self.resume_point()
        if point is not None:
            shutil.copyfile(point[1], copy.checkpoint_dir / point[1].name)
        return copy

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
