"""Metrics of toy 2-D mixtures, on raw samples rather than features."""

from __future__ import annotations

from typing import Any

from kgan import toy
from kgan.metrics.registry import register


@register("mode_coverage", inputs=("fake_samples", "dataset"))
def mode_coverage(fake_samples: Any, dataset: str, quality_stds: float = 3.0) -> dict:
    """Modes captured, share of high-quality samples and reverse KL on a toy 2-D mixture.

    A registered wrapper around `kgan.toy.mode_coverage` (see there for the protocol).

    Example:
        >>> mode_coverage(toy.sample("ring8", 2500), "ring8")["modes"]
        8
    """
    return toy.mode_coverage(fake_samples, dataset, quality_stds=quality_stds)
