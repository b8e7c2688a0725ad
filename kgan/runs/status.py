"""`RunStatus`: whether a run is running, complete, failed or interrupted, who trains it, and
the marks (with the run's lock) that a training process leaves on its model card."""

from __future__ import annotations

import contextlib
import os
import socket
from typing import ContextManager, Iterator

from kgan.errors import KganError
from kgan.runs.card import RunCard
from kgan.runs.layout import _LOCK_WAIT, INTERRUPTED
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

#: What `mark_complete` and `mark_failed` write over `process_identity`'s fields.
_NO_PROCESS = {"pid": None, "pid_start": None, "boot_id": None}


class RunStatus(RunCard):
    """A run's status and trainer, read from its lock and model card, and the marks
    (running, complete, failed) that training writes."""

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

    def recording(self) -> ContextManager[RunStatus]:
        """`with run.recording():` marks the run running for the block, then complete, or
        failed with the reason the block raised (`recording`)."""
        return recording(self)

    def _release_lock(self) -> None:
        lock = _HELD.get(str(self.lock_path))
        if lock is not None:
            lock.release()


class RunFailed(KganError):
    """Training ended the run on purpose; `reason` is what its model card records.

    Example:
        >>> raise RunFailed("run 'w' failed: exploding loss at epoch 1", "exploding loss at epoch 1")
    """

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


@contextlib.contextmanager
def recording(run: RunStatus) -> Iterator[RunStatus]:
    """Marks `run` running by this process for the block, then complete when the block ends,
    failed when it raises: with `RunFailed.reason`, "interrupted by the user" for Ctrl-C, else
    the exception's type and message. Frees the run's lock either way."""
    try:
        run.mark_running()
    except BaseException:
        run._release_lock()
        raise
    try:
        yield run
    except RunFailed as e:
        run.mark_failed(e.reason)
        raise
    except KeyboardInterrupt:
        run.mark_failed(f"interrupted by the user; continue it with --resume {run.name}")
        raise
    except BaseException as e:
        run.mark_failed(f"{type(e).__name__}: {' '.join(str(e).split())}"[:500])
        raise
    run.mark_complete()
