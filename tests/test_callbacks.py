"""The callbacks that record a run: history, grids, checkpoints, model card, health, NaN stop."""

import io
import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import kgan
from kgan import callbacks, runs

from generators import real_draws_generator


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
    gan.fit(points(), epochs=2, callbacks=[*callbacks.run_callbacks(run, grid, time_offset=5.0)],
            verbose=0)
    history = run.history()
    assert [r["epoch"] for r in history] == [1, 2]
    assert [r["step"] for r in history] == [4, 8]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "time", "epoch_time"} <= set(history[0])
    assert history[0]["time"] >= 5.0 and history[1]["time"] > history[0]["time"]
    assert [e for e, _ in run.samples()] == [1, 2]
    assert Image.open(run.sample_path(2)).mode == "RGB"  # vector data: a scatter plot
    assert [e for e, _ in run.checkpoints()] == [1, 2]  # the newest two are kept
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
    """Writes NaN into one variable of the model at the start of a given epoch, as a diverging
    run would. `part` picks the variable: "logits" (the discriminator's last bias: every loss
    turns NaN on every CPU), "ema" (the EMA generator, which no loss reads: the losses stay
    finite on every CPU) or "generator" (its first kernel: fused oneDNN kernels may or may not
    let the NaN reach the losses)."""

    def __init__(self, epoch, part="logits"):
        super().__init__()
        self.epoch = epoch
        self.part = part

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            w = {
                "logits": lambda: self.model.discriminator.weights[-1],
                "ema": lambda: self.model.ema_generator.weights[0],
                "generator": lambda: self.model.generator.weights[0],
            }[self.part]()
            w.assign(np.full(w.shape, np.nan, np.float32))


def fit_with_poison(run, part, epochs=4):
    gan = tiny_gan()
    recorders = callbacks.run_callbacks(run, callbacks.SampleGrid(run, num=10))
    stopper = recorders.stopper
    gan.fit(points(), epochs=epochs, callbacks=[stopper, PoisonAt(1, part), *recorders.writers,
                                                recorders.monitor],
            verbose=0)
    return gan, stopper


def assert_only_epoch_1_kept(run):
    assert [e for e, _ in run.checkpoints()] == [1]  # the last good one
    assert [e for e, _ in run.samples()] == [1]
    assert run.metadata()["epochs_done"] == 1
    restored = keras.saving.load_model(run.checkpoint_path(1), safe_mode=True)
    assert restored.non_finite() == []
    assert np.isfinite(run.load_generator().get_weights()[0]).all()


def test_non_finite_losses_stop_without_checkpointing(tmp_path):
    run = runs.new_run(tmp_path, "nan")
    _, stopper = fit_with_poison(run, "logits")
    assert stopper.reason and "non-finite loss at epoch 2, step 5" in stopper.reason
    assert "lower the learning rates" in stopper.reason
    assert "first non-finite variable: discriminator/" in stopper.reason
    assert_only_epoch_1_kept(run)
    history = run.history()
    assert [r["epoch"] for r in history] == [1, 2]
    assert history[1]["d_loss"] is None  # NaN is written as null
    json.loads(run.history_path.read_text().splitlines()[1])  # strict JSON


def test_nan_weights_behind_finite_losses_stop_without_checkpointing(tmp_path):
    """The EMA generator feeds no loss: only the weight check can see it."""
    run = runs.new_run(tmp_path, "nan")
    gan, stopper = fit_with_poison(run, "ema")
    assert all(np.isfinite(r["d_loss"]) for r in run.history())  # the losses saw nothing
    assert stopper.reason.startswith(
        "non-finite weights after epoch 2, step 8: ema_generator/dense_0/kernel holds NaN"
    )
    assert gan.non_finite()[0] == "ema_generator/dense_0/kernel"
    assert_only_epoch_1_kept(run)


def test_nan_generator_weights_stop_on_every_cpu(tmp_path):
    """Whether the NaN reaches the losses depends on the CPU's fused kernels; the outcome must
    not."""
    run = runs.new_run(tmp_path, "nan")
    _, stopper = fit_with_poison(run, "generator")
    assert "non-finite" in stopper.reason and "epoch 2" in stopper.reason
    assert_only_epoch_1_kept(run)


def test_a_poisoned_model_is_never_saved(tmp_path):
    gan = tiny_gan()
    w = gan.discriminator.weights[0]
    w.assign(np.full(w.shape, np.inf, np.float32))
    with pytest.raises(callbacks.PoisonedModel, match="discriminator/dense_0/kernel holds NaN"):
        callbacks.save(gan, tmp_path / "gan.keras")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.layers[0].bias.assign([np.nan])
    with pytest.raises(callbacks.PoisonedModel):
        callbacks.save(model, tmp_path / "m.keras")
    assert list(tmp_path.iterdir()) == []


def test_the_output_check_sees_what_the_weights_hide():
    gan = tiny_gan()
    assert gan.non_finite() == []
    w = gan.generator.weights[0]
    w.assign(np.full(w.shape, 1e38, np.float32))  # finite weights, infinite outputs
    assert gan.non_finite() == ["generator output"]


def test_exploding_losses_stop_for_every_loss():
    gan = tiny_gan()
    stopper = callbacks.StopOnNonFinite()
    stopper.set_model(gan)
    stopper.on_epoch_begin(0)
    for batch, d in enumerate([1.4, 30.0, 900.0, 1e4]):  # at most 1e4x the first value
        stopper.on_train_batch_end(batch, {"d_loss": d, "g_loss": 0.7})
    assert stopper.reason is None and not gan.stop_training
    stopper.on_train_batch_end(4, {"d_loss": -2e4, "g_loss": 0.7})  # a Wasserstein critic too
    assert stopper.reason.startswith("exploding loss at epoch 1, step 0 (d_loss=-2e+04, ")
    assert "lower the learning rates" in stopper.reason and gan.stop_training


def test_a_run_at_an_absurd_learning_rate_is_stopped(tmp_path):
    run = runs.new_run(tmp_path, "lr")
    run.update_metadata(status="running")
    generator, discriminator = kgan.architectures.get("mlp", units=16, depth=1).build(
        (2,), latent_dim=4)
    gan = kgan.GAN(generator, discriminator, seed=1)
    gan.compile(keras.optimizers.Adam(1e3), keras.optimizers.Adam(1e3), loss="wasserstein")
    recorders = callbacks.run_callbacks(run, callbacks.SampleGrid(run, num=10))
    gan.fit(points(256).repeat(), epochs=20, steps_per_epoch=20, callbacks=[*recorders], verbose=0)
    stopper = recorders.stopper
    assert stopper.reason.startswith("exploding loss at epoch 1, step 2 (d_loss=")
    assert run.checkpoints() == [] and run.samples() == []  # the exploded epoch is not kept
    assert "epochs_done" not in run.metadata()


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


# ----------------------------------------------------------------------------- evaluation


def grid25_points(n=256, batch=64):
    data = kgan.toy.sample("grid25", n, seed=0)
    return tf.data.Dataset.from_tensor_slices(data).batch(batch)


def test_evaluate_every_adds_metrics_to_logs_history_and_model_card(tmp_path):
    from kgan import evaluation

    run = runs.new_run(tmp_path, "e")
    run.update_metadata(status="running")
    gan = tiny_gan()
    measure = callbacks.EvaluateEvery(run, evaluation.Evaluator("grid25"), every=2, num=300)
    recorders = callbacks.run_callbacks(run, callbacks.SampleGrid(run, num=10))
    history = gan.fit(grid25_points(), epochs=3, callbacks=[measure, *recorders], verbose=0)
    assert measure.metrics == ["mode_coverage"]
    assert "modes" not in run.history()[0]  # epoch 1: not measured
    assert {"modes", "high_quality", "reverse_kl"} <= set(run.history()[1])  # every 2nd
    assert "modes" in run.history()[2]  # and the last
    assert history.history["modes"] == [run.history()[1]["modes"], run.history()[2]["modes"]]
    records = run.metric_records()
    assert [(r["metric"], r["epoch"], r["step"]) for r in records[:3]] == [
        ("modes", 2, 8), ("high_quality", 2, 8), ("reverse_kl", 2, 8)]
    assert records[0]["num_samples"] == 300 and records[0]["num_modes"] == 25
    assert run.metadata()["metrics"]["modes"]["epoch"] == 3
    expected = kgan.toy.mode_coverage(gan.generate(300, seed=evaluation.EVAL_SEED), "grid25")
    assert run.metadata()["metrics"]["modes"]["value"] == expected["modes"]


def test_evaluate_every_notes_once_when_nothing_applies(tmp_path, capsys):
    from kgan import evaluation

    path = tmp_path / "pictures.npy"
    np.save(path, np.zeros((8, 4, 4), np.uint8))
    run = runs.new_run(tmp_path, "n")
    measure = callbacks.EvaluateEvery(run, evaluation.Evaluator(f"npy:{path}"), every=1)
    gan = tiny_gan((4, 4, 1))
    images = tf.data.Dataset.from_tensor_slices(np.zeros((16, 4, 4, 1), np.float32)).batch(8)
    gan.fit(images, epochs=2, callbacks=[measure], verbose=0)
    out = capsys.readouterr().out
    assert out.count("kgan: note: no metrics during training: no feature extractor") == 1
    assert run.metric_records() == []


def test_tensorboard_writer_writes_scalars_and_the_grid_per_epoch(tmp_path):
    run = runs.new_run(tmp_path, "tb")
    gan = tiny_gan()
    grid = callbacks.SampleGrid(run, num=20, reference=kgan.toy.sample("ring8", 20))
    gan.fit(points(), epochs=2, callbacks=[callbacks.TensorBoardWriter(run, grid)], verbose=0)
    found = {}
    for path in run.tensorboard_dir.iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found[(value.tag, event.step)] = value
    assert {tag for tag, _ in found} == {"d_loss", "g_loss", "d_real", "d_fake", "samples"}
    assert {step for _, step in found} == {1, 2}  # epochs, as in history.jsonl
    loss = found[("d_loss", 1)]
    assert loss.metadata.plugin_data.plugin_name == "scalars"
    assert np.isfinite(tf.make_ndarray(loss.tensor))
    picture = found[("samples", 2)]
    assert picture.metadata.plugin_data.plugin_name == "images"
    width, height, png = tf.make_ndarray(picture.tensor)
    assert tf.io.decode_png(png).shape == (int(height), int(width), 3)


def test_tensorboard_reads_the_events_with_its_own_reader(tmp_path):
    """TensorBoard's own reader (the accumulator its server's plugins read from) sees the
    losses as `scalars` and the grid as an `images` summary, per epoch."""
    from tensorboard.backend.event_processing import plugin_event_accumulator
    from tensorboard.util import tensor_util

    run = runs.new_run(tmp_path, "tb")
    gan = tiny_gan()
    grid = callbacks.SampleGrid(run, num=20, reference=kgan.toy.sample("ring8", 20))
    history = gan.fit(points(), epochs=2, callbacks=[callbacks.TensorBoardWriter(run, grid)],
                      verbose=0)
    events = plugin_event_accumulator.EventAccumulator(
        str(run.tensorboard_dir), size_guidance={"tensors": 0}
    )
    events.Reload()
    assert set(events.PluginTagToContent("scalars")) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert set(events.PluginTagToContent("images")) == {"samples"}
    for tag in ("d_loss", "g_loss"):
        steps = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto)))
                 for e in events.Tensors(tag)]
        assert [step for step, _ in steps] == [1, 2]
        np.testing.assert_allclose([v for _, v in steps], history.history[tag], rtol=1e-6)
    pictures = events.Tensors("samples")
    assert [e.step for e in pictures] == [1, 2]
    width, height, png = tensor_util.make_ndarray(pictures[-1].tensor_proto)
    assert png.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(png)).size == (int(width), int(height))


# ----------------------------------------------------------------------------- health


def test_health_monitor_sees_divergence_but_not_for_wasserstein(tmp_path):
    run = runs.new_run(tmp_path, "d")
    run.update_metadata(status="running")
    monitor = callbacks.HealthMonitor(run, patience=3)
    gan = tiny_gan()
    monitor.set_model(gan)
    logs = [(0.9, 1.0), (0.04, 1.5), (0.01, 2.0), (0.001, 2.5)]
    for epoch, (d, g) in enumerate(logs):
        monitor.on_epoch_end(epoch, {"d_loss": d, "g_loss": g, "d_real": 0.0, "d_fake": 0.0})
    (warning,) = run.metadata()["warnings"]
    assert (warning["epoch"], warning["kind"]) == (4, "divergence")
    assert "climbed from 1.5 to 2.5" in warning["message"]
    flat = callbacks.HealthMonitor(run, patience=3)
    assert [flat._divergence(gan, {"d_loss": 0.01, "g_loss": 1.0}) for _ in range(3)] == [None] * 3
    gan.gan_loss = kgan.losses.get("wasserstein")  # its D loss is unbounded below
    wgan = callbacks.HealthMonitor(run, patience=2)
    assert [wgan._divergence(gan, {"d_loss": -5.0, "g_loss": g}) for g in (1, 2)] == [None] * 2
    with pytest.raises(ValueError, match="warn, stop, rollback"):
        callbacks.HealthMonitor(run, on_warning="panic")


class CollapseAt(keras.callbacks.Callback):
    """Zeroes the generator at the start of an epoch: every sample is then the same point."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch
        self.weights = {}

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            g = self.model.generator
            g.set_weights([np.zeros_like(w) for w in g.get_weights()])

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch + 1] = [w.copy() for w in self.model.generator.get_weights()]


@pytest.mark.parametrize("action", ["stop", "rollback"])
def test_health_monitor_stops_or_rolls_back_to_the_last_good_epoch(tmp_path, action):
    run = runs.new_run(tmp_path, action)
    run.update_metadata(status="running")
    gan = tiny_gan()
    real = kgan.toy.sample("ring8", 256, seed=0)
    monitor = callbacks.HealthMonitor(run, real, on_warning=action, warmup=1)
    recorders = callbacks.run_callbacks(run, callbacks.SampleGrid(run, num=10), monitor=monitor)
    spy = CollapseAt(2)
    gan.fit(points(), epochs=5, callbacks=[spy, *recorders], verbose=0)
    assert [r["epoch"] for r in run.history()] == [1, 2, 3]  # stopped after the bad epoch
    assert run.metadata()["warnings"][0]["kind"] == "mode_collapse"
    if action == "stop":
        assert monitor.reason.endswith("stopped (on_warning='stop')")
        assert [e for e, _ in run.checkpoints()] == [2, 3] and monitor.rolled_back_to is None
        return
    assert monitor.rolled_back_to == 2 and "rolled back to epoch 2" in monitor.reason
    assert [e for e, _ in run.checkpoints()] == [2]  # epoch 1's went when epoch 3's came
    assert run.metadata()["epochs_done"] == 2 and run.metadata()["steps_done"] == 8
    for now, then in zip(gan.generator.get_weights(), spy.weights[2]):
        np.testing.assert_array_equal(now, then)  # the model itself is back at epoch 2
    saved = keras.saving.load_model(run.checkpoint_path(2), safe_mode=True)
    assert int(saved.g_optimizer.iterations) == 8
    np.testing.assert_array_equal(saved.generator.get_weights()[0], spy.weights[2][0])
    np.testing.assert_array_equal(run.load_generator().get_weights()[0],
                                  gan.sampler.get_weights()[0])


def toy_gan(loss, d_lr, g_lr, n_critic=1):
    generator, discriminator = kgan.architectures.get("mlp", units=64, depth=2).build(
        (2,), latent_dim=8)
    gan = kgan.GAN(generator, discriminator, n_critic=n_critic, seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(d_lr, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(g_lr, beta_1=0.5), loss=loss,
                steps_per_execution=25)
    return gan


def test_health_monitor_on_a_collapsing_and_a_healthy_grid25_run(tmp_path):
    """Minimax with the discriminator 1,000x faster than the generator: D wins at once, the
    saturating generator loss gives no gradient and every sample stays on one of the 25
    modes. The hinge loss at equal rates spreads out over the grid and stays unflagged."""
    real = kgan.toy.sample("grid25", 512, seed=5)
    data = tf.data.Dataset.from_tensor_slices(kgan.toy.sample("grid25", 10_000, seed=0))
    data = data.shuffle(10_000, seed=0).repeat().batch(128, drop_remainder=True)
    found = {}
    for name, gan in [("collapsing", toy_gan("minimax", 1e-2, 1e-5, n_critic=5)),
                      ("healthy", toy_gan("hinge", 2e-3, 2e-3))]:
        run = runs.new_run(tmp_path, name)
        run.update_metadata(status="running")
        monitor = callbacks.HealthMonitor(run, real)
        gan.fit(data, epochs=3, steps_per_epoch=25, callbacks=[monitor], verbose=0)
        samples = gan.generate(2500, seed=3, use_ema=False)
        found[name] = (run.metadata().get("warnings") or [], monitor.diversity(gan),
                       kgan.toy.mode_coverage(samples, "grid25"))
    warnings, diversity, coverage = found["collapsing"]
    assert ("mode_collapse", 3) in {(w["kind"], w["epoch"]) for w in warnings}
    assert diversity["spread"] < 0.1 and coverage["modes"] <= 2
    warnings, diversity, coverage = found["healthy"]
    assert warnings == [] and diversity["spread"] > 0.5 and coverage["modes"] >= 4


# ----------------------------------------------------------------------------- inside each class


@pytest.fixture(scope="module")
def digits_rows():
    """kgan's offline digits training split as 64-pixel rows and their classes."""
    x, y = kgan.data.load_arrays("digits", labels=True)
    return x.reshape(len(x), -1), y


def conditional_digits_gan(generator, latent_dim=8):
    """A conditional GAN on digits around `generator` ([z, label] -> 8x8x1)."""
    _, discriminator = kgan.architectures.get("mlp", units=16, depth=1).build(
        (8, 8, 1), latent_dim=latent_dim, num_classes=10)
    return kgan.GAN(generator, discriminator, num_classes=10, ema_decay=None, seed=0)


def generator_inputs(latent_dim=8):
    return keras.Input((latent_dim,), name="z"), keras.Input((), dtype="int32", name="label")


def label_only_generator(rows, labels, wobble=0.02):
    """Each class's first training image, from the label embedding alone, plus a z-dependent
    wobble of ~0.06 per pixel: z barely matters within a class (what the old mnist preset's
    generator did), yet samples are not near-duplicates, so `mode_collapse` stays quiet."""
    z, label = generator_inputs()
    first = np.stack([rows[labels == c][0] for c in range(10)])
    image = keras.layers.Embedding(
        10, 64, embeddings_initializer=keras.initializers.Constant(first))(label)
    nudge = keras.layers.Dense(64, use_bias=False, kernel_initializer=keras.initializers
                               .RandomNormal(stddev=wobble, seed=0))(z)
    out = keras.layers.Reshape((8, 8, 1))(keras.layers.Add()([image, nudge]))
    return keras.Model([z, label], out)


def test_health_monitor_sees_a_generator_ignoring_z_within_a_class(tmp_path, digits_rows,
                                                                  capsys):
    rows, labels = digits_rows
    run = runs.new_run(tmp_path, "cc")
    run.update_metadata(status="running")
    gan = conditional_digits_gan(label_only_generator(rows, labels))
    monitor = callbacks.HealthMonitor(run, rows[:1000], reference_labels=labels[:1000],
                                      warmup=2)
    assert sorted(monitor.real_class_spreads) == list(range(10))
    ratios = monitor.class_diversity(gan)
    assert sorted(ratios) == list(range(10)) and max(ratios.values()) < 0.3
    assert monitor.diversity(gan)["spread"] > 0.8  # all classes together look varied
    monitor.set_model(gan)
    monitor.on_epoch_end(0, {})  # warm-up: a fresh generator varies little
    assert "warnings" not in run.metadata() or run.metadata()["warnings"] == []
    monitor.on_epoch_end(1, {})
    (warning,) = run.metadata()["warnings"]
    assert (warning["epoch"], warning["kind"]) == (2, "class_collapse")
    worst = min(ratios, key=ratios.get)
    flagged = sorted(c for c, r in ratios.items() if r < callbacks.MIN_CLASS_SPREAD)
    assert warning["classes"][0] == worst and sorted(warning["classes"]) == flagged
    assert warning["message"].startswith(
        f"class {worst}: generated samples vary {ratios[worst]:.0%} as much as real ones of "
        "that class (classes ")
    assert "the generator ignores its latent within a class; try spectral normalisation" \
        in warning["message"]
    assert f"kgan: warning: epoch 2: class_collapse: class {worst}:" in capsys.readouterr().out
    assert "class_collapse" in monitor.act_on  # stops or rolls back when asked to


def test_health_monitor_passes_a_generator_drawing_real_images_of_each_class(tmp_path,
                                                                            digits_rows):
    rows, labels = digits_rows
    run = runs.new_run(tmp_path, "ok")
    gan = conditional_digits_gan(real_draws_generator(rows[1000:], labels[1000:]))
    monitor = callbacks.HealthMonitor(run, rows[:1000], reference_labels=labels[:1000])
    ratios = monitor.class_diversity(gan)
    assert min(ratios.values()) > 0.6 and max(ratios.values()) < 1.1
    assert "class_collapse" not in monitor.check(gan, {}, epoch=10)
    # Without labels (or for an unconditional GAN) there is nothing to check per class.
    blind = callbacks.HealthMonitor(run, rows[:1000])
    assert blind.real_class_spreads == {} and "class_collapse" not in blind.check(gan, {}, 10)


def test_training_gives_the_monitor_the_classes_of_its_real_examples(tmp_path):
    from kgan import evaluation, training
    from kgan.config import RunConfig

    config = RunConfig(dataset="digits", arch="dcgan", conditional=True)
    evaluator = evaluation.Evaluator.for_config(config)
    real, labels = evaluator.real_labelled(300)
    np.testing.assert_array_equal(labels, kgan.data.load_arrays("digits", labels=True)[1][:300])
    monitor = training._health_monitor(runs.new_run(tmp_path, "m"), config, evaluator, real,
                                       labels)
    assert sorted(monitor.real_class_spreads) == list(range(10))
    assert monitor.real_class_spreads[0] == pytest.approx(
        kgan.metrics.spread(real[labels == 0].reshape(-1, 64)))
