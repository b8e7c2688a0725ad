"""The `kgan` command: a thin layer that parses flags and calls library functions.

One small function per subcommand, plus `build_parser`. Heavy imports (TensorFlow) happen
inside the command functions, so `kgan --help` answers at once. A `KganError` prints as one
line, `kgan: error: <message>`, with exit status 2.

Example:
    $ kgan data prepare mnist --from ../shared/data/mnist --data-dir /tmp/tfds
"""

from __future__ import annotations

import argparse
import sys

from kgan.errors import KganError


def cmd_data_prepare(args: argparse.Namespace) -> int:
    from kgan.data import prepare

    path = prepare(args.name, args.source_dir, data_dir=args.data_dir)
    print(f"{args.name} is prepared in {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kgan", description="Train, evaluate, browse and serve GANs."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    data = commands.add_parser("data", help="prepare datasets")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION")
    data_commands.required = True
    prepare = data_commands.add_parser(
        "prepare",
        help="build a TFDS dataset from local copies of its source files, with no network",
        description=(
            "Build a TFDS dataset from local copies of its source files (e.g. MNIST's four "
            ".gz files), verified by checksum, so that it then loads offline exactly as after "
            "a download. `digits` needs no files."
        ),
    )
    prepare.add_argument("name", help="TFDS dataset name, e.g. mnist")
    prepare.add_argument(
        "--from", dest="source_dir", metavar="DIR", help="folder holding the source files"
    )
    prepare.add_argument(
        "--data-dir",
        metavar="DIR",
        help="TFDS data dir (default: $KGAN_DATA_DIR, $TFDS_DATA_DIR or ~/tensorflow_datasets)",
    )
    prepare.set_defaults(func=cmd_data_prepare)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KganError as error:
        print(f"kgan: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
