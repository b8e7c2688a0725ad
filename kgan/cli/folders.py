"""The folders `kgan` commands take: the --runs-dir flag and its default, and the check that
a folder can be written, made before any work starts (one line instead of a late traceback)."""

from __future__ import annotations

import argparse

from kgan.errors import KganError


def _add_runs_dir(parser: argparse.ArgumentParser) -> None:
    """Adds --runs-dir, which every command that touches runs takes."""
    parser.add_argument(
        "--runs-dir",
        metavar="DIR",
        help="folder holding the run folders (default: $KGAN_RUNS_DIR or saved_models/)",
    )


def _runs_dir(args: argparse.Namespace):
    """The runs folder of a command: --runs-dir, else `runs.default_root()`."""
    from kgan import runs

    return args.runs_dir if args.runs_dir is not None else runs.default_root()


def _check_writable_folder(folder, what: str, fix: str) -> None:
    """Raises a one-line KganError when `folder` (`what`, e.g. "the runs folder") is a file,
    lies under a file, or is not writable; nothing is created."""
    import os
    from pathlib import Path

    path = Path(folder)
    try:
        if path.exists() and not path.is_dir():
            raise KganError(f"{what} {path} is a file, not a folder; {fix}")
        existing = path.absolute()
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise KganError(f"{what} {path} cannot be created: {existing} is a file; {fix}")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise KganError(
                f"{what} {path} is not writable ({existing}: permission denied); {fix}"
            )
    except OSError as error:
        reason = error.strerror or error
        raise KganError(f"{what} {path} cannot be used ({reason}); {fix}") from None
