"""Cost of the poisoned-model check (`GAN.non_finite`) against the epoch it guards.

The check runs once per epoch end (shared by the checkpoint, model card, sample grid and
metric callbacks) and before every save. This measures one check and one training step of
the same model in the same process, interleaved, and reports the check as a share of an
epoch of `--steps` steps.

    python benchmarks/bench_health_check.py
    python benchmarks/bench_health_check.py --configs mnist --rounds 30
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from kgan import presets

#: (preset, data shape, classes, steps per epoch as the preset trains it)
CONFIGS = {
    "digits": ((8, 8, 1), 10, 1500 // 64),
    "mnist": ((32, 32, 1), 10, 60000 // 64),
}


def machine() -> dict:
    """The processor and its vector extensions: CPU kernels differ with them."""
    model, flags = platform.processor() or "unknown", []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model in ("unknown", "", "x86_64"):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = sorted(f for f in line.split(":", 1)[1].split()
                               if f.startswith(("avx512", "amx")))
                break
    except OSError:
        pass
    return {"cpu": model, "avx512_amx": flags}


def measure(name: str, rounds: int) -> dict:
    shape, classes, steps = CONFIGS[name]
    config = presets.get(name).replace(jit_compile=False)
    keras.utils.set_random_seed(0)
    gan = config.build_gan(shape, classes if config.conditional else None, steps)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (config.batch_size, *shape)).astype("float32")
    batch = (x, rng.integers(0, classes, config.batch_size).astype("int32")) if gan.num_classes else x
    stream = iter(tf.data.Dataset.from_tensors(batch).repeat())
    gan.make_train_function()
    train = gan.train_function  # the compiled step `fit` runs
    train(stream)
    gan.non_finite()  # trace both once
    check, step = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        assert gan.non_finite() == []
        check.append(time.perf_counter() - t)
        t = time.perf_counter()
        keras.ops.convert_to_numpy(train(stream)["d_loss"])
        step.append(time.perf_counter() - t)
    c, s = statistics.median(check), statistics.median(step)
    floats = sum(int(np.prod(v.shape)) for _, v in gan._named_state())
    return {"config": name, "floats_checked": floats, "check_ms": 1e3 * c, "step_ms": 1e3 * s,
            "steps_per_epoch": steps, "share_of_epoch": c / (s * steps)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="digits,mnist")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    info = machine()
    print(f"cpu: {info['cpu']}; avx512/amx: {' '.join(info['avx512_amx']) or 'none'}")
    results = [measure(name, args.rounds) for name in args.configs.split(",")]
    print(f"{'config':<8} {'floats':>10} {'check ms':>9} {'step ms':>8} {'steps/epoch':>11} "
          f"{'share of epoch':>14}")
    for r in results:
        print(f"{r['config']:<8} {r['floats_checked']:>10,} {r['check_ms']:>9.2f} "
              f"{r['step_ms']:>8.2f} {r['steps_per_epoch']:>11} {r['share_of_epoch']:>14.4%}")
    out = Path(__file__).parent / "results" / "health_check.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": info, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
