"""`kgan train`: trains a new run or resumes one through `kgan.training.train`, whose
`kgan.runs.start` makes every run check; the CLI adds only what is its own (flags that a
resume cannot change, a usable runs folder, --dry-run)."""

from __future__ import annotations

import argparse

from kgan.cli.flags import _add_config_flag, _config_fields, _flag, resolve_train_config
from kgan.cli.folders import _add_runs_dir, _check_writable_folder, _runs_dir
from kgan.cli.hints import _next_lines
from kgan.errors import KganError


def _add_train(commands) -> None:
    """Adds `kgan train` to the subcommands, with a flag per RunConfig field."""
    from kgan import presets

    train = commands.add_parser(
        "train",
        help="train a GAN into a run folder (or resume one)",
        description=(
            "Train a GAN and record it in RUNS_DIR/NAME/: configuration, model card, per-epoch "
            "history and sample grids, checkpoints, the generator and its SavedModel export. "
            "Start from --preset (the best recipe for a dataset) and override any field with a "
            "flag; --resume NAME continues an interrupted run from its last finished epoch."
        ),
        epilog="example: kgan train --preset digits --name digits",
    )
    run = train.add_argument_group("run")
    run.add_argument(
        "--preset", metavar="NAME",
        help=f"start from a preset: {', '.join(presets.names())}",
    )
    run.add_argument("--name", help="run name (default: <dataset>-<arch>-<time>)")
    run.add_argument("--resume", metavar="NAME", help="continue run NAME from its last checkpoint")
    run.add_argument(
        "--overwrite", action="store_true",
        help="replace an existing run of the same name",
    )
    run.add_argument(
        "--dry-run", action="store_true",
        help="print the resolved configuration; write nothing",
    )
    run.add_argument(
        "--no-export", action="store_true",
        help="skip the SavedModel export at the end",
    )
    run.add_argument(
        "--quiet", action="store_true",
        help="one line per epoch instead of a progress bar",
    )
    _add_runs_dir(run)
    sections = dict.fromkeys(f.metadata["section"] for f in _config_fields())
    groups = {title: train.add_argument_group(title) for title in sections}
    groups["optimisation (Adam)"].add_argument(
        "--lr", type=float, help="learning rate of both networks (sets --g-lr and --d-lr)"
    )
    for field in _config_fields():
        _add_config_flag(groups[field.metadata["section"]], field)
    groups["model and objective"].add_argument(
        "--arch-arg", action="append", metavar="KEY=VALUE",
        help="architecture option, repeatable (e.g. width=32, spectral_norm=true; width <= 1024, "
        "mlp units <= 16384)",
    )
    train.set_defaults(func=cmd_train)


def prepare_determinism(args: argparse.Namespace) -> None:
    """For a deterministic run (`--deterministic`, or resuming one), before TensorFlow starts:
    oneDNN off and one inter-op thread (`kgan.determinism.ENVIRONMENT`), unless the user
    set them. A resumed run's saved config says; an unreadable one is left to `train`."""
    import os

    from kgan import determinism, runs

    wanted = bool(getattr(args, "deterministic", False))
    if args.resume and not wanted:
        try:
            wanted = runs.open_run(_runs_dir(args), args.resume).run_config().deterministic
        except Exception:  # noqa: BLE001 - kgan train reports a bad run itself, in one line
            wanted = False
    if wanted:
        for name, value in determinism.ENVIRONMENT.items():
            os.environ.setdefault(name, value)


def _check_runs_dir(root) -> None:
    """Refuses a runs folder that is a file, cannot be created or is not writable, before
    any work starts (instead of a traceback once training has begun)."""
    _check_writable_folder(root, "the runs folder", "pass --runs-dir DIR with another folder")


def cmd_train(args: argparse.Namespace) -> int:
    """Trains a new run, or resumes one, through `kgan.training.train` (whose `runs.start`
    checks the name, an existing or busy run, --overwrite and the resume epochs before anything
    is written); --dry-run prints the resolved configuration instead."""
    root = _runs_dir(args)
    _check_runs_dir(root)
    if args.resume:
        _refuse_new_run_flags(args)
        if args.dry_run:
            return _dry_resume(root, args.resume, args.epochs)
        config = None
    else:
        config = resolve_train_config(args)
        if args.dry_run:
            return _dry_run(root, args.name, config)

    from kgan.training import train

    run = train(
        config,
        root,
        name=args.resume or args.name,
        resume=bool(args.resume),
        epochs=args.epochs if args.resume else None,
        overwrite=args.overwrite,
        export=not args.no_export,
        verbose=2 if args.quiet else "auto",
        on_start=lambda started: _announce(started, resumed=bool(args.resume)),
    )
    if run is None:  # a multi-worker job's worker: the chief writes and reports the run
        print("\nworker done: the chief holds the run folder and its outcome")
        return 0
    _print_outcome(run, root)
    return 0


def _announce(started, *, resumed: bool) -> None:
    """The first line of a run that passed every check: its name, folder and starting epoch."""
    run = started.run
    if resumed:
        epoch = started.checkpoint[0] if started.checkpoint else 0
        print(f"resuming run {run.name!r} in {run.path} after epoch {epoch}", flush=True)
    else:
        print(f"training run {run.name!r} into {run.path}", flush=True)


def _dry_resume(root, name: str, epochs: int | None) -> int:
    """`kgan train --resume NAME --dry-run`: where the run would resume, and its configuration."""
    from kgan import runs

    run = runs.open_run(root, name)
    last = run.latest_checkpoint()
    config = run.run_config()
    if epochs is not None:
        config = config.replace(epochs=epochs)
    print(f"would resume run {run.name!r} in {run.path} from epoch {last[0] if last else 0}")
    print(config.summary())
    return 0


def _refuse_new_run_flags(args: argparse.Namespace) -> None:
    """A resume keeps the run's saved configuration: refuses every flag but --epochs."""
    given = [_flag(f) for f in _config_fields()
             if f.name != "epochs" and getattr(args, f.name) is not None]
    given += ["--preset"] * bool(args.preset) + ["--name"] * bool(args.name)
    given += ["--lr"] * (args.lr is not None) + ["--arch-arg"] * bool(args.arch_arg)
    given += ["--overwrite"] * args.overwrite
    if given:
        raise KganError(
            f"--resume continues run {args.resume!r} with its saved configuration; "
            f"drop {', '.join(given)} (only --epochs may change)"
        )


def _dry_run(root, name: str | None, config) -> int:
    """`kgan train --dry-run` of a new run: the checks `runs.start` makes before writing that
    need no data (an existing run of that name is fine: --overwrite may be added), then the
    configuration."""
    from kgan import runs

    if name:  # a file of that name is refused even with --overwrite
        runs.check_new_name(root, name, overwrite=True)
    config.check_names()
    print(f"would train run {name or '(generated at start)'} into {root}")
    print(config.summary())
    return 0


def _print_outcome(run, root) -> None:
    """What the finished run holds, then the "next:" commands."""
    from kgan import runs

    meta = run.metadata()
    samples = run.samples()
    took = runs.duration(meta.get("training_time_s"))
    print(
        f"\nrun {run.name!r} complete: {meta.get('epochs_done')} epochs, "
        f"{meta.get('steps_done')} steps in {took} -> {run.path}"
    )
    if samples:
        print(f"  last sample grid: {samples[-1][1]}")
    if run.has_export:
        print(f"  SavedModel:       {run.export_dir}")
    print("next:")
    for line in _next_lines(run, root):
        print(f"  {line}")
