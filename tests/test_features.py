"""Feature extractors: the shipped classifiers, Inception loading, and the statistics cache."""

import gzip
import importlib.util
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from kgan import features, metrics
from kgan.errors import KganError

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"
RECORDS = json.loads((ROOT / "kgan" / "assets" / "classifiers.json").read_text())


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "train_classifiers", ROOT / "scripts" / "train_classifiers.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = _load_script()


@pytest.fixture(scope="module")
def digits_test():
    return script.digits_split("test")


# --------------------------------------------------------------------------- lookup


def test_registry_and_defaults():
    assert set(features.names()) == {
        "digits", "digits_classifier", "digits_pixels", "mnist", "mnist_pooled", "inception"}
    with pytest.raises(
        ValueError,
        match="valid names: digits, digits_classifier, digits_pixels, inception, mnist, "
        "mnist_pooled",
    ):
        features.get("vgg")
    assert features.default_for("digits") == "digits_pixels"
    # The old name keeps meaning the classifier (same weights, so old numbers stay comparable).
    assert features.get("digits").fingerprint == features.get("digits_classifier").fingerprint
    assert features.get("digits_pixels").fingerprint != features.get("digits").fingerprint
    assert features.get("digits_pixels").features(np.zeros((2, 8, 8, 1))).shape == (2, 64)
    # MNIST's headline is its pooled pixels; `mnist` stays the classifier (same weights).
    assert features.default_for("mnist:3.0.1") == "mnist_pooled"
    assert features.default_for("MNIST") == "mnist_pooled"
    assert features.default_for("cifar10") is None
    assert features.default_for("ring8") is None


def test_shipped_assets_are_small():
    for name in ("digits_classifier.keras", "mnist_classifier.keras"):
        assert (ROOT / "kgan" / "assets" / name).stat().st_size < 1_000_000


# --------------------------------------------------------------------------- digits


def test_digits_classifier_accuracy_on_the_held_out_split(digits_test):
    images, labels = digits_test
    extractor = features.get("digits")
    probs = extractor.probabilities(images)
    accuracy = (probs.argmax(1) == labels).mean()
    assert accuracy >= 0.97
    assert accuracy == pytest.approx(RECORDS["digits"]["test_accuracy"], abs=1e-3)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)


def test_digits_features_separate_real_from_wrong_data(digits_test):
    images, labels = digits_test
    extractor = features.get("digits")
    train = extractor.features(script.digits_split("train")[0])
    test = extractor.features(images)
    assert train.shape == (1500, 64) and test.dtype == np.float32
    real_vs_real = metrics.fid(train, test)["fid"]
    noise = np.random.default_rng(0).uniform(-1, 1, size=(297, 8, 8, 1))
    real_vs_noise = metrics.fid(train, extractor.features(noise))["fid"]
    only_zeros = metrics.fid(train, extractor.features(images[labels == 0]))["fid"]
    # Measured: 1.5, 22 and 47 (train 1,500 vs test 297).
    assert real_vs_real < 3
    assert real_vs_noise > 8 * real_vs_real
    assert only_zeros > 10 * real_vs_real
    # Batching does not change the numbers; (N, 8, 8) is accepted as one channel.
    np.testing.assert_allclose(
        extractor.features(images[..., 0], batch_size=7), test, rtol=1e-4, atol=1e-5
    )


def test_metrics_record_the_extractor_and_its_weights(digits_test):
    images, _ = digits_test
    extractor = features.get("digits")
    feats = extractor.features(images)
    result = metrics.compute(
        "fid", real_features=feats[:150], fake_features=feats[150:], extractor=extractor
    )
    assert result["extractor"] == "digits"
    assert result["extractor_fingerprint"] == extractor.fingerprint
    assert (result["num_real"], result["num_fake"]) == (150, 147)
    score = metrics.compute("classifier_score", fake_probabilities=extractor.probabilities(images))
    assert 8.0 < score["classifier_score"] <= 10.0  # measured 8.9 on the test split


def test_models_load_once_per_process_and_configs_round_trip():
    first, second = features.get("digits"), features.get("digits")
    assert first.model is second.model
    assert first.fingerprint == second.fingerprint and len(first.fingerprint) == 12
    rebuilt = features.get(first.get_config())
    assert isinstance(rebuilt, features.DigitsClassifier) and rebuilt.model is first.model
    assert features.get(first) is first
    with pytest.raises(KganError, match="weights for the 'mnist' extractor are missing"):
        features.get("mnist", path="/nonexistent/mnist.keras")


def test_input_checks_name_the_problem():
    extractor = features.get("digits")
    with pytest.raises(KganError, match="8x8x1 images; got height 28"):
        extractor.features(np.zeros((2, 28, 28, 1)))
    with pytest.raises(KganError, match=r"scaled to \[-1, 1\]; got values in \[0, 16\]"):
        extractor.features(np.full((2, 8, 8, 1), 16.0) * np.arange(2)[:, None, None, None])
    with pytest.raises(KganError, match="NaN"):
        extractor.features(np.full((2, 8, 8, 1), np.nan))
    with pytest.raises(KganError, match=r"\(N, H, W, C\)"):
        extractor.features(np.zeros(64))
    assert extractor.features(np.zeros((0, 8, 8, 1))).shape == (0, 64)


def test_a_classifier_of_ones_own_can_replace_the_shipped_one(tmp_path):
    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Dense(5, activation="relu", name="features")(
        keras.layers.Flatten()(inputs)
    )
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(hidden)
    keras.Model(inputs, outputs).save(tmp_path / "mine.keras")
    extractor = features.get("digits", path=tmp_path / "mine.keras")
    images = np.random.default_rng(0).uniform(-1, 1, (3, 8, 8, 1))
    assert extractor.features(images).shape == (3, 5)
    assert extractor.probabilities(images).shape == (3, 10)
    assert extractor.fingerprint != features.get("digits").fingerprint


# --------------------------------------------------------------------------- mnist


def test_shipped_mnist_classifier_loads_in_safe_mode_and_gives_sane_features(digits_test):
    model = keras.saving.load_model(
        ROOT / "kgan" / "assets" / "mnist_classifier.keras", safe_mode=True
    )
    assert model.get_layer("features").output.shape[-1] == 128
    # scikit-learn's 8x8 digits, upscaled into MNIST's layout (20x20 digit centred in 28x28),
    # are digits the MNIST classifier should mostly recognise.
    images, labels = digits_test
    canvas = np.full((len(images), 28, 28), -1.0, np.float32)
    canvas[:, 4:24, 4:24] = _resize(images[..., 0], 20)
    extractor = features.get("mnist")
    feats = extractor.features(canvas[..., None])
    assert feats.shape == (len(images), 128) and np.all(np.isfinite(feats))
    assert feats.std(0).mean() > 0.1
    accuracy = (extractor.probabilities(canvas[..., None]).argmax(1) == labels).mean()
    assert accuracy > 0.5


def test_mnist_pooled_averages_2x2_blocks_and_has_a_fixed_definition():
    extractor = features.get("mnist_pooled")
    pooled = np.random.default_rng(0).uniform(-0.8, 0.8, (3, 14, 14))
    # Each 2x2 block is its target value plus a +-0.1 checkerboard that averages out.
    checker = 0.1 * np.array([[1.0, -1.0], [-1.0, 1.0]])
    images = np.stack([np.kron(p, np.ones((2, 2))) + np.tile(checker, (14, 14)) for p in pooled])
    feats = extractor.features(images[..., None])
    assert feats.shape == (3, 196) and feats.dtype == np.float32
    np.testing.assert_allclose(feats, pooled.reshape(3, 196), atol=1e-6)  # row-major
    np.testing.assert_array_equal(extractor.features(images, batch_size=2), feats)
    # The fingerprint is the definition's digest: it changes only if the definition does.
    assert extractor.fingerprint == "f6fd3cc48aed" == features.get("mnist_pooled").fingerprint
    assert extractor.fingerprint != features.get("mnist").fingerprint
    assert extractor.num_classes is None and extractor.classifier == "mnist"
    with pytest.raises(KganError, match="28x28x1 images; got height 32"):
        extractor.features(np.zeros((1, 32, 32, 1)))


def test_evaluator_maps_32px_runs_to_the_pooled_mnist_space(tmp_path):
    """The mnist preset trains at 32x32: the Evaluator resizes to 28x28 before pooling, and
    takes its classifier score from the `mnist` classifier."""
    from kgan.evaluation import Evaluator

    path = tmp_path / "tiny.npz"
    np.savez(path, x=np.zeros((12, 28, 28), np.uint8), y=np.arange(12) % 10)
    evaluator = Evaluator(f"npz:{path}", image_size=32, extractor="mnist_pooled")
    assert evaluator.classifier.name == "mnist" and "classifier_score" in evaluator.available()
    flat = np.full((2, 32, 32, 1), 0.5, np.float32)
    np.testing.assert_allclose(evaluator.features(flat), 0.5, atol=1e-5)
    assert evaluator.probabilities(flat).shape == (2, 10)


def _resize(images, size):
    import tensorflow as tf

    return tf.image.resize(images[..., None], (size, size), method="bilinear").numpy()[..., 0]


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"MNIST files not present at {MNIST_DIR}")
def test_mnist_classifier_accuracy_on_the_official_test_set():
    images, labels = script.mnist_split(MNIST_DIR, "test")
    accuracy = (
        features.get("mnist").probabilities(images, batch_size=1000).argmax(1) == labels
    ).mean()
    assert accuracy >= 0.985
    assert accuracy == pytest.approx(RECORDS["mnist"]["test_accuracy"], abs=1e-3)


def test_training_script_skips_mnist_with_a_message_when_files_are_absent(tmp_path, capsys):
    assert (
        script.main(
            ["--only", "mnist", "--mnist-dir", str(tmp_path / "nope"), "--out", str(tmp_path)]
        )
        == 0
    )
    assert "mnist: skipped, no MNIST IDX files in" in capsys.readouterr().out
    assert json.loads((tmp_path / "classifiers.json").read_text()) == {}
    assert not (tmp_path / "mnist_classifier.keras").exists()


def test_idx_reader_round_trip(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint32).reshape(2, 28, 28) % 256
    header = bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (2, 28, 28))
    for prefix in ("train", "t10k"):
        (tmp_path / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(header + images.astype(np.uint8).tobytes())
        )
        (tmp_path / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(bytes([0, 0, 8, 1]) + (2).to_bytes(4, "big") + bytes([3, 7]))
        )
    assert script.mnist_available(tmp_path) and not script.mnist_available(tmp_path / "missing")
    x, y = script.mnist_split(tmp_path, "test")
    assert x.shape == (2, 28, 28, 1) and list(y) == [3, 7]
    np.testing.assert_allclose(x[..., 0], images / 127.5 - 1.0, atol=1e-6)


# --------------------------------------------------------------------------- inception


def test_inception_without_weights_says_how_to_supply_them(monkeypatch, tmp_path):
    monkeypatch.delenv(features.INCEPTION_ENV, raising=False)
    monkeypatch.setenv(features.CACHE_ENV, str(tmp_path / "empty-cache"))
    with pytest.raises(KganError, match="run `kgan features install inception` once, or pass "
                                        "weights=PATH or set KGAN_INCEPTION_WEIGHTS=PATH"):
        features.get("inception")
    with pytest.raises(KganError, match="not found"):
        features.get("inception", weights=tmp_path / "nope.keras")
    monkeypatch.setenv(features.INCEPTION_ENV, str(tmp_path / "gone.h5"))
    with pytest.raises(KganError, match="gone.h5"):
        features.get("inception")
    (tmp_path / "weights.pth").write_bytes(b"x")
    with pytest.raises(KganError, match=r"\.keras model or an \.h5"):
        features.get("inception", weights=tmp_path / "weights.pth")


def _channel_mean_model(width):
    """A stand-in for a converted FID Inception: feature j is the mean of channel j % 3."""
    inputs = keras.Input((299, 299, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    dense = keras.layers.Dense(width, use_bias=False)
    outputs = dense(pooled)
    dense.set_weights([np.eye(3)[:, np.arange(width) % 3]])
    return keras.Model(inputs, outputs)


def test_inception_from_a_keras_file_quantises_resizes_and_converts_grayscale(
    tmp_path, monkeypatch
):
    path = tmp_path / "fid_inception.keras"
    _channel_mean_model(2048).save(path)
    monkeypatch.setenv(features.INCEPTION_ENV, str(path))
    extractor = features.get("inception")
    gray = np.linspace(-0.5, 0.5, 3)[:, None, None, None] * np.ones((3, 8, 8, 1))
    feats = extractor.features(gray)
    assert feats.shape == (3, 2048)
    # As the reference: uint8 pixels round((x + 1) * 127.5) = 64, 128, 191, then (p - 128) / 128.
    np.testing.assert_allclose(
        feats, np.repeat(np.array([64, 128, 191])[:, None] / 128 - 1, 2048, 1), atol=1e-5
    )
    rgb = np.zeros((1, 32, 40, 3)) + np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(
        extractor.features(rgb)[0, :6], (np.array([140, 153, 166] * 2) / 128 - 1), atol=1e-5
    )
    with pytest.raises(KganError, match="not a classifier"):
        extractor.probabilities(rgb)

    narrow = tmp_path / "narrow.keras"
    _channel_mean_model(10).save(narrow)
    with pytest.raises(KganError, match="expected \\(2048,\\)"):
        features.get("inception", weights=narrow).features(rgb)


def _tampered_models(tmp_path):
    """Three .keras files safe mode refuses: junk bytes, a Python lambda, and a config whose
    layer names another module's function."""
    import zipfile

    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip")
    inputs = keras.Input((3,))
    lam = tmp_path / "lambda.keras"
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(lam)
    plain = tmp_path / "plain.keras"
    keras.Model(inputs, keras.layers.Dense(2)(inputs)).save(plain)
    with zipfile.ZipFile(plain) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = members["config.json"].decode()
    members["config.json"] = (
        config.replace('"module": "keras.layers"', '"module": "os"')
        .replace('"class_name": "Dense"', '"class_name": "system"').encode()
    )
    edited = tmp_path / "edited.keras"
    with zipfile.ZipFile(edited, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return [(junk, "it is not a .keras (zip) archive"),
            (lam, "tampered with (Requested the deserialization of a `Lambda` layer"),
            (edited, "tampered with")]


def test_tampered_inception_weights_are_a_one_line_error(tmp_path, monkeypatch):
    for path, reason in _tampered_models(tmp_path):
        monkeypatch.setenv(features.INCEPTION_ENV, str(path))
        extractor = features.get("inception")
        with pytest.raises(KganError) as error:
            extractor.features(np.zeros((1, 8, 8, 3)))
        message = str(error.value)
        assert f"cannot load the Keras model {path.resolve()}: " in message, message
        assert reason in message, message
        assert "safe_mode=False" not in message and "\n" not in message
        assert "File not found" not in message


@pytest.mark.slow
def test_inception_from_keras_applications_weights(tmp_path):
    path = tmp_path / "inception_v3_notop.weights.h5"
    keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg").save_weights(
        path
    )
    extractor = features.get("inception", weights=path)
    feats = extractor.features(np.zeros((2, 28, 28, 1)))
    assert feats.shape == (2, 2048) and np.all(np.isfinite(feats))
    assert extractor.get_config() == {"name": "inception", "weights": str(path)}


# --------------------------------------------------------------------------- statistics cache


def test_reference_stats_are_cached_per_dataset_extractor_and_count(tmp_path, digits_test):
    images, _ = digits_test
    calls = []

    def load():
        calls.append(1)
        return images

    first = features.reference_stats(
        "digits", "digits", load, split="test", count=200, cache_dir=tmp_path
    )
    assert calls == [1] and first.path.is_file() and first.path.parent == tmp_path
    assert first.features.shape == (200, 64) and first.count == 200
    np.testing.assert_allclose(first.mean, first.features.mean(0), rtol=1e-6, atol=1e-6)
    again = features.reference_stats(
        "digits", "digits", load, split="test", count=200, cache_dir=tmp_path
    )
    assert calls == [1]  # served from the cache: the loader was not called
    np.testing.assert_array_equal(again.features, first.features)
    np.testing.assert_array_equal(again.cov, first.cov)

    other = features.reference_stats(
        "digits", features.get("digits"), images, split="test", cache_dir=tmp_path
    )
    assert other.count == 297 and other.path != first.path
    assert "digits-test-digits-" in first.path.name and first.path.name.endswith("-200.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.path.name, other.path.name])

    with pytest.raises(KganError, match="needs count="):
        features.reference_stats("digits", "digits", load, cache_dir=tmp_path)
    with pytest.raises(KganError, match="fewer than count=400"):
        features.reference_stats("digits", "digits", images, count=400, cache_dir=tmp_path)


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(features.CACHE_ENV, str(tmp_path))
    assert features.default_cache_dir() == tmp_path
    monkeypatch.delenv(features.CACHE_ENV)
    assert features.default_cache_dir() == Path.home() / ".cache" / "kgan" / "reference_stats"
