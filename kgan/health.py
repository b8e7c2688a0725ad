"""The health checks of a training run, as pure functions of logs and samples.

`kgan.callbacks.HealthMonitor` runs them after every epoch and acts on what they find; kept
apart so the maths and the thresholds can be read and tested without Keras.

Example:
    >>> from kgan import health
    >>> health.divergence([(0.01, 1.0), (0.01, 2.0), (0.01, 4.0)], patience=3,
    ...                   d_loss_floor=0.05)  # a message: D won, G's loss climbs
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from kgan import metrics

#: What `HealthMonitor` may do when a pattern begins.
HEALTH_ACTIONS = ("warn", "stop", "rollback")
#: `class_collapse` fires below this within-class spread ratio (see HealthMonitor). Measured
#: on digits pixels, 32 samples per class of the raw generator against the first 1,000
#: training images: real held-out images score 0.75-1.0 (lowest class over 200 draws); the
#: digits preset (3 seeds, 20-60 epochs, healthy) never went below 0.30 in any class at any
#: epoch (0.30-0.31 at epochs 1 and 12), while 0.5 would have warned at epochs 6-34 of every
#: seed; a generator replaying one training image per class with N(0, 0.05) pixel noise scores
#: at most 0.17 and one that ignores z within a class about 0. Hence 0.2 (1.5x below healthy).
MIN_CLASS_SPREAD = 0.2

_FIX_NON_FINITE = (
    "training diverged; lower the learning rates, add a regulariser (r1) or use another loss"
)


def non_finite_keys(logs: Mapping | None) -> list[str]:
    """The keys of `logs` whose value is NaN or infinite (values that are not numbers are
    skipped)."""
    bad = []
    for key, value in (logs or {}).items():
        try:
            if not math.isfinite(float(value)):
                bad.append(key)
        except (TypeError, ValueError):
            continue
    return bad


def non_finite_logs(logs: Mapping | None) -> str | None:
    """The `non_finite` message for an epoch's `logs` holding NaN or infinity, or None."""
    bad = non_finite_keys(logs)
    if not bad:
        return None
    values = ", ".join(f"{k}={float(logs[k])}" for k in bad)
    return f"non-finite values ({values}): {_FIX_NON_FINITE}"


def non_finite_weights(poisoned: Sequence[str]) -> str | None:
    """The `non_finite` message for the model's `poisoned` variables (`kgan.callbacks.poisoned`:
    what holds NaN or infinity), or None when there are none."""
    if not poisoned:
        return None
    return f"non-finite weights ({poisoned[0]}): {_FIX_NON_FINITE}"


def d_overpowering(logs: Mapping, max_gap: float) -> str | None:
    """The `d_overpowering` message when D(real) - D(fake) exceeds `max_gap` logits."""
    gap = float(logs.get("d_real", 0.0)) - float(logs.get("d_fake", 0.0))
    if gap <= max_gap:
        return None
    return (
        f"D(real) - D(fake) = {gap:.1f} logits: the discriminator wins and the generator "
        "gets little signal; lower d_lr, or add a regulariser (r1)"
    )


def divergence(
    losses: Sequence[tuple[float, float]], patience: int, d_loss_floor: float
) -> str | None:
    """The `divergence` message when over the last `patience` epochs' `(d_loss, g_loss)` the
    discriminator's loss stayed below `d_loss_floor` while the generator's climbed."""
    recent = list(losses[-patience:]) if patience > 0 else []
    if len(recent) < patience or patience < 2:
        return None
    d_low = all(d < d_loss_floor for d, _ in recent)
    g_climbs = all(b[1] > a[1] for a, b in zip(recent, recent[1:]))
    if not (d_low and g_climbs):
        return None
    return (
        f"for {patience} epochs the discriminator loss stayed below "
        f"{d_loss_floor:g} (now {recent[-1][0]:.3g}) while the generator loss climbed "
        f"from {recent[0][1]:.3g} to {recent[-1][1]:.3g}: training diverged; lower d_lr, "
        "add a regulariser (r1) or use the hinge or nonsaturating loss"
    )


def as_rows(x) -> np.ndarray:
    """`x` (samples or features) as float64 rows, one per sample: the space the checks use."""
    return np.asarray(x, np.float64).reshape(len(x), -1)


def warming_up(epoch: int, warmup: int, varied: bool) -> bool:
    """A collapse warning waits before epoch `warmup` (1-based) until the generator has once
    been diverse (`varied`): a fresh generator varies little."""
    return not (varied or epoch >= warmup)


def diversity(x: np.ndarray) -> dict[str, float]:
    """Spread (mean per-feature standard deviation) and median nearest-neighbour distance."""
    return {
        "spread": float(np.mean(np.std(x, axis=0))),
        "neighbour": float(np.median(metrics.knn_radii(x, 1))),
    }


def relative_diversity(fake: np.ndarray, real: Mapping[str, float]) -> dict[str, float]:
    """The `diversity` of `fake` rows relative to the real data's `real` diversity (1: as
    diverse); non-finite samples count as no diversity at all."""
    if not np.all(np.isfinite(fake)):
        return {"spread": 0.0, "neighbour": 0.0}
    found = diversity(fake)
    return {k: found[k] / max(real[k], 1e-12) for k in found}


def mode_collapse(found: Mapping[str, float], min_spread: float, min_neighbour: float
                  ) -> str | None:
    """The `mode_collapse` message for a `relative_diversity` below `min_spread` or
    `min_neighbour`, or None."""
    if found["spread"] < min_spread:
        what = f"generated samples vary {found['spread']:.0%} as much as the real data"
    elif found["neighbour"] < min_neighbour:
        what = (
            f"generated samples lie {found['neighbour']:.0%} as far from their nearest "
            "neighbour as real examples do (many are near-duplicates)"
        )
    else:
        return None
    return f"{what}: mode collapse; try another loss, a regulariser (r1) or a lower lr"


def class_spreads(x: np.ndarray, labels, min_rows: int = 8) -> dict[int, float]:
    """The spread of the rows of each class with at least `min_rows` of them (fewer give
    no estimate worth a warning)."""
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(x):
        raise ValueError(f"reference_labels has {len(labels)} entries for {len(x)} rows")
    classes, counts = np.unique(labels, return_counts=True)
    return {
        int(c): metrics.spread(x[labels == c]) for c, n in zip(classes, counts) if n >= min_rows
    }


def class_spread_ratios(fake: np.ndarray, labels: np.ndarray, real: Mapping[int, float]
                        ) -> dict[int, float]:
    """Each class's spread of the `fake` rows (of classes `labels`) relative to the `real`
    spread of that class (1: as varied); classes with fewer than 2 rows are left out and
    non-finite rows count as 0."""
    found = {}
    for c, spread in real.items():
        rows = fake[labels == c]
        if len(rows) >= 2:
            ok = np.all(np.isfinite(rows))
            found[c] = metrics.spread(rows) / max(spread, 1e-12) if ok else 0.0
    return found


def collapsed_classes(ratios: Mapping[int, float], min_class_spread: float) -> list[int]:
    """The classes whose ratio is below `min_class_spread`: the least varied first, then the
    others in order."""
    low = {c: r for c, r in ratios.items() if r < min_class_spread}
    if not low:
        return []
    worst = min(low, key=low.get)
    return [worst, *sorted(set(low) - {worst})]


def class_collapse(ratios: Mapping[int, float], classes: Sequence[int]) -> str:
    """The `class_collapse` message for the `collapsed_classes` of `ratios`."""
    worst, others = classes[0], classes[1:]
    also = f" (classes {', '.join(map(str, others))} too)" if others else ""
    return (
        f"class {worst}: generated samples vary {ratios[worst]:.0%} as much as real ones of "
        f"that class{also}: the generator ignores its latent within a class; try spectral "
        "normalisation in the discriminator (--arch-arg spectral_norm=true), a regulariser "
        "(r1) or a lower g_lr"
    )


def stop_reason(kind: str, epoch: int, message: str, on_warning: str,
                rolled_back_to: int | None = None) -> str:
    """What `HealthMonitor` did about pattern `kind` at `epoch` under `on_warning` ("stop" or
    "rollback"; `rolled_back_to`: the epoch restored, None when there was none to go back to)."""
    what = f"health monitor: {kind} at epoch {epoch} ({message})"
    if on_warning == "stop":
        return f"{what}; stopped (on_warning='stop')"
    if rolled_back_to is None:
        return f"{what}; stopped: no earlier epoch was free of warnings to roll back to"
    return (
        f"{what}; rolled back to epoch {rolled_back_to}, the last epoch without "
        "warnings (its checkpoint and generator are the run's)"
    )


__all__ = [
    "HEALTH_ACTIONS",
    "MIN_CLASS_SPREAD",
    "as_rows",
    "class_collapse",
    "class_spread_ratios",
    "class_spreads",
    "collapsed_classes",
    "d_overpowering",
    "divergence",
    "diversity",
    "mode_collapse",
    "non_finite_keys",
    "non_finite_logs",
    "non_finite_weights",
    "relative_diversity",
    "stop_reason",
    "warming_up",
]
