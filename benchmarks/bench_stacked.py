"""StackedMNIST mode coverage (1,000 modes) against training time, for three recipes.

Trains, through `kgan.training.train`, an unconditional GAN on `stacked_mnist` with (a) kgan's
`stacked_mnist` preset (a plain DCGAN: non-saturating, no regulariser, batch norm in both
networks, Adam 2e-4 (0.5, 0.999), no EMA), (b) the relativistic R3GAN-style recipe (RpGAN
loss, R1+R2 with its weight on a cosine, cosine learning rate, beta_2 0.9 -> 0.99, EMA by
half-life with ramp-up; the README's "R3GAN's recipe" command on the mnist preset's networks
without spectral norm) and (c) the `mnist` preset's recipe without labels (hinge, spectral
norm, EMA; the stacked_mnist preset before 2026-12-07). Each recipe is ONE run: at every budget of --minutes-list (minutes of
training, the evaluation's own time left out) the sampling generator draws --num samples that
`stacked_modes` scores (modes of 1,000, KL(histogram || uniform)) beside real test images at
the same N. The R3GAN schedules span the planned steps, so that run is planned to end at the
largest budget from a timed probe of its step; the others stop there.

Prints the CPU, a markdown table and writes `benchmarks/results/stacked-<time>.json`.

Usage:
    python benchmarks/bench_stacked.py                          # 3 recipes, 5 and 15 minutes
    python benchmarks/bench_stacked.py --minutes-list 5,15,45,90 --num 26000
    python benchmarks/bench_stacked.py --recipes preset --minutes-list 15,45
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KGAN_OFFLINE", "1")


import kgan.data  # noqa: E402
from kgan import evaluation, presets, training  # noqa: E402
from kgan.callbacks.guards import training_step  # noqa: E402
from kgan.config import RunConfig  # noqa: E402
from kgan.errors import KganError  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import machine  # noqa: E402
from budgets import Budgets, StepTimer  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_MNIST = pathlib.Path(os.environ.get("KGAN_SHARED_DATA") or ROOT.parent / "shared" /
                            "data") / "mnist"
#: Steps per epoch: budgets are checked at epoch ends, so an epoch is kept short (~30 s here).
STEPS_PER_EPOCH = 200
#: Published numbers at N = 26,000 (modes, KL), for the table.
ANCHORS = {"DCGAN": (99, 3.4), "WGAN-GP": (959, 0.73), "PacGAN2": (1000, 0.06),
           "R3GAN": (1000, 0.029)}


def recipes(data_dir: str | None, seed: int) -> dict[str, RunConfig]:
    """The three recipes, as run configurations of one long run each (the budgets stop it)."""
    long_run = dict(data_dir=data_dir, seed=seed, minutes=None, epochs=10_000,
                    steps_per_epoch=STEPS_PER_EPOCH, eval_every=0)
    preset = presets.get("stacked_mnist").replace(**long_run)
    mnist = presets.get("mnist").replace(
        dataset="stacked_mnist", conditional=False, eval_num=preset.eval_num, **long_run)
    r3gan = mnist.replace(
        arch_kwargs={**mnist.arch_kwargs, "spectral_norm": False},
        loss="relativistic", regularizer="r1r2", regularizer_weight=0.1,
        regularizer_final_weight=0.01, lr_final=0.25, beta_2=0.9, beta2_final=0.99,
        ema_half_life=20_000, ema_rampup=0.05)
    return {"preset": preset, "r3gan": r3gan, "mnist": mnist}


def prepared_data_dir(data_dir: str) -> str:
    """`data_dir` holding stacked_mnist, built from the shared MNIST files when absent."""
    try:
        kgan.data.info("stacked_mnist", data_dir=data_dir)
    except KganError:
        if not SHARED_MNIST.is_dir():
            raise SystemExit(f"bench_stacked: no stacked_mnist in {data_dir} and no MNIST files "
                             f"in {SHARED_MNIST} to build it from (set KGAN_SHARED_DATA)")
        kgan.data.prepare("mnist", str(SHARED_MNIST), data_dir=data_dir)
        kgan.data.prepare("stacked_mnist", data_dir=data_dir)
    return data_dir


def run_recipe(label: str, config: RunConfig, budgets: list[float], num: int,
               runs_dir: str) -> dict:
    """One run of `config` scored at every budget; the scheduled recipe is planned first."""
    planned = None
    if config.lr_final is not None or config.beta2_final is not None:
        timer = StepTimer()
        training.train(config.replace(epochs=1, steps_per_epoch=80), runs_dir,
                       name=f"{label}-probe", overwrite=True, export=False, verbose=0,
                       callbacks=[timer])
        per_step = timer.seconds_per_step
        planned = math.ceil(60 * max(budgets) / per_step / STEPS_PER_EPOCH)
        print(f"[{label}] probe: {per_step:.3f} s/step -> {planned} epochs of "
              f"{STEPS_PER_EPOCH} steps for {max(budgets)} minutes", flush=True)
        config = config.replace(epochs=planned)
    evaluator = evaluation.Evaluator.for_config(config)

    def score(model) -> dict:
        samples = model.generate(num, seed=evaluation.EVAL_SEED)
        result = evaluator.measure(samples, ["stacked_modes"])["stacked_modes"]
        return {"modes": int(result["modes"]), "reverse_kl": float(result["reverse_kl"]),
                "modes_floor": result.get("modes_floor"),
                "reverse_kl_floor": result.get("reverse_kl_floor"), "num_samples": num}

    def describe(p: dict) -> str:
        return (f"{p['modes']} modes, KL {p['reverse_kl']:.3f} (real at N={num}: "
                f"{p['modes_floor']} / {p['reverse_kl_floor']:.4f})")

    budget = Budgets(budgets, score, label, steps=training_step, describe=describe)
    start = time.perf_counter()
    training.train(config, runs_dir, name=label, overwrite=True, export=False, verbose=0,
                   callbacks=[budget])
    return {"recipe": label, "config": config.to_dict(), "planned_epochs": planned,
            "seconds": time.perf_counter() - start, "points": budget.points}


def markdown(runs: list[dict], num: int) -> str:
    budgets = sorted({p["budget_minutes"] for run in runs for p in run["points"]})
    head = "| recipe | " + " | ".join(f"{b:g} min: modes / KL" for b in budgets) + " |"
    lines = [head, "|" + "---|" * (len(budgets) + 1)]
    for run in runs:
        by = {p["budget_minutes"]: p for p in run["points"]}
        cells = [f"{by[b]['modes']} / {by[b]['reverse_kl']:.3f} ({by[b]['train_minutes']:.1f} "
                 f"min, {by[b]['steps']} steps)" if b in by else "-" for b in budgets]
        lines.append(f"| {run['recipe']} | " + " | ".join(cells) + " |")
    floor = next((p for run in runs for p in run["points"]), None)
    if floor:
        lines.append(f"| real test images, N={num} | " + " | ".join(
            f"{floor['modes_floor']} / {floor['reverse_kl_floor']:.4f}" for _ in budgets) + " |")
    lines.append("\nPublished at N=26,000: " + ", ".join(
        f"{k} {m} / {kl}" for k, (m, kl) in ANCHORS.items()))
    return "\n".join(lines)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes-list", default="5,15",
                        help="training minutes at which to score each run (default 5,15)")
    parser.add_argument("--recipes", nargs="+", default=["preset", "r3gan", "mnist"],
                        choices=["preset", "r3gan", "mnist"])
    parser.add_argument("--num", type=int, default=10_000,
                        help="generated samples per score (the protocol's 26000 costs more)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default="/tmp/kgan_stacked/tfds",
                        help="TFDS data dir holding stacked_mnist (built there when absent)")
    parser.add_argument("--runs-dir", default="/tmp/kgan_stacked/runs")
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args(argv)
    budgets = [float(m) for m in args.minutes_list.split(",")]
    print(f"CPU: {machine.cpu()}; load average {os.getloadavg()}", flush=True)
    data_dir = prepared_data_dir(args.data_dir)
    configs = recipes(data_dir, args.seed)
    runs = []
    for label in args.recipes:
        runs.append(run_recipe(label, configs[label], budgets, args.num, args.runs_dir))
        runs[-1]["load_after"] = os.getloadavg()
    print()
    print(markdown(runs, args.num))
    out = args.out or RESULTS / f"stacked-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "command": " ".join(["python", "benchmarks/bench_stacked.py", *(argv or sys.argv[1:])]),
        "cpu": machine.cpu(), "num": args.num, "budgets": budgets, "anchors": ANCHORS,
        "runs": runs,
    }, indent=2, default=str))
    print(f"wrote {out}")
    return runs


if __name__ == "__main__":
    main()
