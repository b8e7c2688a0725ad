"""Results as a run keeps them: each metric's logged numbers and their `metrics.jsonl` lines."""

from __future__ import annotations

#: How each metric's result becomes logged numbers: (logged name, key in the result).
SCALARS = {
    "fid": (("fid", "fid"),),
    "kid": (("kid", "kid"),),
    "pr": (("precision", "precision"), ("recall", "recall")),
    "dc": (("density", "density"), ("coverage", "coverage")),
    "memorisation": (("memorisation", "near_copy_share"),),
    "classifier_score": (("classifier_score", "classifier_score"),),
    "class_diversity": (
        ("spread_ratio", "spread_ratio"),
        ("min_spread_ratio", "min_spread_ratio"),
        ("class_recall", "class_recall"),
    ),
    "class_balance": (("min_share", "min_share"), ("max_share", "max_share")),
    "mode_coverage": (
        ("modes", "modes"),
        ("high_quality", "high_quality"),
        ("reverse_kl", "reverse_kl"),
    ),
    "stacked_modes": (("modes", "modes"), ("reverse_kl", "reverse_kl")),
}


def pairs(metric: str) -> tuple[tuple[str, str], ...]:
    """A metric's (logged name, key in its result) pairs; an unlisted metric logs its own name."""
    return SCALARS.get(metric, ((metric, metric),))


def scalars(results: dict[str, dict]) -> dict[str, float]:
    """The numbers a run logs from `measure`'s results: `fid`, `kid`, `precision`,
    `recall`, `density`, `coverage`, `memorisation` (the near-copy share), `classifier_score`,
    `spread_ratio`, `min_spread_ratio`, `class_recall` (class_diversity), `min_share`,
    `max_share` (class_balance), for the toy mixtures `modes`, `high_quality`, `reverse_kl`,
    and for StackedMNIST (`stacked_modes`) `modes` and `reverse_kl` out of its 1,000 modes.

    Example:
        >>> scalars({"pr": {"precision": 0.8, "recall": 0.6, "k": 3}})
        {'precision': 0.8, 'recall': 0.6}
    """
    found = {}
    for metric, result in results.items():
        for logged, key in pairs(metric):
            if key in result:
                found[logged] = float(result[key])
    return found


def record(run, results: dict[str, dict], *, epoch: int | None, step: int | None) -> None:
    """Writes `measure`'s results into the run: one `metrics.jsonl` line per logged number
    (with the sample counts, the feature space and the metric's other outputs as details)
    and the model card's latest values."""
    for metric, result in results.items():
        logged_keys = pairs(metric)
        siblings = {key for _, key in logged_keys}
        details = {
            k: v
            for k, v in result.items()
            if k not in siblings and k not in ("num_fake", "num_samples", "extractor")
        }
        for logged, key in logged_keys:
            if key not in result:
                continue
            run.record_metric(
                logged,
                float(result[key]),
                epoch=epoch,
                step=step,
                num_samples=result.get("num_fake", result.get("num_samples")),
                feature_extractor=result.get("extractor"),
                **details,
            )
