"""The SavedModel export: both signatures, loaded by a TensorFlow-only process, saved_model_cli,
agreement with `GAN.generate`, and the TFLite conversion of `serving_default`."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

import kgan
from kgan import export, images


def tiny_gan(arch, data_shape, num_classes=None, **kwargs):
    generator, discriminator = kgan.architectures.get(arch, **kwargs).build(
        data_shape, latent_dim=6, num_classes=num_classes
    )
    gan = kgan.GAN(generator, discriminator, num_classes=num_classes, ema_decay=0.99)
    # Give the EMA generator different weights, so the test sees which network is exported.
    gan.ema_generator.set_weights([w * 0.5 for w in gan.generator.get_weights()])
    return gan


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    keras.utils.set_random_seed(0)
    image_gan = tiny_gan("dcgan", (8, 8, 1), num_classes=3, width=4)
    vector_gan = tiny_gan("mlp", (2,), units=8, depth=1)
    return {
        "image": (image_gan, export.export_generator(image_gan.sampler, root / "image",
                                                     num_classes=3)),
        "vector": (vector_gan, export.export_generator(vector_gan.sampler, root / "vector")),
    }


TF_ONLY = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    image_dir, vector_dir, out = sys.argv[1:]
    result = {}
    image = tf.saved_model.load(image_dir)
    serve, sample = image.signatures["serving_default"], image.signatures["sample"]
    z = tf.random.stateless_normal([5, 6], seed=[1, 2])
    label = tf.constant([0, 1, 2, 0, 1], tf.int32)
    served = serve(z=z, label=label)["images"]
    a = sample(num=tf.constant(5), seed=tf.constant(7), label=label)["images"]
    b = sample(num=tf.constant(5), seed=tf.constant(7), label=label)["images"]
    c = sample(num=tf.constant(5), seed=tf.constant(8), label=label)["images"]
    vector = tf.saved_model.load(vector_dir)
    v = vector.signatures["sample"](num=tf.constant(4), seed=tf.constant(3))["samples"]
    w = vector.signatures["serving_default"](z=tf.zeros([2, 6]))["samples"]
    np.savez(out, z=z.numpy(), served=served.numpy(), a=a.numpy(), b=b.numpy(), c=c.numpy(),
             v=v.numpy(), w=w.numpy())
    print(json.dumps({
        "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("kgan", "keras")),
        "image_outputs": sorted(serve.structured_outputs),
        "image_inputs": sorted(serve.structured_input_signature[1]),
        "sample_inputs": sorted(sample.structured_input_signature[1]),
        "vector_outputs": sorted(vector.signatures["sample"].structured_outputs),
    }))
    """
)


def test_export_loads_in_a_tensorflow_only_process(exports, tmp_path):
    (image_gan, image_dir), (vector_gan, vector_dir) = exports["image"], exports["vector"]
    out = tmp_path / "out.npz"
    result = subprocess.run(
        [sys.executable, "-c", TF_ONLY, str(image_dir), str(vector_dir), str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert not [m for m in report["modules"] if m.split(".")[0] == "kgan"]
    assert report["image_outputs"] == ["images"]
    assert report["image_inputs"] == ["label", "z"]
    assert report["sample_inputs"] == ["label", "num", "seed"]
    assert report["vector_outputs"] == ["samples"]
    got = np.load(out)
    labels = np.array([0, 1, 2, 0, 1], np.int32)

    # serving_default is the sampling (EMA) generator, served as uint8 images
    assert got["served"].dtype == np.uint8 and got["served"].shape == (5, 8, 8, 1)
    expected = image_gan.sampler([got["z"], labels], training=False).numpy()
    assert np.abs(got["served"].astype(int) - images.to_uint8(expected).astype(int)).max() <= 1
    # sample(num, seed) gives what GAN.generate(num, seed) gives; same seed, same images
    generated = images.to_uint8(image_gan.generate(5, seed=7, labels=labels))
    assert np.abs(got["a"].astype(int) - generated.astype(int)).max() <= 1
    np.testing.assert_array_equal(got["a"], got["b"])
    assert not np.array_equal(got["a"], got["c"])
    # vector data: float32 samples
    assert got["v"].dtype == np.float32 and got["v"].shape == (4, 2)
    np.testing.assert_allclose(got["v"], vector_gan.generate(4, seed=3), rtol=1e-5, atol=1e-6)
    assert got["w"].shape == (2, 2)


def test_saved_model_cli_shows_both_signatures(exports):
    cli = Path(sys.executable).with_name("saved_model_cli")
    if not cli.exists():
        pytest.skip(f"saved_model_cli is not installed beside {sys.executable}")
    result = subprocess.run(
        [str(cli), "show", "--dir", str(exports["image"][1]), "--all"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    text = result.stdout
    for signature in ("signature_def['serving_default']", "signature_def['sample']"):
        assert signature in text
    assert "inputs['z']" in text and "inputs['label']" in text
    assert "inputs['num']" in text and "inputs['seed']" in text
    assert "outputs['images']" in text and "dtype: DT_UINT8" in text
    assert "shape: (-1, 8, 8, 1)" in text


@pytest.mark.parametrize("kind", ["image", "vector"])
def test_tflite_converts_serving_default(exports, kind):
    report = export.check_tflite(exports[kind][1])
    key = export.output_key(kind)
    assert report["bytes"] > 0
    assert report["outputs"][key]["max_abs_diff"] <= (1 if kind == "image" else 1e-5)


def test_export_replaces_an_existing_folder(exports, tmp_path):
    gan, _ = exports["vector"]
    target = tmp_path / "export"
    export.export_generator(gan.sampler, target)
    (target / "stale.txt").write_text("old")
    export.export_generator(gan.sampler, target)
    assert not (target / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
