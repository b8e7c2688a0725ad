"""B1 step throughput: kgan against the GAN a Keras user writes from the Keras guide, on the
same two networks, batches and data, as images/s ratios measured side by side in one run.

The reference is the GAN of the Keras guide "Customizing what happens in fit()" written
straightforwardly: a `keras.Model` whose `train_step` draws latents, runs the discriminator
once over generated and real images concatenated, with noisy labels (fake 1, real 0, plus
0.05 * U(0, 1)), binary cross-entropy from logits, then a generator step against "all real"
labels; Adam 3e-4 for both, latent 128, the guide's 28x28 networks. kgan trains the very same
two networks (`kgan.GAN`, non-saturating loss: the same objective) in the variants below.
Variants are timed in interleaved rounds (A B C A B C ...) so a busy machine slows them alike;
each figure is the median over rounds after a warm-up fit that traces (and XLA-compiles) of
each round's median step (the time between consecutive batch ends inside `fit`): on the
shared VM whole `fit` calls sometimes stall to a multiple of ~5.1 s of wall time at half the
CPU use, which the median step leaves out (the wall-clock rate is in the JSON too).

    python benchmarks/bench_reference.py                 # batch 64, 5 rounds of 30 steps
    python benchmarks/bench_reference.py --batch 128 --rounds 7 --json out.json
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
from kgan.autotune import dtype_policy
from machine import cpu  # benchmarks/machine.py

LATENT = 128


def guide_networks() -> tuple[keras.Model, keras.Model]:
    """The Keras guide's 28x28 discriminator and generator (fresh weights)."""
    discriminator = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(64, 3, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Conv2D(128, 3, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.GlobalMaxPooling2D(),
            keras.layers.Dense(1),
        ],
        name="discriminator",
    )
    generator = keras.Sequential(
        [
            keras.Input((LATENT,)),
            keras.layers.Dense(7 * 7 * 128),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Reshape((7, 7, 128)),
            keras.layers.Conv2DTranspose(128, 4, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Conv2DTranspose(128, 4, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Conv2D(1, 7, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    return generator, discriminator


class GuideGAN(keras.Model):
    """The reference: the Keras guide's GAN, as a user would write it from the guide."""

    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def train_step(self, real_images):
        batch_size = tf.shape(real_images)[0]
        latents = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        generated = self.generator(latents)
        combined = tf.concat([generated, real_images], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * keras.random.uniform(tf.shape(labels), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(combined))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        latents = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        misleading = tf.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            g_loss = self.loss_fn(misleading, self.discriminator(self.generator(latents)))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def reference(_args) -> keras.Model:
    generator, discriminator = guide_networks()
    gan = GuideGAN(discriminator, generator, LATENT)
    gan.compile(keras.optimizers.Adam(3e-4), keras.optimizers.Adam(3e-4),
                keras.losses.BinaryCrossentropy(from_logits=True))
    return gan


def kgan_variant(jit: bool, steps_per_execution: int = 1, ema: float | None = None,
                 reuse_fakes: bool = False, precision: str = "float32"):
    """kgan.GAN on the guide's networks, with the guide's optimisers and objective
    (`precision`: the dtype policy the networks are built under)."""

    def build(_args) -> keras.Model:
        with dtype_policy(precision):
            generator, discriminator = guide_networks()
        gan = kgan.GAN(generator, discriminator, latent_dim=LATENT, ema_decay=ema,
                       reuse_fakes=reuse_fakes)
        gan.compile(keras.optimizers.Adam(3e-4), keras.optimizers.Adam(3e-4),
                    loss="nonsaturating", jit_compile=jit,
                    steps_per_execution=steps_per_execution)
        return gan

    return build


VARIANTS = {
    "reference (Keras guide)": reference,
    "kgan": kgan_variant(jit=False),
    "kgan, fakes reused": kgan_variant(jit=False, reuse_fakes=True),
    "kgan, mixed_bfloat16": kgan_variant(jit=False, precision="mixed_bfloat16"),
    "kgan, bf16 + fakes reused": kgan_variant(jit=False, reuse_fakes=True,
                                              precision="mixed_bfloat16"),
    "kgan + XLA": kgan_variant(jit=True),
    "kgan + XLA + 10 steps/call": kgan_variant(jit=True, steps_per_execution=10),
    "kgan + XLA + EMA": kgan_variant(jit=True, ema=0.999),
}


class StepClock(keras.callbacks.Callback):
    """The wall time between consecutive batch ends of one `fit` call."""

    def on_train_begin(self, logs=None):
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())

    @property
    def median_step(self) -> float:
        return statistics.median(np.diff(self.ends))


def data(batch: int) -> tf.data.Dataset:
    """An endless stream of 28x28 images in [0, 1] (throughput does not depend on content)."""
    x = np.random.default_rng(0).uniform(0, 1, (batch * 16, 28, 28, 1)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(x).batch(batch, drop_remainder=True).repeat()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    if args.steps % 10:
        parser.error("--steps must be a multiple of 10 (the 10 steps/call variant)")

    machine = {**cpu(), "tensorflow": tf.__version__, "keras": keras.__version__}
    print(f"# {machine['cpu_model']} ({machine['cores']} cores); flags: {machine['cpu_flags']}")
    stream = data(args.batch)
    models, warmup = {}, {}
    for name, build in VARIANTS.items():
        keras.utils.set_random_seed(0)
        model = build(args)
        start = time.perf_counter()
        model.fit(stream, epochs=1, steps_per_epoch=10, verbose=0, shuffle=False)  # trace, XLA
        warmup[name] = time.perf_counter() - start
        models[name] = model
    rates: dict[str, list[float]] = {name: [] for name in models}
    wall: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            clock = StepClock()
            start = time.perf_counter()
            model.fit(stream, epochs=1, steps_per_epoch=args.steps, verbose=0, shuffle=False,
                      callbacks=[clock])
            wall[name].append(args.steps * args.batch / (time.perf_counter() - start))
            # Keras calls on_train_batch_end once per execution of steps_per_execution steps.
            steps = getattr(model, "steps_per_execution", 1) or 1
            rates[name].append(steps * args.batch / clock.median_step)
    base = statistics.median(rates["reference (Keras guide)"])
    print(f"| variant | images/s (median of {args.rounds}) | vs reference | min-max | warm-up s |")
    print("|---|---|---|---|---|")
    result = {}
    for name, values in rates.items():
        median = statistics.median(values)
        result[name] = {"images_per_s": median, "ratio": median / base, "rounds": values,
                        "wall_images_per_s": wall[name], "warmup_s": warmup[name]}
        print(f"| {name} | {median:.0f} | {median / base:.2f}x | {min(values):.0f}-"
              f"{max(values):.0f} | {warmup[name]:.1f} |")
    report = {"benchmark": "B1 step throughput", "args": vars(args), "machine": machine,
              "result": result}
    print(json.dumps(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
