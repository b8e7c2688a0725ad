"""The `kgan` command: a thin layer that parses flags and calls library functions.

One small function per subcommand, plus `build_parser`. Heavy imports (TensorFlow) happen
inside the command functions, so `kgan --help` answers at once. A `KganError` prints as one
line, `kgan: error: <message>`, with exit status 2.

Example:
    $ kgan train --preset digits --name digits
    $ kgan list
    $ kgan sample digits --num 64 --seed 0 --out digits.png
    $ kgan evaluate digits --metrics fid,kid,pr,dc,memorisation --num 5000
    $ kgan export digits
    $ kgan data prepare mnist --from ../shared/data/mnist --data-dir /tmp/tfds
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from kgan.errors import KganError


def cmd_data_prepare(args: argparse.Namespace) -> int:
    from kgan.data import prepare

    path = prepare(args.name, args.source_dir, data_dir=args.data_dir)
    print(f"{args.name} is prepared in {path}")
    return 0


# ----------------------------------------------------------------------------- train


def _runs_dir(args: argparse.Namespace):
    from kgan import runs

    return args.runs_dir if args.runs_dir is not None else runs.default_root()


def _check_runs_dir(root) -> None:
    """Refuses a runs folder that is a file, cannot be created or is not writable, before
    any work starts (instead of a traceback once training has begun)."""
    _check_writable_folder(root, "the runs folder", "pass --runs-dir DIR with another folder")


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


# The "next:" lines of `kgan train` are commands that work exactly as printed, typed in the
# same folder and environment (the same $KGAN_RUNS_DIR) as the `kgan train` that printed them:
# - when kgan runs from its project's own `.venv` and the working folder is that project
#   folder (as after `make run`), they are the Makefile's targets: `make sample NAME=RUN`,
#   `make dashboard`, `make tensorboard`, plus `RUNS_DIR=DIR` for another runs folder;
# - otherwise they name the programs of the Python environment kgan runs in: plain `kgan`,
#   `streamlit`, `tensorboard` when PATH finds those very programs, else their paths
#   (`.venv/bin/kgan`, relative to the working folder when inside it); the dashboard's app.py
#   by its path, with `--server.address 127.0.0.1` outside the project folder (whose
#   .streamlit/config.toml says so) and `-- --runs-dir DIR` unless app.py's default applies.
# A program the environment lacks is named in words, never as a command that would fail.


def _project_folder():
    """kgan's source folder (holding its Makefile and app.py) when kgan runs from one, else
    None (an installed copy)."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1]
    if (folder / "Makefile").is_file() and (folder / "app.py").is_file():
        return folder
    return None


def _use_make() -> bool:
    """True when kgan runs from its project's `.venv` and the working folder is the project."""
    from pathlib import Path

    project = _project_folder()
    return (
        project is not None
        and Path.cwd().resolve() == project
        and Path(sys.prefix).resolve() == (project / ".venv").resolve()
    )


def _as_typed(path) -> str:
    """`path` as the user types it here: relative to the working folder when inside it,
    else absolute; shell-quoted."""
    import os
    import shlex
    from pathlib import Path

    path = Path(os.path.abspath(path))
    try:
        shown = str(path.relative_to(Path.cwd()))
    except ValueError:
        shown = str(path)
    return shlex.quote(shown)


def _program(name: str) -> str | None:
    """How to type program `name` of the environment kgan runs in (see above), or None."""
    import os
    import shutil
    import sysconfig
    from pathlib import Path

    path = Path(sysconfig.get_path("scripts")) / name
    if not path.is_file():
        return None
    found = shutil.which(name)
    if found and os.path.samefile(found, path):
        return name
    return _as_typed(path)


def _kgan_program() -> str:
    import shlex

    return _program("kgan") or f"{shlex.quote(sys.executable)} -m kgan.cli"


def _make_runs_dir(root) -> str | None:
    """` RUNS_DIR=DIR` for a runs folder other than the default, "" for the default, None
    when DIR cannot pass through make (characters make or the shell would change)."""
    import shlex
    from pathlib import Path

    from kgan import runs

    if Path(root).resolve() == runs.default_root().resolve():
        return ""
    text = str(root)
    if any(c in text for c in "$\"'`\n\\#%"):
        return None
    return f" RUNS_DIR={shlex.quote(text)}"


def _dashboard_hint(runs_dir) -> str:
    """The command that opens the dashboard on `runs_dir`, or a note saying what it needs."""
    import os
    from pathlib import Path

    from kgan import runs

    if _use_make() and _make_runs_dir(runs_dir) is not None:
        return f"make dashboard{_make_runs_dir(runs_dir)}"
    project = _project_folder()
    streamlit = _program("streamlit")
    if project is None:
        return "(the dashboard is app.py of kgan's source folder, not part of this install)"
    if streamlit is None:
        return "(the dashboard needs Streamlit: kgan's `app` extra)"
    here = Path.cwd().resolve() == project
    address = "" if here else " --server.address 127.0.0.1"
    app_default = (
        runs.default_root() if os.environ.get("KGAN_RUNS_DIR") else project / "saved_models"
    )
    same = Path(runs_dir).resolve() == Path(app_default).resolve()
    where = "" if same else f" -- --runs-dir {_as_typed(runs_dir)}"
    return f"{streamlit} run {_as_typed(project / 'app.py')}{address}{where}"


def _next_lines(run, root) -> list[str]:
    """The "next:" commands after `kgan train`: sample, dashboard, TensorBoard (when the run
    wrote event files), each with what it does."""
    from pathlib import Path

    from kgan import runs

    make_dir = _make_runs_dir(root) if _use_make() else None
    if make_dir is not None:
        sample = f"make sample NAME={run.name}{make_dir}"
    else:
        given = Path(root).resolve() != runs.default_root().resolve()
        sample = (f"{_kgan_program()} sample {run.name} --out {run.name}.png"
                  f"{f' --runs-dir {_as_typed(root)}' if given else ''}")
    lines = [(sample, f"64 samples into {run.name}.png"),
             (_dashboard_hint(root), "open the dashboard")]
    tb_dir = run.tensorboard_dir
    if tb_dir.is_dir() and any(tb_dir.iterdir()):
        if make_dir is not None:
            tensorboard = f"make tensorboard{make_dir}"
        elif _program("tensorboard"):
            tensorboard = f"{_program('tensorboard')} --logdir {_as_typed(root)}"
        else:
            tensorboard = "(TensorBoard needs the `tensorboard` extra)"
        lines.append((tensorboard, "TensorBoard: scalars and sample grids per epoch"))
    commands = [command for command, _ in lines if not command.startswith("(")]
    width = max([len(command) for command in commands if len(command) <= 56] or [0])
    return [command if command.startswith("(") else f"{command:<{width}}    # {what}"
            for command, what in lines]


def _parse_arch_args(pairs) -> dict:
    """The --arch-arg KEY=VALUE pairs as architecture keyword arguments (JSON values, else
    strings; the architecture checks and names bad values)."""
    import json

    kwargs = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise KganError(f"--arch-arg takes KEY=VALUE (e.g. width=32), got {pair!r}")
        try:
            kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key] = value
    return kwargs


def _config_fields() -> list:
    """The RunConfig fields `kgan train` sets by a flag of their own (all but arch_kwargs,
    which --arch-arg fills)."""
    from kgan.config import RunConfig

    return [f for f in dataclasses.fields(RunConfig) if "section" in f.metadata]


def _flag(field) -> str:
    """The `kgan train` flag of RunConfig `field` (e.g. --batch-size, --beta1)."""
    return field.metadata.get("flag", f"--{field.name.replace('_', '-')}")


def resolve_train_config(args: argparse.Namespace):
    """The RunConfig of `kgan train`: the preset (or the defaults), then every flag given."""
    from kgan import presets
    from kgan.config import RunConfig

    config = presets.get(args.preset) if args.preset else RunConfig()
    changes = {f.name: getattr(args, f.name) for f in _config_fields()
               if getattr(args, f.name) is not None}
    if args.lr is not None:
        changes.setdefault("g_lr", args.lr)
        changes.setdefault("d_lr", args.lr)
    if changes.get("regularizer") == "none":
        changes["regularizer"] = None
    if "ema" in changes and changes["ema"] == 0:
        changes["ema"] = None
    same_arch = changes.get("arch", config.arch) == config.arch
    arch_kwargs = dict(config.arch_kwargs) if same_arch else {}
    arch_kwargs.update(_parse_arch_args(args.arch_arg))
    changes["arch_kwargs"] = arch_kwargs
    return config.replace(**changes)


def cmd_train(args: argparse.Namespace) -> int:
    from kgan import runs

    root = _runs_dir(args)
    _check_runs_dir(root)
    if args.resume:
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
        run = runs.open_run(root, args.resume)
        if args.dry_run:
            config = run.run_config()
            if args.epochs is not None:
                config = config.replace(epochs=args.epochs)
            last = run.latest_checkpoint()
            start = last[0] if last else 0
            print(f"would resume run {run.name!r} in {run.path} from epoch {start}")
            print(config.summary())
            return 0
    else:
        config = resolve_train_config(args)
        if args.name:  # a file of that name is refused even with --overwrite
            runs.check_new_name(root, args.name, overwrite=True)
        if args.dry_run:
            config.check_names()
            name = args.name or "(generated at start)"
            if args.name:
                runs.validate_name(args.name)
            print(f"would train run {name} into {root}")
            print(config.summary())
            return 0

    from kgan.training import default_name, train

    if args.resume:
        last = run.latest_checkpoint()
        print(f"resuming run {run.name!r} in {run.path} after epoch {last[0] if last else 0}")
        name = args.resume
    else:
        name = args.name or default_name(config)
        print(f"training run {name!r} into {runs.check_new_name(root, name, args.overwrite)}")
    run = train(
        None if args.resume else config,
        root,
        name=name,
        resume=bool(args.resume),
        epochs=args.epochs if args.resume else None,
        overwrite=args.overwrite,
        export=not args.no_export,
        verbose=2 if args.quiet else "auto",
    )
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
    return 0


# ----------------------------------------------------------------------------- sample, export, list


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
    from kgan import export, runs

    run = runs.open_run(_runs_dir(args), args.name)
    path = export.export_run(run, args.out, overwrite=args.overwrite)
    print(f"exported run {run.name!r} to {path} (signatures: {', '.join(export.SIGNATURES)})")
    if args.check_tflite:
        report = export.check_tflite(path)
        print(f"TFLite conversion of serving_default: ok ({report['bytes']} bytes)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from kgan import evaluation, runs

    run = runs.open_run(_runs_dir(args), args.name)
    extractor = args.extractor or "auto"
    results = evaluation.evaluate(
        run,
        args.metrics,
        args.num,
        extractor=extractor,
        seed=args.seed,
        reference_num=args.reference_num,
        progress=not args.quiet,
    )
    first = next(iter(results.values()))
    space = first.get("extractor") or "-"
    print(f"run {run.name!r}: {args.num} samples (seed {args.seed}) vs real training data, "
          f"features: {space}")
    for line in _evaluate_lines(results):
        print(line)
    fid = results.get("fid", {})
    if fid.get("fid_floor") is not None and fid.get("below_floor"):
        print(f"WARNING: fid {fid['fid_at_floor_num']:.5g} is under the real-vs-real floor "
              f"{fid['fid_floor']:.5g} at N={fid['fid_floor_num']}: "
              f"{evaluation.BELOW_FLOOR_WARNING}")
    print(f"recorded in {run.metrics_path} and the model card")
    return 0


#: `kgan evaluate`'s floor lines: number -> (metric, floor, N, split, value at N, ratio keys).
_FLOORS = {
    "fid": ("fid", "fid_floor", "fid_floor_num", "fid_floor_split", "fid_at_floor_num",
            "fid_ratio"),
    "precision": ("pr", "precision_floor", "pr_floor_num", "pr_floor_split",
                  "precision_at_floor_num", None),
    "recall": ("pr", "recall_floor", "pr_floor_num", "pr_floor_split", "recall_at_floor_num",
               "recall_ratio"),
    "spread_ratio": ("class_diversity", "spread_ratio_floor", "class_floor_num",
                     "class_floor_split", "spread_ratio_at_floor_num", None),
    "class_recall": ("class_diversity", "class_recall_floor", "class_floor_num",
                     "class_floor_split", "class_recall_at_floor_num", None),
}


def _evaluate_lines(results: dict) -> list[str]:
    """`kgan evaluate`'s table: one line per number, each real-vs-real floor on the line after
    its number, the class metrics with their classes."""
    from kgan import evaluation

    lines = []
    for name, value in evaluation.scalars(results).items():
        aside = _aside(name, results)
        lines.append(f"  {name:<18} {value:.5g}" + (f"  ({aside})" if aside else ""))
        floor = _floor_line(name, results)
        if floor:
            lines.append(floor)
    return lines


def _floor_line(name: str, results: dict) -> str | None:
    """`recall_floor 0.71  (real test vs real train, N=297; generated at N=297: 0.6, ratio
    0.845)`: the floor of number `name`, None when its result has none."""
    if name not in _FLOORS:
        return None
    metric, floor_key, n_key, split_key, at_key, ratio_key = _FLOORS[name]
    result = results.get(metric, {})
    floor, n, at_n = result.get(floor_key), result.get(n_key), result.get(at_key)
    if not all(_is_number(v) for v in (floor, n, at_n)):
        return None
    ratio = result.get(ratio_key) if ratio_key else None
    tail = f", ratio {ratio:.3g}" if _is_number(ratio) else ""
    return (f"  {floor_key:<18} {floor:.5g}  (real {result.get(split_key)} vs real train, "
            f"N={n}; generated at N={n}: {at_n:.5g}{tail})")


def _aside(name: str, results: dict) -> str:
    """What a class number needs beside it: where the classes came from, the worst class and
    its own real floor, the rarest and most common class against a balanced share."""
    diversity, balance = results.get("class_diversity", {}), results.get("class_balance", {})
    if name == "spread_ratio" and diversity.get("labels_from"):
        source = diversity["labels_from"]
        return ("classes drawn by the generator" if source == "generator"
                else f"classes: {source}'s top class")
    if name == "min_spread_ratio" and "worst_class" in diversity:
        return _worst_class(diversity)
    if name in ("min_share", "max_share") and balance.get("share_by_class"):
        shares = balance["share_by_class"]
        pick = min if name == "min_share" else max
        c = pick(range(len(shares)), key=shares.__getitem__)
        return f"class {c}; balanced {1 / len(shares):.3g}"
    return ""


def _worst_class(diversity: dict) -> str:
    """`class 3; real floor 0.97 at N=297`: the least varied class and real data's spread ratio in
    that class (from `spread_ratio_floor_by_class`, when there is one)."""
    worst = diversity["worst_class"]
    floors = dict(zip(diversity.get("classes", []),
                      diversity.get("spread_ratio_floor_by_class") or []))
    if not _is_number(floors.get(worst)):
        return f"class {worst}"
    return f"class {worst}; real floor {floors[worst]:.5g} at N={diversity.get('class_floor_num')}"


#: The numbers `kgan list` shows, in this order; the rest: `kgan evaluate` and the dashboard.
LIST_METRICS = ("fid", "precision", "recall", "coverage", "spread_ratio", "modes")


def _format_metrics(metrics: dict, details: dict | None = None) -> str:
    """`kgan list`'s METRICS cell: the latest `LIST_METRICS` (FID beside its real-vs-real
    floor), then how many other numbers the model card holds (`+3 more`)."""
    metrics = metrics or {}
    parts = []
    for key in (k for k in LIST_METRICS if k in metrics):
        value = metrics[key]
        if key == "fid" and _is_number(value):
            parts.append(_fid_with_floor(value, (details or {}).get("fid") or {}))
        else:
            parts.append(f"{key}={value:.4g}" if _is_number(value) else f"{key}={value}")
    others = len([k for k in metrics if k not in LIST_METRICS])
    if others:
        parts.append(f"+{others} more")
    return " ".join(parts) or "-"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fid_with_floor(value: float, entry: dict) -> str:
    """`fid=1.23 (1.81x real floor 0.68 @N=297)` from the model card's FID entry: the ratio
    compares equal N, so a FID recorded at another N also shows its value at the floor's N."""
    from kgan import evaluation

    floor, n, at_n = (entry.get(k) for k in ("fid_floor", "fid_floor_num", "fid_at_floor_num"))
    if not all(_is_number(v) for v in (floor, n, at_n)):
        return f"fid={value:.4g}"
    ratio = entry.get("fid_ratio")
    times = f"{ratio:.3g}x " if _is_number(ratio) else ""
    num = entry.get("num_samples")
    head = f"fid={value:.4g} (" if num in (None, n) else f"fid={value:.4g} @N={num} ({at_n:.4g} = "
    text = f"{head}{times}real floor {floor:.4g} @N={n:g}"
    if entry.get("below_floor") is True:
        text += f"; WARNING {evaluation.BELOW_FLOOR_WARNING}"
    return text + ")"


def cmd_list(args: argparse.Namespace) -> int:
    from kgan import runs

    root = _runs_dir(args)
    found = runs.list_runs(root)
    if not found:
        print(f"no runs in {root}; start one with `kgan train --preset digits --name digits`")
        return 0
    header = ("NAME", "DATASET", "ARCH", "LOSS", "EPOCHS", "STATUS", "METRICS")
    rows = []
    for run in found:
        row = run.summary()
        if row.get("error"):
            rows.append((run.name, "-", "-", "-", "-", f"broken: {row['error']}", "-"))
            continue
        status = row["status"] if not row.get("reason") else f"{row['status']}: {row['reason']}"
        epochs = f"{row.get('epochs_done') or 0}/{row.get('epochs') or '?'}"
        rows.append((run.name, str(row.get("dataset")), str(row.get("architecture")),
                     str(row.get("loss")), epochs, status,
                     _format_metrics(row.get("metrics"), row.get("metric_details"))))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for r in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    return 0


def _add_runs_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs-dir",
        metavar="DIR",
        help="folder holding the run folders (default: $KGAN_RUNS_DIR or saved_models/)",
    )


class _Names:
    """The valid names of registry module `module` (its `names()`), looked up only when help
    is printed: importing kgan.losses loads TensorFlow, which `kgan --help` must not."""

    def __init__(self, module: str, extra: tuple[str, ...] = ()):
        self.module, self.extra = module, extra

    def __str__(self) -> str:
        import importlib

        from kgan import quiet

        quiet.quiet_tensorflow()  # no TensorFlow log lines in the middle of the help
        return ", ".join([*importlib.import_module(self.module).names(), *self.extra])


def _add_config_flag(group, field) -> None:
    """Adds the flag of RunConfig `field` to `group`: typed from the field's annotation, None
    when not given (the preset's value then stays), help and choices from its metadata."""
    import typing

    from kgan.config import RunConfig

    meta = field.metadata
    kind = typing.get_type_hints(RunConfig)[field.name]
    text = meta["help"].replace("%", "%%")
    if "names" in meta:  # the valid values, looked up when --help is printed
        text += ": %(names)s"
    if field.default not in (None, False):
        text += f" (default: {field.default})"
    options = {"dest": field.name, "help": text}
    if kind is bool:
        options.update(action="store_const", const=True)
    else:
        number = next((t for t in (int, float) if t in typing.get_args(kind) or t is kind), None)
        options.update(type=number, metavar=meta.get("metavar"), choices=meta.get("choices"))
    if "negation" in meta:  # --conditional / --unconditional
        group = group.add_mutually_exclusive_group()
    action = group.add_argument(_flag(field), **options)
    if "negation" in meta:
        flag, negation_help = meta["negation"]
        group.add_argument(flag, action="store_const", const=False, dest=field.name,
                           help=negation_help)
    if "names" in meta:  # an optional name (--regularizer) also takes "none"
        action.names = _Names(meta["names"], ("none",) if field.default is None else ())


def _add_train(commands) -> None:
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


def _add_sample(commands) -> None:
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


def _add_evaluate(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        help="measure a trained run: FID, KID, precision/recall, density/coverage, memorisation",
        description="Measure run NAME's sampling generator (EMA weights when on) against its "
        "real training data, in the dataset's feature space (kgan's digits or MNIST "
        "classifier; --extractor inception for other images), and record the results in the "
        "run's metrics.jsonl and model card. Toy 2-D mixtures get mode coverage.",
        epilog="example: kgan evaluate digits --metrics fid,kid,pr,dc,memorisation --num 5000",
    )
    evaluate.add_argument("name", help="run name")
    evaluate.add_argument(
        "--metrics", metavar="LIST",
        help="comma-separated: fid, kid, pr, dc, memorisation, class_diversity, "
        "class_balance, classifier_score, mode_coverage (default: fid,kid,pr,dc,memorisation, "
        "and the class metrics for labelled data; toy data: mode_coverage)",
    )
    evaluate.add_argument("--num", type=int, default=5000,
                          help="generated samples (default 5000)")
    evaluate.add_argument("--seed", type=int, default=2, help="latent seed (default 2)")
    evaluate.add_argument(
        "--extractor", metavar="NAME",
        help="feature space: digits_pixels, mnist_pooled, digits_classifier, mnist or inception "
        "(default: the dataset's headline space)",
    )
    evaluate.add_argument(
        "--reference-num", type=int, default=10_000, metavar="N",
        help="real training examples to compare with (default 10000, or all if fewer)",
    )
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_runs_dir(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)


def _add_list(commands) -> None:
    listing = commands.add_parser(
        "list",
        help="list the runs",
        description="A table of the runs: name, dataset, architecture, loss, epochs, status, "
        "and the latest fid (beside its real-vs-real floor), precision, recall, coverage, "
        "spread_ratio (toy data: modes); `kgan evaluate` and the dashboard show the rest.",
    )
    _add_runs_dir(listing)
    listing.set_defaults(func=cmd_list)


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
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
    args = build_parser().parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
