"""Who trains a run: the training process's identity (pid, start time, boot, host) and the
exclusive lock beside the run folder that keeps two processes from training one run."""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import stat as _stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # not POSIX: runs are not locked
    fcntl = None

from kgan.runs.files import _file_mode
from kgan.runs.layout import (
    _CLOCK_SLACK,
    _LOCK_SUFFIX,
    _LOCK_WAIT,
    RunError,
    now,
    resolve,
)
from kgan.runs.schema import _is_int

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
