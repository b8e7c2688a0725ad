"""The callbacks that record a run: history, grids, checkpoints, model card, health, NaN stop."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import kgan
from kgan import callbacks, runs


def tiny_gan(data_shape=(2,), num_classes=None):
    generator, discriminator = kgan.architectures.get("mlp", units=16, depth=1).build(
        data_shape, latent_dim=4, num_classes=num_classes
    )
    gan = kgan.GAN(generator, discriminator, num_classes=num_classes, ema_decay=0.9, seed=1)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3),
                loss="hinge")
    return gan


def points(n=64):
    return tf.data.Dataset.from_tensor_slices(kgan.toy.sample("ring8", n, seed=0)).batch(16)


def test_run_callbacks_record_every_epoch(tmp_path):
    run = runs.new_run(tmp_path, "r")
    gan = tiny_gan()
    grid = callbacks.SampleGrid(run, num=50, reference=kgan.toy.sample("ring8", 20))
    gan.fit(points(), epochs=2, callbacks=callbacks.run_callbacks(run, grid, time_offset=5.0),
            verbose=0)
    history = run.history()
    assert [r["epoch"] for r in history] == [1, 2]
    assert [r["step"] for r in history] == [4, 8]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "time", "epoch_time"} <= set(history[0])
    assert history[0]["time"] >= 5.0 and history[1]["time"] > history[0]["time"]
    assert [e for e, _ in run.samples()] == [1, 2]
    assert Image.open(run.sample_path(2)).mode == "RGB"  # vector data: a scatter plot
    assert [e for e, _ in run.checkpoints()] == [2]  # only the newest is kept
    meta = run.metadata()
    assert meta["epochs_done"] == 2 and meta["steps_done"] == 8
    assert meta["training_time_s"] == history[-1]["time"]
    generator = run.load_generator()
    np.testing.assert_array_equal(
        generator.get_weights()[0], gan.ema_generator.get_weights()[0]
    )  # the EMA generator is what gets saved for sampling
    restored = keras.saving.load_model(run.checkpoint_path(2), safe_mode=True)
    assert int(restored.g_optimizer.iterations) == 8


def test_sample_grid_of_a_conditional_image_gan(tmp_path):
    run = runs.new_run(tmp_path, "c")
    gan = tiny_gan((4, 4, 1), num_classes=3)
    grid = callbacks.SampleGrid(run, num=6, cols=3)
    grid.write(gan, 0)
    picture = np.asarray(Image.open(run.sample_path(0)))
    cell = 32 + 1  # 4 px enlarged to 32, plus padding
    assert picture.shape == (2 * cell + 1, 3 * cell + 1)


class PoisonAt(keras.callbacks.Callback):
    """Makes the generator's weights NaN at a given epoch, as a diverging run would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            w = self.model.generator.weights[0]
            w.assign(np.full(w.shape, np.nan, np.float32))


def test_non_finite_losses_stop_without_checkpointing(tmp_path):
    run = runs.new_run(tmp_path, "nan")
    gan = tiny_gan()
    recorders = callbacks.run_callbacks(run, callbacks.SampleGrid(run, num=10))
    stopper = recorders[0]
    gan.fit(points(), epochs=4, callbacks=[stopper, PoisonAt(1), *recorders[1:]], verbose=0)
    assert stopper.reason and "non-finite loss at epoch 2, step 5" in stopper.reason
    assert "lower the learning rates" in stopper.reason
    assert [e for e, _ in run.checkpoints()] == [1]  # the last good one
    assert [e for e, _ in run.samples()] == [1]
    assert run.metadata()["epochs_done"] == 1
    history = run.history()
    assert [r["epoch"] for r in history] == [1, 2]
    assert history[1]["g_loss"] is None  # NaN is written as null
    json.loads(run.history_path.read_text().splitlines()[1])  # strict JSON


def test_save_is_atomic(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    path = tmp_path / "m.keras"
    callbacks.save(model, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]
    with pytest.raises(ValueError):
        callbacks.save(model, tmp_path / "bad.txt")  # Keras refuses the suffix
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


def test_health_monitor_warns_once_per_stretch(tmp_path, capsys):
    run = runs.new_run(tmp_path, "h")
    run.update_metadata(status="running")
    gan = tiny_gan()
    real = kgan.toy.sample("ring8", 256, seed=0)
    healthy = callbacks.HealthMonitor(run, real * 0.01)  # the generator varies far more
    assert healthy.check(gan, {"d_real": 1.0, "d_fake": -1.0}, epoch=5) == {}
    monitor = callbacks.HealthMonitor(run, real, warmup=2)
    monitor.set_model(gan)
    gan.generator.set_weights([np.zeros_like(w) for w in gan.generator.get_weights()])
    monitor.on_epoch_end(0, {"d_real": 12.0, "d_fake": -1.0})  # no collapse during warm-up
    monitor.on_epoch_end(1, {"d_real": 12.0, "d_fake": -1.0})  # gap still on: no repeat
    monitor.on_epoch_end(2, {"d_real": float("nan"), "d_fake": 0.0})
    warnings = run.metadata()["warnings"]
    kinds = [(w["epoch"], w["kind"]) for w in warnings]
    assert kinds == [(1, "d_overpowering"), (2, "mode_collapse"), (3, "non_finite")]
    assert "13.0 logits" in warnings[0]["message"] and "vary 0%" in warnings[1]["message"]
    assert "d_real=nan" in warnings[2]["message"]
    printed = capsys.readouterr().out
    assert "kgan: warning: epoch 2: mode_collapse: generated samples vary 0%" in printed
    assert monitor.reason is None and not gan.stop_training  # on_warning="warn"
