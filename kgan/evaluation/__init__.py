"""Measuring a generator against its dataset, during training and after it (`kgan evaluate`).

`kgan.metrics` holds the maths and `kgan.features` the extractors; this module joins them to
a dataset and a generator. An `Evaluator` knows one dataset as a run sees it (kind, image size,
channels), its feature space and the cached statistics of its real training data, and turns
generated samples into metric results. `evaluate` runs it on a run's saved generator and
writes the results into the run folder; the metric callback (`kgan.callbacks.EvaluateEvery`),
the health monitor and the closing memorisation audit of `kgan.training.train` use the same
`Evaluator`.

| data                                   | feature space                 | metrics                 |
| -------------------------------------- | ----------------------------- | ----------------------- |
| images with an extractor (`digits`,    | the extractor's features      | `fid`, `kid`, `pr`, `dc`, |
| `mnist`; any with `extractor=`)        |                               | `memorisation`, (`classifier_score`) |
| images without one (e.g. `cifar10`)    | none                          | none: pass `extractor="inception"` |
| vectors (`ring8`, `grid25`, arrays)    | the vectors themselves (`raw`)| `fid`, `kid`, `pr`, `dc`, `memorisation`, and `mode_coverage` for the toy mixtures |

Generated images are compared with the run's *training* split as the run loads it (same
image size and channels), both mapped to the extractor's input size the same way. The
reference is the split's first `reference_num` examples (default 10,000, all of `digits`);
the memorisation audit looks for near-copies among those same examples. Precision/recall
(`pr`) and density/coverage (`dc`) compare equal numbers of real and generated samples, and
every FID carries the real-vs-real floor at the same N (`Evaluator.fid_floor`).

Labelled data adds the metrics inside each class: `class_diversity` (spread and recall of
each class's samples against the real rows of that class; the classes are the ones a
conditional generator drew for, else the classifier's) and `class_balance` (each class's
share, by the classifier). `pr` and `class_diversity` carry real-vs-real floors too
(`Evaluator.pr_floor`, `Evaluator.class_floor`), from the held-out split and its labels.

Data with a mode classifier (`stacked_mnist`: each channel's digit by the MNIST classifier)
gets `stacked_modes`: modes hit out of 1,000 and KL(mode histogram || uniform), beside held-out
real images' values at the same N (`Evaluator.mode_floor`). It needs no feature extractor.

The package, one job a module: `defaults` (seeds, metric lists, the floor split), `evaluator`
(the `Evaluator`: what applies, the feature space), `reference` (real data and its cache),
`floors` (real-vs-real at equal N), `measure` (running the metrics), `results` (logged numbers,
`metrics.jsonl`) and `evaluate_run` (`evaluate`, after training).

Example:
    >>> evaluator = Evaluator("digits")
    >>> results = evaluator.measure(gan.generate(1000, seed=EVAL_SEED), ["fid", "pr"])
    >>> results["fid"]["fid"], results["pr"]["recall"]
    >>> evaluate(kgan.runs.open_run("saved_models", "digits"), num=5000)  # writes the run
"""

from kgan.evaluation.defaults import (
    BELOW_FLOOR_WARNING,
    CLASS_METRICS,
    DEFAULT_METRICS,
    EVAL_SEED,
    FEATURE_METRICS,
    FLOOR_SPLIT,
    MIN_PER_CLASS,
    MODE_METRICS,
    REFERENCE_NUM,
    TRAINING_METRICS,
    TRAINING_OPTIONS,
)
from kgan.evaluation.evaluate_run import evaluate, generate_chunks, sample_labels
from kgan.evaluation.evaluator import Evaluator, check_extractor
from kgan.evaluation.results import record, scalars

__all__ = [
    "BELOW_FLOOR_WARNING",
    "CLASS_METRICS",
    "DEFAULT_METRICS",
    "EVAL_SEED",
    "Evaluator",
    "FEATURE_METRICS",
    "FLOOR_SPLIT",
    "MIN_PER_CLASS",
    "MODE_METRICS",
    "REFERENCE_NUM",
    "TRAINING_METRICS",
    "TRAINING_OPTIONS",
    "check_extractor",
    "evaluate",
    "generate_chunks",
    "record",
    "sample_labels",
    "scalars",
]
