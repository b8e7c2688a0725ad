"""Keras callbacks that record a training run into its run folder (see `kgan.runs`).

Each callback does one thing; `run_callbacks` returns them in the order they must run at the
end of an epoch: stop on non-finite losses, history, sample grid, checkpoint, model card,
health monitor. The metric callback (`EvaluateEvery`) goes before them and adds its values to
the epoch's `logs`, so the history, the progress bar and `TensorBoardWriter` show them; it
records them in the run's `metrics.jsonl` and model card too. `HealthMonitor` acts on the
pure checks of `kgan.health`.

Example:
    >>> run = kgan.runs.new_run("saved_models", "ring8-test")
    >>> gan.fit(dataset, epochs=5, callbacks=[*run_callbacks(run, SampleGrid(run, num=64))])
"""

from __future__ import annotations

import dataclasses
import os
import time

import keras
import numpy as np

from kgan import health
from kgan import images as images_lib
from kgan import runs as runs_lib
from kgan.errors import KganError
from kgan.health import HEALTH_ACTIONS, MIN_CLASS_SPREAD

#: Seed of the fixed latent grid shown after every epoch.
GRID_SEED = 0


def _finite(logs) -> bool:
    return not health.non_finite_keys(logs)


def _step(model) -> int:
    return int(keras.ops.convert_to_numpy(model.g_optimizer.iterations))


def _num_classes(model) -> int | None:
    """The classes of a conditional GAN (None: unconditional)."""
    return getattr(model, "num_classes", None) or None


class PoisonedModel(KganError):
    """A model holding NaN or infinite values was about to be saved; nothing was written."""


def poisoned(model) -> list[str]:
    """What in `model` holds a NaN or an infinity (`GAN.non_finite`; other models: their
    variables), checked once per training step count: every recorder of one epoch end shares
    the answer."""
    if not hasattr(model, "non_finite"):
        return [v.path for v in model.variables
                if v.dtype.startswith("float") and not np.all(np.isfinite(np.asarray(v)))]
    if not hasattr(model, "d_optimizer"):  # not compiled: no step to key a cache on
        return model.non_finite()
    key = (_step(model), int(keras.ops.convert_to_numpy(model.d_optimizer.iterations)))
    cached = getattr(model, "_kgan_poisoned", None)
    if cached is None or cached[0] != key:
        cached = (key, model.non_finite())
        object.__setattr__(model, "_kgan_poisoned", cached)
    return cached[1]


#: Attribute through which `StopOnNonFinite` tells the other callbacks (which may be built
#: elsewhere) that training has diverged, as Keras' own `model.stop_training` does.
_DIVERGED = "_kgan_diverged"


def _healthy(model, logs) -> bool:
    """The epoch may be recorded: training has not diverged, its logs are finite and so is
    the whole model."""
    return getattr(model, _DIVERGED, None) is None and _finite(logs) and not poisoned(model)


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training when it diverges: at the first batch whose `d_loss`/`g_loss` are NaN,
    infinite or exploded, or at an epoch end where a weight or an output is non-finite.

    An explosion is a loss whose magnitude exceeds `explosion` times the run's own first value
    (at least 1): a run at `lr=1e3` reaches 1e12 and then can look calm again (d_loss 0), and
    an unpenalised Wasserstein critic grows without bound. The weights are checked too
    (`GAN.non_finite`), because fused CPU kernels can hide NaN weights from the losses.

    After training, `reason` says what happened (None when all stayed healthy); the other
    recorders skip an epoch that is not healthy, so the last checkpoint stays good.
    """

    def __init__(self, explosion: float = 1e4) -> None:
        super().__init__()
        self.explosion = float(explosion)
        self.reason: str | None = None
        self._epoch = 0
        self._scale: dict[str, float] = {}

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_begin(self, logs=None):
        object.__setattr__(self.model, _DIVERGED, self.reason)

    def _stop(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
            self.model.stop_training = True
            object.__setattr__(self.model, _DIVERGED, reason)

    def on_train_batch_end(self, batch, logs=None):
        if self.reason is not None:
            return
        bad = health.non_finite_keys(logs)
        if bad:
            values = ", ".join(f"{k}={float(logs[k])}" for k in bad)
            self._stop(
                f"non-finite loss at epoch {self._epoch}, step {_step(self.model)} ({values}); "
                "lower the learning rates, add a regulariser (e.g. r1) or use another loss"
            )
            return
        for key in ("d_loss", "g_loss"):
            if key not in (logs or {}):
                continue
            value = abs(float(logs[key]))
            scale = self._scale.setdefault(key, max(value, 1.0))
            if value > self.explosion * scale:
                self._stop(
                    f"exploding loss at epoch {self._epoch}, step {_step(self.model)} "
                    f"({key}={float(logs[key]):.3g}, {value / scale:.2g}x its first value "
                    f"{scale:.3g}): training diverged; lower the learning rates or add a "
                    "regulariser (e.g. r1, or gradient_penalty for wasserstein)"
                )
                return

    def on_epoch_end(self, epoch, logs=None):
        found = poisoned(self.model)
        if not found:
            return
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        if self.reason is None:
            self._stop(
                f"non-finite weights after epoch {epoch + 1}, step {_step(self.model)}: "
                f"{found[0]} holds NaN or infinity{more} although the logged losses looked "
                "finite; lower the learning rates, add a regulariser (e.g. r1) or use another loss"
            )
        elif "first non-finite" not in self.reason:
            self.reason += f"; first non-finite variable: {found[0]}{more}"


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

    def picture(self, gan) -> np.ndarray:
        """The grid of `gan` as a `(H, W, C)` uint8 picture: `kgan sample --num N --seed S
        --cols C` of the saved generator draws the same one."""
        from kgan import sampling

        if len(gan.data_shape) == 3:
            cols = self.cols or sampling.grid_columns(self.num, gan.num_classes)
            return images_lib.grid(sampling.draw(gan, self.num, self.seed, uint8=True), cols=cols)
        return images_lib.scatter(sampling.draw(gan, self.num, self.seed), self.reference)

    def write(self, gan, epoch: int) -> None:
        """Writes the grid of `gan` for `epoch` (0: before training)."""
        picture = self.picture(gan)
        runs_lib.write_bytes(self.run.sample_path(epoch), images_lib.png_bytes(picture))

    def on_epoch_end(self, epoch, logs=None):
        if _healthy(self.model, logs):
            self.write(self.model, epoch + 1)


class Checkpoint(keras.callbacks.Callback):
    """After every healthy epoch: the whole GAN to `checkpoint/epoch-NNNN.keras` (what resume
    loads: networks, EMA generator, both optimizers and their step counters) and the sampling
    generator to `generator.keras`; both written atomically. The newest `keep` checkpoints
    stay (default 2), so a checkpoint found corrupt later can be deleted to resume from the
    one before, losing one epoch rather than the run."""

    def __init__(self, run: runs_lib.Run, keep: int = 2) -> None:
        super().__init__()
        self.run = run
        self.keep = max(1, int(keep))

    def on_epoch_end(self, epoch, logs=None):
        if not _healthy(self.model, logs):
            return
        gan = self.model
        save(gan.sampler, self.run.generator_path)
        save(gan, self.run.checkpoint_path(epoch + 1))
        for _, path in self.run.checkpoints()[: -self.keep]:
            os.unlink(path)


def save(model: keras.Model, path) -> None:
    """`model.save(path)` through a temporary file and `os.replace` (never half-written).

    Refuses (`PoisonedModel`, nothing written) a model holding NaN or infinite values: a
    checkpoint, generator or export must never be poisoned.
    """
    found = poisoned(model)
    if found:
        raise PoisonedModel(
            f"not saving {path}: {found[0]} holds NaN or infinity; resume from the last good "
            "checkpoint with lower learning rates or a regulariser"
        )
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
        if not _healthy(self.model, logs):
            return
        history = self.run.history()
        self.run.update_metadata(
            epochs_done=epoch + 1,
            steps_done=_step(self.model),
            training_time_s=history[-1].get("time") if history else None,
        )


class EvaluateEvery(keras.callbacks.Callback):
    """Measures the sampling generator (EMA weights when on) every `every` epochs and after
    the last: `num` samples from a fixed latent seed through `evaluator`
    (`kgan.evaluation.Evaluator`). The numbers join the epoch's logs (so the progress bar and
    `history.jsonl` show them) and the run's `metrics.jsonl` and model card, with the sample
    counts and the feature space.

    When no metric applies (image data without a feature extractor) it prints a note once
    and does nothing. Place it before the recorders.

    Example:
        >>> evaluator = kgan.evaluation.Evaluator("digits")
        >>> gan.fit(data, epochs=60, callbacks=[EvaluateEvery(run, evaluator, every=5),
        ...                                     *run_callbacks(run, grid)])
    """

    def __init__(
        self,
        run: runs_lib.Run,
        evaluator,
        every: int = 5,
        num: int = 1000,
        metrics=None,
        seed: int | None = None,
        options: dict | None = None,
        verbose: bool = True,
    ) -> None:
        super().__init__()
        from kgan import evaluation

        if int(every) < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.run = run
        self.evaluator = evaluator
        self.every = int(every)
        self.num = int(num)
        self.metrics = metrics
        self.seed = evaluation.EVAL_SEED if seed is None else int(seed)
        self.options = evaluation.TRAINING_OPTIONS if options is None else options
        self.verbose = verbose
        self.note: str | None = None

    def on_train_begin(self, logs=None):
        from kgan import evaluation

        conditional = bool(_num_classes(self.model))
        if self.metrics is None:
            self.metrics = self.evaluator.default_metrics(
                training=True, conditional=conditional, num=self.num
            )
        if not self.metrics:
            self.note = f"no metrics during training: {self.evaluator.why_not()}"
            if self.verbose:
                print(f"kgan: note: {self.note}", flush=True)
            return
        self.metrics = self.evaluator.check(self.metrics, conditional=conditional)
        if any(m in evaluation.FEATURE_METRICS for m in self.metrics):
            self.evaluator.reference()  # the real statistics, before the first epoch's clock
        if "class_diversity" in self.metrics:
            self.evaluator.reference_labels()
            self.evaluator.floor_labels()

    def on_epoch_end(self, epoch, logs=None):
        from kgan import evaluation

        done = epoch + 1
        last = done == (self.params or {}).get("epochs")
        if not self.metrics or not _healthy(self.model, logs) or (done % self.every and not last):
            return
        labels = evaluation.sample_labels(self.num, _num_classes(self.model))
        samples = self.model.generate(self.num, seed=self.seed, labels=labels)
        results = self.evaluator.measure(
            samples, self.metrics, labels=labels, options=self.options
        )
        if logs is not None:
            logs.update(evaluation.scalars(results))
        evaluation.record(self.run, results, epoch=done, step=_step(self.model))


class TensorBoardWriter(keras.callbacks.Callback):
    """Writes TensorBoard event files under `run.tensorboard_dir`: every epoch's logged
    numbers (losses, D outputs, regularisers, metrics) as scalars and the sample grid as an
    image, at step = epoch (as in `history.jsonl` and `samples/epoch-NNNN.png`).

    Written with TensorFlow's own summary ops, so the `tensorboard` package is only needed to
    view them: `tensorboard --logdir saved_models/NAME/tensorboard`.
    """

    def __init__(self, run: runs_lib.Run, grid: SampleGrid | None = None) -> None:
        super().__init__()
        self.run = run
        self.grid = grid
        self._writer = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        self._writer = tf.summary.create_file_writer(str(self.run.tensorboard_dir))

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf
        from tensorflow.core.framework import summary_pb2

        def metadata(plugin):
            return summary_pb2.SummaryMetadata(
                plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin)
            )

        if self._writer is None:
            self.on_train_begin()
        with self._writer.as_default(step=epoch + 1):
            for key, value in (logs or {}).items():
                if np.ndim(value) == 0 and _finite({key: value}):
                    tf.summary.write(key, tf.constant(float(value), tf.float32),
                                     metadata=metadata("scalars"))
            if self.grid is not None and _healthy(self.model, logs):
                picture = self.grid.picture(self.model)
                h, w = picture.shape[:2]
                png = images_lib.png_bytes(picture)
                tf.summary.write("samples", tf.constant([str(w), str(h), png]),
                                 metadata=metadata("images"))
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class HealthMonitor(keras.callbacks.Callback):
    """Watches every epoch for known failure patterns; warns, and stops or rolls back on request.

    Patterns (the warning's `kind`):

    - `non_finite`: the epoch's logs, a weight or an output hold a NaN or an infinity
      (`StopOnNonFinite` has stopped training);
    - `divergence`: for `patience` epochs in a row the discriminator's loss stays below
      `d_loss_floor` while the generator's loss climbs — the discriminator has won and the
      generator is not coming back (not checked for the unbounded `wasserstein` loss);
    - `mode_collapse`: the raw generator's samples (a fixed batch of `num`) are far less
      diverse than as many real examples in feature space: their spread (mean per-feature
      standard deviation) is below `min_spread` of the real data's, or their median distance
      to their nearest neighbour is below `min_neighbour` of the real data's (many samples are
      near-duplicates) — from epoch `warmup` on (a fresh generator varies little) or once it
      has been diverse;
    - `class_collapse` (conditional models, with `reference_labels`): inside some class the
      raw generator's samples (`class_num` per class, classes in turn) spread less than
      `min_class_spread` of the real rows of that class — it draws the class but ignores its
      latent there (one "3" for every z), which the all-class checks above can miss; from
      epoch `warmup` on or once every class has been diverse;
    - `d_overpowering`: D(real) - D(fake) exceeds `max_gap` logits (an early sign only).

    When a pattern begins (each kind once per stretch of epochs in which it holds) the monitor
    prints `kgan: warning: ...` and appends `{epoch, kind, message}` to the model card's
    `warnings`. With `on_warning="stop"` a pattern of `act_on` stops training after the
    epoch; with `"rollback"` it also restores the weights and optimizer state of the last
    epoch without such a pattern and writes them as the run's checkpoint and generator, so the
    run ends (and `--resume` continues) from there. `reason` then says what happened.

    Args:
        run: the run whose model card gets the warnings.
        reference: real data in the feature space (rows), or None to skip `mode_collapse`.
        embed: maps generated samples to that space (None: the flattened samples).
        reference_labels: the classes of the `reference` rows, for `class_collapse` (None:
            not checked).

    Example:
        >>> monitor = HealthMonitor(run, real_features, evaluator.features, on_warning="stop")
    """

    def __init__(
        self,
        run: runs_lib.Run,
        reference: np.ndarray | None = None,
        embed=None,
        on_warning: str = "warn",
        *,
        reference_labels: np.ndarray | None = None,
        act_on: tuple[str, ...] = ("non_finite", "divergence", "mode_collapse", "class_collapse"),
        max_gap: float = 10.0,
        min_spread: float = 0.2,
        min_neighbour: float = 0.1,
        min_class_spread: float = MIN_CLASS_SPREAD,
        class_num: int = 32,
        d_loss_floor: float = 0.05,
        patience: int = 3,
        warmup: int = 3,
        num: int = 256,
        verbose: bool = True,
    ) -> None:
        super().__init__()
        if on_warning not in HEALTH_ACTIONS:
            raise ValueError(
                f"on_warning must be one of {', '.join(HEALTH_ACTIONS)}, got {on_warning!r}"
            )
        self.run = run
        self.embed = embed
        self.on_warning = on_warning
        self.act_on = tuple(act_on)
        self.max_gap = float(max_gap)
        self.min_spread = float(min_spread)
        self.min_neighbour = float(min_neighbour)
        self.min_class_spread = float(min_class_spread)
        self.class_num = int(class_num)
        self.d_loss_floor = float(d_loss_floor)
        self.patience = int(patience)
        self.warmup = int(warmup)
        self.num = int(num)
        self.verbose = verbose
        self.reference = None
        if reference is not None:
            reference = np.asarray(reference, np.float64).reshape(len(reference), -1)
            self.reference = reference[: self.num]
            self.real_diversity = health.diversity(self.reference)
        self.real_class_spreads: dict[int, float] = {}
        if reference is not None and reference_labels is not None:
            self.real_class_spreads = health.class_spreads(reference, reference_labels)
        self.reason: str | None = None
        self.rolled_back_to: int | None = None
        self._active: set[str] = set()
        self._varied = False
        self._classes_varied = False
        #: The classes of the latest `class_collapse` warning, the least varied first.
        self.collapsed_classes: list[int] = []
        self._losses: list[tuple[float, float]] = []
        self._good: tuple[int, list[np.ndarray]] | None = None

    # -- the checks

    def check(self, gan, logs, epoch: int) -> dict[str, str]:
        """The patterns that hold after `epoch` (1-based), as {kind: message}."""
        logs = logs or {}
        message = health.non_finite_logs(logs)
        if message is None and hasattr(gan, "g_optimizer"):
            message = health.non_finite_weights(poisoned(gan))
        if message:
            return {"non_finite": message}
        found = {
            "d_overpowering": health.d_overpowering(logs, self.max_gap),
            "divergence": self._divergence(gan, logs),
        }
        if self.reference is not None:
            found["mode_collapse"] = self._collapse(gan, epoch)
        if self.real_class_spreads and _num_classes(gan):
            found["class_collapse"] = self._class_collapse(gan, epoch)
        return {kind: message for kind, message in found.items() if message}

    def _divergence(self, gan, logs) -> str | None:
        if "d_loss" not in logs or "g_loss" not in logs:
            return None
        self._losses.append((float(logs["d_loss"]), float(logs["g_loss"])))
        if getattr(getattr(gan, "gan_loss", None), "name", None) == "wasserstein":
            return None  # an unbounded loss: a low critic loss is no sign of divergence
        return health.divergence(self._losses, self.patience, self.d_loss_floor)

    def _fake(self, gan, num: int, labels=None) -> np.ndarray:
        """The raw generator's samples on fixed latents, as rows of the reference space."""
        samples = gan.generate(num, seed=GRID_SEED + 1, labels=labels, use_ema=False)
        fake = self.embed(samples) if self.embed is not None else samples
        return np.asarray(fake, np.float64).reshape(len(fake), -1)

    def diversity(self, gan) -> dict[str, float]:
        """The raw generator's `spread` and `neighbour` distance relative to as many real
        examples (1: as diverse as the real data)."""
        return health.relative_diversity(self._fake(gan, len(self.reference)),
                                         self.real_diversity)

    def _collapse(self, gan, epoch: int) -> str | None:
        message = health.mode_collapse(self.diversity(gan), self.min_spread, self.min_neighbour)
        self._varied = self._varied or message is None
        if message is None or not (self._varied or epoch >= self.warmup):
            return None
        return message

    def class_diversity(self, gan) -> dict[int, float]:
        """Each class's spread of the raw generator's samples relative to the real rows of that
        class (1: as varied), from `class_num` samples per class on fixed latents."""
        from kgan.gan import default_labels

        labels = default_labels(self.class_num * gan.num_classes, gan.num_classes)
        fake = self._fake(gan, len(labels), labels=labels)
        return health.class_spread_ratios(fake, labels, self.real_class_spreads)

    def _class_collapse(self, gan, epoch: int) -> str | None:
        ratios = self.class_diversity(gan)
        low = health.collapsed_classes(ratios, self.min_class_spread)
        self._classes_varied = self._classes_varied or not low
        if not low or not (self._classes_varied or epoch >= self.warmup):
            return None
        self.collapsed_classes = low
        return health.class_collapse(ratios, low)

    # -- acting on them

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        found = self.check(self.model, logs, done)
        new = [kind for kind in found if kind not in self._active]
        self._active = set(found)
        if new:
            for kind in new:
                if self.verbose:
                    print(f"kgan: warning: epoch {done}: {kind}: {found[kind]}", flush=True)
            warnings = list(self.run.metadata().get("warnings") or [])
            warnings += [{"epoch": done, "kind": k, "message": found[k], **self._details(k)}
                         for k in new]
            self.run.update_metadata(warnings=warnings)
        serious = [kind for kind in found if kind in self.act_on]
        if not serious:
            if self.on_warning == "rollback":
                self._good = (done, [np.array(v) for v in self._state()])
            return
        if self.on_warning == "warn" or self.reason is not None:
            return
        self.model.stop_training = True
        what = f"health monitor: {serious[0]} at epoch {done} ({found[serious[0]]})"
        if self.on_warning == "stop":
            self.reason = f"{what}; stopped (on_warning='stop')"
        elif self._good is None:
            self.reason = f"{what}; stopped: no earlier epoch was free of warnings to roll back to"
        else:
            self._rollback()
            self.reason = (
                f"{what}; rolled back to epoch {self.rolled_back_to}, the last epoch without "
                "warnings (its checkpoint and generator are the run's)"
            )
        if self.verbose:
            print(f"kgan: {self.reason}", flush=True)

    def _details(self, kind: str) -> dict:
        """What a warning records besides its message: the classes of a `class_collapse`."""
        return {"classes": list(self.collapsed_classes)} if kind == "class_collapse" else {}

    def _state(self) -> list:
        gan = self.model
        found, seen = [], set()
        for v in [*gan.variables, *gan.d_optimizer.variables, *gan.g_optimizer.variables]:
            if id(v) not in seen:
                seen.add(id(v))
                found.append(v)
        return found

    def _rollback(self) -> None:
        epoch, values = self._good
        for variable, value in zip(self._state(), values):
            variable.assign(value)
        gan = self.model
        save(gan.sampler, self.run.generator_path)
        save(gan, self.run.checkpoint_path(epoch))
        for e, path in self.run.checkpoints():
            if e > epoch:
                os.unlink(path)
        self.run.update_metadata(epochs_done=epoch, steps_done=_step(gan))
        self.rolled_back_to = epoch


@dataclasses.dataclass(frozen=True)
class RunCallbacks:
    """The callbacks that record a run, by name; iterating gives them in the order they must
    run: stopper, history, grid, checkpoint, card, monitor.

    Example:
        >>> recorders = run_callbacks(run, grid)
        >>> gan.fit(data, callbacks=[recorders.stopper, my_metric, *recorders.writers,
        ...                          recorders.monitor])
    """

    stopper: StopOnNonFinite
    history: HistoryWriter
    grid: SampleGrid
    checkpoint: Checkpoint
    card: ModelCard
    monitor: HealthMonitor

    @property
    def writers(self) -> list[keras.callbacks.Callback]:
        """The ones that write the epoch into the run folder: history, grid, checkpoint, card."""
        return [self.history, self.grid, self.checkpoint, self.card]

    def __iter__(self):
        return iter([self.stopper, *self.writers, self.monitor])


def run_callbacks(
    run: runs_lib.Run,
    grid: SampleGrid,
    time_offset: float = 0.0,
    monitor: HealthMonitor | None = None,
) -> RunCallbacks:
    """The callbacks that record a run (`monitor`: default one watching the losses only)."""
    return RunCallbacks(
        stopper=StopOnNonFinite(),
        history=HistoryWriter(run, time_offset),
        grid=grid,
        checkpoint=Checkpoint(run),
        card=ModelCard(run),
        monitor=monitor if monitor is not None else HealthMonitor(run),
    )


__all__ = [
    "Checkpoint",
    "PoisonedModel",
    "EvaluateEvery",
    "RunCallbacks",
    "HEALTH_ACTIONS",
    "HealthMonitor",
    "HistoryWriter",
    "ModelCard",
    "SampleGrid",
    "StopOnNonFinite",
    "TensorBoardWriter",
    "poisoned",
    "run_callbacks",
    "save",
]
