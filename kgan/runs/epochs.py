"""`RunEpochs`: a run's per-epoch files (sample grids, checkpoints), the checkpoint a resume
continues from given the history, and cutting a run back to an epoch."""

from __future__ import annotations

import re
from pathlib import Path

from kgan.runs.files import _unlink
from kgan.runs.layout import _CHECKPOINT, _SAMPLE
from kgan.runs.records import RunRecords


class RunEpochs(RunRecords):
    """Lists the sample grids and checkpoints by epoch and decides the resume point."""

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
