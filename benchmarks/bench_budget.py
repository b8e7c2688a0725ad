"""B5 quality per CPU-minute: kgan's `mnist` preset against the Keras guide's GAN, each trained
for the same wall-clock budgets on MNIST, scored by FID in kgan's headline feature space at
equal N beside the real-vs-real floor.

The reference is bench_reference.py's `GuideGAN` (the Keras guide "Customizing what happens in
fit()": its 28x28 networks, one discriminator pass over fakes and reals with noisy labels, BCE,
Adam 3e-4, latent 128, batch 64), fed the same MNIST training images rescaled to its [0, 1].
kgan trains `--preset mnist` through `kgan.training.train` (precision and XLA `auto`, timed on
this machine). Each recipe is ONE run: at every budget of --minutes-list (training minutes,
epochs timed begin to end, so scoring is left out) its sampling generator draws --num images
(the preset: classes in turn; the reference: unconditional) that `Evaluator("mnist").measure`
scores with `fid` against the training split, with the FID of as many held-out test images
as the floor. Targets (issue 13): kgan's FID <= 0.1x the reference's at every budget and
<= 3x the floor at 15 minutes.

    python benchmarks/bench_budget.py --data-dir DIR            # 5 and 15 minutes, ~35 min
    python benchmarks/bench_budget.py --minutes-list 1,2 --recipes preset reference  # smoke
    python benchmarks/bench_budget.py --recipes preset preset+reuse   # the preset's variants

MNIST must be prepared in DIR (`kgan data prepare mnist --from ../shared/data/mnist --data-dir
DIR`; the bench does it from $KGAN_SHARED_DATA/mnist when absent). Prints the CPU, a markdown
table and writes `benchmarks/results/budget-<time>.json`.
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
os.environ.setdefault("KGAN_OFFLINE", "1")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kgan.data  # noqa: E402
from kgan import evaluation, presets, training  # noqa: E402
from kgan.callbacks.guards import training_step  # noqa: E402
from kgan.errors import KganError  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import machine  # noqa: E402
from bench_reference import LATENT, reference  # noqa: E402
from budgets import Budgets  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_MNIST = pathlib.Path(os.environ.get("KGAN_SHARED_DATA") or ROOT.parent / "shared" /
                            "data") / "mnist"
#: Steps per epoch: budgets are checked at epoch ends, so an epoch is kept short.
STEPS_PER_EPOCH = 100
BATCH = 64
TARGET_VS_REFERENCE, TARGET_VS_FLOOR = 0.1, 3.0


def prepared_data_dir(data_dir: str) -> str:
    """`data_dir` holding mnist, prepared from the shared MNIST files when absent."""
    try:
        kgan.data.info("mnist", data_dir=data_dir)
    except KganError:
        if not SHARED_MNIST.is_dir():
            raise SystemExit(f"bench_budget: no mnist in {data_dir} and no MNIST files in "
                             f"{SHARED_MNIST} to prepare it from (set KGAN_SHARED_DATA)")
        kgan.data.prepare("mnist", str(SHARED_MNIST), data_dir=data_dir)
    return data_dir


def fid_score(evaluator, samples: np.ndarray) -> dict:
    """FID of `samples` (in [-1, 1]) with the equal-N real floor beside it."""
    result = evaluator.measure(samples, ["fid"])["fid"]
    return {key: result.get(key) for key in (
        "fid", "num_fake", "fid_floor", "fid_floor_num", "fid_at_floor_num", "fid_ratio",
        "extractor")}


def describe(p: dict) -> str:
    return (f"FID {p['fid_at_floor_num']:.2f} at N={p['fid_floor_num']} (real floor "
            f"{p['fid_floor']:.2f}, {p['fid_ratio']:.1f}x)")


def run_preset(label: str, budgets: list[float], num: int, data_dir: str, runs_dir: str,
               seed: int, **changes) -> dict:
    """The mnist preset (with `changes`) as one long run through kgan.training.train."""
    config = presets.get("mnist").replace(
        data_dir=data_dir, seed=seed, minutes=None, epochs=10_000,
        steps_per_epoch=STEPS_PER_EPOCH, eval_every=0, **changes)
    evaluator = evaluation.Evaluator.for_config(config)
    budget = Budgets(budgets, lambda model: fid_score(
        evaluator, model.generate(num, seed=evaluation.EVAL_SEED)), label,
        steps=training_step, describe=describe)
    start = time.perf_counter()
    run = training.train(config, runs_dir, name=label.replace("+", "-"), overwrite=True,
                         export=False, verbose=0, callbacks=[budget])
    chosen = run.run_config()
    return {"recipe": label, "config": chosen.to_dict(), "seconds": time.perf_counter() - start,
            "points": budget.points}


def run_reference(budgets: list[float], num: int, data_dir: str, seed: int) -> dict:
    """The Keras guide's GAN on the same MNIST training images, scored alike."""
    keras.utils.set_random_seed(seed)
    evaluator = evaluation.Evaluator("mnist", data_dir=data_dir)
    stream = kgan.data.load("mnist", batch_size=BATCH, data_dir=data_dir, seed=seed)
    stream = stream.map(lambda x: (x + 1.0) / 2.0).repeat()  # the guide's images are in [0, 1]
    gan = reference(None)

    def score(model) -> dict:
        z = np.random.default_rng(evaluation.EVAL_SEED).normal(size=(num, LATENT))
        images = model.generator.predict(z.astype("float32"), batch_size=256, verbose=0)
        return fid_score(evaluator, 2.0 * images - 1.0)

    budget = Budgets(budgets, score, "reference", steps=lambda m: int(m.g_optimizer.iterations),
                     describe=describe)
    start = time.perf_counter()
    gan.fit(stream, epochs=10_000, steps_per_epoch=STEPS_PER_EPOCH, verbose=0,
            callbacks=[budget])
    return {"recipe": "reference", "config": {"model": "Keras guide GAN", "batch": BATCH,
                                               "latent": LATENT, "adam": 3e-4},
            "seconds": time.perf_counter() - start, "points": budget.points}


RECIPES = {
    "preset": {},
    "preset+reuse": {"reuse_fakes": True},
}


def markdown(runs: list[dict]) -> str:
    budgets = sorted({p["budget_minutes"] for run in runs for p in run["points"]})
    lines = ["| recipe | " + " | ".join(f"{b:g} min: FID (steps)" for b in budgets)
             + " |", "|" + "---|" * (len(budgets) + 1)]
    for run in runs:
        by = {p["budget_minutes"]: p for p in run["points"]}
        lines.append(f"| {run['recipe']} | " + " | ".join(
            f"{by[b]['fid_at_floor_num']:.2f} ({by[b]['fid_ratio']:.1f}x floor; "
            f"{by[b]['steps']} steps)" if b in by else "-" for b in budgets) + " |")
    floor = next((p for run in runs for p in run["points"]), None)
    if floor:
        lines.append(f"| real test images, N={floor['fid_floor_num']} | " + " | ".join(
            f"{floor['fid_floor']:.2f}" for _ in budgets) + " |")
    ref = next((r for r in runs if r["recipe"] == "reference"), None)
    if ref:
        for run in runs:
            if run is ref:
                continue
            by = {p["budget_minutes"]: p for p in ref["points"]}
            ratios = [f"{p['budget_minutes']:g} min {p['fid_at_floor_num'] / by[p['budget_minutes']]['fid_at_floor_num']:.2f}x"
                      for p in run["points"] if p["budget_minutes"] in by]
            lines.append(f"\n{run['recipe']} / reference FID: {', '.join(ratios)} "
                         f"(target <= {TARGET_VS_REFERENCE}x)")
    return "\n".join(lines)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes-list", default="5,15",
                        help="training minutes at which to score each run (default 5,15)")
    parser.add_argument("--recipes", nargs="+", default=["preset", "reference"],
                        choices=[*RECIPES, "reference"])
    parser.add_argument("--num", type=int, default=10_000, help="generated images per score")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default="/tmp/kgan_budget/tfds",
                        help="TFDS data dir holding mnist (prepared there when absent)")
    parser.add_argument("--runs-dir", default="/tmp/kgan_budget/runs")
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args(argv)
    budgets = [float(m) for m in args.minutes_list.split(",")]
    print(f"CPU: {machine.cpu()}; load average {os.getloadavg()}", flush=True)
    data_dir = prepared_data_dir(args.data_dir)
    runs = []
    for label in args.recipes:
        if label == "reference":
            runs.append(run_reference(budgets, args.num, data_dir, args.seed))
        else:
            runs.append(run_preset(label, budgets, args.num, data_dir, args.runs_dir, args.seed,
                                   **RECIPES[label]))
        runs[-1]["load_after"] = os.getloadavg()
    print()
    print(markdown(runs))
    out = args.out or RESULTS / f"budget-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "command": " ".join(["python", "benchmarks/bench_budget.py", *(argv or sys.argv[1:])]),
        "cpu": machine.cpu(), "num": args.num, "budgets": budgets, "runs": runs,
    }
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {out}")
    print(json.dumps(report, default=str))  # the last line: what benchmarks/suite.py reads
    return runs


if __name__ == "__main__":
    main()
