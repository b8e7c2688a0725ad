"""`RunPaths`: where each file of a run folder lives (the names come from `layout`)."""

from __future__ import annotations

from pathlib import Path

from kgan.runs.layout import (
    _LOCK_SUFFIX,
    CHECKPOINT_DIR,
    CONFIG,
    EXPORT_DIR,
    GENERATOR,
    HISTORY,
    METADATA,
    METRICS,
    SAMPLES_DIR,
    TENSORBOARD_DIR,
    checkpoint_filename,
    sample_filename,
)


class RunPaths:
    """The paths of one run folder's files, from its `name` and `path`; reads nothing.

    The base of `kgan.runs.Run`, which supplies `name` and `path` as dataclass fields.
    """

    name: str
    path: Path

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
