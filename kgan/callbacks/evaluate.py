"""`EvaluateEvery`: sample-quality metrics measured during training, into the epoch's logs
and the run's `metrics.jsonl`."""

from __future__ import annotations

import keras

from kgan import runs as runs_lib
from kgan.callbacks.guards import conditional_classes, healthy, training_step


class EvaluateEvery(keras.callbacks.Callback):
    """Measures the sampling generator (EMA weights when on) every `every` epochs and after
    the last: `num` samples from a fixed latent seed through `evaluator`
    (`kgan.evaluation.Evaluator`). The numbers join the epoch's logs (so the progress bar and
    `history.jsonl` show them) and the run's `metrics.jsonl` and model card, with the sample
    counts and the feature space.

    When no metric applies (image data without a feature extractor) it prints a note once
    and does nothing. Place it before the recorders.

    Example:
        >>> evaluator = kgan.evaluation.Evaluator("digits")
        >>> gan.fit(data, epochs=60, callbacks=[EvaluateEvery(run, evaluator, every=5),
        ...                                     *run_callbacks(run, grid)])
    """

    def __init__(
        self,
        run: runs_lib.Run,
        evaluator,
        every: int = 5,
        num: int = 1000,
        metrics=None,
        seed: int | None = None,
        options: dict | None = None,
        verbose: bool = True,
    ) -> None:
        super().__init__()
        from kgan import evaluation

        if int(every) < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.run = run
        self.evaluator = evaluator
        self.every = int(every)
        self.num = int(num)
        self.metrics = metrics
        self.seed = evaluation.EVAL_SEED if seed is None else int(seed)
        self.options = evaluation.TRAINING_OPTIONS if options is None else options
        self.verbose = verbose
        self.note: str | None = None

    def on_train_begin(self, logs=None):
        from kgan import evaluation

        conditional = bool(conditional_classes(self.model))
        if self.metrics is None:
            self.metrics = self.evaluator.default_metrics(
                training=True, conditional=conditional, num=self.num
            )
        if not self.metrics:
            self.note = f"no metrics during training: {self.evaluator.why_not()}"
            if self.verbose:
                print(f"kgan: note: {self.note}", flush=True)
            return
        self.metrics = self.evaluator.check(self.metrics, conditional=conditional)
        if any(m in evaluation.FEATURE_METRICS for m in self.metrics):
            self.evaluator.reference()  # the real statistics, before the first epoch's clock
        if "class_diversity" in self.metrics:
            self.evaluator.reference_labels()
            self.evaluator.floor_labels()

    def on_epoch_end(self, epoch, logs=None):
        from kgan import evaluation

        done = epoch + 1
        # The last epoch: the planned one, or one after which a callback stops training.
        last = done == (self.params or {}).get("epochs") or self.model.stop_training
        if not self.metrics or not healthy(self.model, logs) or (done % self.every and not last):
            return
        labels = evaluation.sample_labels(self.num, conditional_classes(self.model))
        samples = self.model.generate(self.num, seed=self.seed, labels=labels)
        results = self.evaluator.measure(
            samples, self.metrics, labels=labels, options=self.options
        )
        if logs is not None:
            logs.update(evaluation.scalars(results))
        evaluation.record(self.run, results, epoch=done, step=training_step(self.model))
