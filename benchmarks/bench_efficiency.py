"""Hardware efficiency (issue 13, B2): the FLOP/s a preset's training reaches, as a fraction of
the matrix-multiply rate TensorFlow reaches on the same machine in the same run.

FLOPs are counted from the traced training step itself: every Conv2D, Conv2DBackpropInput,
Conv2DBackpropFilter, MatMul and BatchMatMulV2 of the graph (both networks' forward passes,
their gradients, the regulariser's double backward), 2 FLOPs per multiply-add, from the ops'
static shapes. Element-wise ops are left out (they are memory-bound, not arithmetic), so the
fraction is of matrix arithmetic. Steps/s comes from `kgan.autotune.time_candidates`, the same
timing `--precision auto` uses (Keras' compiled train function, interleaved rounds). The
matmul rate is the median of square matmuls of `--matmul-size` timed before and after.

    python benchmarks/bench_efficiency.py --data-dir DIR           # digits and mnist
    python benchmarks/bench_efficiency.py --presets digits --matmul-size 512
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu  # noqa: E402

_MATRIX_OPS = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "MatMul", "BatchMatMulV2")


def _dims(tensor) -> list[int]:
    return [int(d) for d in tensor.shape]


def op_flops(op) -> int:
    """FLOPs (2 per multiply-add) of one matrix op of a graph, from its static shapes."""
    kind = op.type
    if kind == "Conv2D":  # output elements x kernel window x input channels
        kernel = _dims(op.inputs[1])
        return 2 * int(np.prod(_dims(op.outputs[0]))) * kernel[0] * kernel[1] * kernel[2]
    if kind in ("Conv2DBackpropInput", "Conv2DBackpropFilter"):  # as many as the forward conv
        kernel = _dims(op.inputs[1] if kind == "Conv2DBackpropInput" else op.outputs[0])
        return 2 * int(np.prod(_dims(op.inputs[2]))) * kernel[0] * kernel[1] * kernel[2]
    if kind == "MatMul":
        a = _dims(op.inputs[0])
        inner = a[0] if op.get_attr("transpose_a") else a[1]
        return 2 * int(np.prod(_dims(op.outputs[0]))) * inner
    if kind == "BatchMatMulV2":
        a = _dims(op.inputs[0])
        inner = a[-2] if op.get_attr("adj_x") else a[-1]
        return 2 * int(np.prod(_dims(op.outputs[0]))) * inner
    return 0


def step_flops(gan, batch) -> dict[str, int]:
    """Matrix FLOPs of one `train_step` on `batch`, by op type (the graph `fit` runs)."""
    import tensorflow as tf

    graph = tf.function(gan.train_step).get_concrete_function(batch).graph
    totals: dict[str, int] = {}
    for op in graph.get_operations():
        if op.type in _MATRIX_OPS:
            totals[op.type] = totals.get(op.type, 0) + op_flops(op)
    return totals


def flops_per_step(config, shape, classes: int | None) -> int:
    """Matrix FLOPs of one training step of `config`'s GAN on a random batch of `shape` (the
    count does not depend on precision or XLA: they change how, not what, is multiplied)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    gan = config.replace(precision="float32", jit_compile=False).build_gan(shape, classes, 1)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.uniform(-1, 1, (config.batch_size, *shape)), tf.float32)
    batch = (x, tf.constant(rng.integers(0, classes, config.batch_size))) if classes else x
    return sum(step_flops(gan, batch).values())


def matmul_rate(size: int, dtype: str, rounds: int = 5, repeats: int = 20) -> float:
    """Median FLOP/s of `repeats` chained size x size matmuls in one compiled call."""
    import tensorflow as tf

    a = tf.random.stateless_uniform([size, size], [0, 1], dtype=tf.float32)
    a = tf.cast(a / size**0.5, dtype)

    @tf.function
    def chain(x):
        for _ in range(repeats):
            x = tf.matmul(x, a)
        return x

    chain(a).numpy()
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        chain(a).numpy()
        rates.append(2 * size**3 * repeats / (time.perf_counter() - start))
    return statistics.median(rates)


def _compute_dtype(precision: str) -> str:
    """The dtype a precision policy multiplies in: mixed_bfloat16 -> bfloat16."""
    return precision.removeprefix("mixed_")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", default="digits,mnist")
    parser.add_argument("--data-dir", default=None, help="TFDS folder holding a prepared mnist")
    parser.add_argument("--matmul-size", type=int, default=1024)
    args = parser.parse_args()

    from kgan import autotune, data, presets

    precisions = autotune.precisions_for_device()  # float32, and mixed types where native
    before = {p: matmul_rate(args.matmul_size, _compute_dtype(p)) for p in precisions}
    rows = []
    for name in args.presets.split(","):
        config = presets.get(name)
        info = data.info(config.dataset, image_size=config.image_size, data_dir=args.data_dir)
        classes = info.num_classes if config.conditional else None
        flops = flops_per_step(config, info.shape, classes)
        options = [autotune.Candidate(p, jit) for p in precisions for jit in (False, True)]
        speeds = autotune.time_candidates(config, info.shape, classes, options)
        for option, steps_per_s in speeds.items():
            rows.append({"preset": name, "variant": option.label, "precision": option.precision,
                         "steps_per_s": steps_per_s, "flops_per_step": flops,
                         "flops_per_image": flops / config.batch_size,
                         "achieved_flops": flops * steps_per_s})
    after = {p: matmul_rate(args.matmul_size, _compute_dtype(p)) for p in precisions}
    peak = {p: statistics.median([before[p], after[p]]) for p in precisions}
    for row in rows:
        row["vs_float32_matmul"] = row["achieved_flops"] / peak["float32"]
        row["vs_own_precision_matmul"] = row["achieved_flops"] / peak[row["precision"]]

    facts = cpu()
    print(f"cpu: {facts['cpu_model']} ({facts['cores']} cores); flags: {facts['cpu_flags']}")
    for p in precisions:
        print(f"matmul {args.matmul_size}x{args.matmul_size} {p}: {peak[p] / 1e9:.1f} GFLOP/s "
              f"(before {before[p] / 1e9:.1f}, after {after[p] / 1e9:.1f})")
    print(f"{'preset':8} {'variant':24} {'MFLOP/img':>9} {'steps/s':>8} {'GFLOP/s':>8} "
          f"{'vs f32 mm':>9} {'vs own mm':>9}")
    for r in rows:
        print(f"{r['preset']:8} {r['variant']:24} {r['flops_per_image'] / 1e6:9.2f} "
              f"{r['steps_per_s']:8.2f} {r['achieved_flops'] / 1e9:8.2f} "
              f"{r['vs_float32_matmul']:9.2f} {r['vs_own_precision_matmul']:9.2f}")
    print(json.dumps({**facts, "matmul_size": args.matmul_size, "matmul_flops": peak, "rows": rows}))


if __name__ == "__main__":
    main()
