"""The `kgan` entry point: the parser of every subcommand, and `main`, which runs one and
turns the user's errors into one line and an exit status (2; 130 for Ctrl-C)."""

from __future__ import annotations

import argparse
import sys

from kgan.cli.data import _add_data
from kgan.cli.evaluate import _add_evaluate
from kgan.cli.features import _add_features
from kgan.cli.listing import _add_list
from kgan.cli.sample import _add_export, _add_sample
from kgan.cli.train import _add_train
from kgan.errors import KganError


def build_parser() -> argparse.ArgumentParser:
    """The parser of `kgan` and its subcommands; each sets `func`, the command to run."""
    parser = argparse.ArgumentParser(
        prog="kgan", description="Train, evaluate, browse and serve GANs."
    )
    parser.add_argument(
        "--verbose", action="store_true",
        help="show TensorFlow's own log lines (by default kgan hides all but fatal ones, "
        "unless TF_CPP_MIN_LOG_LEVEL is set)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    _add_train(commands)
    _add_sample(commands)
    _add_export(commands)
    _add_evaluate(commands)
    _add_list(commands)

    _add_data(commands)
    _add_features(commands)
    return parser


#: What to lower when a command runs out of memory.
_MEMORY_HINTS = {
    "train": "lower --batch-size, --arch-arg width (units for mlp) or --latent-dim",
    "sample": "lower --num",
    "evaluate": "lower --num or --reference-num",
}

#: OS errors that are about the user's files and machine, not a bug: one line, no traceback.
_USER_OS_ERRORS = ("EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT", "ENOTDIR", "EISDIR", "EEXIST")


def _out_of_memory(error: BaseException) -> bool:
    """True for a `MemoryError` or TensorFlow's `ResourceExhaustedError` (TensorFlow is only
    looked up when a command has imported it, so `kgan --help` stays fast)."""
    if isinstance(error, MemoryError):
        return True
    tf = sys.modules.get("tensorflow")
    errors = getattr(tf, "errors", None)
    exhausted = getattr(errors, "ResourceExhaustedError", None)
    return exhausted is not None and isinstance(error, exhausted)


def _user_os_error(error: BaseException) -> bool:
    """True for an OSError about the user's files (permissions, a full disk, a file where a
    folder should be), which deserves one line rather than a traceback."""
    import errno

    if not isinstance(error, OSError) or error.errno is None:
        return False
    return errno.errorcode.get(error.errno) in _USER_OS_ERRORS


def _fail(message: str) -> int:
    """Prints `kgan: error: MESSAGE` on one line and returns the user-error status 2."""
    print(f"kgan: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Runs `kgan ARGV` (default: sys.argv) and returns its exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "train":
        from kgan.cli.train import prepare_determinism

        prepare_determinism(args)  # environment TensorFlow reads once, when it starts
    from kgan import quiet

    quiet.quiet_tensorflow(verbose=args.verbose)  # before any command imports TensorFlow
    try:
        return args.func(args)
    except KganError as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        print("kgan: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - re-raised unless it is the user's to fix
        if _out_of_memory(error):
            hint = _MEMORY_HINTS.get(args.command, "use smaller inputs")
            return _fail(f"out of memory while running `kgan {args.command}`; {hint}")
        if _user_os_error(error):
            path = error.filename2 or error.filename  # os.replace(tmp, path): the target
            where = f": {path}" if path else ""
            return _fail(f"{error.strerror}{where}; check the path and its permissions")
        raise
