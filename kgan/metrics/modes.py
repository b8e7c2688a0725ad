"""Mode coverage of data with many discrete modes (StackedMNIST's 1,000 digit triples).

The protocol of PacGAN, PresGAN and R3GAN: classify each of 26,000 generated images into its
mode, then report the modes hit at least once and KL(generated mode histogram || uniform).
The modes come from a mode classifier (`kgan.features.modes`); this module only counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kgan.errors import KganError
from kgan.metrics.registry import register


def histogram_coverage(counts: Any) -> dict:
    """Modes hit and KL(p || uniform) of a histogram of counts over all K modes.

    KL = sum_m p_m log(K p_m) over the modes with p_m > 0: 0 when every mode is hit equally,
    log(K / k) when k modes share the samples equally, log(K) for a single mode.

    Example:
        >>> histogram_coverage([5, 5, 0, 0])
        {'modes': 2, 'num_modes': 4, 'reverse_kl': 0.693..., 'num_fake': 10}
    """
    counts = np.asarray(counts, np.float64)
    if counts.ndim != 1 or len(counts) < 1 or np.any(counts < 0) or counts.sum() <= 0:
        raise KganError("a mode histogram must be non-negative counts over the modes, not all 0")
    p = counts / counts.sum()
    hit = p > 0
    return {
        "modes": int(hit.sum()),
        "num_modes": int(len(counts)),
        "reverse_kl": float(np.sum(p[hit] * np.log(p[hit] * len(counts)))),
        "num_fake": int(round(counts.sum())),
    }


@register("stacked_modes", inputs=("fake_modes",))
def stacked_modes(fake_modes: Any, num_modes: int = 1000) -> dict:
    """Modes captured out of `num_modes` and reverse KL of generated samples' modes.

    `fake_modes` are the samples' mode indices 0..num_modes-1 (StackedMNIST: 100r + 10g + b
    from `kgan.features.ChannelDigits`). Both numbers depend on N (fewer samples hit fewer
    modes and raise the KL by about (K - 1) / 2N), so read them beside real data's at the
    same N (the evaluator adds `modes_floor`, `reverse_kl_floor`).

    Example:
        >>> stacked_modes(np.arange(26_000) % 10)["reverse_kl"]   # 10 triples: log(100)
        4.605...
    """
    modes = np.asarray(fake_modes)
    if modes.ndim != 1 or not len(modes) or not np.issubdtype(modes.dtype, np.integer):
        raise KganError(f"fake_modes must be a non-empty 1-D array of mode indices, got {modes!r}")
    if modes.min() < 0 or modes.max() >= num_modes:
        raise KganError(
            f"fake_modes must lie in 0..{num_modes - 1}, got {modes.min()}..{modes.max()}"
        )
    return histogram_coverage(np.bincount(modes, minlength=num_modes))
