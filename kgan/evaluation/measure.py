"""Measuring generated samples: the inputs each metric needs, computed once, then the metrics.

`measure` is `Evaluator.measure`: it maps the samples (and the real reference) to the feature
space, hands each metric its inputs through `kgan.metrics.compute`, and puts the real-vs-real
floors beside `fid`, `pr`, `class_diversity` and `stacked_modes`.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from kgan import metrics as metrics_lib
from kgan.evaluation.defaults import FEATURE_METRICS, MODE_METRICS
from kgan.evaluation.floors import subset


def measure(
    evaluator: Any,
    samples: Any,
    metrics: Sequence[str] | None = None,
    *,
    labels: Any = None,
    options: dict | None = None,
    progress: Callable[[str, dict], None] | None = None,
) -> dict[str, dict]:
    """Runs `metrics` on generated `samples`; returns {metric: its result dict}.

    `labels` are the classes a conditional generator drew the samples for; without them
    the class metrics use the classifier's top class of each sample (`labels_from` in
    `class_diversity` says which). `pr` and `class_diversity` carry their real-vs-real
    floors (`pr_floor`, `class_floor`) as `fid` does.

    Every result records the feature space (`extractor`, `extractor_fingerprint`) and the
    sample counts (`num_real` or `num_train`, `num_fake`); `fid` also carries the
    real-vs-real floor at the same N and the ratio (`fid_floor`). `pr` and `dc` compare
    equal numbers of real and generated samples (a fixed random subset of the larger
    side), `class_diversity` equal numbers inside each class; `stacked_modes` carries held-out
    real data's modes and KL at the same N (`mode_floor`). `options` maps a metric to
    its keyword arguments (e.g. `{"kid": {"num_subsets": 10}}`); `progress(name, result)`
    is called after each metric.

    Example:
        >>> evaluator.measure(samples, ["fid", "memorisation"])["memorisation"]
        {'median_ratio': 1.1, 'near_copy_share': 0.0, 'num_train': 1500, ...}
    """
    metrics = evaluator.check(metrics, conditional=labels is not None)
    options = options or {}
    samples = np.asarray(samples, np.float32)
    inputs: dict[str, Any] = {"dataset": evaluator.dataset}
    if any(m in FEATURE_METRICS or m == "class_diversity" for m in metrics):
        reference = evaluator.reference()
        inputs["real_features"] = inputs["train_features"] = reference.features
        inputs["fake_features"] = evaluator.features(samples)
    classified = "class_diversity" in metrics and labels is None
    if classified or any(m in ("classifier_score", "class_balance") for m in metrics):
        inputs["fake_probabilities"] = evaluator.probabilities(samples)
    if "class_diversity" in metrics:
        inputs["real_labels"] = evaluator.reference_labels()
        inputs["fake_labels"] = (
            inputs["fake_probabilities"].argmax(1) if classified else np.asarray(labels)
        )
    if "mode_coverage" in metrics:
        inputs["fake_samples"] = samples
    if any(m in MODE_METRICS for m in metrics):
        inputs["fake_modes"] = evaluator.modes(samples)
    results = {}
    for name in metrics:
        extractor = space_of(evaluator, name)
        given = inputs
        if name in ("pr", "dc"):
            n = min(len(inputs["real_features"]), len(inputs["fake_features"]))
            given = {
                **inputs,
                "real_features": subset(inputs["real_features"], n),
                "fake_features": subset(inputs["fake_features"], n),
            }
        results[name] = metrics_lib.compute(
            name, extractor=extractor, options=options.get(name), **given
        )
        if name == "fid":
            results[name] = evaluator.fid_floor(results[name], inputs["fake_features"])
        if name == "pr":
            results[name] = evaluator.pr_floor(results[name], inputs["fake_features"])
        if name in MODE_METRICS:
            results[name] = evaluator.mode_floor(results[name], inputs["fake_modes"])
        if name == "class_diversity":
            source = evaluator.classifier.name if classified else "generator"
            results[name] = evaluator.class_floor(
                {**results[name], "labels_from": source},
                inputs["fake_features"],
                inputs["fake_labels"],
                options.get(name),
            )
        if progress is not None:
            progress(name, results[name])
    return results


def space_of(evaluator: Any, name: str):
    """The extractor a metric's result records: the classifier for the class-probability
    metrics, the feature space (`"raw"` for vectors) for the feature ones."""
    if name in ("classifier_score", "class_balance"):
        return evaluator.classifier
    if name in MODE_METRICS:
        return evaluator.mode_classifier
    if name in FEATURE_METRICS or name == "class_diversity":
        return evaluator.extractor if evaluator.extractor is not None else "raw"
    return None
