"""Evaluating a saved run after training (`kgan evaluate`): draw its samples, measure, record.

`sample_labels` and `generate_chunks` draw exactly what `kgan.GAN.generate` would, so the
numbers match the ones the metric callback logged during training at the same seed.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from kgan.errors import KganError
from kgan.evaluation.defaults import EVAL_SEED, FEATURE_METRICS, REFERENCE_NUM
from kgan.evaluation.evaluator import Evaluator
from kgan.evaluation.results import pairs, record, scalars


def sample_labels(num: int, num_classes: int | None) -> np.ndarray | None:
    """The classes `generate_chunks` (like `kgan.GAN.generate`) draws `num` samples for:
    0, 1, ..., K-1 in turn; None for an unconditional generator (`kgan.sampling.labels_for`)."""
    from kgan import sampling

    return sampling.labels_for(num, num_classes)


def generate_chunks(generator, num: int, seed: int, num_classes=None, batch_size: int = 256):
    """`num` samples of a saved sampling generator (`Run.load_generator()`), batch by batch:
    `kgan.sampling.draw_batches`, the path `kgan.GAN.generate(num, seed)` takes."""
    from kgan import sampling

    return sampling.draw_batches(
        generator, num, seed, num_classes=num_classes, batch_size=batch_size
    )


def evaluate(
    run,
    metrics: Sequence[str] | str | None = None,
    num: int = 5000,
    *,
    extractor: Any = "auto",
    seed: int = EVAL_SEED,
    reference_num: int = REFERENCE_NUM,
    options: dict | None = None,
    cache_dir: str | None = None,
    progress: bool = True,
    write: bool = True,
) -> dict[str, dict]:
    """Evaluates a run's sampling generator (EMA weights when on) on `num` samples and, with
    `write`, records the results in its folder (`metrics.jsonl`, the model card's `metrics`).

    Args:
        run: a `kgan.runs.Run` (`kgan.runs.open_run(root, name)`), not being trained.
        metrics: names or a comma-separated string; default: fid, kid, pr, dc and
            memorisation for images with an extractor, mode_coverage for the toy mixtures, and
            the class metrics for labelled data (conditional runs, or a classifier of the
            classes).
        num: generated samples (conditional runs: classes in turn, and the class metrics
            get those classes).
        extractor: "auto" (the dataset's default), a `kgan.features` name, or an instance.
        seed: latent seed of the samples (the same one the metric callback uses).
        reference_num: real training examples to compare with (the split's first).
        options: per-metric keyword arguments, e.g. `{"kid": {"num_subsets": 50}}`.
        progress: show a progress bar (samples, then one step per metric).

    Returns:
        {metric: result dict}, as `Evaluator.measure`.

    Example:
        >>> results = evaluate(open_run("saved_models", "digits"), ["fid", "memorisation"], 5000)
        >>> results["fid"]["fid"], results["memorisation"]["near_copy_share"]
    """
    import keras

    from kgan import runs as runs_lib
    from kgan.config import RunConfig

    if not isinstance(num, int) or num < 10:
        raise KganError(f"num must be an integer >= 10, got {num!r}")
    if run.error:
        raise runs_lib.RunError(run.error)
    if run.status == "running":
        raise KganError(
            f"run {run.name!r} is being trained right now; evaluate it when training ends "
            "(its metric callback measures it meanwhile)"
        )
    try:
        config = RunConfig.from_dict(run.config()["run"])
    except (KeyError, TypeError) as e:
        raise runs_lib.RunError(f"{run.config_path} has no valid 'run' section ({e})") from None
    evaluator = Evaluator.for_config(
        config, extractor=extractor, reference_num=reference_num, cache_dir=cache_dir
    )
    meta = run.metadata()
    num_classes = meta.get("num_classes") if meta.get("conditional") else None
    metrics = evaluator.check(metrics, conditional=bool(num_classes), num=num)
    generator = run.load_generator()

    batch = 250
    names = [logged for m in metrics for logged, _ in pairs(m)]
    bar = keras.utils.Progbar(
        math.ceil(num / batch) + 1 + len(metrics),
        verbose=int(progress),
        stateful_metrics=names,
        unit_name="step",
    )
    chunks = []
    for chunk in generate_chunks(generator, num, seed, num_classes, batch):
        chunks.append(chunk)
        bar.add(1)
    samples = np.concatenate(chunks)
    if any(m in FEATURE_METRICS for m in metrics):
        evaluator.reference()
    bar.add(1)

    def step(name, result):
        bar.add(1, values=[(k, v) for k, v in scalars({name: result}).items()])

    labels = sample_labels(num, num_classes)  # the classes generate_chunks drew for
    results = evaluator.measure(samples, metrics, labels=labels, options=options, progress=step)
    if write:
        record(run, results, epoch=meta.get("epochs_done"), step=meta.get("steps_done"))
    return results
