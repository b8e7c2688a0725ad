"""`kgan sample` and `kgan export`: a trained run's generator as a PNG grid or .npz arrays,
or as a TF SavedModel."""

from __future__ import annotations

import argparse

from kgan.cli.folders import _add_runs_dir, _check_writable_folder, _runs_dir
from kgan.errors import KganError


def _add_sample(commands) -> None:
    """Adds `kgan sample` to the subcommands."""
    sample = commands.add_parser(
        "sample",
        help="draw samples from a trained run",
        description="Draw samples from run NAME's generator (EMA weights when on): a PNG grid, "
        "or an .npz with `x` (uint8 images, or float32 vectors) and `labels` when conditional.",
        epilog="example: kgan sample digits --num 64 --seed 0 --out digits.png",
    )
    sample.add_argument("name", help="run name")
    sample.add_argument("--num", type=int, default=64,
                        help="number of samples (default 64, at most 100000)")
    sample.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    sample.add_argument(
        "--out", metavar="FILE",
        help="FILE.png or FILE.npz (default NAME-samples.png)",
    )
    sample.add_argument("--label", type=int, help="class of every sample (conditional runs)")
    sample.add_argument("--truncation", type=float, metavar="T",
                        help="truncate z to [-T, T] (T > 0)")
    sample.add_argument("--cols", type=int, help="grid columns (1 to --num)")
    _add_runs_dir(sample)
    sample.set_defaults(func=cmd_sample)


def _add_export(commands) -> None:
    """Adds `kgan export` to the subcommands."""
    export = commands.add_parser(
        "export",
        help="write a run's generator as a TF SavedModel",
        description="Write run NAME's generator as a TF SavedModel with the signatures "
        "`serving_default` (z -> images) and `sample` (num, seed -> images); see docs/serving.md.",
        epilog="example: kgan export digits --out /tmp/digits-model/1",
    )
    export.add_argument("name", help="run name")
    export.add_argument("--out", metavar="DIR", help="target folder (default RUNS_DIR/NAME/export)")
    export.add_argument(
        "--overwrite", action="store_true",
        help="replace a kgan export already at --out (anything else there is always refused)",
    )
    export.add_argument("--check-tflite", action="store_true",
                        help="also convert serving_default with TFLite and run it")
    _add_runs_dir(export)
    export.set_defaults(func=cmd_export)


#: The most samples `kgan sample` draws at once (a 100,000-image grid is already ~3 GB).
MAX_SAMPLES = 100_000


def _check_sample_args(args: argparse.Namespace) -> None:
    """Refuses --num, --cols and --truncation values that would fail later or mean nothing."""
    import math

    if not 1 <= args.num <= MAX_SAMPLES:
        raise KganError(f"--num must be between 1 and {MAX_SAMPLES:,}, got {args.num}")
    if args.cols is not None and not 1 <= args.cols <= args.num:
        raise KganError(f"--cols must be between 1 and --num ({args.num}), got {args.cols}")
    if args.truncation is not None and not (
        math.isfinite(args.truncation) and args.truncation > 0
    ):
        raise KganError(
            f"--truncation must be a finite number > 0 (e.g. 1.5), got {args.truncation}"
        )


def cmd_sample(args: argparse.Namespace) -> int:
    """`kgan sample NAME`: draws --num samples of run NAME into a PNG grid or an .npz."""
    from pathlib import Path

    import numpy as np

    from kgan import images, runs, sampling

    out = Path(args.out or f"{args.name}-samples.png")
    if out.suffix not in (".png", ".npz"):
        raise KganError(f"--out must end in .png (a grid) or .npz (arrays), got {str(out)!r}")
    _check_sample_args(args)
    if out.is_dir():
        raise KganError(f"--out {out} is a folder; give a file name such as {out / 'samples.png'}")
    _check_writable_folder(out.parent, f"the folder of --out {out}:", "choose another --out")
    run = runs.open_run(_runs_dir(args), args.name)
    meta = run.metadata()
    generator = run.load_generator()
    num_classes = meta.get("num_classes")
    if args.label is not None:
        if not num_classes:
            raise KganError(f"run {args.name!r} is unconditional; drop --label")
        if not 0 <= args.label < num_classes:
            raise KganError(f"--label must be in 0..{num_classes - 1}, got {args.label}")
    labels = sampling.labels_for(args.num, num_classes, args.label)
    x = sampling.draw(
        generator, args.num, args.seed, labels=labels, num_classes=num_classes,
        truncation=args.truncation,
    )
    is_image = x.ndim == 4
    if out.suffix == ".npz":
        arrays = {"x": images.to_uint8(x) if is_image else x}
        if labels is not None:
            arrays["labels"] = labels
        import io

        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        runs.write_bytes(out, buffer.getvalue())
    else:
        cols = args.cols or sampling.grid_columns(args.num, num_classes, args.label)
        picture = images.grid(images.to_uint8(x), cols=cols) if is_image else images.scatter(x)
        runs.write_bytes(out, images.png_bytes(picture))
    print(f"wrote {args.num} samples of run {run.name!r} (seed {args.seed}) to {out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """`kgan export NAME`: run NAME's generator as a SavedModel (and a TFLite check)."""
    from kgan import export, runs

    run = runs.open_run(_runs_dir(args), args.name)
    path = export.export_run(run, args.out, overwrite=args.overwrite)
    print(f"exported run {run.name!r} to {path} (signatures: {', '.join(export.SIGNATURES)})")
    if args.check_tflite:
        report = export.check_tflite(path)
        print(f"TFLite conversion of serving_default: ok ({report['bytes']} bytes)")
    return 0
