"""`kgan data prepare`: builds a TFDS dataset from local copies of its source files."""

from __future__ import annotations

import argparse


def cmd_data_prepare(args: argparse.Namespace) -> int:
    """`kgan data prepare NAME --from DIR`: builds dataset NAME offline, says where."""
    from kgan.data import prepare

    path = prepare(args.name, args.source_dir, data_dir=args.data_dir)
    print(f"{args.name} is prepared in {path}")
    return 0


def _add_data(commands) -> None:
    """Adds `kgan data prepare` to the subcommands."""
    data = commands.add_parser("data", help="prepare datasets")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION")
    data_commands.required = True
    prepare = data_commands.add_parser(
        "prepare",
        help="build a TFDS dataset from local copies of its source files, with no network",
        description=(
            "Build a TFDS dataset from local copies of its source files (e.g. MNIST's four "
            ".gz files), verified by checksum, so that it then loads offline exactly as after "
            "a download. `digits` needs no files; `stacked_mnist` needs none either, only mnist "
            "prepared in the same --data-dir first."
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
