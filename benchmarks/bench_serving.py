"""Serving latency (issue 13, B6): the exported SavedModel's `sample` and `serving_default`
signatures for 1 and 64 images, median and p90, against the same generator called as a Keras
model in the same process (the reference a user without an export would have).

Each preset's generator is built at its own size (untrained: latency does not depend on the
weights), exported with `kgan.export.export_generator`, then loaded with
`tf.saved_model.load` in a fresh Python process that never imports kgan, as TF Serving or
any TensorFlow program loads it. Calls are interleaved (signature, Keras, signature, ...)
after warm-up calls, so both see the same machine load.

    python benchmarks/bench_serving.py --data-dir DIR       # digits and mnist, 50 calls each
    python benchmarks/bench_serving.py --presets digits --calls 100
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu  # noqa: E402

# Runs in its own process: TensorFlow and Keras only, as a program that serves the export.
_TIMER = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np, tensorflow as tf, keras

    export, keras_file, latent, classes, calls, warmup = sys.argv[1:7]
    latent, calls, warmup = int(latent), int(calls), int(warmup)
    classes = int(classes) if classes != "none" else None
    model = tf.saved_model.load(export)
    sample, serve = model.signatures["sample"], model.signatures["serving_default"]
    generator = keras.saving.load_model(keras_file, compile=False, safe_mode=True)

    def labels(n):
        return {} if classes is None else {"label": tf.constant(np.arange(n) % classes, tf.int32)}

    def runners(n):
        z = tf.constant(np.random.default_rng(0).normal(size=(n, latent)), tf.float32)
        keras_in = [z] if classes is None else [z, labels(n)["label"]]
        return {
            "sample": lambda: sample(num=tf.constant(n), seed=tf.constant(0), **labels(n)),
            "serving_default": lambda: serve(z=z, **labels(n)),
            "keras_call": lambda: generator(keras_in if classes is not None else z, training=False),
        }

    def value(result):
        return np.asarray(next(iter(result.values())) if isinstance(result, dict) else result)

    out = {}
    for n in (1, 64):
        fns = runners(n)
        for fn in fns.values():
            for _ in range(warmup):
                value(fn())
        times = {name: [] for name in fns}
        for _ in range(calls):
            for name, fn in fns.items():
                start = time.perf_counter()
                value(fn())  # the caller has the numbers, not a pending tensor
                times[name].append(time.perf_counter() - start)
        out[n] = {
            name: {"median_ms": 1e3 * float(np.median(t)), "p90_ms": 1e3 * float(np.percentile(t, 90))}
            for name, t in times.items()
        }
    print("RESULT " + json.dumps(out))
    """
)


def _export(preset: str, folder: Path, data_dir: str | None) -> dict:
    """Builds `preset`'s generator (float32, no XLA: what an export holds) and writes the
    export and the Keras generator into `folder`."""
    import keras

    from kgan import data, export, presets

    config = presets.get(preset).replace(precision="float32", jit_compile=False)
    info = data.info(config.dataset, image_size=config.image_size, data_dir=data_dir)
    keras.utils.set_random_seed(0)
    gan = config.build_gan(info.shape, info.num_classes)
    export.export_generator(gan.sampler, folder / "export", num_classes=gan.num_classes)
    gan.sampler.save(folder / "generator.keras")
    return {"shape": list(info.shape), "latent": gan.latent_dim, "classes": gan.num_classes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", default="digits,mnist")
    parser.add_argument("--calls", type=int, default=50, help="timed calls per signature and size")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--data-dir", default=None, help="TFDS folder holding a prepared mnist")
    args = parser.parse_args()

    result = {**cpu(), "calls": args.calls, "presets": {}}
    for preset in args.presets.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            shape = _export(preset, folder, args.data_dir)
            command = [
                sys.executable, "-c", _TIMER, str(folder / "export"), str(folder / "generator.keras"),
                str(shape["latent"]), str(shape["classes"] or "none"), str(args.calls),
                str(args.warmup),
            ]
            out = subprocess.run(command, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                raise SystemExit(f"{preset}: the timing process failed:\n{out.stderr[-2000:]}")
            line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
            timings = json.loads(line[len("RESULT "):])
        result["presets"][preset] = {**shape, "timings": timings}

    print(f"cpu: {result['cpu_model']} ({result['cores']} cores); flags: {result['cpu_flags']}")
    print(f"{'preset':8} {'n':>3} {'signature':16} {'median ms':>10} {'p90 ms':>8} {'vs keras':>9}")
    for preset, entry in result["presets"].items():
        for n, rows in entry["timings"].items():
            reference = rows["keras_call"]["median_ms"]
            for name, row in rows.items():
                ratio = row["median_ms"] / reference
                print(f"{preset:8} {n:>3} {name:16} {row['median_ms']:10.2f} {row['p90_ms']:8.2f} "
                      f"{ratio:8.2f}x")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
