"""Quality floors: the digits and mnist presets against the real-vs-real value of each metric.

(a) `digits`: trains the README's main command, `kgan train --preset digits`, into a temporary
    runs folder (or measures `--run DIR`), then compares FID in the `digits` extractor's space:
    generated samples vs the 1,500 training images, beside real-vs-real (the 297 test images vs
    the same training images). FID is biased upwards at small sample sizes, so the floor
    compares equal counts: 297 generated samples (mean over 5 latent seeds). The floor: within
    3x of real-vs-real. Also printed: 1,500 and 5,000 generated samples, and the values the
    metric callback recorded during training.
(b) `mnist`: trains the `mnist` preset for at most `--minutes` minutes of training time (the
    run stops after the last epoch that fits), then classifies 10,000 generated samples with
    kgan's MNIST classifier: every class must get at least 5%. FID in that classifier's space,
    generated (10,000) vs the first 10,000 training images, beside real-vs-real (the 10,000
    test images vs the same); images go through the run's 32x32 size and back to 28x28 on
    both sides, as `kgan.evaluation.Evaluator` does.

Usage:
    python benchmarks/bench_quality.py digits                    # ~3-5 min on 2 cores
    python benchmarks/bench_quality.py digits --run saved_models/digits
    python benchmarks/bench_quality.py mnist --data-dir DIR      # MNIST prepared in DIR
    python benchmarks/bench_quality.py mnist --data-dir DIR --minutes 15

Prepare MNIST offline with `kgan data prepare mnist --from ../shared/data/mnist --data-dir DIR`.
Results (with the machine's load average) are printed and written to
`benchmarks/results/quality-<which>-<timestamp>.json`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
DIGITS_FLOOR = 3.0
MNIST_MIN_SHARE = 0.05


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def samples_of(run, num: int, seed: int) -> np.ndarray:
    from kgan import evaluation

    meta = run.metadata()
    classes = meta.get("num_classes") if meta.get("conditional") else None
    generator = run.load_generator()
    return np.concatenate(list(evaluation.generate_chunks(generator, num, seed, classes)))


def bench_digits(args) -> dict:
    from kgan import data, evaluation, features, metrics, runs

    started = time.time()
    if args.run:
        path = pathlib.Path(args.run)
        run = runs.open_run(path.parent, path.name)
        command = None
    else:
        root = pathlib.Path(tempfile.mkdtemp(prefix="kgan-quality-"))
        command = ["kgan", "train", "--preset", "digits", "--name", "digits",
                   "--runs-dir", str(root), "--quiet", "--no-export"]
        print("$", " ".join(command), flush=True)
        kgan = pathlib.Path(sys.executable).with_name("kgan")
        subprocess.run([str(kgan), *command[1:]], check=True)
        run = runs.open_run(root, "digits")
    wall = time.time() - started
    meta = run.metadata()
    extractor = features.get("digits")
    train = extractor.features(data.load_arrays("digits", split="train", data_dir=args.data_dir))
    test = extractor.features(data.load_arrays("digits", split="test", data_dir=args.data_dir))
    real = metrics.fid(train, test)["fid"]
    small = [
        metrics.fid(train, extractor.features(samples_of(run, len(test), seed)))["fid"]
        for seed in range(5)
    ]
    larger = {
        n: metrics.fid(train, extractor.features(samples_of(run, n, evaluation.EVAL_SEED)))["fid"]
        for n in (1500, 5000)
    }
    during = {r["epoch"]: round(r["value"], 3) for r in run.metric_records() if r["metric"] == "fid"}
    result = {
        "benchmark": "digits",
        "command": " ".join(command) if command else f"(existing run {args.run})",
        "epochs": meta.get("epochs_done"),
        "training_time_s": meta.get("training_time_s"),
        "wall_time_s": round(wall, 1),
        "real_vs_real_fid": round(real, 3),
        "num_real_test": len(test),
        "num_train": len(train),
        "fid_297_mean": round(float(np.mean(small)), 3),
        "fid_297_by_seed": [round(v, 3) for v in small],
        "fid_1500": round(larger[1500], 3),
        "fid_5000": round(larger[5000], 3),
        "fid_during_training_1000": during,
        "ratio": round(float(np.mean(small)) / real, 2),
        "floor": DIGITS_FLOOR,
        "passed": bool(np.mean(small) <= DIGITS_FLOOR * real),
        "memorisation": (meta.get("metrics") or {}).get("memorisation"),
    }
    print(f"digits: FID(generated 297, mean of 5 seeds) = {result['fid_297_mean']} vs real-vs-real "
          f"(test 297 vs train) = {result['real_vs_real_fid']}: ratio {result['ratio']} "
          f"(floor {DIGITS_FLOOR}x) -> {'PASS' if result['passed'] else 'FAIL'}")
    print(f"        FID 1,500 = {result['fid_1500']}, 5,000 = {result['fid_5000']}; training "
          f"{result['training_time_s']} s over {result['epochs']} epochs")
    return result


class TimeBudget(keras.callbacks.Callback):
    """Stops training after the last epoch that fits in `seconds` of training time, or in the
    middle of an epoch when the budget runs out there (an epoch can be longer than it)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = float(seconds)

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self.longest = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.epoch_start)
        if now - self.start + self.longest > self.seconds:
            self.model.stop_training = True


def bench_mnist(args) -> dict:
    from kgan import evaluation, metrics, presets, training

    root = pathlib.Path(args.runs_dir or tempfile.mkdtemp(prefix="kgan-quality-"))
    config = presets.get("mnist").replace(data_dir=args.data_dir)
    if args.epochs:
        config = config.replace(epochs=args.epochs)
    started = time.time()
    load_before = load()
    print(f"training the mnist preset for at most {args.minutes} min into {root} "
          f"(load {load_before})", flush=True)
    run = training.train(config, root, name="mnist", overwrite=True, export=False, verbose=2,
                         callbacks=[TimeBudget(args.minutes * 60)])
    wall = time.time() - started
    meta = run.metadata()
    evaluator = evaluation.Evaluator.for_config(config)
    samples = samples_of(run, args.num, evaluation.EVAL_SEED)
    probs = evaluator.probabilities(samples)
    shares = np.bincount(probs.argmax(1), minlength=10) / len(probs)
    fake = evaluator.features(samples)
    reference = evaluator.reference()
    test = evaluator.features(evaluator.real(evaluator.reference_num, split="test"))
    real = metrics.fid(reference.features, test)["fid"]
    fid = metrics.fid(reference.features, fake)["fid"]
    result = {
        "benchmark": "mnist",
        "budget_minutes": args.minutes,
        "epochs": meta.get("epochs_done"),
        "steps": meta.get("steps_done"),
        "training_time_s": meta.get("training_time_s"),
        "wall_time_s": round(wall, 1),
        "class_shares": [round(float(s), 4) for s in shares],
        "min_class_share": round(float(shares.min()), 4),
        "all_classes": bool(shares.min() >= MNIST_MIN_SHARE),
        "fid": round(fid, 3),
        "real_vs_real_fid": round(real, 3),
        "num_fake": len(fake),
        "num_real_train": len(reference.features),
        "num_real_test": len(test),
        "fid_during_training_1000": {
            r["epoch"]: round(r["value"], 3) for r in run.metric_records() if r["metric"] == "fid"
        },
        "memorisation": (meta.get("metrics") or {}).get("memorisation"),
        "load_before": load_before,
    }
    print(f"mnist: {result['epochs']} epochs in {result['training_time_s']} s; class shares "
          f"{result['class_shares']} (min {result['min_class_share']}, floor {MNIST_MIN_SHARE}) "
          f"-> {'PASS' if result['all_classes'] else 'FAIL'}")
    print(f"       FID (mnist classifier, 10,000 vs 10,000 train) = {result['fid']}, real-vs-real "
          f"(test vs train) = {result['real_vs_real_fid']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=("digits", "mnist"))
    parser.add_argument("--run", help="digits: measure this existing run folder instead")
    parser.add_argument("--data-dir", help="TFDS data dir (mnist must be prepared there)")
    parser.add_argument("--runs-dir", help="mnist: where to train (default: a temporary folder)")
    parser.add_argument("--minutes", type=float, default=15.0, help="mnist training budget")
    parser.add_argument("--epochs", type=int, help="mnist: cap the preset's epochs")
    parser.add_argument("--num", type=int, default=10_000, help="mnist: generated samples")
    args = parser.parse_args()
    started = load()
    result = bench_digits(args) if args.which == "digits" else bench_mnist(args)
    result["load_average_start"] = started
    result["load_average_end"] = load()
    result["cpus"] = os.cpu_count()
    print(f"load average (1, 5, 15 min): start {started}, end {result['load_average_end']} "
          f"on {os.cpu_count()} cores")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"quality-{args.which}-{stamp}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
