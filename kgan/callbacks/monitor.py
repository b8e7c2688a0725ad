"""`HealthMonitor`: a callback acting on the pure checks of `kgan.health` after every epoch
(warn, stop, or roll back to the last epoch without warnings)."""

from __future__ import annotations

import os

import keras
import numpy as np

from kgan import health
from kgan import runs as runs_lib
from kgan.callbacks.guards import conditional_classes, poisoned, save, training_step
from kgan.callbacks.recording import GRID_SEED
from kgan.health import HEALTH_ACTIONS, MIN_CLASS_SPREAD


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
            reference = health.as_rows(reference)
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
        if self.real_class_spreads and conditional_classes(gan):
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
        return health.as_rows(self.embed(samples) if self.embed is not None else samples)

    def diversity(self, gan) -> dict[str, float]:
        """The raw generator's `spread` and `neighbour` distance relative to as many real
        examples (1: as diverse as the real data)."""
        return health.relative_diversity(self._fake(gan, len(self.reference)),
                                         self.real_diversity)

    def _collapse(self, gan, epoch: int) -> str | None:
        message = health.mode_collapse(self.diversity(gan), self.min_spread, self.min_neighbour)
        self._varied = self._varied or message is None
        if message is None or health.warming_up(epoch, self.warmup, self._varied):
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
        if not low or health.warming_up(epoch, self.warmup, self._classes_varied):
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
        if self.on_warning == "rollback" and self._good is not None:
            self._rollback()
        kind = serious[0]
        self.reason = health.stop_reason(kind, done, found[kind], self.on_warning,
                                         self.rolled_back_to)
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
        self.run.update_metadata(epochs_done=epoch, steps_done=training_step(gan))
        self.rolled_back_to = epoch
