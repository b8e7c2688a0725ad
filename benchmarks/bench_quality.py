"""Quality floors of the `digits` and `mnist` presets, over several training seeds, at equal N.

Trains a preset (or a variant of it, `--set field=value`) once per seed through
`kgan.training.train`, the path `kgan train --preset NAME` takes, then measures each run in the
dataset's headline feature space (`kgan.features.default_for`) against the numbers real
held-out data scores under the same protocol, so every ratio has a floor beside it:

| floor (issue 11)          | generated                                   | real-vs-real                  |
| ------------------------- | ------------------------------------------- | ----------------------------- |
| FID <= 1.5x the floor     | FID of N generated vs the training split    | FID of the N test images      |
|                           | (mean over 5 latent seeds)                  | vs the same training split    |
| spread >= 0.95x real      | within-class spread ratio, generated rows   | the same ratio of the test    |
|                           | of each class vs training rows of the class | images (`class_diversity`)    |
| recall >= 0.9x real       | improved recall (k = 3) at N                | recall of the N test images   |
| every class 8-12%         | the classifier's top class of `--num` samples |                             |
| time                      | training time of the run (digits <= 5 min, mnist <= 15 min) |               |

N is the test split's size for digits (297) and `--n` for mnist (default 5,000). Conditional
presets draw classes in turn, as `kgan evaluate` does; within-class numbers group the
generated rows by the class they were drawn for.

Usage:
    python benchmarks/bench_quality.py digits                      # 3 seeds, ~3 min each
    python benchmarks/bench_quality.py digits --seeds 0 --set epochs=120 --set ema=0.999
    python benchmarks/bench_quality.py digits --run saved_models/digits   # measure one run
    python benchmarks/bench_quality.py mnist --data-dir DIR        # MNIST prepared in DIR

Prepare MNIST offline with `kgan data prepare mnist --from ../shared/data/mnist --data-dir DIR`.
Results (with the machine's CPU and load average) are printed and written to
`benchmarks/results/quality-<which>-<timestamp>.json`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
#: The floors of issue 11, item 5: (name, how the measured value compares, limit).
FLOORS = {
    "fid_ratio": ("<=", 1.5),
    "spread_vs_real": (">=", 0.95),
    "recall_vs_real": (">=", 0.9),
    "min_share": (">=", 0.08),
    "max_share": ("<=", 0.12),
}
MINUTES = {"digits": 5.0, "mnist": 15.0}
LATENT_SEEDS = 5


def cpu() -> str:
    """The processor's name and its vector extensions (results depend on them)."""
    from kgan.machine import describe

    return describe()


def parse_sets(pairs: list[str]) -> dict:
    """`field=value` pairs as RunConfig overrides (values parsed as JSON when they parse)."""
    found = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            found[key] = json.loads(value)
        except json.JSONDecodeError:
            found[key] = value
    return found


def draw(run, num: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """`num` samples of a run's sampling generator and the classes they were drawn for."""
    from kgan import sampling

    meta = run.metadata()
    classes = meta.get("num_classes") if meta.get("conditional") else None
    samples = sampling.draw(run.load_generator(), num, seed, num_classes=classes)
    return samples, sampling.labels_for(num, classes)


def measure(run, config, n: int | None, num: int) -> dict:
    """The floors' numbers for one run, each beside its real-vs-real value."""
    from kgan import data, evaluation, metrics

    evaluator = evaluation.Evaluator.for_config(config)
    reference = evaluator.reference().features
    _, train_y = data.load_arrays(
        config.dataset, split=config.split, image_size=config.image_size,
        channels=config.channels, labels=True, limit=evaluator.reference_num,
        data_dir=config.data_dir,
    )
    test_x, test_y = data.load_arrays(
        config.dataset, split="test", image_size=config.image_size, channels=config.channels,
        labels=True, data_dir=config.data_dir,
    )
    if n is not None and n < len(test_x):
        # a fixed random subset: MNIST's test file holds two groups of writers in halves, so
        # its first n images would be a shifted floor
        keep = np.sort(np.random.default_rng(0).choice(len(test_x), n, replace=False))
        test_x, test_y = test_x[keep], test_y[keep]
    n = len(test_x)
    test = evaluator.features(test_x)
    floor_fid = metrics.fid(reference, test)["fid"]
    # Recall compares equal N on both sides: n training rows (a fixed subset) vs n test rows.
    rows = np.sort(np.random.default_rng(0).choice(len(reference), n, replace=False))
    floor_recall = metrics.precision_recall(reference[rows], test)["recall"]
    floor_spread = metrics.class_diversity(reference, train_y, test, test_y)["spread_ratio"]

    fids, recalls = [], []
    for seed in range(LATENT_SEEDS):
        x, _ = draw(run, n, evaluation.EVAL_SEED + seed)
        fake = evaluator.features(x)
        fids.append(metrics.fid(reference, fake)["fid"])
        recalls.append(metrics.precision_recall(reference[rows], fake)["recall"])
    x, labels = draw(run, num, evaluation.EVAL_SEED)
    fake = evaluator.features(x)
    if labels is None:
        labels = evaluator.probabilities(x).argmax(1)
    diversity = metrics.class_diversity(reference, train_y, fake, labels)
    balance = metrics.class_balance(evaluator.probabilities(x))
    meta = run.metadata()
    fid = float(np.mean(fids))
    return {
        "feature_space": evaluator.feature_space,
        "n": n,
        "num": num,
        "fid": round(fid, 4),
        "fid_by_latent_seed": [round(v, 4) for v in fids],
        "fid_floor": round(floor_fid, 4),
        "fid_ratio": round(fid / floor_fid, 3),
        "spread_ratio": round(diversity["spread_ratio"], 3),
        "spread_ratio_floor": round(floor_spread, 3),
        "spread_vs_real": round(diversity["spread_ratio"] / floor_spread, 3),
        "min_spread_ratio": round(diversity["min_spread_ratio"], 3),
        "class_recall": round(diversity["class_recall"], 3),
        "recall": round(float(np.mean(recalls)), 3),
        "recall_floor": round(floor_recall, 3),
        "recall_vs_real": round(float(np.mean(recalls)) / floor_recall, 3),
        "min_share": round(balance["min_share"], 4),
        "max_share": round(balance["max_share"], 4),
        "share_by_class": [round(v, 4) for v in balance["share_by_class"]],
        "epochs": meta.get("epochs_done"),
        "steps": meta.get("steps_done"),
        "training_time_s": meta.get("training_time_s"),
        "memorisation": ((meta.get("metrics") or {}).get("memorisation") or {}).get("value"),
    }


def verdict(result: dict, minutes: float) -> dict[str, bool]:
    """Which floors a result meets (time included)."""
    checks = {
        key: (result[key] <= limit if op == "<=" else result[key] >= limit)
        for key, (op, limit) in FLOORS.items()
    }
    checks["time"] = (result["training_time_s"] or 0) <= minutes * 60
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=("digits", "mnist"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a preset field (repeatable), e.g. --set epochs=120")
    parser.add_argument("--run", help="measure this existing run folder instead of training")
    parser.add_argument("--data-dir", help="TFDS data dir (mnist must be prepared there)")
    parser.add_argument("--runs-dir", help="where to train (default: a temporary folder)")
    parser.add_argument("--n", type=int, help="equal N of generated and held-out images "
                        "(default: the whole test split for digits, 5,000 for mnist)")
    parser.add_argument("--num", type=int, default=2000, help="samples for spread and shares")
    parser.add_argument("--label", default="", help="a name for this variant in the results")
    args = parser.parse_args()

    from kgan import presets, runs, training
    from kgan.config import RunConfig

    overrides = parse_sets(args.set)
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    n = args.n or (None if args.which == "digits" else 5000)
    load_start = [round(x, 2) for x in os.getloadavg()]
    print(f"cpu: {cpu()}; {os.cpu_count()} cores; load {load_start}", flush=True)
    results = []
    if args.run:
        path = pathlib.Path(args.run)
        run = runs.open_run(path.parent, path.name)
        config = RunConfig.from_dict(run.config()["run"])
        results.append({"seed": config.seed, **measure(run, config, n, args.num)})
    else:
        root = pathlib.Path(args.runs_dir or tempfile.mkdtemp(prefix="kgan-quality-"))
        for seed in args.seeds:
            config = presets.get(args.which).replace(**overrides, seed=seed)
            started = time.time()
            run = training.train(config, root, name=f"{args.which}-{seed}", overwrite=True,
                                 export=False, verbose=0)
            wall = time.time() - started
            results.append({"seed": seed, "wall_time_s": round(wall, 1),
                            **measure(run, config, n, args.num)})
            print(json.dumps(results[-1]), flush=True)
    minutes = MINUTES[args.which]
    keys = ["fid_ratio", "spread_vs_real", "recall_vs_real", "min_share", "max_share"]
    print(f"\n{args.which} {args.label} {overrides}  floors: "
          + ", ".join(f"{k} {op} {v}" for k, (op, v) in FLOORS.items()) + f", time <= {minutes} min")
    print("seed  " + "  ".join(f"{k:>14}" for k in [*keys, "train_s"]) + "  pass")
    for r in results:
        ok = verdict(r, minutes)
        print(f"{r['seed']:>4}  " + "  ".join(f"{r[k]:>14}" for k in keys)
              + f"  {r['training_time_s'] or 0:>14.0f}  {'all' if all(ok.values()) else ','.join(k for k, v in ok.items() if not v) + ' fail'}")
    means = {k: round(float(np.mean([r[k] for r in results])), 3) for k in keys}
    print("mean  " + "  ".join(f"{means[k]:>14}" for k in keys))
    out = {
        "benchmark": f"quality-{args.which}",
        "label": args.label,
        "overrides": overrides,
        "floors": FLOORS,
        "minutes": minutes,
        "cpu": cpu(),
        "load_average_start": load_start,
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "results": results,
        "means": means,
        "passed": all(all(verdict(r, minutes).values()) for r in results),
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"quality-{args.which}-{stamp}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
