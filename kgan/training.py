"""`train`: run (or resume) a training run into its run folder. The CLI's `kgan train` calls it.

A run is reproducible from its seed: the weights come from `keras.utils.set_random_seed(seed)`,
the GAN's noise is keyed on its saved step counter, and the data order is one seeded stream
(`kgan.data.stream`) that a resumed run fast-forwards to its epoch. Checkpoints are written at
the end of every epoch, so a run killed at any moment resumes from its last finished epoch and
ends with the same weights as an uninterrupted run. The run folder's lifecycle (checks, lock,
resume point, final status) belongs to `kgan.runs.start` and `Run.recording`.

Example:
    >>> from kgan.config import RunConfig
    >>> run = train(RunConfig(dataset="ring8", arch="mlp", epochs=5), "saved_models", name="ring8")
    >>> run = train(None, "saved_models", name="ring8", resume=True, epochs=10)   # extend it
"""

from __future__ import annotations

import dataclasses
import functools
import platform
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import keras
import numpy as np
import tensorflow as tf

from kgan import autotune
from kgan import callbacks as callbacks_lib
from kgan import checkpoints
from kgan import determinism
from kgan import distribute
from kgan import evaluation
from kgan import runs as runs_lib
from kgan.config import RunConfig
from kgan.errors import KganError
from kgan.runs import default_name

if TYPE_CHECKING:
    from kgan.data import DataInfo

#: Number of real points drawn under the scatter plots of vector data.
_REFERENCE_POINTS = 1_000


class TrainingDiverged(runs_lib.RunFailed):
    """Training produced non-finite losses; the run is marked failed, its last good
    checkpoint kept."""


class WorkerLost(runs_lib.RunFailed):
    """Another worker of a multi-worker job stopped answering (killed, crashed, unreachable);
    the run is marked failed and resumes from its checkpoint once every worker restarts."""


#: What TensorFlow's collectives raise when a peer worker is gone.
_PEER_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.DeadlineExceededError,
    tf.errors.CancelledError,
    tf.errors.AbortedError,
)


class TrainingStopped(runs_lib.RunFailed):
    """The health monitor stopped training (`on_warning` "stop" or "rollback"); the run is
    marked failed with the reason and can be resumed from its checkpoint."""


# ----------------------------------------------------------------------------- data


def data_info(config: RunConfig) -> DataInfo:
    """The shape, classes and size of the run's data (reads metadata, not the data)."""
    from kgan import data

    try:
        info = data.info(
            config.dataset,
            split=config.split,
            image_size=config.image_size,
            channels=config.channels,
            data_dir=config.data_dir,
        )
    except KganError:
        raise
    except (ValueError, OSError) as e:
        raise KganError(f"cannot read dataset {config.dataset!r}: {e}") from None
    if config.conditional and not info.num_classes:
        raise KganError(
            f"dataset {config.dataset!r} has no class labels; train it unconditionally "
            "(drop --conditional)"
        )
    return info


def steps_per_epoch(config: RunConfig, info: DataInfo) -> int:
    """`config.steps_per_epoch`, or one pass over the data (full batches only).

    A batch larger than the dataset is refused either way: it would repeat examples within
    the batch.
    """
    if info.num_examples and config.batch_size > info.num_examples:
        raise KganError(
            f"dataset {config.dataset!r} has {info.num_examples} examples, fewer than one batch "
            f"of {config.batch_size}; lower --batch-size to at most {info.num_examples}"
        )
    if config.steps_per_epoch:
        return config.steps_per_epoch
    if not info.num_examples:
        raise KganError(
            f"the size of dataset {config.dataset!r} is unknown; pass --steps-per-epoch"
        )
    return info.num_examples // config.batch_size


def batches(config: RunConfig, steps: int, first_epoch: int) -> tf.data.Dataset:
    """The run's batches from `first_epoch` (0-based) to its last epoch: `kgan.data.stream`
    of its data, `steps` per epoch (with int32 labels if conditional)."""
    from kgan import data

    try:
        return data.stream(
            config.dataset,
            split=config.split,
            image_size=config.image_size,
            channels=config.channels,
            labels=config.conditional,
            data_dir=config.data_dir,
            batch_size=config.batch_size,
            steps=steps,
            first_epoch=first_epoch,
            last_epoch=config.epochs,
            seed=config.seed,
        )
    except KganError:
        raise
    except (ValueError, OSError) as e:
        raise KganError(f"cannot load dataset {config.dataset!r}: {e}") from None


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What a run trains, all checked before its folder is touched: the data, the batches per
    epoch, the GAN (its checkpoint's when resumed), the epoch it starts at, its batches."""

    info: DataInfo
    steps: int
    gan: Any
    first_epoch: int
    batches: tf.data.Dataset


def _prepare(
    config: RunConfig, checkpoint: tuple[int, Path] | None, *, strategy: tf.distribute.Strategy
) -> _Plan:
    """Everything of a run that can fail on the user's input (`kgan.runs.start` calls it
    before it writes anything); seeds the process for the GAN's weights and the data order.
    The GAN is built (or loaded) in `strategy`'s scope, so its variables are mirrored."""
    info = data_info(config)
    steps = steps_per_epoch(config, info)
    distribute.check_batch(config.batch_size, strategy, config.strategy)
    if config.eval_extractor is not None:  # unknown, or inception not installed: fail now
        evaluation.check_extractor(config.eval_extractor)
    keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        if checkpoint is not None:
            first_epoch, gan = checkpoint[0], checkpoints.load(checkpoint[1])
            config.check_model(gan)
        else:
            first_epoch, gan = 0, config.build_gan(info.shape, info.num_classes, steps)
    return _Plan(info, steps, gan, first_epoch, batches(config, steps, first_epoch))


# ----------------------------------------------------------------------------- the run


def versions() -> dict:
    import kgan

    return {
        "kgan": kgan.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
    }


def _model_card(name: str, config: RunConfig, plan: _Plan) -> dict:
    """The new run's model card (`kgan.runs` documents its fields)."""
    info, gan = plan.info, plan.gan
    compile_config = gan.get_compile_config() or {}
    return {
        "name": name,
        "dataset": config.dataset,
        "split": info.split,
        "kind": info.kind,
        "data_shape": list(info.shape),
        "num_examples": info.num_examples,
        "conditional": bool(gan.num_classes),
        "num_classes": gan.num_classes,
        "class_names": info.class_names if gan.num_classes else None,
        "latent_dim": gan.latent_dim,
        "architecture": config.arch,
        "architecture_config": config.architecture().get_config(),
        "loss": config.loss,
        "regularizers": compile_config.get("regularizers", []),
        "n_critic": gan.n_critic,
        "reuse_fakes": gan.reuse_fakes,
        "ema_decay": gan.ema_decay,
        "batch_size": config.batch_size,
        "epochs": config.epochs,
        "steps_per_epoch": plan.steps,
        "epochs_done": 0,
        "steps_done": 0,
        "training_time_s": 0.0,
        "seed": config.seed,
        "deterministic": config.deterministic,
        "precision": config.precision,
        "jit_compile": config.jit_compile,
        "strategy": config.strategy,
        "sample_grid": None,
        "metrics": {},
        "versions": versions(),
    }


def _grid_callback(run, config: RunConfig, spec: DataInfo, gan, real) -> callbacks_lib.SampleGrid:
    if spec.kind == "image":
        from kgan import sampling

        per_class = gan.num_classes and gan.num_classes <= sampling.MAX_CLASS_COLUMNS
        num = gan.num_classes * config.grid_size if per_class else config.grid_size**2
        cols = sampling.grid_columns(num, gan.num_classes)
        return callbacks_lib.SampleGrid(run, num=num, cols=cols)
    return callbacks_lib.SampleGrid(run, num=2_500, reference=real)


def train(
    config: RunConfig | None,
    runs_dir: str | Path | None = None,
    *,
    name: str | None = None,
    resume: bool = False,
    epochs: int | None = None,
    overwrite: bool = False,
    export: bool = True,
    verbose: str | int = "auto",
    callbacks: list | None = None,
    on_start: Callable[[runs_lib.Start], None] | None = None,
    strategy: tf.distribute.Strategy | None = None,
) -> runs_lib.Run | None:
    """Trains a GAN as described by `config` into `runs_dir/name` and returns the run, under
    the `tf.distribute` strategy `config.strategy` names. Under several workers (`multiworker`)
    only the chief writes the run folder and gets the run; the other workers return None.

    Args:
        config: the run's options; None when resuming (the run's `config.json` is used).
        runs_dir: the runs root (default `kgan.runs.default_root()`).
        name: the run's name; a new run without one is named `<dataset>-<arch>-<time>`.
        resume: continue the existing run `name` from its last checkpoint.
        epochs: when resuming, train up to this many epochs in total (extends a finished run).
        overwrite: replace an existing run of the same name.
        export: write the SavedModel export into the run folder when training completes.
        verbose: Keras' `fit` verbosity (progress bar per epoch).
        callbacks: extra Keras callbacks (e.g. a metric); they run before the run recorders.
        on_start: called with the `kgan.runs.Start` once every check has passed, before
            training (the CLI announces the run's name and folder there).
        strategy: a `tf.distribute.Strategy` of the caller's own (e.g. with a cluster resolver
            of its own) instead of the one `config.strategy` names.

    Raises:
        KganError: bad options, unknown or corrupt run, unreadable data.
        TrainingDiverged: the losses became non-finite (the run is marked failed).
    """
    root = Path(runs_dir) if runs_dir is not None else runs_lib.default_root()
    # First of all: determinism and the strategy configure TensorFlow's runtime as it starts.
    wanted = config if config is not None else _saved_config(root, name)
    if wanted is not None and wanted.deterministic:
        determinism.enable()  # before `data_info`: one inter-op thread needs a fresh runtime
    if strategy is None:
        strategy = (
            distribute.make(wanted.strategy, wanted.devices)
            if wanted is not None
            else tf.distribute.get_strategy()  # an unreadable run: `runs.start` says why
        )
    where = distribute.role(strategy)
    if config is not None and not resume:
        config = _follow_data_and_device(config, multiworker=where.workers > 1,
                                         replicas=strategy.num_replicas_in_sync)
    options = dict(resume=resume, epochs=epochs, verbose=verbose, callbacks=callbacks or [])
    if not where.chief:
        _train_as_worker(config, root, name, where, strategy, overwrite=overwrite, **options)
        return None
    return _train_in(config, root, name, strategy, where, overwrite=overwrite, export=export,
                     on_start=on_start, **options)


def _saved_config(root: Path, name: str | None) -> RunConfig | None:
    """The saved config of run `name` to resume, or None when it cannot be read (the resume
    then fails in `kgan.runs.start`, with the reason)."""
    if not name:
        return None
    try:
        return runs_lib.open_run(root, name).run_config()
    except KganError:
        return None


def _train_in(config, root: Path, name, strategy, where, *, resume, epochs, overwrite, export,
              verbose, callbacks, on_start) -> runs_lib.Run:
    """`train` of the process that owns run folder `root/name`: the only one, or the chief."""
    started = runs_lib.start(
        root, name, config, resume=resume, overwrite=overwrite, epochs=epochs,
        check=functools.partial(_prepare, strategy=strategy),
    )
    if started.note:
        print(f"kgan: {started.note}", flush=True)
    if started.done:
        return started.run
    if on_start is not None:
        on_start(started)
    run, config, plan = started.run, started.config, started.checked
    if strategy.num_replicas_in_sync > 1:  # one device needs no word
        print(f"kgan: strategy {config.strategy}: "
              f"{distribute.describe(strategy, config.batch_size)}", flush=True)
    with run.recording():
        if not resume:
            run.write_config(
                {
                    "run": config.to_dict(),
                    "model": keras.saving.serialize_keras_object(plan.gan),
                    "compile": plan.gan.get_compile_config(),
                }
            )
            run.update_metadata(**_model_card(run.name, config, plan))
        run.update_metadata(replicas=strategy.num_replicas_in_sync, workers=where.workers)
        extractor = config.eval_extractor or "auto"
        evaluator = evaluation.Evaluator.for_config(config, extractor=extractor)
        try:
            _fit(run, config, plan, evaluator, verbose=verbose, callbacks=callbacks)
        except _PEER_ERRORS as e:
            if where.workers == 1:
                raise
            first = " ".join(str(e).split())[:160]
            reason = (f"lost contact with another worker ({type(e).__name__}: {first}); "
                      f"restart every worker with kgan train --resume {run.name}")
            raise WorkerLost(f"run {run.name!r} stopped: {reason}", reason) from None
        if where.workers > 1:
            print(f"kgan: worker {where.index} of {where.workers}: weights fingerprint "
                  f"{distribute.fingerprint(plan.gan.get_weights())}", flush=True)
        _memorisation_audit(run, config, evaluator, plan.gan)
        if export:
            from kgan import export as export_lib

            export_lib.export_run(run, gan=plan.gan)
    return run


def _train_as_worker(config, root: Path, name, where, strategy, *, resume, epochs, overwrite,
                     verbose, callbacks) -> None:
    """`train` of a worker that is not the chief: the same steps, in step with the chief, into
    a private temporary runs folder that is deleted at the end (as TensorFlow's multi-worker
    checkpointing wants), so that only the chief writes the run folder. A resume starts from
    the chief's resume point, which the runs folder (shared by the workers) holds."""
    # One folder per run and worker index, emptied first: what a killed worker left goes.
    if name:
        runs_lib.validate_name(name)
    private = Path(tempfile.gettempdir()) / f"kgan-worker{where.index}-{name or 'new-run'}"
    shutil.rmtree(private, ignore_errors=True)
    private.mkdir(parents=True)
    try:
        if resume:
            runs_lib.open_run(root, name).copy_resume_point(private)
        print(f"kgan: worker {where.index} of {where.workers}: training with the chief, which "
              f"writes the run folder; this worker's checkpoints go to {private} (deleted at "
              "the end)", flush=True)
        _train_in(config, private, name, strategy, where, resume=resume, epochs=epochs,
                  overwrite=overwrite, export=False, verbose=verbose, callbacks=callbacks,
                  on_start=None)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _follow_data_and_device(config: RunConfig, *, multiworker: bool = False,
                            replicas: int = 1) -> RunConfig:
    """A new run's config with its open choices made, so the run records what it trained
    with: the architecture from the data's kind, then `auto` precision and XLA by a short
    measurement on this machine (`kgan.autotune`). Workers would each measure their own and
    could disagree, so under several workers `auto` means float32 without XLA. The measurement
    times one device, and XLA fails on variables mirrored over several (TF's "tf.Variable on a
    different device"), so with several replicas `auto` XLA means off."""
    if multiworker and "auto" in (config.precision, config.jit_compile):
        print("kgan: note: with several workers, precision and XLA 'auto' mean float32 without "
              "XLA on every worker (each would time its own machine); pass --precision and "
              "--jit-compile to choose", flush=True)
        config = config.replace(
            precision="float32" if config.precision == "auto" else config.precision,
            jit_compile=False if config.jit_compile == "auto" else config.jit_compile,
        )
    if replicas > 1 and config.jit_compile == "auto":
        config = config.replace(jit_compile=False)
    auto = "auto" in (config.precision, config.jit_compile)
    if config.arch is None or auto:
        info = data_info(config)
        config = config.for_data(info.kind)  # e.g. mlp for vector data
        if auto:
            config = autotune.resolve(config, info.shape, info.num_classes)
    return config


def _fit(run, config: RunConfig, plan: _Plan, evaluator, *, verbose, callbacks: list) -> None:
    """Trains `plan.gan` up to `config.epochs` with the run's recorders; raises
    `TrainingDiverged` / `TrainingStopped` when the losses or the health monitor stopped it."""
    # Real examples for the scatter plots of vector data and the health monitor (with their
    # classes when conditional: the monitor checks each class's diversity).
    if config.conditional:
        real, real_labels = evaluator.real_labelled(_REFERENCE_POINTS)
    else:
        real, real_labels = evaluator.real(_REFERENCE_POINTS), None
    grid = _grid_callback(run, config, plan.info, plan.gan, real)
    run.update_metadata(
        epochs=config.epochs,
        steps_per_epoch=plan.steps,
        sample_grid={"num": grid.num, "cols": grid.cols, "seed": grid.seed},
    )
    if plan.first_epoch == 0:
        grid.write(plan.gan, 0)
    history = run.history()  # cut back to the resume point by `kgan.runs.start`
    time_offset = float(history[-1].get("time") or 0.0) if history else 0.0
    monitor = _health_monitor(run, config, evaluator, real, real_labels)
    recorders = callbacks_lib.run_callbacks(run, grid, time_offset, monitor)
    budget = [callbacks_lib.TimeBudget(config.minutes, time_offset)] if config.minutes else []
    if plan.first_epoch < config.epochs:
        plan.gan.fit(
            plan.batches,
            epochs=config.epochs,
            initial_epoch=plan.first_epoch,
            steps_per_epoch=plan.steps,
            callbacks=[
                *budget,  # first: the epoch's other callbacks see that it is the last
                recorders.stopper,
                *_metric_callbacks(run, config, evaluator),
                *callbacks,
                *recorders.writers,
                *([callbacks_lib.TensorBoardWriter(run, grid)] if config.tensorboard else []),
                # The progress bar before the monitor, so warnings print below the epoch.
                *([keras.callbacks.ProgbarLogger()] if verbose != 0 else []),
                recorders.monitor,
            ],
            verbose=verbose,
            shuffle=False,  # the batches are already in their reproducible order
        )
    if recorders.stopper.reason:
        reason = recorders.stopper.reason
        if monitor.rolled_back_to is not None:
            reason += f"; rolled back to epoch {monitor.rolled_back_to}"
        raise TrainingDiverged(f"run {run.name!r} failed: {reason}", reason)
    if monitor.reason:
        raise TrainingStopped(f"run {run.name!r} stopped: {monitor.reason}", monitor.reason)
    if budget and budget[0].stopped_after:
        _end_at_budget(run, config, budget[0])


def _end_at_budget(run, config: RunConfig, budget) -> None:
    """A run its time budget stopped plans the epochs it did (the last one perhaps shorter),
    so it is complete, and `--resume NAME --epochs N` extends it like any other run."""
    epochs = budget.stopped_after
    run.replace_run_config(config.replace(epochs=epochs))
    run.update_metadata(epochs=epochs)
    where = f"step {budget.stopped_at_step}, in epoch {epochs}" if budget.partial else \
        f"step {budget.stopped_at_step}, the end of epoch {epochs}"
    print(f"kgan: stopped at {where}: the {config.minutes:g}-minute budget ran out", flush=True)


def _health_monitor(run, config: RunConfig, evaluator, real: np.ndarray, labels=None):
    """The run's health monitor, comparing the generator's diversity with `real` examples in
    the dataset's feature space (the raw values when there is none), and inside each class
    with the real examples of that class when their `labels` are given."""
    embed = evaluator.features if evaluator.feature_space is not None else None
    reference = embed(real) if embed is not None else real
    return callbacks_lib.HealthMonitor(
        run, reference, embed, reference_labels=labels, on_warning=config.on_warning
    )


def _metric_callbacks(run, config: RunConfig, evaluator) -> list:
    if not config.eval_every:
        return []
    return [callbacks_lib.EvaluateEvery(run, evaluator, config.eval_every, config.eval_num)]


def _memorisation_audit(run, config: RunConfig, evaluator, gan) -> None:
    """Records the memorisation audit of image runs with a feature extractor (model card)."""
    if evaluator.kind != "image" or evaluator.extractor is None:
        return
    samples = gan.generate(config.eval_num, seed=evaluation.EVAL_SEED)
    results = evaluator.measure(samples, ["memorisation"])
    step = int(keras.ops.convert_to_numpy(gan.g_optimizer.iterations))
    evaluation.record(run, results, epoch=run.metadata().get("epochs_done"), step=step)


__all__ = [
    "TrainingDiverged",
    "TrainingStopped",
    "WorkerLost",
    "batches",
    "data_info",
    "default_name",
    "steps_per_epoch",
    "train",
    "versions",
]
