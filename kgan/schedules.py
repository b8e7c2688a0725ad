"""Learning-rate schedules used by run recipes (serialisable, so checkpoints reload them).

Example:
    >>> keras.optimizers.Adam(HoldThenDecay(1e-3, steps=3000, decay_fraction=0.5))
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="kgan.schedules")
class HoldThenDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`learning_rate`, then a linear decay to 0 over the last `decay_fraction` of `steps`.

    Args:
        learning_rate: the rate held at first.
        steps: the optimizer step at which the rate reaches 0.
        decay_fraction: the share of `steps` (at the end) over which it decays; 0 holds the
            rate constant.
    """

    def __init__(self, learning_rate: float, steps: int, decay_fraction: float) -> None:
        if not 0.0 <= float(decay_fraction) <= 1.0:
            raise ValueError(f"decay_fraction must be in [0, 1], got {decay_fraction}")
        self.learning_rate = float(learning_rate)
        self.steps = int(steps)
        self.decay_fraction = float(decay_fraction)

    def __call__(self, step):
        if self.decay_fraction == 0.0:
            return keras.ops.convert_to_tensor(self.learning_rate, "float32")
        decay_steps = max(self.steps * self.decay_fraction, 1.0)
        left = (self.steps - keras.ops.cast(step, "float32")) / decay_steps
        return self.learning_rate * keras.ops.clip(left, 0.0, 1.0)

    def get_config(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "steps": self.steps,
            "decay_fraction": self.decay_fraction,
        }


__all__ = ["HoldThenDecay"]
