"""`kgan.schedules` and the recipes that use them: the cosine of the learning rates (Keras'
CosineDecay) and of the regulariser weight, and the EMA's half-life in images with a ramp-up."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import regularizers, schedules
from kgan.config import RunConfig
from kgan.errors import KganError


def test_cosine_runs_from_start_to_end_and_stays_there():
    values = [float(schedules.cosine(2.0, 0.2, step, 1000)) for step in (0, 250, 500, 1000, 5000)]
    quarter = 0.2 + 1.8 * 0.5 * (1 + math.cos(math.pi / 4))
    np.testing.assert_allclose(values, [2.0, quarter, 1.1, 0.2, 0.2], rtol=1e-6)


def test_half_life_decay_gives_the_same_window_at_any_batch_and_ramps_up():
    # Half-life 1,000 images: one step of 100 images keeps 0.5 ** 0.1 of the average ...
    assert float(schedules.half_life_decay(100, 50_000, 1000.0)) == pytest.approx(0.5**0.1)
    # ... and ten steps of 10 images keep the same share as that one step.
    assert float(schedules.half_life_decay(10, 50_000, 1000.0)) ** 10 == pytest.approx(0.5**0.1)
    # Ramp-up 0.05: after 100 images the half-life is 5 images, so the average follows the
    # weights almost at once; after 20,000 images it is the full 1,000 again.
    assert float(schedules.half_life_decay(100, 100, 1000.0, 0.05)) == pytest.approx(0.5**20)
    assert float(schedules.half_life_decay(100, 20_000, 1000.0, 0.05)) == pytest.approx(0.5**0.1)


def quadratic_critic(x):
    """D(x) = sum(x^2): its input gradient is 2x, so R1 and R2 are known in closed form."""
    return tf.reduce_sum(tf.square(tf.reshape(x, [tf.shape(x)[0], -1])), axis=1, keepdims=True)


def test_a_regulariser_weight_follows_its_cosine_and_round_trips():
    real = tf.ones((4, 3))
    fake = 2.0 * tf.ones((4, 3))
    reg = regularizers.get("r1r2", weight=2.0, final_weight=0.2, steps=1000)
    # Unweighted: 0.5 * (||2 real||^2 + ||2 fake||^2) = 0.5 * (12 + 48) = 30 per example.
    at = {step: reg(quadratic_critic, real, fake, tf.zeros(4), step=step).numpy()
          for step in (0, 500, 1000)}
    np.testing.assert_allclose(at[0], [60.0] * 4, rtol=1e-6)
    np.testing.assert_allclose(at[500], [33.0] * 4, rtol=1e-6)
    np.testing.assert_allclose(at[1000], [6.0] * 4, rtol=1e-6)
    again = regularizers.get({"name": "r1r2", **reg.get_config()})
    assert (again.final_weight, again.steps) == (0.2, 1000)
    lazy = regularizers.get("gradient_penalty", every=4, final_weight=0.0, steps=100)
    assert float(lazy.weight_at(50)) == pytest.approx(5.0)  # the default 10 halfway to 0
    with pytest.raises(ValueError, match="final_weight .* comes with the steps"):
        regularizers.get("r1", final_weight=0.1)


def toy_gan(**ema):
    keras.utils.set_random_seed(0)
    g, d = kgan.architectures.get("mlp", units=8, depth=1).build((2,), 4)
    gan = kgan.GAN(g, d, **ema)
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), loss="hinge")
    return gan


def test_the_ema_half_life_sets_each_steps_decay(tmp_path):
    gan = toy_gan(ema_half_life=1000.0, ema_rampup=0.5)
    before = [w.numpy() for w in gan.ema_generator.weights]
    data = tf.data.Dataset.from_tensor_slices(kgan.toy.sample("ring8", 200, seed=0)).batch(100)
    gan.fit(data.take(1), epochs=1, verbose=0)
    after = [w.numpy() for w in gan.generator.weights]
    # One step of 100 images with the half-life ramped to 0.5 x 100 = 50 images: decay 0.25
    # (0.93 without the ramp-up).
    decay = 0.5 ** (100 / 50)
    for ema, old, new in zip(gan.ema_generator.weights, before, after):
        np.testing.assert_allclose(ema.numpy(), decay * old + (1 - decay) * new, atol=1e-6)
    assert not np.allclose(after[0], before[0])
    path = tmp_path / "ema.keras"
    gan.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert (loaded.ema_half_life, loaded.ema_rampup, loaded.ema_decay) == (1000.0, 0.5, None)
    with pytest.raises(ValueError, match="replaces ema_decay"):
        toy_gan(ema_decay=0.99, ema_half_life=1000.0)


def test_run_config_builds_the_cosine_schedules_over_the_run():
    config = RunConfig(dataset="ring8", arch="mlp", arch_kwargs={"units": 8, "depth": 1},
                       g_lr=2e-4, d_lr=4e-4, lr_final=0.25, n_critic=2, epochs=5,
                       regularizer="r1r2", regularizer_weight=1.0, regularizer_final_weight=0.1,
                       ema_half_life=500.0, ema_rampup=0.05)
    gan = config.build_gan((2,), steps_per_epoch=10)
    for optimizer, lr, updates in ((gan.g_optimizer, 2e-4, 50), (gan.d_optimizer, 4e-4, 100)):
        schedule = keras.optimizers.schedules.deserialize(
            keras.optimizers.serialize(optimizer)["config"]["learning_rate"])
        assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
        np.testing.assert_allclose([float(schedule(0)), float(schedule(updates))],
                                   [lr, 0.25 * lr], rtol=1e-6)
    (reg,) = gan.gan_regularizers
    assert (reg.weight, reg.final_weight, reg.steps) == (1.0, 0.1, 100)  # D updates of the run
    assert (gan.ema_half_life, gan.ema_rampup, gan.ema_decay) == (500.0, 0.05, None)
    config.check_model(gan)


@pytest.mark.parametrize("changes, message", [
    ({"lr_final": 0.1, "lr_decay": 0.5}, "lr_final and lr_decay are two schedules"),
    ({"lr_final": 1.5}, "lr_final must be a fraction in \\[0, 1\\]"),
    ({"regularizer_final_weight": 0.1}, "needs a regulariser"),
    ({"lr_final": 0.1, "minutes": 5.0}, "needs a known length"),
    ({"ema_rampup": 0.05}, "give --ema-half-life too"),
    ({"ema_half_life": 1000.0, "ema": None}, "--ema 0 turns off"),
    ({"ema_half_life": -1.0}, "ema_half_life must be a finite number > 0"),
])
def test_run_config_refuses_schedules_that_do_not_fit(changes, message):
    with pytest.raises(KganError, match=message):
        RunConfig(**changes)


def test_adam_beta2_follows_its_cosine(tmp_path):
    optimizer = schedules.CosineBeta2Adam(0.1, beta_1=0.0, beta_2=0.9, beta_2_final=0.99,
                                          beta_2_steps=4)
    x = keras.Variable(np.zeros(3, np.float32))
    optimizer.build([x])
    v = 0.0
    for step in range(6):  # past the schedule's end: beta_2 stays at 0.99
        gradient = np.full(3, float(step + 1), np.float32)
        optimizer.apply_gradients([(tf.constant(gradient), x)])
        beta_2 = float(schedules.cosine(0.9, 0.99, step, 4))
        v = v + (gradient[0] ** 2 - v) * (1 - beta_2)
    np.testing.assert_allclose(optimizer._velocities[0].numpy(), [v] * 3, rtol=1e-5)
    assert optimizer.beta_2 == 0.9  # the configured start, not a tensor left behind
    again = schedules.CosineBeta2Adam.from_config(optimizer.get_config())
    assert (again.beta_2, again.beta_2_final, again.beta_2_steps) == (0.9, 0.99, 4)
    config = RunConfig(dataset="ring8", arch="mlp", beta_2=0.9, beta2_final=0.99, n_critic=2,
                       epochs=3)
    gan = config.build_gan((2,), steps_per_epoch=10)
    assert isinstance(gan.d_optimizer, schedules.CosineBeta2Adam)
    assert (gan.d_optimizer.beta_2_steps, gan.g_optimizer.beta_2_steps) == (60, 30)
    gan.save(tmp_path / "b2.keras")
    loaded = keras.saving.load_model(tmp_path / "b2.keras", safe_mode=True)
    assert isinstance(loaded.g_optimizer, schedules.CosineBeta2Adam)
    assert loaded.g_optimizer.beta_2_final == 0.99
