"""A run's lifecycle: `start` opens a run for training after every check, `recording` ends it.

`start` refuses everything it can before anything is written: a bad name, a run being trained
by another process, a resume for fewer epochs than done, and whatever the caller's `check`
refuses (training: the data). Only then does it take the run's lock and prepare the folder: a
new one (replacing the old with `overwrite`), or the old one cut back to its resume point.
`recording` marks the run running for a block and then complete, or failed with the reason
taken from the exception that ended it.

Example:
    >>> started = start("saved_models", "ring8", RunConfig(dataset="ring8", arch="mlp"))
    >>> with started.run.recording():
    ...     ...  # train from started.checkpoint (None: from epoch 0)
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from kgan.errors import KganError
from kgan.runs.folder import Run, check_new_name, new_run, open_run
from kgan.runs.layout import RunError
from kgan.runs.lock import busy_error, lock_run
from kgan.runs.status import RunFailed, recording

if TYPE_CHECKING:
    from kgan.config import RunConfig


@dataclass(frozen=True)
class Start:
    """A run opened for training by `start`.

    Attributes:
        run: the run; its lock is held by this process unless `done`.
        config: its RunConfig (a resume: the saved one, with the new `epochs`).
        checkpoint: (epoch, path) of the checkpoint to resume from, None to start at epoch 0.
        checked: what `start`'s `check` returned (None without one).
        note: what to tell the user ("note: ..." / "warning: ..."), else None.
        done: a complete run resumed for no more epochs than it has: nothing to do, nothing
            locked or written.
    """

    run: Run
    config: RunConfig
    checkpoint: tuple[int, Path] | None
    checked: Any = None
    note: str | None = None
    done: bool = False


def start(
    root: str | Path,
    name: str | None,
    config: RunConfig | None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    epochs: int | None = None,
    check: Callable[[RunConfig, tuple[int, Path] | None], Any] | None = None,
) -> Start:
    """Opens run `name` under `root` for training: a new one from `config`, or with `resume`
    the existing one (its saved config; `epochs` extends it).

    Every check runs first, then `check(config, checkpoint)`, the caller's own (training: the
    data, and the checkpoint to resume from, which must load); only then are the run's lock
    taken and its folder written. A new run without a name gets `default_name(config)`.

    Raises:
        KganError: bad options, a run that is being trained, fewer `epochs` than done.
        RunError: an unknown or corrupt run, a name that is invalid or taken.
    """
    root = Path(root)
    if resume:
        if not name:
            raise KganError("resuming needs the run's name (--resume NAME)")
        run = open_run(root, name)
        _refuse_if_alive(run)
        config = _resumed_config(run, epochs)
        done = _epochs_done(run)
        if run.status == "complete" and config.epochs <= done:
            note = (
                f"note: run {run.name!r} is already complete ({done} of {config.epochs} "
                f"epochs); nothing to do — pass --epochs N with N > {done} to train it further"
            )
            return Start(run, config, run.latest_checkpoint(), note=note, done=True)
        checkpoint = run.resume_point()
    else:
        if config is None:
            raise KganError("a new run needs a configuration")
        if epochs is not None:
            config = config.replace(epochs=epochs)
        config.check_names()
        name = name or default_name(config)
        if check_new_name(root, name, overwrite).is_dir():
            _refuse_if_alive(open_run(root, name))
        run, checkpoint = Run(name, root / name), None
    checked = check(config, checkpoint) if check is not None else None
    # The lock before anything is deleted or written: a second process training the same run
    # fails here. `mark_complete` / `mark_failed` (through `recording`) free it.
    lock = lock_run(root, name)
    try:
        if resume:
            return _reopen(run, config, checkpoint, checked)
        return Start(new_run(root, name, overwrite=overwrite), config, None, checked)
    except BaseException:
        lock.release()
        raise


def _reopen(run: Run, config: RunConfig, checkpoint, checked) -> Start:
    """Cuts a resumed run (holding its lock) back to its resume point; saves a new `epochs`."""
    run.remove_temp_files()  # leftovers of killed writes; no live writer while locked
    # The newest checkpoint, or an older one when that redoes an epoch whose history record
    # was lost (a torn line): the history must be exactly epochs 1..checkpoint.
    if run.resume_point() != checkpoint:
        raise RunError(
            f"run {run.name!r} changed while it was being opened (another process trained "
            f"it); continue it again with --resume {run.name}"
        )
    epoch = checkpoint[0] if checkpoint else 0
    note = run.resume_message(epoch) if checkpoint else None  # a lost record is never silent
    run.truncate(epoch)  # killed before its first checkpoint: start again, identically
    if run.config()["run"].get("epochs") != config.epochs:
        run.replace_run_config(config)
    return Start(run, config, checkpoint, checked, note)


def default_name(config: RunConfig) -> str:
    """`<dataset>-<arch>-<YYYYmmdd-HHMMSS>`: the name of a run started without one."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    dataset = "".join(c if c.isalnum() or c in "._-" else "-" for c in config.dataset)
    return f"{dataset.strip('-.')[:40]}-{config.arch}-{stamp}"


def _refuse_if_alive(run: Run) -> None:
    """A run whose training process is still alive (it holds the run's lock, or its model
    card names a live process) must not be touched by a second one."""
    try:
        trainer = run.trainer()
    except RunError:
        return  # a broken model card names no process; the lock is still taken before writes
    if trainer is not None:
        raise busy_error(run.name, trainer)


def _epochs_done(run: Run) -> int:
    """The epochs a resume keeps: those of the run's latest checkpoint (0 without one)."""
    latest = run.latest_checkpoint()
    return latest[0] if latest else 0


def _resumed_config(run: Run, epochs: int | None) -> RunConfig:
    """The run's RunConfig, with `epochs` changed when a resume extends it; refuses fewer
    epochs than the run has done, and extending a run whose learning rates decay to 0."""
    config = run.run_config()
    run.metadata()  # a corrupt model card fails here, before any work
    if epochs is None or epochs == config.epochs:
        return config
    done = _epochs_done(run)
    if epochs < done:
        raise KganError(
            f"run {run.name!r} has already trained {done} epochs, more than --epochs "
            f"{epochs}; pass --epochs {done} or more (or leave it out), or train a new run"
        )
    schedules = ["lr_decay"] * bool(config.lr_decay) + [
        name for name in ("lr_final", "regularizer_final_weight", "beta2_final")
        if getattr(config, name) is not None
    ]
    if schedules:
        raise KganError(
            f"run {run.name!r} ends its schedules at epoch {config.epochs} "
            f"({', '.join(schedules)}); it cannot be extended — train a new run with more --epochs"
        )
    # An explicit --epochs replaces a time budget: the budget was what ended the run.
    return config.replace(epochs=epochs, minutes=None)


__all__ = ["RunFailed", "Start", "default_name", "recording", "start"]
