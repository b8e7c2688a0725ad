"""Presets: the recipe that works best on each standard dataset, as a `RunConfig`.

`kgan train --preset NAME` starts from one; any flag given beside it overrides that field.

Example:
    >>> config = get("digits").replace(epochs=10)
"""

from __future__ import annotations

from kgan.config import RunConfig
from kgan.errors import KganError

# The 2-D mixtures (benchmarks/README.md, "Toy mixtures"): a 3x128 MLP, 8-d latents, the
# non-saturating loss with R1 0.1, Adam 1e-3 (betas 0.5, 0.99) constant for 12,000 steps then
# decaying linearly to 0, batch 512, EMA 0.999, 24,000 steps. `kgan train --preset` over seeds
# 0-2 (2,500 EMA samples): ring8 8.0/8 modes, 98.3% HQ (worst 97.8%), reverse KL 0.001, 255 s a run;
# grid25 25.0/25 modes, 97.1% HQ (worst 96.9%), reverse KL 0.006, 269 s a run.
# The old 12,000 steps at batch 256 held 94.4% on grid25; 24,000 steps at batch 256 96.2% and
# 36,000 97.7% (seed 0); a cosine decay from the start loses (90.7%). Heavier R1 (1.0) smooths
# the discriminator too much for modes of std 0.01-0.05 (grid25: 25 modes but 20% high quality).
_TOY = dict(
    arch="mlp",
    arch_kwargs={"units": 128, "depth": 3},
    latent_dim=8,
    loss="nonsaturating",
    regularizer="r1",
    regularizer_weight=0.1,
    g_lr=1e-3,
    d_lr=1e-3,
    beta_1=0.5,
    beta_2=0.99,
    lr_decay=0.5,
    ema=0.999,
    batch_size=512,
    epochs=20,
    steps_per_epoch=1200,
    steps_per_execution=50,
    jit_compile="auto",  # timed per run: XLA 1.42x for this MLP one day, 0.81-0.97x the next
    eval_every=5,
    eval_num=2500,
)

PRESETS: dict[str, RunConfig] = {
    # scikit-learn's 8x8 digits (1,500 training images): a class-conditional DCGAN (width 32,
    # ~0.3 M weights), the non-saturating loss with R1 0.1, Adam 5e-4 (betas 0.5, 0.99), EMA
    # 0.995, 300 epochs of 23 steps (~3.5 CPU-minutes on 2 cores). Measured by
    # benchmarks/bench_quality.py over 3 seeds against held-out real digits at equal N
    # (digits_pixels): FID 1.0-1.2x the real floor, within-class spread 0.95-0.97x and recall 0.90-0.94x
    # real data's, every class 9-10.5% (seed 4 of 0-4 misses spread and recall by a hair). The previous recipe (hinge, no R1, 60 epochs) scored
    # FID 2.7x, spread 0.81x and recall 0.46x; at 180 epochs hinge reached 1.38x / 0.93 / 0.83,
    # without EMA 6.5x. Metrics on 1,000 samples every 10 epochs.
    "digits": RunConfig(
        dataset="digits",
        conditional=True,
        arch="dcgan",
        arch_kwargs={"width": 32},
        latent_dim=64,
        loss="nonsaturating",
        regularizer="r1",
        regularizer_weight=0.1,
        g_lr=5e-4,
        d_lr=5e-4,
        beta_1=0.5,
        beta_2=0.99,
        ema=0.995,
        batch_size=64,
        epochs=300,
        jit_compile="auto",  # 1.36x here for these networks, 1.00x for a plain DCGAN: timed
        eval_every=10,
    ),
    # MNIST at its own 28x28 for 15 minutes of training: a class-conditional DCGAN (width 32)
    # with a spectrally normalised discriminator, hinge loss, Adam 5e-4 (betas 0.5, 0.99), EMA
    # 0.995, batch 64; precision and XLA chosen by timing on the machine (here: mixed_bfloat16
    # 1.17x, XLA 0.64x). benchmarks/bench_quality.py (mnist_pooled, N = 5,000, equal-N floor),
    # 6,000 steps, seeds 0, 1, 2 (seed 2 in mixed_bfloat16): FID 6.7x, 5.8x, 5.7x the real
    # floor, within-class spread 0.99x, 1.01x, 0.97x and recall 0.78x, 0.87x, 0.83x real
    # data's, every class 9-10.9%: it meets the spread and balance floors, not FID or
    # recall. The same recipe at 32x32 with XLA (the old preset: 1,700 steps in 15 minutes on
    # the first machine) scored 14.9x / 0.83x / 0.15x; the digits recipe (non-saturating + R1
    # 0.1, no spectral norm) 62x / 0.72x / 0.13x after 5,000 steps; width 64 costs 2x per step
    # for a FID 7% lower at 3,000 steps. Without spectral norm the generator ignored z within
    # a class. With a GPU, give it more minutes.
    "mnist": RunConfig(
        dataset="mnist",
        image_size=28,
        conditional=True,
        arch="dcgan",
        arch_kwargs={"width": 32, "spectral_norm": True},
        latent_dim=100,
        loss="hinge",
        g_lr=5e-4,
        d_lr=5e-4,
        beta_1=0.5,
        beta_2=0.99,
        ema=0.995,
        batch_size=64,
        epochs=100,
        minutes=15,
        steps_per_epoch=1000,
        precision="auto",
        jit_compile="auto",
        eval_every=3,
    ),
    "ring8": RunConfig(dataset="ring8", **_TOY),
    "grid25": RunConfig(dataset="grid25", **_TOY),
}
# StackedMNIST (1,000 modes: a digit per channel) at its own 28x28x3, unconditional: told
# the triple, a conditional generator would cover the modes by construction, and the
# benchmark protocol (PacGAN, PresGAN, R3GAN) measures an unconditional one. A plain DCGAN:
# width 32, batch norm in both networks, the non-saturating loss without a regulariser, Adam
# 2e-4 (betas 0.5, 0.999), no EMA, batch 64, 15 minutes. Measured (benchmarks/bench_stacked.py,
# seed 0, N = 10,000, real floor 1,000 modes / KL 0.053, shared 2-core EPYC): 948 modes / KL
# 0.55 at 5 minutes, 995 / 0.23 at 15, the best of three at 15 minutes; the R3GAN-style recipe
# 979 / 0.37 and 983 / 0.23 (its cosine schedules need the run planned in epochs, not
# minutes), the mnist preset's recipe without labels 856 / 0.75 and 950 / 0.46. None reaches
# the protocol's 1,000 modes / KL 0.05 in 15 CPU-minutes; on a GPU give it --minutes 90 or more.
PRESETS["stacked_mnist"] = PRESETS["mnist"].replace(
    dataset="stacked_mnist",
    conditional=False,
    arch_kwargs={"width": 32, "discriminator_batch_norm": True},
    loss="nonsaturating",
    regularizer=None,
    g_lr=2e-4,
    d_lr=2e-4,
    beta_2=0.999,
    ema=None,
    eval_num=10_000,
)


def names() -> list[str]:
    return sorted(PRESETS)


def get(name: str) -> RunConfig:
    """The preset `name`; the error lists the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KganError(f"unknown preset {name!r}; valid presets: {', '.join(names())}") from None


__all__ = ["PRESETS", "get", "names"]
