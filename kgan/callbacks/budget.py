"""`TimeBudget`: ends training at the epoch boundary where the next epoch would overrun a
budget of minutes, so a run says "15 minutes" instead of counting epochs for one machine."""

from __future__ import annotations

import time

import keras

from kgan import distribute


class TimeBudget(keras.callbacks.Callback):
    """Stops `fit` after the epoch past which another epoch (as long as the last one) would end
    beyond `minutes` of training time; earlier sessions' time counts (`time_offset`, seconds).

    Checked at epoch ends only, so every epoch is whole and a stopped run resumes and extends
    like any other; the first epoch of a session always runs. Put it before the callbacks that
    act on the last epoch (`EvaluateEvery` measures when `model.stop_training` is set).

    Example:
        >>> budget = TimeBudget(minutes=15)
        >>> gan.fit(data, epochs=10**6, callbacks=[budget, EvaluateEvery(...), ...])
        >>> budget.stopped_after  # the epoch (1-based) it stopped after, or None
    """

    def __init__(self, minutes: float, time_offset: float = 0.0) -> None:
        super().__init__()
        self.seconds = 60.0 * float(minutes)
        self.elapsed = float(time_offset)
        self.stopped_after: int | None = None
        self._start: float | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        took = time.perf_counter() - (self._start or time.perf_counter())
        self.elapsed += took
        over = self.elapsed + took > self.seconds
        # Workers' clocks differ: they stop together when any of them is out of time.
        over = distribute.any_worker(self.model.distribute_strategy, over)
        if over and epoch + 1 < (self.params or {}).get("epochs", 0):
            self.model.stop_training = True
            self.stopped_after = epoch + 1


__all__ = ["TimeBudget"]
