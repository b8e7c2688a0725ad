"""`train`: run (or resume) a training run into its run folder. The CLI's `kgan train` calls it.

A run is reproducible from its seed: the weights come from `keras.utils.set_random_seed(seed)`,
the GAN's noise is keyed on its saved step counter, and the data order is one seeded stream
that a resumed run fast-forwards to its epoch. Checkpoints are written at the end of every
epoch, so a run killed at any moment resumes from its last finished epoch and ends with the
same weights as an uninterrupted run.

Example:
    >>> from kgan.config import RunConfig
    >>> run = train(RunConfig(dataset="ring8", arch="mlp", epochs=5), "saved_models", name="ring8")
    >>> run = train(None, "saved_models", name="ring8", resume=True, epochs=10)   # extend it
"""

from __future__ import annotations

import dataclasses
import platform
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from kgan import callbacks as callbacks_lib
from kgan import evaluation
from kgan import runs as runs_lib
from kgan.config import RunConfig
from kgan.errors import KganError

#: Splits up to this size (float32 bytes) are shuffled whole; larger ones in 10,000s.
_SHUFFLE_BYTES = 1 << 30
_SHUFFLE_BUFFER = 60_000
#: Number of real points drawn under the scatter plots of vector data.
_REFERENCE_POINTS = 1_000


class TrainingDiverged(KganError):
    """Training produced non-finite losses; the run is marked failed, its last good
    checkpoint kept."""


class TrainingStopped(KganError):
    """The health monitor stopped training (`on_warning` "stop" or "rollback"); the run is
    marked failed with the reason and can be resumed from its checkpoint."""


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """What training needs to know about the data (a subset of `kgan.data.DataInfo`)."""

    kind: str
    shape: tuple
    num_classes: int | None
    class_names: list | None
    num_examples: int | None
    split: str


# ----------------------------------------------------------------------------- data


def data_spec(config: RunConfig) -> DataSpec:
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
    return DataSpec(
        kind=info.kind,
        shape=tuple(int(d) for d in info.shape),
        num_classes=info.num_classes,
        class_names=list(info.class_names) if info.class_names else None,
        num_examples=info.num_examples,
        split=info.split,
    )


def examples(config: RunConfig, spec: DataSpec) -> tf.data.Dataset:
    """The training split as single, unshuffled examples (with int32 labels if conditional)."""
    from kgan import data

    try:
        batched = data.load(
            config.dataset,
            split=config.split,
            batch_size=config.batch_size,
            image_size=config.image_size,
            channels=config.channels,
            labels=config.conditional,
            shuffle=False,
            seed=config.seed,
            data_dir=config.data_dir,
            cache=True,
            drop_remainder=False,
        )
    except KganError:
        raise
    except (ValueError, OSError) as e:
        raise KganError(f"cannot load dataset {config.dataset!r}: {e}") from None
    return batched.unbatch()


def steps_per_epoch(config: RunConfig, spec: DataSpec) -> int:
    """`config.steps_per_epoch`, or one pass over the data (full batches only).

    A batch larger than the dataset is refused either way: it would repeat examples within
    the batch.
    """
    if spec.num_examples and config.batch_size > spec.num_examples:
        raise KganError(
            f"dataset {config.dataset!r} has {spec.num_examples} examples, fewer than one batch "
            f"of {config.batch_size}; lower --batch-size to at most {spec.num_examples}"
        )
    if config.steps_per_epoch:
        return config.steps_per_epoch
    if not spec.num_examples:
        raise KganError(
            f"the size of dataset {config.dataset!r} is unknown; pass --steps-per-epoch"
        )
    return spec.num_examples // config.batch_size


def epoch_batches(
    examples: tf.data.Dataset,
    *,
    batch_size: int,
    steps: int,
    seed: int,
    first_epoch: int,
    last_epoch: int,
    buffer: int,
) -> tf.data.Dataset:
    """Batches for epochs `first_epoch .. last_epoch - 1` (0-based), `steps` per epoch.

    The examples form one endless stream, reshuffled on every pass from `seed`; epoch `e` is
    its slice `[e * steps * batch_size, (e + 1) * steps * batch_size)`. A run resumed at epoch
    `e` skips the earlier slices, so it sees exactly the batches an uninterrupted run sees.
    (`keras.utils.set_random_seed(seed)` must have been called: tf.data combines it with
    `seed`.)
    """
    per_epoch = steps * batch_size
    return (
        examples.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .skip(first_epoch * per_epoch)
        .take((last_epoch - first_epoch) * per_epoch)
        .batch(batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )


# ----------------------------------------------------------------------------- the run


def versions() -> dict:
    import kgan

    return {
        "kgan": kgan.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
    }


def _model_card(name: str, config: RunConfig, spec: DataSpec, gan, steps: int) -> dict:
    compile_config = gan.get_compile_config() or {}
    return {
        "name": name,
        "dataset": config.dataset,
        "split": spec.split,
        "kind": spec.kind,
        "data_shape": list(spec.shape),
        "num_examples": spec.num_examples,
        "conditional": bool(gan.num_classes),
        "num_classes": gan.num_classes,
        "class_names": spec.class_names if gan.num_classes else None,
        "latent_dim": gan.latent_dim,
        "architecture": config.arch,
        "architecture_config": config.architecture().get_config(),
        "loss": config.loss,
        "regularizers": compile_config.get("regularizers", []),
        "n_critic": gan.n_critic,
        "ema_decay": gan.ema_decay,
        "batch_size": config.batch_size,
        "epochs": config.epochs,
        "steps_per_epoch": steps,
        "epochs_done": 0,
        "steps_done": 0,
        "training_time_s": 0.0,
        "seed": config.seed,
        "deterministic": config.deterministic,
        "sample_grid": None,
        "metrics": {},
        "versions": versions(),
    }


def _grid_callback(run, config: RunConfig, spec: DataSpec, gan, real) -> callbacks_lib.SampleGrid:
    if spec.kind == "image":
        if gan.num_classes and gan.num_classes <= 16:
            cols = gan.num_classes
            num = cols * config.grid_size
        else:
            cols = config.grid_size
            num = cols * cols
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
) -> runs_lib.Run:
    """Trains a GAN as described by `config` into `runs_dir/name` and returns the run.

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

    Raises:
        KganError: bad options, unknown or corrupt run, unreadable data.
        TrainingDiverged: the losses became non-finite (the run is marked failed).
    """
    root = Path(runs_dir) if runs_dir is not None else runs_lib.default_root()
    if resume:
        if not name:
            raise KganError("resuming needs the run's name (--resume NAME)")
        run = runs_lib.open_run(root, name)
        _refuse_if_alive(run)
        config = _saved_config(run, epochs)  # refuses fewer --epochs than done; writes nothing
        if _already_complete(run, config):
            return run
    else:
        if config is None:
            raise KganError("a new run needs a configuration")
        if epochs is not None:
            config = config.replace(epochs=epochs)
        config.check_names()
        name = name or default_name(config)
        if runs_lib.check_new_name(root, name, overwrite).is_dir():
            _refuse_if_alive(runs_lib.open_run(root, name))

    # Everything that can fail on the user's input fails here, before a folder is written.
    spec = data_spec(config)
    steps = steps_per_epoch(config, spec)
    data = examples(config, spec)
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        # Process-wide and irreversible: TensorFlow offers no switch back.
        tf.config.experimental.enable_op_determinism()

    initial_epoch, time_offset = 0, 0.0
    # The run's lock, before anything is deleted or written: a second process training the
    # same run fails here. `mark_complete` / `mark_failed` free it.
    lock = runs_lib.lock_run(root, name)
    try:
        if resume:
            run.remove_temp_files()  # leftovers of killed writes; no live writer while locked
        # The newest checkpoint, or an older one when that redoes an epoch whose history
        # record was lost (a torn line): the history must be exactly epochs 1..checkpoint.
        checkpoint = run.resume_point() if resume else None
        if checkpoint is not None:
            initial_epoch, path = checkpoint
            gan = _load_checkpoint(path)
            config.check_model(gan)
            said = run.resume_message(initial_epoch)  # a lost record is never a silent gap
            if said:
                print(f"kgan: {said}", flush=True)
            run.truncate(initial_epoch)
            history = run.history()
            time_offset = float(history[-1].get("time") or 0.0) if history else 0.0
        else:
            gan = config.build_gan(spec.shape, spec.num_classes, steps)
            if resume:  # killed before its first checkpoint: start again, identically
                run.truncate(0)
            else:
                run = runs_lib.new_run(root, name, overwrite=overwrite)
                run.write_config(
                    {
                        "run": config.to_dict(),
                        "model": keras.saving.serialize_keras_object(gan),
                        "compile": gan.get_compile_config(),
                    }
                )
                run.update_metadata(**_model_card(name, config, spec, gan, steps))
        if resume:
            _save_epochs(run, config)
        run.mark_running()
    except BaseException:
        lock.release()
        raise
    try:
        evaluator = evaluation.Evaluator.for_config(config)
        # Real examples for the scatter plots of vector data and the health monitor (with
        # their classes when conditional: the monitor checks each class's diversity).
        if config.conditional:
            real, real_labels = evaluator.real_labelled(_REFERENCE_POINTS)
        else:
            real, real_labels = evaluator.real(_REFERENCE_POINTS), None
        grid = _grid_callback(run, config, spec, gan, real)
        run.update_metadata(
            epochs=config.epochs,
            steps_per_epoch=steps,
            sample_grid={"num": grid.num, "cols": grid.cols, "seed": grid.seed},
        )
        if initial_epoch == 0:
            grid.write(gan, 0)
        monitor = _health_monitor(run, config, evaluator, real, real_labels)
        recorders = callbacks_lib.run_callbacks(run, grid, time_offset, monitor)
        stopper = recorders[0]
        if initial_epoch < config.epochs:
            batches = epoch_batches(
                data,
                batch_size=config.batch_size,
                steps=steps,
                seed=config.seed,
                first_epoch=initial_epoch,
                last_epoch=config.epochs,
                buffer=_shuffle_buffer(spec),
            )
            gan.fit(
                batches,
                epochs=config.epochs,
                initial_epoch=initial_epoch,
                steps_per_epoch=steps,
                callbacks=[
                    stopper,
                    *_metric_callbacks(run, config, evaluator),
                    *(callbacks or []),
                    *recorders[1:-1],
                    *([callbacks_lib.TensorBoardWriter(run, grid)] if config.tensorboard else []),
                    # The progress bar before the monitor, so warnings print below the epoch.
                    *([keras.callbacks.ProgbarLogger()] if verbose != 0 else []),
                    monitor,
                ],
                verbose=verbose,
                shuffle=False,  # the batches are already in their reproducible order
            )
        if stopper.reason:
            failure = stopper.reason
            if monitor.rolled_back_to is not None:
                failure += f"; rolled back to epoch {monitor.rolled_back_to}"
            raise TrainingDiverged(f"run {run.name!r} failed: {failure}")
        if monitor.reason:
            failure = monitor.reason
            raise TrainingStopped(f"run {run.name!r} stopped: {failure}")
        _memorisation_audit(run, config, evaluator, gan)
        if export:
            from kgan import export as export_lib

            export_lib.export_run(run, gan=gan)
    except (TrainingDiverged, TrainingStopped):
        run.mark_failed(failure)
        raise
    except KeyboardInterrupt:
        run.mark_failed(f"interrupted by the user; continue it with --resume {run.name}")
        raise
    except BaseException as e:
        run.mark_failed(f"{type(e).__name__}: {' '.join(str(e).split())}"[:500])
        raise
    run.mark_complete()
    return run


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


def _refuse_if_alive(run: runs_lib.Run) -> None:
    """A run whose training process is still alive (it holds the run's lock, or its model
    card names a live process) must not be touched by a second one."""
    try:
        trainer = run.trainer()
    except runs_lib.RunError:
        return  # a broken model card names no process; the lock is still taken before writes
    if trainer is not None:
        raise runs_lib.busy_error(run.name, trainer)


def _epochs_done(run: runs_lib.Run) -> int:
    """The epochs a resume keeps: those of the run's latest checkpoint (0 without one)."""
    latest = run.latest_checkpoint()
    return latest[0] if latest else 0


def _saved_config(run: runs_lib.Run, epochs: int | None) -> RunConfig:
    """The run's RunConfig, with `epochs` changed when a resume extends it; refuses, before
    anything is written, fewer epochs than the run has done. Writes nothing (`_save_epochs`)."""
    saved = run.config()
    run.metadata()  # a corrupt model card fails here, before any work
    try:
        config = RunConfig.from_dict(saved["run"])
    except (KeyError, TypeError):
        raise runs_lib.RunError(
            f"{run.config_path} has no valid 'run' section; the run is corrupt"
        ) from None
    if epochs is not None and epochs != config.epochs:
        done = _epochs_done(run)
        if epochs < done:
            raise KganError(
                f"run {run.name!r} has already trained {done} epochs, more than --epochs "
                f"{epochs}; pass --epochs {done} or more (or leave it out), or train a new run"
            )
        if config.lr_decay:
            raise KganError(
                f"run {run.name!r} decays its learning rates to 0 at epoch {config.epochs} "
                "(lr_decay); it cannot be extended — train a new run with more --epochs"
            )
        config = config.replace(epochs=epochs)
    return config


def _save_epochs(run: runs_lib.Run, config: RunConfig) -> None:
    """Writes a resume's changed `epochs` into config.json (holding the run's lock)."""
    saved = run.config()
    if saved["run"].get("epochs") != config.epochs:
        run.write_config(
            {**{k: v for k, v in saved.items() if k != "format"}, "run": config.to_dict()}
        )


def _already_complete(run: runs_lib.Run, config: RunConfig) -> bool:
    """True (with a note) when a complete run is resumed for no more epochs than it has:
    there is nothing to train, and nothing is written."""
    done = _epochs_done(run)
    if run.status != "complete" or config.epochs > done:
        return False
    print(
        f"kgan: note: run {run.name!r} is already complete ({done} of {config.epochs} epochs); "
        f"nothing to do — pass --epochs N with N > {done} to train it further",
        flush=True,
    )
    return True


def _shuffle_buffer(spec: DataSpec) -> int:
    """The whole split when it is small enough to hold in memory, else 10,000 examples."""
    n = spec.num_examples or _SHUFFLE_BUFFER
    example_bytes = 4 * int(np.prod(spec.shape))
    if n * example_bytes <= _SHUFFLE_BYTES:
        return n
    return min(n, 10_000)


def _load_checkpoint(path: Path):
    import kgan.gan  # noqa: F401  (registers GAN, its losses and regularisers; `import kgan`
    import kgan.schedules  # noqa: F401  is lazy and registers nothing)

    import zipfile

    try:
        # Keras calls a file that is not a zip archive "not found"; it is there, and corrupt.
        if not zipfile.is_zipfile(path):
            raise ValueError("not a .keras zip archive")
        gan = keras.saving.load_model(path, safe_mode=True)
    except Exception as e:  # noqa: BLE001 - a checkpoint that exists but does not load is corrupt
        raise runs_lib.RunError(
            f"checkpoint {path} is corrupt ({_first_line(e)}); {_corrupt_checkpoint_advice(path)}"
        ) from None
    found = gan.non_finite()
    if found:
        raise runs_lib.RunError(
            f"checkpoint {path} holds non-finite values ({found[0]}); "
            f"{_corrupt_checkpoint_advice(path)}"
        )
    return gan


def _first_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:200] + ("..." if len(text) > 200 else "")


def _corrupt_checkpoint_advice(path: Path) -> str:
    """What deleting the bad checkpoint `path` would really do, as the fix to offer."""
    run_dir = path.parent.parent
    earlier = [e for e, p in runs_lib.Run(run_dir.name, run_dir).checkpoints() if p != path]
    if earlier:
        return (
            f"delete it to resume from epoch {earlier[-1]} (the epochs after it are redone), "
            "or start the run again with --overwrite"
        )
    return (
        "delete it to restart the run from epoch 0 (its history and sample grids are redone), "
        "or start the run again with --overwrite"
    )


def default_name(config: RunConfig) -> str:
    """`<dataset>-<arch>-<YYYYmmdd-HHMMSS>`: the name of a run started without one."""
    import datetime

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    dataset = "".join(c if c.isalnum() or c in "._-" else "-" for c in config.dataset)
    return f"{dataset.strip('-.')[:40]}-{config.arch}-{stamp}"


__all__ = [
    "DataSpec",
    "TrainingDiverged",
    "TrainingStopped",
    "data_spec",
    "default_name",
    "epoch_batches",
    "train",
    "versions",
]
