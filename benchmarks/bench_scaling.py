"""Scaling (issue 13, B4): training time per image against the batch size (16 ... 512) and the
image size (8 ... 64 px), with the matrix FLOPs per image beside it, so the cost that stops
growing linearly shows where the time is not arithmetic.

The model is the `digits` preset's recipe (conditional DCGAN, width 32, R1, EMA) at float32
without XLA, built for each image size by the architecture's own rule; timing is
`kgan.autotune.time_candidates` (Keras' compiled train function, interleaved rounds), FLOPs are
counted from the traced step (`bench_efficiency.flops_per_step`).

    python benchmarks/bench_scaling.py
    python benchmarks/bench_scaling.py --batches 16,64,256 --sizes 8,32
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_efficiency import flops_per_step  # noqa: E402
from machine import cpu  # noqa: E402


def measure(config, shape, classes: int) -> dict:
    """ms per image and matrix MFLOP per image of one configuration."""
    from kgan import autotune

    option = autotune.Candidate("float32", False)
    steps_per_s = autotune.time_candidates(config, shape, classes, [option])[option]
    flops = flops_per_step(config, shape, classes)
    return {"ms_per_image": 1e3 / (steps_per_s * config.batch_size),
            "mflop_per_image": flops / config.batch_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", default="16,32,64,128,256,512")
    parser.add_argument("--sizes", default="8,16,32,64")
    parser.add_argument("--batch-for-sizes", type=int, default=64)
    args = parser.parse_args()

    from kgan import presets

    base = presets.get("digits").replace(precision="float32", jit_compile=False)
    rows = []
    for batch in [int(b) for b in args.batches.split(",")]:
        rows.append({"axis": "batch", "batch": batch, "size": 8,
                     **measure(base.replace(batch_size=batch), (8, 8, 1), 10)})
    for size in [int(s) for s in args.sizes.split(",")]:
        config = base.replace(batch_size=args.batch_for_sizes, image_size=size)
        rows.append({"axis": "size", "batch": args.batch_for_sizes, "size": size,
                     **measure(config, (size, size, 1), 10)})

    facts = cpu()
    print(f"cpu: {facts['cpu_model']} ({facts['cores']} cores); flags: {facts['cpu_flags']}")
    print(f"{'axis':6} {'batch':>5} {'size':>4} {'ms/img':>8} {'MFLOP/img':>10} {'GFLOP/s':>8}")
    for r in rows:
        rate = r["mflop_per_image"] / r["ms_per_image"]  # MFLOP/ms = GFLOP/s
        print(f"{r['axis']:6} {r['batch']:5d} {r['size']:4d} {r['ms_per_image']:8.3f} "
              f"{r['mflop_per_image']:10.2f} {rate:8.1f}")
    print(json.dumps({**facts, "rows": rows}))


if __name__ == "__main__":
    main()
