import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan

LATENT = 4


def toy_dataset(n=256, batch=32, labels=False, seed=0):
    x = kgan.toy.sample("ring8", n, seed=seed)
    if labels:
        y = (np.arange(n) % 3).astype(np.int32)
        return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch, drop_remainder=True)
    return tf.data.Dataset.from_tensor_slices(x).batch(batch, drop_remainder=True)


def make_gan(num_classes=None, **kwargs):
    g, d = kgan.architectures.get("mlp", units=16, depth=2).build((2,), LATENT, num_classes)
    return kgan.GAN(g, d, num_classes=num_classes, **kwargs)


def compile_gan(gan, loss="nonsaturating", regularizers=("r1",)):
    gan.compile(
        d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        loss=loss,
        regularizers=list(regularizers),
    )
    return gan


def weights(model):
    return [w.numpy().copy() for w in model.weights]


def test_fit_logs_every_tracker_and_updates_both_networks():
    gan = compile_gan(make_gan())
    g0, d0 = weights(gan.generator), weights(gan.discriminator)
    history = gan.fit(toy_dataset(), epochs=2, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake", "r1"}
    assert all(len(v) == 2 and np.all(np.isfinite(v)) for v in history.history.values())
    assert not np.allclose(g0[0], gan.generator.weights[0].numpy())
    assert not np.allclose(d0[0], gan.discriminator.weights[0].numpy())
    assert int(gan.g_optimizer.iterations) == int(gan.d_optimizer.iterations) == 16


def test_n_critic_makes_that_many_discriminator_updates():
    gan = compile_gan(make_gan(n_critic=3), loss="wasserstein", regularizers=["gradient_penalty"])
    gan.fit(toy_dataset(), epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations) == 8 and int(gan.d_optimizer.iterations) == 24


def test_reused_fakes_train_the_generator_through_the_updated_discriminator():
    """With reuse_fakes, one step is: D learns from G(z), then G descends the loss of the
    updated D on the same G(z); computed here by hand with plain tapes and SGD."""

    def one_step(reuse):
        keras.utils.set_random_seed(3)
        gan = make_gan(reuse_fakes=reuse)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.5), g_optimizer=keras.optimizers.SGD(0.5),
                    loss="nonsaturating", regularizers=[])
        g = keras.models.clone_model(gan.generator)
        d = keras.models.clone_model(gan.discriminator)
        g.set_weights(gan.generator.get_weights())
        d.set_weights(gan.discriminator.get_weights())
        real = next(iter(toy_dataset(n=32)))
        gan.fit(tf.data.Dataset.from_tensors(real), epochs=1, verbose=0)
        return gan, g, d, real

    gan, g, d, real = one_step(reuse=True)
    loss = gan.gan_loss
    z = gan._noise(gan._key(tf.constant(0, tf.int64), 1), 32, 1, 0)  # the critic's stream
    fake = g(z, training=True)
    with tf.GradientTape() as tape:
        d_loss = tf.reduce_mean(loss.discriminator_loss(d(real, training=True),
                                                        d(fake, training=True)))
    for w, grad in zip(d.trainable_variables, tape.gradient(d_loss, d.trainable_variables)):
        w.assign_sub(0.5 * grad)
    with tf.GradientTape() as tape:
        g_loss = tf.reduce_mean(loss.generator_loss(d(g(z, training=True), training=True), None))
    for w, grad in zip(g.trainable_variables, tape.gradient(g_loss, g.trainable_variables)):
        w.assign_sub(0.5 * grad)
    for net, mine in (("generator", g), ("discriminator", d)):
        for a, b in zip(getattr(gan, net).weights, mine.weights):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6, err_msg=net)
    # Without reuse the generator draws noise of its own: a different update.
    fresh, *_ = one_step(reuse=False)
    assert not np.allclose(fresh.generator.weights[0].numpy(), g.weights[0].numpy(), atol=1e-4)
    for a, b in zip(fresh.discriminator.weights, d.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_reuse_fakes_survives_a_keras_round_trip_and_old_files_default_to_fresh_noise(tmp_path):
    gan = compile_gan(make_gan(reuse_fakes=True, n_critic=2), regularizers=["r1"])
    gan.fit(toy_dataset(n=64), epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations) == 2 and int(gan.d_optimizer.iterations) == 4
    gan.save(tmp_path / "gan.keras")
    assert keras.saving.load_model(tmp_path / "gan.keras", safe_mode=True).reuse_fakes
    config = gan.get_config()
    del config["reuse_fakes"]  # a file written before the option
    assert not kgan.GAN.from_config(config).reuse_fakes


def test_ema_generator_is_the_moving_average_and_the_sampler():
    gan = compile_gan(make_gan(ema_decay=0.9))
    before = weights(gan.generator)
    gan.fit(toy_dataset().take(1), epochs=1, verbose=0)
    after = weights(gan.generator)
    # Step 1 warms up: the decay is min(0.9, (1 + 1) / (10 + 1)).
    warm = 2.0 / 11.0
    for ema, b, a in zip(gan.ema_generator.weights, before, after):
        np.testing.assert_allclose(ema.numpy(), warm * b + (1 - warm) * a, rtol=1e-5, atol=1e-7)
    assert gan.sampler is gan.ema_generator
    z = kgan.sample_latents(5, 7, LATENT)
    np.testing.assert_allclose(gan.generate(5, seed=7), gan.ema_generator(z), rtol=1e-6)
    np.testing.assert_allclose(gan.generate(5, seed=7, use_ema=False), gan.generator(z), rtol=1e-6)


def test_ema_decay_reaches_its_setting_after_the_warmup():
    gan = compile_gan(make_gan(ema_decay=0.9))
    gan.fit(toy_dataset().take(1), epochs=1, verbose=0)
    gan.g_optimizer.iterations.assign(1000)  # (1 + 1001) / (10 + 1001) > 0.9
    ema_before, before = weights(gan.ema_generator), weights(gan.generator)
    gan.fit(toy_dataset().take(1), epochs=1, verbose=0)
    for ema, e, a in zip(gan.ema_generator.weights, ema_before, weights(gan.generator)):
        np.testing.assert_allclose(ema.numpy(), 0.9 * e + 0.1 * a, rtol=1e-5, atol=1e-6)
    assert not np.allclose(weights(gan.generator)[0], before[0])


def test_generate_is_reproducible_and_truncation_bounds_the_latents():
    gan = make_gan()
    np.testing.assert_array_equal(gan.generate(9, seed=1), gan.generate(9, seed=1))
    assert not np.allclose(gan.generate(9, seed=1), gan.generate(9, seed=2))
    z = kgan.sample_latents(4000, 0, LATENT).numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    zt = kgan.sample_latents(4000, 0, LATENT, truncation=0.5).numpy()
    assert np.abs(zt).max() <= 0.5 + 1e-6
    assert np.corrcoef(z.ravel(), zt.ravel())[0, 1] > 0.8  # the same samples, pulled in


def test_save_load_continues_with_the_same_next_update(tmp_path):
    gan = compile_gan(make_gan(ema_decay=0.99, n_critic=2), regularizers=["r1", "r2"])
    data = toy_dataset(n=128)
    gan.fit(data, epochs=1, verbose=0)
    path = tmp_path / "gan.keras"
    gan.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, kgan.GAN)
    assert int(loaded.g_optimizer.iterations) == 4 and int(loaded.d_optimizer.iterations) == 8
    assert [r.name for r in loaded.gan_regularizers] == ["r1", "r2"]
    for a, b in zip(loaded.d_optimizer.variables, gan.d_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    before = {net: [w.numpy() for w in getattr(gan, net).weights]
              for net in ("generator", "discriminator", "ema_generator")}
    gan.fit(data, epochs=1, verbose=0)
    loaded.fit(data, epochs=1, verbose=0)
    # The same update, up to float rounding: kernels may sum in another order under load
    # (docs/run_folder.md) and Adam's first steps magnify that, so compare against the size of
    # the update itself (seen: 2.02% once in CI, oneDNN off). A lost optimizer moment, step
    # count or noise key changes the update by far more than 5%.
    for net, old in before.items():
        for a, b, w0 in zip(getattr(gan, net).weights, getattr(loaded, net).weights, old):
            update = np.abs(a.numpy() - w0).max()
            assert update > 0, net
            assert np.abs(a.numpy() - b.numpy()).max() <= 0.05 * update, net


def test_conditional_gan_trains_and_samples_by_label():
    gan = compile_gan(make_gan(num_classes=3), loss="hinge")
    history = gan.fit(toy_dataset(labels=True), epochs=1, verbose=0)
    assert np.isfinite(history.history["g_loss"][0])
    by_label = [gan.generate(4, seed=0, labels=k) for k in range(3)]
    assert not np.allclose(by_label[0], by_label[1])
    np.testing.assert_allclose(gan.generate(3, seed=0)[1], gan.generate(3, seed=0, labels=[1, 1, 1])[1])
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\]"):
        gan.generate(2, labels=3)


def test_bad_inputs_fail_before_training_with_clear_errors():
    g8, d8 = kgan.architectures.get("mlp", units=8).build((2,), LATENT)
    _, d3 = kgan.architectures.get("mlp", units=8).build((3,), LATENT)
    with pytest.raises(ValueError, match=r"outputs samples of shape \(2,\).*expects \(3,\)"):
        kgan.GAN(g8, d3)
    with pytest.raises(ValueError, match="latent_dim=7 but the generator expects z of size 4"):
        kgan.GAN(g8, d8, latent_dim=7)
    with pytest.raises(ValueError, match="conditional generator"):
        kgan.GAN(g8, d8, num_classes=3)
    with pytest.raises(ValueError, match="valid names: .*hinge"):
        compile_gan(make_gan(), loss="wgan")
    unconditional = compile_gan(make_gan())
    with pytest.raises(ValueError, match="yields \\(samples, labels\\) but the GAN is unconditional"):
        unconditional.fit(toy_dataset(labels=True), epochs=1, verbose=0)
    conditional = compile_gan(make_gan(num_classes=3))
    with pytest.raises(ValueError, match="yields no labels"):
        conditional.fit(toy_dataset(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"samples of shape \(3,\) but the GAN was built for \(2,\)"):
        unconditional.fit(tf.data.Dataset.from_tensor_slices(np.zeros((8, 3), "float32")).batch(4), verbose=0)
    assert int(unconditional.g_optimizer.iterations) == 0


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision(policy):
    keras.config.set_dtype_policy(policy)
    gan = compile_gan(make_gan(), loss="wasserstein", regularizers=["gradient_penalty"])
    wrapped = policy == "mixed_float16"
    for opt in (gan.d_optimizer, gan.g_optimizer):
        assert isinstance(opt, keras.optimizers.LossScaleOptimizer) == wrapped
    history = gan.fit(toy_dataset(n=64), epochs=1, verbose=0)
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert gan.generator(tf.zeros((1, LATENT))).dtype == tf.float32
    assert gan.discriminator(tf.zeros((1, 2))).dtype == tf.float32
    assert int(gan.g_optimizer.iterations) == 2


DISTRIBUTED = textwrap.dedent(
    """
    import os, sys, numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, kgan

    x = kgan.toy.sample("grid25", 256, seed=0)
    def run(strategy):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            g, d = kgan.architectures.get("mlp", units=16, depth=2).build((2,), 4)
            gan = kgan.GAN(g, d, ema_decay=0.9, n_critic=2)
            gan.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05),
                        loss="nonsaturating", regularizers=["gradient_penalty"])
        data = tf.data.Dataset.from_tensor_slices(x).batch(64, drop_remainder=True)
        gan.fit(data, epochs=1, verbose=0)
        return [w.numpy() for w in gan.weights]
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    one, two = run(tf.distribute.get_strategy()), run(mirrored)
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(one, two))
    moved = max(float(np.max(np.abs(a))) for a in one)
    print("MAXDIFF", diff, moved)
    """
)


@pytest.mark.exact
def test_mirrored_strategy_matches_one_device_on_the_same_global_batch():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", DISTRIBUTED], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    diff = float(out.stdout.split("MAXDIFF")[1].split()[0])
    assert diff < 1e-5, out.stdout


def test_relativistic_with_r1r2_trains_and_survives_a_keras_round_trip(tmp_path):
    """The R3GAN pairing: the G step reads the real logits; `.keras` keeps loss and penalty."""
    gan = make_gan(ema_decay=0.9)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        loss="relativistic",
        regularizers=[kgan.regularizers.get("r1r2", weight=0.5)],
    )
    g0, d0 = weights(gan.generator), weights(gan.discriminator)
    history = gan.fit(toy_dataset(), epochs=2, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake", "r1r2"}
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert not np.allclose(g0[0], gan.generator.weights[0].numpy())
    assert not np.allclose(d0[0], gan.discriminator.weights[0].numpy())
    path = tmp_path / "rp.keras"
    gan.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.gan_loss.name == "relativistic" and loaded.gan_loss.needs_real_logits
    assert [(r.name, r.weight) for r in loaded.gan_regularizers] == [("r1r2", 0.5)]
    loaded.fit(toy_dataset(n=64), epochs=1, verbose=0)  # and keeps training
