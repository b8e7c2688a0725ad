"""Engine speed: float32 vs mixed_bfloat16 vs mixed_float16 vs XLA, as ratios in one run.

Each variant trains the same DCGAN on the same in-memory batch stream; variants are measured
in interleaved rounds (A B C A B C ...) so a busy machine slows them alike, and the median
steps/s of each is reported relative to float32 without XLA (the default).

    python benchmarks/bench_engine.py --size 8 --channels 1 --width 32 --batch 64
    python benchmarks/bench_engine.py --size 32 --channels 3 --width 32 --batch 64
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

import kgan

VARIANTS = {
    "float32": ("float32", False),
    "float32+xla": ("float32", True),
    "mixed_bfloat16": ("mixed_bfloat16", False),
    "mixed_float16": ("mixed_float16", False),
}


def build(policy: str, jit: bool, args) -> tuple[kgan.GAN, tf.data.Dataset]:
    keras.config.set_dtype_policy(policy)
    keras.utils.set_random_seed(0)
    shape = (args.size, args.size, args.channels)
    g, d = kgan.architectures.get("dcgan", width=args.width).build(shape, args.latent)
    gan = kgan.GAN(g, d)
    gan.compile(keras.optimizers.Adam(2e-4, 0.5), keras.optimizers.Adam(2e-4, 0.5), loss="hinge",
                jit_compile=jit)
    x = np.random.default_rng(0).uniform(-1, 1, (args.batch * 8, *shape)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices(x).batch(args.batch, drop_remainder=True).repeat()
    return gan, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--latent", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=60, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()

    models = {}
    for name in args.variants.split(","):
        policy, jit = VARIANTS[name]
        gan, data = build(policy, jit, args)
        start = time.perf_counter()
        gan.fit(data, epochs=1, steps_per_epoch=5, verbose=0)  # trace (and XLA-compile)
        models[name] = (gan, data, policy, time.perf_counter() - start)
    rates: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, (gan, data, policy, _) in models.items():
            keras.config.set_dtype_policy(policy)
            start = time.perf_counter()
            gan.fit(data, epochs=1, steps_per_epoch=args.steps, verbose=0)
            rates[name].append(args.steps / (time.perf_counter() - start))
    keras.config.set_dtype_policy("float32")
    base = statistics.median(rates["float32"]) if "float32" in rates else None
    result = {}
    print(f"| variant | steps/s | vs float32 | first-call s |\n|---|---|---|---|")
    for name, values in rates.items():
        median = statistics.median(values)
        ratio = median / base if base else float("nan")
        result[name] = {"steps_per_s": median, "ratio": ratio, "warmup_s": models[name][3]}
        print(f"| {name} | {median:.1f} | {ratio:.2f} | {models[name][3]:.1f} |")
    print(json.dumps({"args": vars(args), "result": result}))


if __name__ == "__main__":
    main()
