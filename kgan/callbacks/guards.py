"""Guards against a diverged run: stop on non-finite or exploding losses, never save a
poisoned model, and tell the recorders whether an epoch is healthy enough to record."""

from __future__ import annotations

import os

import keras
import numpy as np

from kgan import health
from kgan import runs as runs_lib
from kgan.errors import KganError


def all_finite(logs) -> bool:
    """No value of `logs` is NaN or infinite."""
    return not health.non_finite_keys(logs)


def training_step(model) -> int:
    """The generator optimizer's step count: the run's training step."""
    return int(keras.ops.convert_to_numpy(model.g_optimizer.iterations))


def conditional_classes(model) -> int | None:
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
    key = (training_step(model), int(keras.ops.convert_to_numpy(model.d_optimizer.iterations)))
    cached = getattr(model, "_kgan_poisoned", None)
    if cached is None or cached[0] != key:
        cached = (key, model.non_finite())
        object.__setattr__(model, "_kgan_poisoned", cached)
    return cached[1]


#: Attribute through which `StopOnNonFinite` tells the other callbacks (which may be built
#: elsewhere) that training has diverged, as Keras' own `model.stop_training` does.
_DIVERGED = "_kgan_diverged"


def healthy(model, logs) -> bool:
    """The epoch may be recorded: training has not diverged, its logs are finite and so is
    the whole model."""
    return getattr(model, _DIVERGED, None) is None and all_finite(logs) and not poisoned(model)


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
            step = training_step(self.model)
            self._stop(
                f"non-finite loss at epoch {self._epoch}, step {step} ({values}); "
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
                    f"exploding loss at epoch {self._epoch}, step {training_step(self.model)} "
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
                f"non-finite weights after epoch {epoch + 1}, step {training_step(self.model)}: "
                f"{found[0]} holds NaN or infinity{more} although the logged losses looked "
                "finite; lower the learning rates, add a regulariser (e.g. r1) or use another loss"
            )
        elif "first non-finite" not in self.reason:
            self.reason += f"; first non-finite variable: {found[0]}{more}"


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
