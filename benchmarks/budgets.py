"""Scoring one training run at several budgets of training minutes (bench_stacked, bench_budget).

`Budgets` times epochs from begin to end, so the scoring and the recorders' checkpoints are
left out of the minutes; an epoch end counts for a budget once the budget is less than half
an epoch away, and the minutes actually trained are recorded beside each score.
"""

from __future__ import annotations

import time
from typing import Callable

import keras


class StepTimer(keras.callbacks.Callback):
    """Seconds per training step after the first `skip` (compilation, pipeline warm-up)."""

    def __init__(self, skip: int = 20) -> None:
        super().__init__()
        self.skip, self.count, self.start = skip, 0, None

    def on_train_batch_end(self, batch, logs=None):
        self.count += 1
        if self.count == self.skip:
            self.start = time.perf_counter()
        self.end = time.perf_counter()

    @property
    def seconds_per_step(self) -> float:
        return (self.end - self.start) / (self.count - self.skip)


class Budgets(keras.callbacks.Callback):
    """At each budget (minutes of training) records `score(model)` (a dict) with the minutes,
    epochs and `steps(model)`; prints `describe(point)`; stops training after the last one."""

    def __init__(self, minutes: list[float], score: Callable[[keras.Model], dict], label: str,
                 steps: Callable[[keras.Model], int],
                 describe: Callable[[dict], str] = str) -> None:
        super().__init__()
        self.budgets = sorted(minutes)
        self.score, self.label, self.steps, self.describe = score, label, steps, describe
        self.elapsed, self.cpu, self.points = 0.0, 0.0, []

    def on_epoch_begin(self, epoch, logs=None):
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        took = time.perf_counter() - self._wall
        self.elapsed += took
        self.cpu += time.process_time() - self._cpu
        last = epoch + 1 == (self.params or {}).get("epochs")
        due = [b for b in self.budgets[len(self.points):] if self.elapsed + took / 2 >= 60 * b]
        if not due and not last:
            return
        budget = due[-1] if due else self.budgets[len(self.points)]
        start = time.perf_counter()
        scores = self.score(self.model)
        point = {
            "budget_minutes": budget, "train_minutes": self.elapsed / 60,
            "process_cpu_minutes": self.cpu / 60, "epochs": epoch + 1,
            "steps": int(self.steps(self.model)), **scores,
            "eval_seconds": time.perf_counter() - start,
        }
        self.points += [dict(point, budget_minutes=b) for b in due[:-1]] + [point]
        print(f"[{self.label}] {point['train_minutes']:.1f} min, {point['steps']} steps: "
              f"{self.describe(point)} (eval {point['eval_seconds']:.0f} s)", flush=True)
        if len(self.points) >= len(self.budgets):
            self.model.stop_training = True
