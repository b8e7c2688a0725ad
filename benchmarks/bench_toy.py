"""Stability study on the 2-D toy mixtures: modes captured and sample quality, per GAN loss.

Trains an `mlp` GAN on `ring8` and `grid25` with one recipe (the dataset's `kgan train`
preset, the recommended settings) and each of kgan's six losses, then scores 2,500 samples
with `kgan.toy.mode_coverage` (modes captured, share of high-quality samples within 3 std of a
mode, reverse KL of the mode histogram). Prints a markdown table and writes every run's
numbers to `benchmarks/results/toy-<timestamp>.json`.

Usage:
    python benchmarks/bench_toy.py                       # 6 losses x 2 datasets x 3 seeds
    python benchmarks/bench_toy.py --quick               # 1 seed, the recipe's loss, a short run
    python benchmarks/bench_toy.py --datasets ring8 --losses hinge minimax --seeds 0 1
    python benchmarks/bench_toy.py --ema 0 --batch-size 128   # any `kgan train` flag
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import kgan  # noqa: E402
import kgan.data  # noqa: E402
from kgan import cli  # noqa: E402
from kgan.config import RunConfig  # noqa: E402

LOSSES = ("minimax", "nonsaturating", "wasserstein", "hinge", "least_squares", "relativistic")
DATASETS = ("ring8", "grid25")
RESULTS = pathlib.Path(__file__).resolve().parent / "results"
EVAL_SAMPLES = 2500


def recipe(dataset: str, train_flags: list[str], steps: int | None = None) -> RunConfig:
    """The `dataset` preset with `train_flags` (any `kgan train` flags) applied, as one epoch
    of `steps` steps (default: all the preset's epochs), so the learning rate decays alike."""
    args = cli.build_parser().parse_args(["train", "--preset", dataset, *train_flags])
    config = cli.resolve_train_config(args)
    total = steps or config.epochs * config.steps_per_epoch
    return config.replace(epochs=1, steps_per_epoch=total)


def run_config(config: RunConfig, loss: str, seed: int, wasserstein: tuple) -> RunConfig:
    """`config` with `loss` and `seed`; Wasserstein gets its own (regulariser, weight,
    n_critic): a critic trained once per generator step is too far from optimal for it."""
    changes = {"loss": loss, "seed": seed}
    if loss == "wasserstein":
        name, weight, n_critic = wasserstein
        changes.update(regularizer=None if name == "none" else name, regularizer_weight=weight,
                       n_critic=n_critic)
    return config.replace(**changes)


def toy_dataset(name: str, batch_size: int, seed: int):
    """Endless shuffled batches of the mixture (kgan.data's fixed 10,000-point draw)."""
    return kgan.data.load(name, batch_size=batch_size, seed=seed).repeat()


def train_and_evaluate(config: RunConfig) -> dict:
    """Trains one GAN of `config` (one epoch) and returns its scores and wall time."""
    dataset, loss, seed, steps = config.dataset, config.loss, config.seed, config.steps_per_epoch
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    gan = config.build_gan((2,), steps_per_epoch=steps)
    history = gan.fit(
        toy_dataset(dataset, config.batch_size, seed),
        steps_per_epoch=steps,
        epochs=1,
        verbose=0,
    )
    samples = gan.generate(EVAL_SAMPLES, seed=10_000 + seed)
    seconds = time.perf_counter() - start
    scores = kgan.toy.mode_coverage(samples, dataset)
    last = {k: float(v[-1]) for k, v in history.history.items()}
    return {"dataset": dataset, "loss": loss, "seed": seed, **scores, "seconds": seconds,
            "final_logs": last}


def summarise(runs: list[dict]) -> list[dict]:
    """Mean scores per (dataset, loss) over seeds, in the order first seen."""
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        groups.setdefault((run["dataset"], run["loss"]), []).append(run)
    rows = []
    for (dataset, loss), group in groups.items():
        mean = lambda key: sum(r[key] for r in group) / len(group)  # noqa: E731
        rows.append({
            "dataset": dataset,
            "loss": loss,
            "seeds": len(group),
            "modes": mean("modes"),
            "num_modes": group[0]["num_modes"],
            "min_modes": min(r["modes"] for r in group),
            "high_quality": mean("high_quality"),
            "min_high_quality": min(r["high_quality"] for r in group),
            "reverse_kl": mean("reverse_kl"),
            "seconds": mean("seconds"),
        })
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| dataset | loss | modes (mean) | high quality (mean) | worst seed | reverse KL | s / run |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['loss']} | {r['modes']:.1f} / {r['num_modes']} "
            f"| {100 * r['high_quality']:.1f}% "
            f"| {r['min_modes']} modes, {100 * r['min_high_quality']:.1f}% "
            f"| {r['reverse_kl']:.3f} | {r['seconds']:.0f} |"
        )
    return "\n".join(lines)


def parse_args(argv=None) -> tuple[argparse.Namespace, list[str]]:
    """The benchmark's own flags, and the rest: `kgan train` flags changing the recipe."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], allow_abbrev=False,  # --seed is not --seeds
        epilog="Any other flag is a `kgan train` flag applied to the recipe (the dataset's "
        "preset), e.g. --regularizer-weight 1.0, --ema 0, --batch-size 128, --arch-arg units=64.",
    )
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--losses", nargs="+", default=list(LOSSES), choices=LOSSES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=None,
                        help="generator steps (default: the preset's, 24000)")
    parser.add_argument("--wasserstein-regularizer", default="gradient_penalty",
                        help="regulariser used with wasserstein, or none (default: %(default)s)")
    parser.add_argument("--wasserstein-regularizer-weight", type=float, default=1.0,
                        help="its weight (default: %(default)s)")
    parser.add_argument("--wasserstein-n-critic", type=int, default=5,
                        help="critic steps per generator step with wasserstein (default: "
                        "%(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: seed 0, the recipe's loss, a tenth of the steps")
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="JSON file to write (default: benchmarks/results/toy-<time>.json)")
    return parser.parse_known_args(argv)


def main(argv=None) -> list[dict]:
    args, train_flags = parse_args(argv)
    recipes = {dataset: recipe(dataset, train_flags, args.steps) for dataset in args.datasets}
    wasserstein = (args.wasserstein_regularizer, args.wasserstein_regularizer_weight,
                   args.wasserstein_n_critic)
    losses, seeds = args.losses, args.seeds
    if args.quick:
        losses, seeds = [recipes[args.datasets[0]].loss], [0]
        recipes = {dataset: config.replace(steps_per_epoch=max(config.steps_per_epoch // 10, 1))
                   for dataset, config in recipes.items()}
    runs = []
    total = time.perf_counter()
    for dataset, config in recipes.items():
        for loss in losses:
            for seed in seeds:
                run = train_and_evaluate(run_config(config, loss, seed, wasserstein))
                runs.append(run)
                print(
                    f"{dataset:7s} {loss:14s} seed {seed}: {run['modes']}/{run['num_modes']} modes, "
                    f"{100 * run['high_quality']:.1f}% high quality, "
                    f"reverse KL {run['reverse_kl']:.3f}, {run['seconds']:.0f} s",
                    flush=True,
                )
    total = time.perf_counter() - total
    rows = summarise(runs)
    print()
    print(markdown(rows))
    print(f"\n{len(runs)} runs in {total / 60:.1f} min")
    out = args.out or RESULTS / f"toy-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "command": " ".join(["python", "benchmarks/bench_toy.py", *(argv or sys.argv[1:])]),
        "recipes": {dataset: config.to_dict() for dataset, config in recipes.items()},
        "wasserstein_regularizer": list(wasserstein),
        "total_seconds": total,
        "summary": rows,
        "runs": runs,
    }, indent=2))
    print(f"wrote {out}")
    return rows


if __name__ == "__main__":
    main()
