"""StackedMNIST: the `stacked_mnist` data source and its mode coverage (`stacked_modes`).

The tests on real data prepare MNIST once from ../shared/data/mnist (or $KGAN_SHARED_DATA/mnist,
for a git worktree that lives elsewhere) into a temporary data dir, then build stacked_mnist
from it (about 30 s together on 2 cores); they skip with a message where the files are absent.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
from pathlib import Path

import numpy as np
import pytest

import kgan.data
from kgan import features, metrics
from kgan.data.builders.stacked_mnist import stacked_mnist_dataset_builder as stacked
from kgan.errors import KganError
from kgan.evaluation import Evaluator

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KGAN_SHARED_DATA") or ROOT.parent / "shared" / "data")
SHARED_MNIST = SHARED / "mnist"
needs_shared = pytest.mark.skipif(
    not SHARED_MNIST.is_dir(),
    reason=f"{SHARED_MNIST} is absent (the shared MNIST copies exist on the project's machines "
    "only; set KGAN_SHARED_DATA to the folder holding mnist/)",
)


def read_idx(name: str) -> np.ndarray:
    data = gzip.open(SHARED_MNIST / name).read()
    if "images" in name:
        return np.frombuffer(data[16:], np.uint8).reshape(-1, 28, 28)
    return np.frombuffer(data[8:], np.uint8)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A data dir holding mnist, prepared from the shared files, and stacked_mnist built from it."""
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"{SHARED_MNIST} is absent")
    path = str(tmp_path_factory.mktemp("tfds_stacked"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KGAN_OFFLINE", "1")
        kgan.data.prepare("mnist", str(SHARED_MNIST), data_dir=path)
        kgan.data.prepare("stacked_mnist", data_dir=path)
    return path


@pytest.fixture(scope="module")
def real_test(data_dir):
    """The 26,000 stacked test images, their labels, and their modes by the classifier."""
    x, y = kgan.data.load_arrays("stacked_mnist", split="test", labels=True, data_dir=data_dir)
    return x, y, features.ChannelDigits().modes(x)


# ------------------------------------------------------------------ without data


def test_mode_histogram_values_are_pinned():
    two = metrics.histogram_coverage([5, 5, 0, 0])
    assert two == {"modes": 2, "num_modes": 4, "reverse_kl": pytest.approx(math.log(2)),
                   "num_fake": 10}
    skewed = metrics.histogram_coverage([3, 1])  # p = (3/4, 1/4), K = 2
    expected = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    assert skewed["reverse_kl"] == pytest.approx(expected) == pytest.approx(0.1308121)
    assert metrics.histogram_coverage(np.full(1000, 26))["reverse_kl"] == pytest.approx(0.0)
    assert metrics.histogram_coverage(np.eye(1000)[7] * 9)["reverse_kl"] == pytest.approx(
        math.log(1000))


def test_stacked_modes_of_a_collapsed_and_a_uniform_histogram():
    collapsed = metrics.compute("stacked_modes", fake_modes=np.arange(26_000) % 10 * 111)
    assert collapsed["modes"] == 10 and collapsed["num_modes"] == 1000
    assert collapsed["reverse_kl"] == pytest.approx(math.log(100))  # 4.605
    uniform = metrics.stacked_modes(np.arange(26_000) % 1000)
    assert uniform["modes"] == 1000 and uniform["reverse_kl"] == pytest.approx(0.0, abs=1e-12)
    assert metrics.get("stacked_modes").inputs == ("fake_modes",)
    with pytest.raises(KganError, match=r"0\.\.999"):
        metrics.stacked_modes(np.array([3, 1000]))
    with pytest.raises(KganError, match="mode indices"):
        metrics.stacked_modes(np.array([0.5, 1.0]))


def test_triples_are_a_function_of_the_seed():
    first = stacked.triple_indices(500, 10_000, "test")
    assert first.shape == (500, 3) and first.min() >= 0 and first.max() < 10_000
    np.testing.assert_array_equal(first, stacked.triple_indices(500, 10_000, "test", seed=0))
    assert not np.array_equal(first, stacked.triple_indices(500, 10_000, "test", seed=1))
    assert not np.array_equal(first, stacked.triple_indices(500, 10_000, "train"))
    # pinned: a change here is a change of the dataset (bump the builder's version)
    digest = hashlib.sha256(b"stacked_mnist/0/test/0/0").digest()
    assert first[0, 0] == int.from_bytes(digest[:8], "big") % 10_000
    # independent draws: every channel spreads over the pool, channels are not tied
    assert len(np.unique(first[:, 0])) > 480 and np.mean(first[:, 0] == first[:, 1]) < 0.01
    assert stacked.triple_label(np.array([[3, 0, 7], [9, 9, 9]])).tolist() == [307, 999]


def test_mode_classifiers_are_registered_for_the_dataset():
    assert features.modes_for("stacked_mnist") == "channel_digits"
    assert features.modes_for("stacked_mnist:1.0.0") == "channel_digits"
    assert features.modes_for("mnist") is None
    classifier = features.get_mode_classifier("channel_digits")
    assert classifier.num_modes == 1000 and classifier.fingerprint.startswith("mnist:")
    with pytest.raises(KganError, match=r"\(N, H, W, 3\)"):
        classifier.modes(np.zeros((2, 28, 28, 1), np.float32))


def test_without_prepared_mnist_the_error_names_the_prepare_command(tmp_path, monkeypatch):
    monkeypatch.setenv("KGAN_OFFLINE", "1")
    empty = str(tmp_path)
    fix = f"kgan data prepare mnist --from DIR --data-dir {empty}"
    for call in (
        lambda: kgan.data.info("stacked_mnist", data_dir=empty),
        lambda: kgan.data.load("stacked_mnist", data_dir=empty),
        lambda: kgan.data.prepare("stacked_mnist", data_dir=empty),
    ):
        with pytest.raises(KganError) as error:
            call()
        message = str(error.value)
        assert "\n" not in message and message.startswith("stacked_mnist: ") and fix in message
    assert not (tmp_path / "stacked_mnist" / "1.0.0" / "dataset_info.json").exists()
    import tensorflow_datasets as tfds  # the builder itself, through TFDS without kgan.data

    with pytest.raises(KganError, match=f"first with `{fix}`"):
        tfds.builder("stacked_mnist", data_dir=empty).download_and_prepare()


# ------------------------------------------------------------------ the data source


@pytest.mark.slow
@needs_shared
def test_source_facts_and_sizes(data_dir):
    train = kgan.data.info("stacked_mnist", data_dir=data_dir)
    test = kgan.data.info("stacked_mnist", split="test", data_dir=data_dir)
    assert (train.shape, train.num_classes, train.num_examples) == ((28, 28, 3), 1000, 60_000)
    assert test.num_examples == 26_000 and test.class_names[307] == "307"
    assert kgan.data.info("stacked_mnist", image_size=32, data_dir=data_dir).shape == (32, 32, 3)
    images, labels = next(iter(kgan.data.load("stacked_mnist", batch_size=64, labels=True,
                                              data_dir=data_dir)))
    assert images.shape == (64, 28, 28, 3) and labels.shape == (64,)
    assert kgan.data.version("stacked_mnist", data_dir) == "v1.0.0"


@pytest.mark.slow
@needs_shared
def test_channels_are_mnist_digits_matching_the_label_triple(data_dir):
    x, y = kgan.data.load_arrays("stacked_mnist", split="test", labels=True, limit=2000,
                                 data_dir=data_dir)
    assert x.dtype == np.float32 and x.shape == (2000, 28, 28, 3)
    assert x.min() == -1.0 and x.max() == 1.0
    pixels = np.rint((x + 1) * 127.5)
    np.testing.assert_allclose((x + 1) * 127.5, pixels, atol=1e-3)  # uint8 -> [-1, 1] exactly
    pixels = pixels.astype(np.uint8)
    digit_of = {hashlib.md5(i.tobytes()).digest(): int(label) for i, label in
                zip(read_idx("t10k-images-idx3-ubyte.gz"), read_idx("t10k-labels-idx1-ubyte.gz"))}
    digits = np.array([[digit_of[hashlib.md5(np.ascontiguousarray(p[..., c]).tobytes()).digest()]
                        for c in range(3)] for p in pixels])
    np.testing.assert_array_equal(y, digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2])
    assert len(np.unique(y)) > 850  # 2,000 draws of 1,000 near-uniform modes hit ~865


@pytest.mark.slow
@needs_shared
def test_same_seed_gives_the_same_data(data_dir):
    """The stored split is exactly the seed's triples of the prepared MNIST split."""
    images, labels = stacked.mnist_arrays(data_dir, "test")
    indices = stacked.triple_indices(300, len(images), "test", seed=stacked.SEED)
    x, y = kgan.data.load_arrays("stacked_mnist", split="test", labels=True, limit=300,
                                 data_dir=data_dir)
    expected = stacked.stack(images, indices).astype(np.float32) / 127.5 - 1.0
    np.testing.assert_allclose(x, expected, atol=1e-6)
    np.testing.assert_array_equal(y, stacked.triple_label(labels[indices]))


# ------------------------------------------------------------------ mode coverage


@pytest.mark.slow
@needs_shared
def test_real_test_images_score_the_floor_at_26000(real_test):
    """Measured: 1,000 modes and KL 0.0256 (channel accuracy 99.0%, triple 97.0%). The KL
    of a perfect sampler at N = 26,000 is about (K - 1) / 2N = 0.019 from counting alone, plus
    MNIST's own digit imbalance; its spread across draws is about 0.001, so 0.035 leaves
    room for a re-prepared MNIST in another order without hiding a real change."""
    x, y, modes = real_test
    assert np.mean(modes == y) > 0.96  # the classifier reads ~97% of the triples right
    result = metrics.stacked_modes(modes)
    assert result["num_fake"] == 26_000
    assert result["modes"] >= 999 and 0.019 < result["reverse_kl"] < 0.035


@pytest.mark.slow
@needs_shared
def test_evaluator_gives_stacked_modes_with_the_equal_n_floor(data_dir, real_test):
    evaluator = Evaluator("stacked_mnist", data_dir=data_dir)
    assert evaluator.available() == ["stacked_modes"]
    assert evaluator.default_metrics() == ["stacked_modes"]
    assert evaluator.default_metrics(training=True, num=1000) == ["stacked_modes"]
    real_train = kgan.data.load_arrays("stacked_mnist", limit=5000, data_dir=data_dir)
    result = evaluator.measure(real_train, ["stacked_modes"])["stacked_modes"]
    # measured: train 992 modes / KL 0.107, test floor 995 / 0.106 at N = 5,000
    assert result["extractor"] == "channel_digits" and result["mode_floor_num"] == 5000
    assert result["modes_floor"] >= 985 and result["reverse_kl_floor"] < 0.13
    assert abs(result["modes"] - result["modes_floor"]) <= 15
    assert abs(result["reverse_kl"] - result["reverse_kl_floor"]) < 0.02
    x, _, modes = real_test  # the floor is the test split's first rows, read the same way
    assert result["modes_floor"] == metrics.stacked_modes(modes[:5000])["modes"]


@pytest.mark.slow
@needs_shared
def test_a_generator_collapsed_to_ten_triples(data_dir, real_test):
    x, _, modes = real_test
    _, first = np.unique(modes, return_index=True)
    ten = x[np.sort(first)[:10]]  # ten images of ten different (classified) triples
    samples = np.repeat(ten, 300, axis=0)  # a generator drawing only those, 3,000 samples
    evaluator = Evaluator("stacked_mnist", data_dir=data_dir)
    result = evaluator.measure(samples, ["stacked_modes"])["stacked_modes"]
    assert result["modes"] == 10
    assert result["reverse_kl"] == pytest.approx(math.log(100), abs=1e-9)  # 4.605
    assert result["modes_floor"] > 900 and result["reverse_kl_floor"] < 0.25


@pytest.mark.slow
@needs_shared
def test_modes_of_32px_runs_are_read_at_the_classifier_size(data_dir, real_test):
    """A run at image_size=32: the channels are resized back to 28x28 for the classifier."""
    _, y, _ = real_test
    evaluator = Evaluator("stacked_mnist", image_size=32, data_dir=data_dir)
    x32 = evaluator.real(1000, "test")
    assert x32.shape == (1000, 32, 32, 3)
    assert np.mean(evaluator.modes(x32) == y[:1000]) > 0.94


@pytest.mark.slow
@needs_shared
def test_train_and_evaluate_record_stacked_modes(data_dir, tmp_path, capsys, monkeypatch):
    """`kgan train --dataset stacked_mnist` measures the modes during training, `kgan evaluate`
    after it, each beside real data's values at the same N (two steps of a tiny DCGAN)."""
    import json

    from kgan import cli

    monkeypatch.setenv("KGAN_OFFLINE", "1")
    runs_dir = str(tmp_path)
    assert cli.main(["train", "--dataset", "stacked_mnist", "--arch-arg", "width=4",
                     "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "16",
                     "--eval-every", "1", "--eval-num", "300", "--no-export", "--quiet",
                     "--data-dir", data_dir, "--name", "s", "--runs-dir", runs_dir]) == 0
    lines = [json.loads(line) for line in (tmp_path / "s" / "metrics.jsonl").open()]
    assert {line["metric"] for line in lines} == {"modes", "reverse_kl"}
    assert all(line["num_samples"] == 300 and line["mode_floor_num"] == 300 and
               line["feature_extractor"] == "channel_digits" for line in lines)
    capsys.readouterr()
    assert cli.main(["evaluate", "s", "--num", "600", "--quiet", "--runs-dir", runs_dir]) == 0
    out = capsys.readouterr().out
    assert "modes_floor" in out and "(real test, N=600; generated at N=600:" in out
    modes = [line for line in map(json.loads, (tmp_path / "s" / "metrics.jsonl").open())
             if line["metric"] == "modes"][-1]
    assert modes["num_samples"] == 600 and 0 < modes["value"] < modes["modes_floor"] <= 1000


@pytest.mark.slow
@needs_shared
def test_preset_builds_an_unconditional_gan_for_the_data(data_dir):
    """The `stacked_mnist` preset trains at the data's own 28x28x3 and is unconditional: told
    the triple, a generator would cover the 1,000 modes by construction."""
    import keras

    from kgan import presets

    config = presets.get("stacked_mnist").replace(data_dir=data_dir, jit_compile=False,
                                                  precision="float32")
    info = kgan.data.info(config.dataset, image_size=config.image_size, data_dir=data_dir)
    assert info.shape == (28, 28, 3) and info.num_classes == 1000
    assert not config.conditional and config.eval_num >= 10_000
    keras.utils.set_random_seed(0)
    gan = config.build_gan(info.shape, info.num_classes, steps_per_epoch=10)
    config.check_model(gan)
    assert gan.num_classes is None
    assert gan.generate(4, seed=0).shape == (4, 28, 28, 3)
    assert Evaluator.for_config(config).default_metrics(training=True,
                                                        num=config.eval_num) == ["stacked_modes"]
