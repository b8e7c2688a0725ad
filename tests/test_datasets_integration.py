"""Slower data tests: MNIST prepared offline from ../shared/data/mnist, and tf.distribute.

The MNIST tests skip (with a message) where ../shared/data is absent, as on a user's machine.
Preparing MNIST writes 70,000 examples through TFDS's own builder: a minute or two on 2 cores.
"""

import gzip
import hashlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow_datasets as tfds

import kgan.data
from kgan.data import offline

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

needs_shared = pytest.mark.skipif(
    not SHARED_MNIST.is_dir(),
    reason=f"{SHARED_MNIST} is absent (the shared MNIST copies exist on the project's machines only)",
)


def read_idx(name: str) -> np.ndarray:
    data = gzip.open(SHARED_MNIST / name).read()
    if "images" in name:
        return np.frombuffer(data[16:], np.uint8).reshape(-1, 28, 28)
    return np.frombuffer(data[8:], np.uint8)


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory):
    """MNIST prepared once from the shared files, with every socket connection refused."""
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"{SHARED_MNIST} is absent")
    data_dir = str(tmp_path_factory.mktemp("tfds_mnist"))

    def no_network(*args, **kwargs):
        raise OSError("network use during kgan.data.prepare")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", no_network)
        path = kgan.data.prepare("mnist", str(SHARED_MNIST), data_dir=data_dir)
    assert path == os.path.join(data_dir, "mnist", "3.0.1")
    return data_dir


@pytest.mark.slow
@needs_shared
def test_prepared_mnist_is_what_a_download_gives(mnist_dir):
    builder = tfds.builder("mnist", data_dir=mnist_dir)
    assert builder.is_prepared()
    meta = json.loads(Path(builder.data_dir, "dataset_info.json").read_text())
    registered = builder.url_infos
    assert int(meta["downloadSize"]) == sum(int(i.size) for i in registered.values())
    assert meta["moduleName"] == "tensorflow_datasets.image_classification.mnist"
    assert {s["name"]: s["shardLengths"] for s in meta["splits"]} == {
        "train": ["60000"], "test": ["10000"],
    }
    # no staging or download cache is left behind
    assert sorted(os.listdir(mnist_dir)) == ["mnist"]


@pytest.mark.slow
@needs_shared
def test_prepared_mnist_holds_the_original_pairs(mnist_dir):
    images, labels = read_idx(FILES["test"][0]), read_idx(FILES["test"][1])
    expected = sorted((hashlib.md5(i.tobytes()).hexdigest(), int(l)) for i, l in zip(images, labels))
    ds = tfds.load("mnist", split="test", data_dir=mnist_dir, download=False, batch_size=10_000)
    batch = next(iter(tfds.as_numpy(ds)))
    got = sorted(
        (hashlib.md5(i[..., 0].tobytes()).hexdigest(), int(l))
        for i, l in zip(batch["image"], batch["label"])
    )
    assert got == expected


@pytest.mark.slow
@needs_shared
def test_kgan_loads_prepared_mnist(mnist_dir):
    info = kgan.data.info("mnist", data_dir=mnist_dir)
    assert (info.shape, info.num_classes, info.num_examples) == ((28, 28, 1), 10, 60_000)
    x, y = kgan.data.load_arrays("mnist", split="test", labels=True, limit=500,
                                 image_size=32, data_dir=mnist_dir)
    assert x.shape == (500, 32, 32, 1) and x.min() == -1.0 and x.max() == 1.0
    native, y2 = kgan.data.load_arrays("mnist", split="test", labels=True, limit=500,
                                       data_dir=mnist_dir)
    np.testing.assert_array_equal(y, y2)
    pairs = {hashlib.md5(i.tobytes()).digest(): int(l)
             for i, l in zip(read_idx(FILES["test"][0]), read_idx(FILES["test"][1]))}
    pixels = np.rint((native[..., 0] + 1) * 127.5).astype(np.uint8)
    assert all(pairs[hashlib.md5(p.tobytes()).digest()] == l for p, l in zip(pixels, y2))
    images, labels = next(iter(kgan.data.load("mnist", split="test", batch_size=64, labels=True,
                                              data_dir=mnist_dir)))
    assert images.shape == (64, 28, 28, 1) and labels.shape == (64,)
    start = time.monotonic()
    kgan.data.prepare("mnist", str(SHARED_MNIST), data_dir=mnist_dir)  # already prepared
    assert time.monotonic() - start < 5


@needs_shared
def test_uncompressed_copies_are_verified_and_rewrapped(tmp_path):
    name = FILES["test"][1]
    raw = gzip.open(SHARED_MNIST / name).read()
    (tmp_path / name[: -len(".gz")]).write_bytes(raw)
    info = tfds.builder("mnist", data_dir=str(tmp_path)).url_infos[
        "https://storage.googleapis.com/cvdf-datasets/mnist/" + name
    ]
    staging = tmp_path / "staging"
    staging.mkdir()
    path, problem = offline._verified_copy("mnist", str(tmp_path), info, str(staging))
    assert problem == "" and path == str(staging / name)
    assert gzip.open(path).read() == raw


def test_pipeline_under_mirrored_strategy_splits_the_global_batch():
    """Two logical CPUs in a fresh process: the replicas' halves make up the global batch."""
    code = textwrap.dedent(
        """
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import kgan.data
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        ds = kgan.data.load("grid25", batch_size=32, shuffle=False)
        batch = next(iter(strategy.experimental_distribute_dataset(ds)))
        parts = [t.numpy() for t in strategy.experimental_local_results(batch)]
        whole = next(iter(ds)).numpy()
        print("SHAPES", [p.shape for p in parts], np.array_equal(np.concatenate(parts), whole))
        """
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert "SHAPES [(16, 2), (16, 2)] True" in out.stdout, out.stderr[-2000:]
