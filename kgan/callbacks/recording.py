"""Callbacks that write a training run into its run folder: history, sample grids,
checkpoints, the model card and TensorBoard events; each skips an epoch that is not healthy."""

from __future__ import annotations

import os
import time

import keras
import numpy as np

from kgan import images as images_lib
from kgan import runs as runs_lib
from kgan.callbacks.guards import all_finite, healthy, save, training_step

#: Seed of the fixed latent grid shown after every epoch.
GRID_SEED = 0


class HistoryWriter(keras.callbacks.Callback):
    """Writes one `history.jsonl` record per epoch: epoch, step, wall time, every log value.

    Args:
        run: the `kgan.runs.Run` to write into.
        time_offset: training seconds of earlier sessions (a resumed run continues the clock).
    """

    def __init__(self, run: runs_lib.Run, time_offset: float = 0.0) -> None:
        super().__init__()
        self.run = run
        self.time_offset = float(time_offset)
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        epoch_time = time.perf_counter() - (self._start or time.perf_counter())
        self.time_offset += epoch_time
        record = {
            "epoch": epoch + 1,
            "step": training_step(self.model),
            "time": round(self.time_offset, 3),
            "epoch_time": round(epoch_time, 3),
        }
        record.update({k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0})
        self.run.append_history(record)


class SampleGrid(keras.callbacks.Callback):
    """Saves `samples/epoch-NNNN.png` after every epoch from one fixed latent grid.

    Image data: a grid of `gan.generate(num, seed)` (conditional runs: one column per class).
    Vector data: a scatter plot of the samples over `reference` points of the real data.
    """

    def __init__(
        self,
        run: runs_lib.Run,
        num: int = 64,
        cols: int | None = None,
        seed: int = GRID_SEED,
        reference: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self.run = run
        self.num = int(num)
        self.cols = cols
        self.seed = int(seed)
        self.reference = reference

    def picture(self, gan) -> np.ndarray:
        """The grid of `gan` as a `(H, W, C)` uint8 picture: `kgan sample --num N --seed S
        --cols C` of the saved generator draws the same one."""
        from kgan import sampling

        if len(gan.data_shape) == 3:
            cols = self.cols or sampling.grid_columns(self.num, gan.num_classes)
            return images_lib.grid(sampling.draw(gan, self.num, self.seed, uint8=True), cols=cols)
        return images_lib.scatter(sampling.draw(gan, self.num, self.seed), self.reference)

    def write(self, gan, epoch: int) -> None:
        """Writes the grid of `gan` for `epoch` (0: before training)."""
        picture = self.picture(gan)
        runs_lib.write_bytes(self.run.sample_path(epoch), images_lib.png_bytes(picture))

    def on_epoch_end(self, epoch, logs=None):
        if healthy(self.model, logs):
            self.write(self.model, epoch + 1)


class Checkpoint(keras.callbacks.Callback):
    """After every healthy epoch: the whole GAN to `checkpoint/epoch-NNNN.keras` (what resume
    loads: networks, EMA generator, both optimizers and their step counters) and the sampling
    generator to `generator.keras`; both written atomically. The newest `keep` checkpoints
    stay (default 2), so a checkpoint found corrupt later can be deleted to resume from the
    one before, losing one epoch rather than the run."""

    def __init__(self, run: runs_lib.Run, keep: int = 2) -> None:
        super().__init__()
        self.run = run
        self.keep = max(1, int(keep))

    def on_epoch_end(self, epoch, logs=None):
        if not healthy(self.model, logs):
            return
        gan = self.model
        save(gan.sampler, self.run.generator_path)
        save(gan, self.run.checkpoint_path(epoch + 1))
        for _, path in self.run.checkpoints()[: -self.keep]:
            os.unlink(path)


class ModelCard(keras.callbacks.Callback):
    """Keeps `metadata.json` current: epochs and steps done and training time, every epoch."""

    def __init__(self, run: runs_lib.Run) -> None:
        super().__init__()
        self.run = run

    def on_epoch_end(self, epoch, logs=None):
        if not healthy(self.model, logs):
            return
        history = self.run.history()
        self.run.update_metadata(
            epochs_done=epoch + 1,
            steps_done=training_step(self.model),
            training_time_s=history[-1].get("time") if history else None,
        )


class TensorBoardWriter(keras.callbacks.Callback):
    """Writes TensorBoard event files under `run.tensorboard_dir`: every epoch's logged
    numbers (losses, D outputs, regularisers, metrics) as scalars and the sample grid as an
    image, at step = epoch (as in `history.jsonl` and `samples/epoch-NNNN.png`).

    Written with TensorFlow's own summary ops, so the `tensorboard` package is only needed to
    view them: `tensorboard --logdir saved_models/NAME/tensorboard`.
    """

    def __init__(self, run: runs_lib.Run, grid: SampleGrid | None = None) -> None:
        super().__init__()
        self.run = run
        self.grid = grid
        self._writer = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        self._writer = tf.summary.create_file_writer(str(self.run.tensorboard_dir))

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf
        from tensorflow.core.framework import summary_pb2

        def metadata(plugin):
            return summary_pb2.SummaryMetadata(
                plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin)
            )

        if self._writer is None:
            self.on_train_begin()
        with self._writer.as_default(step=epoch + 1):
            for key, value in (logs or {}).items():
                if np.ndim(value) == 0 and all_finite({key: value}):
                    tf.summary.write(key, tf.constant(float(value), tf.float32),
                                     metadata=metadata("scalars"))
            if self.grid is not None and healthy(self.model, logs):
                picture = self.grid.picture(self.model)
                h, w = picture.shape[:2]
                png = images_lib.png_bytes(picture)
                tf.summary.write("samples", tf.constant([str(w), str(h), png]),
                                 metadata=metadata("images"))
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
