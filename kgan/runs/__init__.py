"""The run folder: the one package that knows where a training run keeps its files.

Its modules: `layout` (file names, statuses, run names), `files` (atomic writes), `schema`
(reading and checking the JSON files), `lock` (who trains a run), `folder` (`Run` and the
listing), `lifecycle` (`start` a run for training, `Run.recording` its end). Import from
`kgan.runs` itself.

Training (through `kgan.callbacks`), the CLI and the dashboard all go through this package; no
other code joins run paths by hand. Every file is written to a temporary name in the same folder
and renamed with `os.replace`, so a reader never sees a half-written file. Folders are
append-only during training except for the files that are rewritten whole (marked "rewritten").

Layout of `ROOT/NAME/` (ROOT defaults to `$KGAN_RUNS_DIR` or `saved_models/`)::

    config.json          the resolved configuration (rewritten when a resume extends `epochs`):
                           {"format": 1,
                            "run":     the `kgan.config.RunConfig` fields (data and recipe),
                            "model":   the GAN's Keras config (`serialize_keras_object(gan)`),
                            "compile": the GAN's compile config (optimizers, loss, regularisers)}
    metadata.json        the model card (rewritten at every epoch):
                           name, status ("running" | "complete" | "failed"), reason (why it
                           failed, else null), created/updated (ISO 8601 UTC), pid, host,
                           pid_start, boot_id (the training process while running), dataset,
                           split, kind ("image" | "vector"), data_shape, latent_dim,
                           num_classes, class_names, conditional, architecture, loss,
                           regularizers, ema_decay, epochs (planned), epochs_done, steps_done,
                           steps_per_epoch, batch_size, num_examples, training_time_s,
                           metrics ({name: {value, epoch, step, num_samples, feature_extractor,
                           ...}} — latest value of each), warnings ([{epoch, kind, message}]
                           from the health monitor), versions ({kgan, tensorflow, keras,
                           python})
    history.jsonl        one JSON object per finished epoch (rewritten whole, one line each):
                           {"epoch": 1, "step": 28, "time": 12.3 (training seconds since the
                            run began, summed over resumes), "epoch_time": 6.1,
                            "d_loss": .., "g_loss": .., "d_real": .., "d_fake": ..,
                            <regulariser name>: .., <metric name>: .. (when measured)}
                           non-finite values are written as null. Records that are not
                           valid (torn line, "epoch" not a whole number >= 1, a value that is
                           not a number or null) are skipped on read (`Run.history_problems`).
    metrics.jsonl        one JSON object per metric evaluation (append-only log):
                           {"metric": "fid", "value": .., "epoch": .., "step": ..,
                            "num_samples": .., "feature_extractor": .., "time": ISO 8601}
    samples/epoch-0000.png   sample grid per epoch from the run's fixed latent grid
                             (epoch 0 = before training; vector data: a scatter plot)
    generator.keras      the sampling generator (EMA weights when EMA is on), rewritten every
                         epoch; load with `Run.load_generator()` (safe_mode=True)
    checkpoint/epoch-0003.keras   the whole GAN after that epoch (both networks, the EMA
                         generator, both optimizers and their iteration counters) — what
                         `resume` restarts from; the newest two are kept
    export/              TF SavedModel of the sampling generator (`kgan export`), signatures
                         `serving_default` (z[, label] -> images|samples) and `sample`
                         (num, seed[, label] -> images|samples)
    tensorboard/         TensorBoard event files (with `--tensorboard`): the history's numbers
                         as scalars and the sample grid as an image, step = epoch

Beside the folder, `ROOT/.NAME.lock` is the run's lock file: the training process holds an
exclusive `flock` on it (`lock_run`) from before it deletes or writes anything until it marks
the run complete or failed, so that two processes never train one run. It lives outside the
folder so that `--overwrite`, which deletes the folder, cannot take it away.

Run names: 1-100 characters from letters, digits, `.`, `_`, `-`, starting with a letter or a
digit. Names from users or URLs go through `resolve`, which refuses anything that could leave
the root (separators, `..`, symlinks pointing outside).

Example:
    >>> for run in list_runs("saved_models"):
    ...     print(run.name, run.status, run.error)
    >>> run = open_run("saved_models", "digits")
    >>> run.history()[-1]["g_loss"], run.samples()[-1]
"""

from kgan.runs.files import (  # noqa: F401
    jsonable,
    make_readable,
    temp_path,
    write_bytes,
    write_json,
    write_text,
)
from kgan.runs.folder import Run, check_new_name, list_runs, new_run, open_run  # noqa: F401
from kgan.runs.lifecycle import RunFailed, Start, default_name, start  # noqa: F401
from kgan.runs.layout import (  # noqa: F401
    CHECKPOINT_DIR,
    CONFIG,
    EXPORT_DIR,
    FORMAT_VERSION,
    GENERATOR,
    HISTORY,
    INTERRUPTED,
    METADATA,
    METRICS,
    SAMPLES_DIR,
    STATUSES,
    TENSORBOARD_DIR,
    RunError,
    checkpoint_filename,
    default_root,
    duration,
    now,
    resolve,
    sample_filename,
    validate_name,
)
from kgan.runs.lock import (  # noqa: F401
    RunLock,
    Trainer,
    busy_error,
    lock_path,
    lock_run,
    process_identity,
)

__all__ = [
    "CHECKPOINT_DIR",
    "CONFIG",
    "EXPORT_DIR",
    "GENERATOR",
    "HISTORY",
    "INTERRUPTED",
    "METADATA",
    "METRICS",
    "SAMPLES_DIR",
    "STATUSES",
    "TENSORBOARD_DIR",
    "Run",
    "RunError",
    "RunFailed",
    "RunLock",
    "Start",
    "Trainer",
    "busy_error",
    "check_new_name",
    "default_name",
    "default_root",
    "duration",
    "list_runs",
    "lock_path",
    "lock_run",
    "new_run",
    "open_run",
    "process_identity",
    "resolve",
    "start",
    "validate_name",
    "write_bytes",
    "write_json",
    "write_text",
]
