"""`TimeBudget`: ends training at the first step boundary past a budget of minutes, so a run
says "15 minutes" instead of counting epochs for one machine."""

from __future__ import annotations

import time

import keras

from kgan import distribute
from kgan.callbacks.guards import training_step


class TimeBudget(keras.callbacks.Callback):
    """Stops `fit` at the end of the first step (one `steps_per_execution` call) that ends past
    `minutes` of training time; earlier sessions' time counts (`time_offset`, seconds).

    The epoch it stops in ends there: Keras still calls `on_epoch_end`, so the run's recorders
    write that epoch (shorter than the others; its history record says the step), its
    checkpoint and its measurement, and the run is complete and resumes like any other. The
    first step of a session always runs. Put it before the callbacks that act on the last
    epoch (`EvaluateEvery` measures when `model.stop_training` is set).

    Example:
        >>> budget = TimeBudget(minutes=15)
        >>> gan.fit(data, epochs=10**6, callbacks=[budget, EvaluateEvery(...), ...])
        >>> budget.stopped_after, budget.stopped_at_step  # (epoch, step) it stopped at, or None
    """

    def __init__(self, minutes: float, time_offset: float = 0.0) -> None:
        super().__init__()
        self.seconds = 60.0 * float(minutes)
        self.elapsed = float(time_offset)  # training seconds before the current epoch
        self.stopped_after: int | None = None
        self.stopped_at_step: int | None = None
        self.partial = False  # whether the last epoch stopped before its planned steps
        self._start: float | None = None
        self._out = False
        self._steps_done = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._out = False

    def on_train_batch_end(self, batch, logs=None):
        over = self.elapsed + time.perf_counter() - self._start >= self.seconds
        # Workers' clocks differ: every worker asks after every call, and all stop together
        # when any of them is out of time.
        if distribute.any_worker(self.model.distribute_strategy, over):
            self.model.stop_training = True
            self._out = True
        self._steps_done = batch + 1  # Keras passes the last step of the call (0-based)

    def on_epoch_end(self, epoch, logs=None):
        self.elapsed += time.perf_counter() - self._start
        if self._out and epoch + 1 < (self.params or {}).get("epochs", 0):
            self.stopped_after = epoch + 1
            self.stopped_at_step = training_step(self.model)
            self.partial = self._steps_done < (self.params or {}).get("steps", 0)


__all__ = ["TimeBudget"]
