"""Data pipeline speed: training from `kgan.data.load` vs from the same images held in memory.

Identical DCGANs train on the same images: one reads them through kgan's TFDS pipeline
(`kgan.data.load`: TFDS read, decode, resize, scale, cache, shuffle, batch, prefetch); two get
them as one in-memory tensor, fed either by Keras' own array path
(`GAN.fit(x=tensor, batch_size=..., shuffle=True)`) or by the leanest tf.data over that tensor
(`from_tensor_slices(tensor).shuffle(n).batch(b).prefetch()`). A fourth, `run-pipeline`, is
the exact stream `kgan train` feeds (`kgan.data.stream`: one seeded stream of epochs, so
that resumed runs see the same batches). Variants train in interleaved
rounds (A B C C B A ...), so a busy machine slows all alike; each round is one `fit` call of
1 + E epochs whose first epoch is cold (tracing, and filling the pipeline's cache, which a new
`fit` call starts afresh) and whose E later epochs are timed, as in a real run. Reported: the
median steps/s of each, and the ratio of the pipeline to the faster in-memory variant
(target >= 0.97); also the median cold epoch (decoding included). MNIST is prepared offline from the shared IDX files
on first use.

    python benchmarks/bench_data_pipeline.py --source digits
    python benchmarks/bench_data_pipeline.py --source mnist --image-size 32
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import keras
import tensorflow as tf

import kgan
import kgan.data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_MNIST = os.path.join(os.path.dirname(ROOT), "shared", "data", "mnist")


def build_gan(shape, args) -> kgan.GAN:
    keras.utils.set_random_seed(0)
    generator, discriminator = kgan.architectures.get("dcgan", width=args.width).build(
        shape, args.latent
    )
    gan = kgan.GAN(generator, discriminator, latent_dim=args.latent)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, 0.5),
        g_optimizer=keras.optimizers.Adam(2e-4, 0.5),
        loss="nonsaturating",
    )
    return gan


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch of one `fit` call."""

    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def timed_fit(gan, epochs, **fit_kwargs) -> list[float]:
    """Seconds per epoch of one `fit(epochs=...)` call.

    Each `fit` call distributes (clones) the dataset afresh, so the pipeline's in-memory cache
    is refilled in the first epoch of every call; later epochs show the steady state, as in a
    real training run (one `fit` call for all epochs).
    """
    timer = EpochTimer()
    gan.fit(epochs=epochs, verbose=0, callbacks=[timer], **fit_kwargs)
    return timer.times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="digits", help="digits, mnist, or any kgan source")
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--width", type=int, default=32, help="DCGAN width")
    parser.add_argument("--latent", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=4, help="timed rounds per variant")
    parser.add_argument(
        "--epochs", type=int, default=None,
        help="epochs per timed round (default: about 200 steps per round)",
    )
    parser.add_argument(
        "--variants", default="pipeline,run-pipeline,memory-keras,memory-tfdata",
        help="comma-separated subset of pipeline, run-pipeline (what `kgan train` feeds), "
        "memory-keras, memory-tfdata",
    )
    parser.add_argument(
        "--data-dir", default=os.path.join(ROOT, "benchmarks", "results", "tfds"),
        help="TFDS data dir (default: benchmarks/results/tfds, git-ignored)",
    )
    parser.add_argument("--mnist-from", default=SHARED_MNIST, help="MNIST's IDX .gz files")
    args = parser.parse_args()

    if args.source == "mnist":
        kgan.data.prepare("mnist", args.mnist_from, data_dir=args.data_dir)
    load_kwargs = dict(image_size=args.image_size, data_dir=args.data_dir)
    info = kgan.data.info(args.source, **load_kwargs)
    steps = info.num_examples // args.batch
    epochs = args.epochs or max(1, round(200 / steps))

    pipeline = kgan.data.load(args.source, batch_size=args.batch, seed=0, **load_kwargs)
    images = kgan.data.load_arrays(args.source, **load_kwargs)[: steps * args.batch]
    tensor = tf.constant(images)  # the same images, one in-memory tensor
    lean = (
        tf.data.Dataset.from_tensor_slices(tensor)
        .shuffle(len(images), seed=0)
        .batch(args.batch, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    # What `kgan train` feeds: one seeded stream of epochs (kgan.data.stream), which makes
    # resumed runs see exactly the same batches.
    run_stream = kgan.data.stream(
        args.source, batch_size=args.batch, steps=steps, seed=0, first_epoch=0,
        last_epoch=1 + epochs, **load_kwargs,
    )
    variants = {
        "pipeline": (build_gan(info.shape, args), dict(x=pipeline, shuffle=False)),  # shuffles itself
        "run-pipeline": (
            build_gan(info.shape, args),
            dict(x=run_stream, steps_per_epoch=steps, shuffle=False),
        ),
        "memory-keras": (
            build_gan(info.shape, args),
            dict(x=tensor, batch_size=args.batch, shuffle=True),
        ),
        "memory-tfdata": (build_gan(info.shape, args), dict(x=lean, shuffle=False)),
    }
    chosen = args.variants.split(",")
    if ("pipeline" not in chosen or not any(n.startswith("memory") for n in chosen)
            or not set(chosen) <= set(variants)):
        parser.error("--variants: pipeline and at least one of memory-keras, memory-tfdata")
    variants = {name: variants[name] for name in chosen}
    cold = {name: [] for name in variants}
    rates: dict[str, list[float]] = {name: [] for name in variants}
    order = list(variants)
    for round_ in range(args.rounds):
        for name in order if round_ % 2 == 0 else order[::-1]:
            gan, kw = variants[name]
            times = timed_fit(gan, 1 + epochs, **kw)  # first epoch: cold (cache fill)
            cold[name].append(times[0])
            rates[name].append(epochs * steps / sum(times[1:]))
            print(f"round {round_ + 1} {name}: {rates[name][-1]:.2f} steps/s "
                  f"(cold epoch {times[0]:.1f} s)", flush=True)
    cold = {name: statistics.median(values) for name, values in cold.items()}
    medians = {name: statistics.median(values) for name, values in rates.items()}
    baseline = max((n for n in medians if n.startswith("memory")), key=medians.get)
    paired = statistics.median(p / m for p, m in zip(rates["pipeline"], rates[baseline]))
    ratio = medians["pipeline"] / medians[baseline]
    print(f"source={args.source} shape={info.shape} examples={info.num_examples} "
          f"batch={args.batch} steps/epoch={steps} epochs/round={epochs} rounds={args.rounds}")
    print("| variant | median steps/s | all rounds | cold epoch s |")
    print("|---|---|---|---|")
    for name in variants:
        shown = " ".join(f"{r:.1f}" for r in rates[name])
        print(f"| {name} | {medians[name]:.2f} | {shown} | {cold[name]:.1f} |")
    print(f"ratio pipeline/{baseline} (the faster in-memory variant): {ratio:.3f} "
          f"(median of per-round ratios {paired:.3f}; target >= 0.97)")
    if "run-pipeline" in medians:
        run_ratio = medians["run-pipeline"] / medians[baseline]
        print(f"ratio run-pipeline/{baseline}: {run_ratio:.3f}")
    print(json.dumps({
        "args": vars(args), "steps_per_epoch": steps, "epochs_per_round": epochs,
        "steps_per_s": rates, "median": medians, "baseline": baseline, "ratio": ratio,
        "paired_ratio": paired,
        "run_pipeline_ratio": medians.get("run-pipeline", 0.0) / medians[baseline],
        "cold_first_epoch_s": cold,
    }))


if __name__ == "__main__":
    main()
