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

import keras

from kgan import runs as runs_lib
from kgan.callbacks.budget import TimeBudget
from kgan.callbacks.evaluate import EvaluateEvery
from kgan.callbacks.guards import PoisonedModel, StopOnNonFinite, poisoned, save
from kgan.callbacks.monitor import HealthMonitor
from kgan.callbacks.recording import (
    GRID_SEED,
    Checkpoint,
    HistoryWriter,
    ModelCard,
    SampleGrid,
    TensorBoardWriter,
)
from kgan.health import HEALTH_ACTIONS, MIN_CLASS_SPREAD


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
    "GRID_SEED",
    "RunCallbacks",
    "HEALTH_ACTIONS",
    "HealthMonitor",
    "HistoryWriter",
    "MIN_CLASS_SPREAD",
    "ModelCard",
    "SampleGrid",
    "StopOnNonFinite",
    "TensorBoardWriter",
    "TimeBudget",
    "poisoned",
    "run_callbacks",
    "save",
]
