"""Every architecture family built at tiny sizes: shapes, ranges, conditioning, saving, a fit step."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan import architectures
from kgan.errors import KganError

LATENT = 8
CLASSES = 3

# (name, constructor arguments, data shape): the smallest useful model of each family.
FAMILIES = [
    pytest.param("mlp", {"units": 8, "depth": 1}, (2,), id="mlp-vector"),
    pytest.param("mlp", {"units": 8, "depth": 1}, (8, 8, 1), id="mlp-image"),
    pytest.param("dcgan", {"width": 2}, (8, 8, 1), id="dcgan-8"),
    pytest.param("dcgan", {"width": 1, "upsampling": "nearest"}, (16, 16, 3), id="dcgan-16"),
    pytest.param("resnet", {"width": 1}, (32, 32, 3), id="resnet-32"),
]
IMAGE_FAMILIES = [p for p in FAMILIES if p.id != "mlp-vector"]


def _latents(n, scale=1.0, seed=0):
    return scale * np.random.default_rng(seed).normal(size=(n, LATENT)).astype("float32")


def _data(shape, n=4, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, *shape)).astype("float32")


# --------------------------------------------------------------------------- registry


def test_unknown_name_lists_valid_names():
    assert {"mlp", "dcgan", "resnet"} <= set(architectures.names())
    with pytest.raises(ValueError, match="'nope'.*valid names: dcgan, mlp, resnet"):
        architectures.get("nope")


@pytest.mark.parametrize(
    "name,config",
    [
        ("mlp", {"units": 16, "depth": 2, "spectral_norm": True, "output_activation": "tanh"}),
        ("dcgan", {"width": 3, "spectral_norm": True, "generator_batch_norm": False,
                   "discriminator_batch_norm": True, "upsampling": "nearest"}),
        ("resnet", {"width": 5, "spectral_norm": False}),
    ],
)
def test_config_is_every_constructor_argument_and_rebuilds(name, config):
    family = architectures.get(name, **config)
    assert family.get_config() == config
    assert all(getattr(family, key) == value for key, value in config.items())
    rebuilt = architectures.get({"name": name, **family.get_config()})
    assert type(rebuilt) is type(family) and rebuilt.get_config() == config
    assert name in repr(family).lower()


@pytest.mark.parametrize(
    "name,shape,valid",
    [
        ("dcgan", (12, 12, 1), "8, 14, 16, 28, 32, 56, 64, 112, 128"),
        ("dcgan", (8, 16, 1), "8, 14, 16, 28, 32, 56, 64, 112, 128"),
        ("dcgan", (256, 256, 3), "8, 14, 16, 28, 32, 56, 64, 112, 128"),
        ("dcgan", (8, 8), "8, 14, 16, 28, 32, 56, 64, 112, 128"),
        ("resnet", (16, 16, 3), "32, 64"),
        ("resnet", (128, 128, 3), "32, 64"),
    ],
)
def test_bad_image_size_lists_valid_sizes(name, shape, valid):
    family = architectures.get(name, width=1)
    expected = re.escape(name) + ".*" + re.escape("{" + valid + "}") + ".*" + re.escape(str(shape))
    with pytest.raises(ValueError, match=expected):
        family.generator(shape, LATENT)
    with pytest.raises(ValueError, match=expected):
        family.discriminator(shape)


@pytest.mark.parametrize(
    "name,shape,fix",
    [
        ("dcgan", (48, 48, 1), "use image_size 32 or 56"),
        ("dcgan", (4, 4, 1), "use image_size 8"),
        ("resnet", (128, 128, 3), "use image_size 64"),
        ("dcgan", (2,), "use the mlp architecture"),
    ],
)
def test_bad_image_size_is_a_kgan_error_naming_the_fix(name, shape, fix):
    with pytest.raises(KganError, match=re.escape(fix)):
        architectures.get(name, width=1).generator(shape, LATENT)


@pytest.mark.parametrize(
    "name,kwargs",
    [("dcgan", {"width": 0}), ("dcgan", {"upsampling": "bilinear"}), ("resnet", {"width": 0})],
)
def test_bad_arguments_raise(name, kwargs):
    with pytest.raises(ValueError, match=name):
        architectures.get(name, **kwargs)


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("dcgan", {"width": "abc"}, "dcgan: --arch-arg width must be an integer, got 'abc'"),
        ("dcgan", {"width": 2.5}, "dcgan: --arch-arg width must be an integer, got 2.5"),
        ("dcgan", {"width": True}, "dcgan: --arch-arg width must be an integer, got True"),
        ("dcgan", {"width": 4097}, "dcgan: --arch-arg width must be between 1 and 1024, got 4097"),
        ("resnet", {"width": 10**6}, "resnet: --arch-arg width must be between 1 and 1024"),
        ("resnet", {"width": "x"}, "resnet: --arch-arg width must be an integer, got 'x'"),
        ("mlp", {"units": 10**5}, "mlp: --arch-arg units must be between 1 and 16384"),
        ("mlp", {"depth": 1000}, "mlp: --arch-arg depth must be between 0 and 64"),
        ("mlp", {"units": None}, "mlp: --arch-arg units must be an integer, got None"),
    ],
)
def test_size_arguments_are_bounded_and_named(name, kwargs, message):
    with pytest.raises(KganError) as error:
        architectures.get(name, **kwargs)
    assert message in str(error.value)


def test_size_arguments_accept_json_and_config_forms():
    assert architectures.get("dcgan", width="8").width == 8
    assert architectures.get("dcgan", width=8.0).width == 8
    assert architectures.get("mlp", units=np.int64(16), depth=0).get_config()["units"] == 16


# --------------------------------------------------------------------------- shapes and ranges


@pytest.mark.parametrize("name,config,shape", FAMILIES)
def test_builds_with_float32_outputs_of_the_right_shape(name, config, shape):
    generator, discriminator = architectures.get(name, **config).build(shape, LATENT)
    samples = keras.ops.convert_to_numpy(generator(_latents(4), training=False))
    assert samples.shape == (4, *shape) and samples.dtype == np.float32
    logits = discriminator(samples, training=True)
    assert tuple(logits.shape) == (4, 1) and logits.dtype == tf.float32
    if len(shape) == 3:  # images are bounded, even for latents far outside N(0, 1)
        extreme = keras.ops.convert_to_numpy(generator(_latents(4, scale=1e3), training=False))
        assert np.all(np.abs(extreme) <= 1.0) and np.all(np.isfinite(extreme))


@pytest.mark.parametrize(
    "shape,g_layers,d_strided",
    [((8, 8, 1), ["up_8_conv"], ["down_4_conv"]),
     ((32, 32, 3), ["up_8_conv", "up_16_conv", "up_32_conv"], ["down_16_conv", "down_8_conv", "down_4_conv"])],
)
def test_dcgan_doubles_from_4x4_and_halves_down_to_4x4(shape, g_layers, d_strided):
    family = architectures.get("dcgan", width=2)
    generator, discriminator = family.build(shape, LATENT)
    assert [l.name for l in generator.layers if l.name.startswith("up_") and l.name.endswith("_conv")] == g_layers
    assert [l.name for l in discriminator.layers if l.name.startswith("down_") and l.name.endswith("_conv")] == d_strided
    assert discriminator.get_layer("flatten").output.shape[1:] == (4 * 4 * 2 * min(8, shape[0] // 8),)
    assert generator.get_layer("project").output.shape[-1] == 4 * 4 * 2 * min(8, shape[0] // 4)


def test_dcgan_builds_28_px_from_7x7_without_resizing():
    """MNIST-sized data (28x28, as the Keras DCGAN example) trains at its own size."""
    generator, discriminator = architectures.get("dcgan", width=2).build((28, 28, 1), LATENT)
    assert [l.name for l in generator.layers if l.name.startswith("up_") and l.name.endswith("_conv")] == ["up_14_conv", "up_28_conv"]
    assert [l.name for l in discriminator.layers if l.name.startswith("down_") and l.name.endswith("_conv")] == ["down_14_conv", "down_7_conv"]
    assert generator.get_layer("project_reshape").output.shape[1:] == (7, 7, 2 * 4)
    assert generator.output.shape[1:] == (28, 28, 1)
    assert discriminator.get_layer("flatten").output.shape[1:] == (7 * 7 * 2 * 2,)


def test_discriminator_logit_stays_float32_under_mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        for name, config, shape in [("dcgan", {"width": 1, "spectral_norm": True}, (8, 8, 1)),
                                    ("mlp", {"units": 4, "depth": 1, "spectral_norm": True}, (2,))]:
            generator, discriminator = architectures.get(name, **config).build(shape, LATENT)
            assert generator.output.dtype == "float32" and discriminator.output.dtype == "float32"
            assert discriminator(_data(shape, 2), training=True).dtype == tf.float32
    finally:
        keras.config.set_dtype_policy(previous)


# --------------------------------------------------------------------------- conditioning


@pytest.mark.parametrize("name,config,shape", FAMILIES)
def test_conditional_networks_take_labels_and_use_them(name, config, shape):
    generator, discriminator = architectures.get(name, **config).build(shape, LATENT, CLASSES)
    assert [t.name for t in generator.inputs] == ["z", "label"]
    assert [t.name for t in discriminator.inputs] == ["x", "label"]
    z = np.repeat(_latents(1), 2, axis=0)
    labels = np.array([0, 1], np.int32)
    samples = keras.ops.convert_to_numpy(generator([z, labels], training=False))
    assert samples.shape == (2, *shape)
    assert not np.allclose(samples[0], samples[1])  # the label embedding enters the generator

    x = np.repeat(_data(shape, 1), 2, axis=0)  # the same sample, two labels
    logits = keras.ops.convert_to_numpy(discriminator([x, labels], training=False))
    assert logits.shape == (2, 1) and logits.dtype == np.float32
    projection = keras.ops.convert_to_numpy(_projection(discriminator, x, labels))
    assert not np.allclose(projection[0], projection[1])
    # The logit is the unconditional logit plus the projection: only the projection depends on y.
    np.testing.assert_allclose(logits[0] - logits[1], projection[0] - projection[1], rtol=1e-4, atol=1e-5)


def _projection(discriminator, x, labels):
    """The projection term <embed(y), features> of a conditional discriminator."""
    probe = keras.Model(discriminator.inputs, discriminator.get_layer("projection").output)
    return probe([x, labels], training=False)


# --------------------------------------------------------------------------- spectral norm


def _spectral_layers(model):
    return [l for l in model.layers if isinstance(l, keras.layers.SpectralNormalization)]


@pytest.mark.parametrize(
    "name,config,shape,wrapped",
    [
        ("mlp", {"units": 4, "depth": 2, "spectral_norm": True}, (2,), 3),
        ("dcgan", {"width": 1, "spectral_norm": True}, (16, 16, 1), 4),  # from_image, 2 strided, logit
        ("resnet", {"width": 1}, (32, 32, 3), 4 * 2 + 2 + 1),  # 2 convs per block, 2 shortcuts, logit
    ],
)
def test_spectral_norm_wraps_every_discriminator_weight_layer(name, config, shape, wrapped):
    family = architectures.get(name, **config)
    discriminator = family.discriminator(shape)
    layers = _spectral_layers(discriminator)
    assert len(layers) == wrapped
    assert all(isinstance(l.layer, (keras.layers.Dense, keras.layers.Conv2D)) for l in layers)
    assert not _spectral_layers(family.generator(shape, LATENT))
    plain = architectures.get(name, **{**config, "spectral_norm": False}).discriminator(shape)
    assert not _spectral_layers(plain)


def test_spectral_norm_brings_every_kernel_to_unit_spectral_norm():
    discriminator = architectures.get("dcgan", width=2, spectral_norm=True).discriminator((8, 8, 1))
    x = _data((8, 8, 1), 8)
    for _ in range(30):  # each training call runs a power iteration and rescales the kernel
        discriminator(x, training=True)
    for wrapper in _spectral_layers(discriminator):
        kernel = keras.ops.convert_to_numpy(wrapper.layer.kernel)
        sigma = np.linalg.norm(kernel.reshape(-1, kernel.shape[-1]), 2)
        np.testing.assert_allclose(sigma, 1.0, rtol=2e-2, err_msg=wrapper.layer.name)


# --------------------------------------------------------------------------- the GAN


def _gan(name, config, shape, num_classes=None, ema_decay=None):
    generator, discriminator = architectures.get(name, **config).build(shape, LATENT, num_classes)
    gan = kgan.GAN(generator, discriminator, num_classes=num_classes, ema_decay=ema_decay)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3),
                loss="hinge")
    return gan


@pytest.mark.parametrize(
    "name,config,shape,num_classes",
    [
        ("mlp", {"units": 8, "depth": 1, "spectral_norm": True}, (2,), None),
        ("dcgan", {"width": 1}, (8, 8, 1), None),
        ("dcgan", {"width": 1, "spectral_norm": True, "discriminator_batch_norm": True}, (16, 16, 3), CLASSES),
        ("resnet", {"width": 1}, (32, 32, 3), None),
    ],
)
def test_gan_round_trips_through_keras_file(tmp_path, name, config, shape, num_classes):
    gan = _gan(name, config, shape, num_classes)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(loaded.generate(6, seed=3), gan.generate(6, seed=3))
    x = _data(shape, 2)
    inputs = x if num_classes is None else [x, np.array([0, 2], np.int32)]
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded.discriminator(inputs, training=False)),
        keras.ops.convert_to_numpy(gan.discriminator(inputs, training=False)),
    )


@pytest.mark.parametrize("num_classes", [None, CLASSES], ids=["unconditional", "conditional"])
def test_dcgan_fit_step_updates_both_networks(num_classes):
    gan = _gan("dcgan", {"width": 1, "spectral_norm": num_classes is not None}, (8, 8, 1), num_classes,
               ema_decay=0.9)
    images = _data((8, 8, 1), 8)
    data = images if num_classes is None else (images, np.arange(8) % num_classes)
    g_before = [w.copy() for w in gan.generator.get_weights()]
    d_before = [w.copy() for w in gan.discriminator.get_weights()]
    history = gan.fit(tf.data.Dataset.from_tensor_slices(data).batch(4), epochs=1, verbose=0, shuffle=False)
    assert all(np.isfinite(history.history[k][-1]) for k in ("d_loss", "g_loss", "d_real", "d_fake"))
    assert any(not np.array_equal(a, b) for a, b in zip(g_before, gan.generator.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(d_before, gan.discriminator.get_weights()))
    assert gan.generate(3, seed=0).shape == (3, 8, 8, 1)
