"""Throughput of the FID Inception-v3 (`kgan features install inception`) on this CPU: images
per second at 299x299 through the network alone, in float32 and in mixed bfloat16, and through
the whole `inception` extractor (quantise, resize from 28x28, network) in float32.

    python benchmarks/bench_inception.py                  # needs the installed network
    python benchmarks/bench_inception.py --batch 32 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu  # noqa: E402


def _rate(fn, batch: int, rounds: int) -> float:
    """Images per second of `fn()` on one batch: the best of `rounds` timed calls after one
    warm-up call (the first traces and allocates)."""
    fn()
    best = min(_timed(fn) for _ in range(rounds))
    return batch / best


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import keras

    from kgan import features
    from kgan.features import inception_install
    from kgan.features.inception_v3 import inception_v3

    record = inception_install.installed_record()
    if record is None:
        raise SystemExit("run `kgan features install inception` first")
    float32 = keras.saving.load_model(record["path"], compile=False, safe_mode=True)
    bf16 = inception_v3("mixed_bfloat16")
    bf16.set_weights(float32.get_weights())
    x = np.random.default_rng(0).uniform(-1, 1, (args.batch, 299, 299, 3)).astype(np.float32)
    digits = np.random.default_rng(1).uniform(-1, 1, (args.batch, 28, 28, 1)).astype(np.float32)
    extractor = features.get("inception")
    result = {
        **cpu(),
        "batch": args.batch,
        "float32_images_per_s": _rate(lambda: float32(x, training=False).numpy(), args.batch,
                                      args.rounds),
        "mixed_bfloat16_images_per_s": _rate(lambda: bf16(x, training=False).numpy(),
                                             args.batch, args.rounds),
        "extractor_28px_images_per_s": _rate(lambda: extractor.features(digits, args.batch),
                                             args.batch, args.rounds),
    }
    drift = np.abs(bf16(x[:4], training=False).numpy() - float32(x[:4], training=False).numpy())
    result["bf16_max_abs_feature_diff"] = float(drift.max())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
