"""Several devices or workers (issue 16): step time of `kgan train --strategy mirrored` over two
logical CPUs and of `--strategy multiworker` with one and with two localhost workers, as ratios
against `--strategy one`, measured side by side in one run; and the time of the all-reduces alone.

Every variant is the same `kgan train` command (the digits preset's conditional DCGAN with R1,
float32 without XLA, since workers refuse `auto`; the same global batch, seed and data), run in
interleaved rounds (one, mirrored, multiworker1, multiworker, one, ...) so a busy machine slows
them alike; both workers of a round must end with the same weights fingerprint.
A step's time is read from the run's `history.jsonl` (`epoch_time` / steps) over the epochs
after `--warmup` epochs, so process start, data preparation and tracing stay out of it.

The all-reduce is timed on its own, in a fresh process under the same strategy: per step, one
`ReplicaContext.all_reduce(SUM, ...)` over tensors shaped like the discriminator's gradients
and one like the generator's (what the two optimizers' updates reduce when `n_critic` is 1),
minus the same replica function without the reductions; and the latency of one small
collective (a chain of ten 64-float all-reduces, each waiting for the last, as a synchronized
batch norm's statistics do layer after layer), which a step pays many times over.

    python benchmarks/bench_distribute.py                # 3 rounds, 6 epochs of 40 steps (2 warm-up)
    python benchmarks/bench_distribute.py --rounds 5 --steps 60
    python benchmarks/bench_distribute.py --quick        # smoke: 1 round, 3 epochs of 5 steps (~90 s)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
# multiworker1: a cluster of one worker (the strategy's own cost, without a second process).
VARIANTS = ("one", "mirrored", "multiworker1", "multiworker")
PRESET = "digits"

# Runs in its own process (one per worker under multiworker): the gradient all-reduce alone.
_ALLREDUCE = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np, tensorflow as tf
    from kgan import distribute

    kind, shapes_file, calls, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    strategy = distribute.make(kind, "cpu:0,cpu:1" if kind == "mirrored" else None)
    shapes = json.loads(open(shapes_file).read())
    CHAIN = 10

    def gradients():
        # Fresh per-replica values each call, as a step's gradients are.
        seed = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.float32)
        return [[tf.fill(s, seed + 1.0) for s in shapes[net]] for net in ("d", "g")]

    def touch(groups):
        # One number that depends on every tensor, so nothing is pruned away.
        return tf.add_n([tf.reshape(t, [-1])[0] for group in groups for t in group])

    def with_reduce():
        ctx = tf.distribute.get_replica_context()
        return touch([ctx.all_reduce(tf.distribute.ReduceOp.SUM, group) for group in gradients()])

    def without_reduce():
        return touch(gradients())

    def timed(fn):
        step = tf.function(lambda: strategy.reduce(tf.distribute.ReduceOp.SUM,
                                                   strategy.run(fn), axis=None))
        for _ in range(warmup):
            step().numpy()
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            step().numpy()
            times.append(time.perf_counter() - start)
        return times

    def chain():
        # CHAIN small all-reduces, each waiting for the one before (as a synchronized batch
        # norm's statistics do, layer after layer): the latency of one collective.
        ctx = tf.distribute.get_replica_context()
        x = tf.ones([64])
        for _ in range(CHAIN):
            x = ctx.all_reduce(tf.distribute.ReduceOp.SUM, x) * 0.5
        return x[0]

    def no_chain():
        x = tf.ones([64])
        for _ in range(CHAIN):
            x = x * 0.5
        return x[0]

    # Interleave the variants so load changes reach each alike.
    found = {"with": [], "without": [], "chain": [], "no_chain": []}
    for _ in range(5):
        for name, fn in (("with", with_reduce), ("without", without_reduce), ("chain", chain),
                         ("no_chain", no_chain)):
            found[name] += timed(fn)
    print("RESULT " + json.dumps({f"{k}_ms": 1e3 * float(np.median(v)) for k, v in found.items()}))
    """
)


def _env(**extra: str) -> dict:
    """The environment of a child: this checkout's kgan first, TensorFlow's C++ logs quiet."""
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**os.environ, "PYTHONPATH": path, "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _tf_configs(scratch: Path, workers: int = 2) -> list[dict]:
    """Localhost workers' environments: TF_CONFIG and a private TMPDIR each (a worker that
    is not the chief keeps its checkpoints in a temporary folder)."""
    cluster = {"worker": [f"localhost:{p}" for p in _free_ports(workers)]}
    envs = []
    for index in range(workers):
        tmp = scratch / f"tmp{index}"
        tmp.mkdir(parents=True, exist_ok=True)
        envs.append(_env(TF_CONFIG=json.dumps({"cluster": cluster,
                                               "task": {"type": "worker", "index": index}}),
                         TMPDIR=str(tmp)))
    return envs


def _run_all(commands: list[tuple[list[str], dict]], timeout: float) -> list[str]:
    """Starts every command at once (the workers of one job) and returns their stdouts."""
    processes = [subprocess.Popen(c, env=e, text=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for c, e in commands]
    outs = []
    try:
        for p in processes:
            out, err = p.communicate(timeout=timeout)
            if p.returncode != 0:
                raise SystemExit(f"{' '.join(commands[0][0][-12:])} failed:\n{err[-3000:]}")
            outs.append(out)
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    return outs


def train_args(epochs: int, steps: int, batch: int, seed: int) -> list[str]:
    """The `kgan train` flags every variant shares."""
    return ["--preset", PRESET, "--precision", "float32", "--jit-compile", "off",
            "--batch-size", str(batch), "--epochs", str(epochs), "--steps-per-epoch", str(steps),
            "--eval-every", "0", "--seed", str(seed), "--no-export", "--quiet"]


def time_training(variant: str, runs_dir: Path, name: str, shared: list[str], warmup: int,
                  timeout: float) -> dict:
    """Trains one variant and returns its ms per step over the epochs after `warmup`."""
    base = [sys.executable, "-m", "kgan.cli", "train", "--runs-dir", str(runs_dir),
            "--name", name, *shared, "--strategy", variant]
    if variant == "one":
        commands = [(base, _env())]
    elif variant == "mirrored":
        commands = [([*base, "--devices", "cpu:0,cpu:1"], _env())]
    else:
        base[base.index(variant)] = "multiworker"
        workers = 1 if variant == "multiworker1" else 2
        commands = [(base, env) for env in _tf_configs(runs_dir / f".{name}", workers)]
    outs = _run_all(commands, timeout)
    if variant == "multiworker":
        fingerprints = {o.split("weights fingerprint ")[1].split()[0] for o in outs}
        if len(fingerprints) != 1:  # the workers must end with the same weights
            raise SystemExit(f"multiworker: the workers' weights differ: {fingerprints}")
    history = [json.loads(line) for line in (runs_dir / name / "history.jsonl").read_text().splitlines()]
    timed = [r for r in history if r["epoch"] > warmup]
    steps = timed[-1]["step"] - (history[warmup - 1]["step"] if warmup else 0)
    seconds = sum(r["epoch_time"] for r in timed)
    return {"ms_per_step": 1e3 * seconds / steps, "steps": steps, "seconds": seconds,
            "final": {k: history[-1][k] for k in ("d_loss", "g_loss")}}


def gradient_shapes() -> dict:
    """The shapes of the preset's discriminator and generator gradients (its trainable weights)."""
    import keras

    from kgan import data, presets

    config = presets.get(PRESET).replace(precision="float32", jit_compile=False)
    info = data.info(config.dataset, image_size=config.image_size)
    keras.utils.set_random_seed(0)
    gan = config.build_gan(info.shape, info.num_classes)
    shapes = {"d": [list(v.shape) for v in gan.discriminator.trainable_variables],
              "g": [list(v.shape) for v in gan.generator.trainable_variables]}
    shapes["floats"] = {k: sum(int(_prod(s)) for s in shapes[k]) for k in ("d", "g")}
    # Synchronized batch norm all-reduces its statistics in every training forward pass.
    shapes["batch_norms"] = {
        k: sum(isinstance(layer, keras.layers.BatchNormalization) for layer in net._flatten_layers())
        for k, net in (("d", gan.discriminator), ("g", gan.generator))
    }
    return shapes


def _prod(shape: list[int]) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


def time_allreduce(variant: str, shapes_file: Path, scratch: Path, calls: int, warmup: int,
                   timeout: float) -> dict:
    """ms per step of the two gradient all-reduces under `variant` (chief's figures)."""
    command = [sys.executable, "-c", _ALLREDUCE, variant, str(shapes_file), str(calls), str(warmup)]
    envs = _tf_configs(scratch) if variant == "multiworker" else [_env()]
    outs = _run_all([(command, env) for env in envs], timeout)
    line = next(x for x in outs[0].splitlines() if x.startswith("RESULT "))
    found = json.loads(line[len("RESULT "):])
    return {**found, "allreduce_ms": max(found["with_ms"] - found["without_ms"], 0.0),
            "collective_latency_ms": max(found["chain_ms"] - found["no_chain_ms"], 0.0) / 10}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median over them)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--steps", type=int, default=40, help="steps per epoch")
    parser.add_argument("--warmup", type=int, default=2, help="first epochs left out of the timing")
    parser.add_argument("--batch", type=int, default=64, help="global batch (each of 2 replicas: half)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calls", type=int, default=40, help="timed all-reduce steps per block (x5)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round, 3 epochs of 5 steps")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON file (default: benchmarks/results/distribute-<time>.json)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before this process imports TensorFlow
    if args.quick:
        args.rounds, args.epochs, args.steps, args.warmup, args.calls = 1, 3, 5, 1, 5
    if args.epochs <= args.warmup:
        parser.error("--epochs must exceed --warmup")

    machine = cpu()
    print(f"cpu: {machine['cpu_model']} ({machine['cores']} cores); flags: {machine['cpu_flags']}")
    result = {**machine, "load_average_before": os.getloadavg(), "preset": PRESET,
              "batch": args.batch, "epochs": args.epochs, "steps_per_epoch": args.steps,
              "warmup_epochs": args.warmup, "seed": args.seed, "rounds": []}
    shared = train_args(args.epochs, args.steps, args.batch, args.seed)
    timeout = 900.0
    with tempfile.TemporaryDirectory(prefix="bench-distribute-") as tmp:
        scratch = Path(tmp)
        for r in range(args.rounds):
            row = {}
            for variant in VARIANTS:
                row[variant] = time_training(variant, scratch / "runs", f"{variant}-{r}", shared,
                                             args.warmup, timeout)
                print(f"round {r + 1}/{args.rounds} {variant:12} "
                      f"{row[variant]['ms_per_step']:7.1f} ms/step", flush=True)
            result["rounds"].append(row)
        shapes = gradient_shapes()
        (scratch / "shapes.json").write_text(json.dumps(shapes))
        result["gradient_floats"], result["batch_norms"] = shapes["floats"], shapes["batch_norms"]
        result["allreduce"] = {
            variant: time_allreduce(variant, scratch / "shapes.json", scratch / f"ar-{variant}",
                                    args.calls, 3, timeout)
            for variant in ("mirrored", "multiworker")
        }
    result["load_average_after"] = os.getloadavg()

    summary = {}
    for variant in VARIANTS:
        ms = [row[variant]["ms_per_step"] for row in result["rounds"]]
        ratios = [row["one"]["ms_per_step"] / row[variant]["ms_per_step"] for row in result["rounds"]]
        summary[variant] = {"ms_per_step": statistics.median(ms),
                            "images_per_s": 1e3 * args.batch / statistics.median(ms),
                            "throughput_vs_one": statistics.median(ratios),
                            "ratio_range": [min(ratios), max(ratios)]}
        if variant in result["allreduce"]:
            reduce_ms = result["allreduce"][variant]["allreduce_ms"]
            summary[variant]["allreduce_ms"] = reduce_ms
            summary[variant]["allreduce_share"] = reduce_ms / statistics.median(ms)
            summary[variant]["collective_latency_ms"] = result["allreduce"][variant]["collective_latency_ms"]
    result["summary"] = summary

    floats = shapes["floats"]
    print(f"{PRESET} preset, float32, global batch {args.batch}, {args.rounds} rounds of "
          f"{args.epochs - args.warmup} timed epochs x {args.steps} steps; gradients: "
          f"D {floats['d']:,} + G {floats['g']:,} floats; synchronized batch norms: "
          f"D {shapes['batch_norms']['d']}, G {shapes['batch_norms']['g']}")
    print(f"{'strategy':26} {'ms/step':>8} {'images/s':>9} {'vs one':>7} {'range':>12} "
          f"{'all-reduce ms':>14} {'share':>6} {'1 collective ms':>16}")
    labels = {"one": "one (1 device)", "mirrored": "mirrored cpu:0,cpu:1",
              "multiworker1": "multiworker 1 worker", "multiworker": "multiworker 2 x localhost"}
    for variant, row in summary.items():
        lo, hi = row["ratio_range"]
        reduce = (f"{row['allreduce_ms']:14.2f} {100 * row['allreduce_share']:5.1f}% "
                  f"{row['collective_latency_ms']:16.2f}"
                  if "allreduce_ms" in row else f"{'-':>14} {'-':>6} {'-':>16}")
        print(f"{labels[variant]:26} {row['ms_per_step']:8.1f} {row['images_per_s']:9.0f} "
              f"{row['throughput_vs_one']:6.2f}x {lo:5.2f}-{hi:4.2f}x {reduce}")
    print(f"load average before {result['load_average_before'][0]:.2f}, "
          f"after {result['load_average_after'][0]:.2f}")

    now = datetime.datetime.now(datetime.timezone.utc)
    out = args.out or RESULTS / f"distribute-{now:%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
