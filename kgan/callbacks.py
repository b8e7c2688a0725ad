"""Keras callbacks that record a training run into its run folder (see `kgan.runs`).

Each callback does one thing; `run_callbacks` returns them in the order they must run at the
end of an epoch: stop on non-finite losses, history, sample grid, checkpoint, model card. A
metric callback (e.g. FID) goes before them and adds its value to the epoch's `logs`, so the
history records it; it can also call `run.record_metric(...)` for the model card.

Example:
    >>> run = kgan.runs.new_run("saved_models", "ring8-test")
    >>> gan.fit(dataset, epochs=5, callbacks=run_callbacks(run, SampleGrid(run, num=64)))
"""

from __future__ import annotations

import math
import os
import time

import keras
import numpy as np

from kgan import images as images_lib
from kgan import runs as runs_lib

#: Seed of the fixed latent grid shown after every epoch.
GRID_SEED = 0


def _finite(logs) -> bool:
    for value in (logs or {}).values():
        try:
            if not math.isfinite(float(value)):
                return False
        except (TypeError, ValueError):
            continue
    return True


def _non_finite_keys(logs) -> list[str]:
    bad = []
    for key, value in (logs or {}).items():
        try:
            if not math.isfinite(float(value)):
                bad.append(key)
        except (TypeError, ValueError):
            continue
    return bad


def _step(model) -> int:
    return int(keras.ops.convert_to_numpy(model.g_optimizer.iterations))


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training at the first batch whose logs hold a NaN or an infinity.

    After training, `reason` says what happened (None when all values stayed finite); the
    other callbacks skip an epoch whose logs are not finite, so the last checkpoint stays good.
    """

    def __init__(self) -> None:
        super().__init__()
        self.reason: str | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        bad = _non_finite_keys(logs)
        if bad and self.reason is None:
            values = ", ".join(f"{k}={float(logs[k])}" for k in bad)
            self.reason = (
                f"non-finite loss at epoch {self._epoch}, step {_step(self.model)} ({values}); "
                "lower the learning rates, add a regulariser (e.g. r1) or use another loss"
            )
            self.model.stop_training = True


class HistoryWriter(keras.callbacks.Callback):
    """Writes one `history.jsonl` record per epoch: epoch, step, wall time, every log value.

    Args:
        run: the `kgan.runs.Run` to write into.
        time_offset: training seconds of earlier sessions (a resumed run continues the clock).
    """

    def __init__(self, run: runs_lib.Run, time_offset: float = 0.0) -> None:
        super().__init__()
        self.run = run
        self.time_offset = float(time_offset)
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        epoch_time = time.perf_counter() - (self._start or time.perf_counter())
        self.time_offset += epoch_time
        record = {
            "epoch": epoch + 1,
            "step": _step(self.model),
            "time": round(self.time_offset, 3),
            "epoch_time": round(epoch_time, 3),
        }
        record.update({k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0})
        self.run.append_history(record)


class SampleGrid(keras.callbacks.Callback):
    """Saves `samples/epoch-NNNN.png` after every epoch from one fixed latent grid.

    Image data: a grid of `gan.generate(num, seed)` (conditional runs: one column per class).
    Vector data: a scatter plot of the samples over `reference` points of the real data.
    """

    def __init__(
        self,
        run: runs_lib.Run,
        num: int = 64,
        cols: int | None = None,
        seed: int = GRID_SEED,
        reference: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self.run = run
        self.num = int(num)
        self.cols = cols
        self.seed = int(seed)
        self.reference = reference

    def write(self, gan, epoch: int) -> None:
        """Writes the grid of `gan` for `epoch` (0: before training)."""
        labels = None
        if gan.num_classes and self.cols:
            labels = (np.arange(self.num) % self.cols).astype(np.int32)
        samples = gan.generate(self.num, seed=self.seed, labels=labels)
        if len(gan.data_shape) == 3:
            picture = images_lib.grid(images_lib.to_uint8(samples), cols=self.cols)
        else:
            picture = images_lib.scatter(samples, self.reference)
        runs_lib.write_bytes(self.run.sample_path(epoch), images_lib.png_bytes(picture))

    def on_epoch_end(self, epoch, logs=None):
        if _finite(logs):
            self.write(self.model, epoch + 1)


class Checkpoint(keras.callbacks.Callback):
    """After every finite epoch: the whole GAN to `checkpoint/epoch-NNNN.keras` (what resume
    loads: networks, EMA generator, both optimizers and their step counters) and the sampling
    generator to `generator.keras`; both written atomically, older checkpoints deleted."""

    def __init__(self, run: runs_lib.Run, keep: int = 1) -> None:
        super().__init__()
        self.run = run
        self.keep = max(1, int(keep))

    def on_epoch_end(self, epoch, logs=None):
        if not _finite(logs):
            return
        gan = self.model
        save(gan.sampler, self.run.generator_path)
        save(gan, self.run.checkpoint_path(epoch + 1))
        for _, path in self.run.checkpoints()[: -self.keep]:
            os.unlink(path)


def save(model: keras.Model, path) -> None:
    """`model.save(path)` through a temporary file and `os.replace` (never half-written)."""
    tmp = runs_lib.temp_path(path)
    try:
        model.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        if tmp.exists():
            os.unlink(tmp)
        raise


class ModelCard(keras.callbacks.Callback):
    """Keeps `metadata.json` current: epochs and steps done and training time, every epoch."""

    def __init__(self, run: runs_lib.Run) -> None:
        super().__init__()
        self.run = run

    def on_epoch_end(self, epoch, logs=None):
        if not _finite(logs):
            return
        history = self.run.history()
        self.run.update_metadata(
            epochs_done=epoch + 1,
            steps_done=_step(self.model),
            training_time_s=history[-1].get("time") if history else None,
        )


class HealthMonitor(keras.callbacks.Callback):
    """Adds warnings `{epoch, kind, message}` to the model card's `warnings` list when a
    known failure pattern begins (each kind once per stretch of epochs in which it holds):

    - `d_overpowering`: the discriminator's mean logit on real data exceeds that on generated
      data by more than `max_gap` — the generator gets little signal;
    - `mode_collapse`: the spread of the generator's samples (per-feature standard deviation
      over a fixed batch, averaged) falls below `min_spread` times that of the real data —
      checked from epoch `warmup` on (a fresh generator varies little) or once it has varied.

    Args:
        run: the run whose model card gets the warnings.
        real_std: the real data's mean per-feature standard deviation (None skips that check).
    """

    def __init__(
        self,
        run: runs_lib.Run,
        real_std: float | None = None,
        max_gap: float = 10.0,
        min_spread: float = 0.2,
        warmup: int = 3,
        num: int = 256,
    ) -> None:
        super().__init__()
        self.run = run
        self.real_std = real_std
        self.max_gap = float(max_gap)
        self.min_spread = float(min_spread)
        self.warmup = int(warmup)
        self.num = int(num)
        self._active: set[str] = set()
        self._varied = False

    def check(self, gan, logs, epoch: int) -> dict[str, str]:
        """The warnings that hold after `epoch` (1-based), as {kind: message}."""
        found = {}
        gap = float((logs or {}).get("d_real", 0.0)) - float((logs or {}).get("d_fake", 0.0))
        if gap > self.max_gap:
            found["d_overpowering"] = (
                f"D(real) - D(fake) = {gap:.1f} logits: the discriminator wins and the generator "
                "gets little signal; lower d_lr, or add a regulariser (r1)"
            )
        if self.real_std:
            samples = gan.generate(self.num, seed=GRID_SEED + 1, use_ema=False)
            spread = float(np.mean(np.std(samples.reshape(len(samples), -1), axis=0)))
            low = spread < self.min_spread * self.real_std
            self._varied = self._varied or not low
            if low and (self._varied or epoch >= self.warmup):
                found["mode_collapse"] = (
                    f"generated samples vary {spread / self.real_std:.0%} as much as the real "
                    "data: mode collapse suspected; try another loss, a regulariser or a lower lr"
                )
        return found

    def on_epoch_end(self, epoch, logs=None):
        if not _finite(logs):
            return
        found = self.check(self.model, logs, epoch + 1)
        new = [kind for kind in found if kind not in self._active]
        self._active = set(found)
        if new:
            warnings = list(self.run.metadata().get("warnings") or [])
            warnings += [{"epoch": epoch + 1, "kind": k, "message": found[k]} for k in new]
            self.run.update_metadata(warnings=warnings)


def run_callbacks(
    run: runs_lib.Run,
    grid: SampleGrid,
    time_offset: float = 0.0,
    real_std: float | None = None,
) -> list[keras.callbacks.Callback]:
    """The callbacks that record a run, in order: [StopOnNonFinite, HistoryWriter, SampleGrid,
    Checkpoint, ModelCard, HealthMonitor]."""
    return [
        StopOnNonFinite(),
        HistoryWriter(run, time_offset),
        grid,
        Checkpoint(run),
        ModelCard(run),
        HealthMonitor(run, real_std),
    ]


__all__ = [
    "Checkpoint",
    "HealthMonitor",
    "HistoryWriter",
    "ModelCard",
    "SampleGrid",
    "StopOnNonFinite",
    "run_callbacks",
    "save",
]
