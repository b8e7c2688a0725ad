"""Stability study on the 2-D toy mixtures: modes captured and sample quality, per GAN loss.

Trains an `mlp` GAN on `ring8` and `grid25` with one recipe (`Recipe`, the recommended
settings) and each of kgan's five losses, then scores 2,500 samples with
`kgan.toy.mode_coverage` (modes captured, share of high-quality samples within 3 std of a
mode, reverse KL of the mode histogram). Prints a markdown table and writes every run's
numbers to `benchmarks/results/toy-<timestamp>.json`.

Usage:
    python benchmarks/bench_toy.py                       # 5 losses x 2 datasets x 3 seeds
    python benchmarks/bench_toy.py --quick               # 1 seed, hinge only, a short run
    python benchmarks/bench_toy.py --datasets ring8 --losses hinge minimax --seeds 0 1
    python benchmarks/bench_toy.py --ema-decay 0 --batch-size 128   # any recipe field
"""

from __future__ import annotations

import argparse
import dataclasses
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
from kgan.config import RunConfig  # noqa: E402

LOSSES = ("minimax", "nonsaturating", "wasserstein", "hinge", "least_squares")
DATASETS = ("ring8", "grid25")
RESULTS = pathlib.Path(__file__).resolve().parent / "results"
EVAL_SAMPLES = 2500


def _setting(default, help: str):
    return dataclasses.field(default=default, metadata={"help": help})


@dataclasses.dataclass
class Recipe:
    """The recommended settings for the toy mixtures; every field is also a CLI flag."""

    loss: str = _setting("nonsaturating", "the recipe's loss (the table runs every loss)")
    regularizer: str = _setting("r1", "discriminator regulariser name, or none")
    regularizer_weight: float = _setting(0.1, "its weight")
    regularizer_every: int = _setting(1, "lazy regularisation: every N discriminator steps")
    wasserstein_regularizer: str = _setting("gradient_penalty", "regulariser used with wasserstein")
    wasserstein_regularizer_weight: float = _setting(0.1, "its weight")
    units: int = _setting(128, "mlp width (both networks)")
    depth: int = _setting(3, "mlp hidden layers (both networks)")
    latent_dim: int = _setting(8, "size of z")
    d_lr: float = _setting(1e-3, "discriminator Adam learning rate")
    g_lr: float = _setting(1e-3, "generator Adam learning rate")
    beta_1: float = _setting(0.5, "Adam beta_1 (both)")
    beta_2: float = _setting(0.99, "Adam beta_2 (both)")
    decay_fraction: float = _setting(0.5, "final share of the steps over which both lrs fall to 0")
    batch_size: int = _setting(256, "batch size")
    steps: int = _setting(12000, "generator steps")
    n_critic: int = _setting(1, "discriminator steps per generator step")
    ema_decay: float = _setting(0.999, "generator weight EMA used for sampling; 0 disables it")
    steps_per_execution: int = _setting(50, "train steps per tf.function call")
    jit_compile: bool = _setting(True, "XLA-compile the train step (faster for these tiny nets)")

    def run_config(self, dataset: str, loss: str, seed: int) -> RunConfig:
        """This recipe with `loss` as a `kgan train` configuration (one epoch of `steps`)."""
        name, weight = self.regularizer, self.regularizer_weight
        if loss == "wasserstein":
            name, weight = self.wasserstein_regularizer, self.wasserstein_regularizer_weight
        return RunConfig(
            dataset=dataset, arch="mlp", arch_kwargs={"units": self.units, "depth": self.depth},
            latent_dim=self.latent_dim, loss=loss,
            regularizer=None if name == "none" else name, regularizer_weight=weight,
            regularizer_every=self.regularizer_every, n_critic=self.n_critic,
            g_lr=self.g_lr, d_lr=self.d_lr, beta_1=self.beta_1, beta_2=self.beta_2,
            lr_decay=self.decay_fraction, ema=self.ema_decay or None,
            batch_size=self.batch_size, epochs=1, steps_per_epoch=self.steps,
            steps_per_execution=self.steps_per_execution, jit_compile=self.jit_compile, seed=seed,
        )


def toy_dataset(name: str, batch_size: int, seed: int):
    """Endless shuffled batches of the mixture (kgan.data's fixed 10,000-point draw)."""
    return kgan.data.load(name, batch_size=batch_size, seed=seed).repeat()


def train_and_evaluate(dataset: str, loss: str, seed: int, recipe: Recipe) -> dict:
    """Trains one GAN on `dataset` with `loss` and returns its scores and wall time."""
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    gan = recipe.run_config(dataset, loss, seed).build_gan((2,), steps_per_epoch=recipe.steps)
    history = gan.fit(
        toy_dataset(dataset, recipe.batch_size, seed),
        steps_per_epoch=recipe.steps,
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


def _boolean(text: str) -> bool:
    if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text.lower() in ("true", "1", "yes")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--losses", nargs="+", default=list(LOSSES), choices=LOSSES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: seed 0, the recipe's loss, a tenth of the steps")
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="JSON file to write (default: benchmarks/results/toy-<time>.json)")
    recipe = parser.add_argument_group("recipe (defaults: the recommended settings)")
    for field in dataclasses.fields(Recipe):
        kind = _boolean if isinstance(field.default, bool) else type(field.default)
        recipe.add_argument(
            f"--{field.name.replace('_', '-')}", type=kind, default=field.default,
            dest=field.name, help=f"{field.metadata['help']} (default: {field.default})",
        )
    return parser.parse_args(argv)


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    recipe = Recipe(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Recipe)})
    losses, seeds = args.losses, args.seeds
    if args.quick:
        losses, seeds = [recipe.loss], [0]
        recipe = dataclasses.replace(recipe, steps=max(recipe.steps // 10, 1))
    runs = []
    total = time.perf_counter()
    for dataset in args.datasets:
        for loss in losses:
            for seed in seeds:
                run = train_and_evaluate(dataset, loss, seed, recipe)
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
        "recipe": dataclasses.asdict(recipe),
        "total_seconds": total,
        "summary": rows,
        "runs": runs,
    }, indent=2))
    print(f"wrote {out}")
    return rows


if __name__ == "__main__":
    main()
