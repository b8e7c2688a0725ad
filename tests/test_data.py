"""Tests of kgan.data: every source, the pipeline's values, and each bad input.

TFDS data go to a temporary data dir (never ~/tensorflow_datasets); nothing is downloaded:
the offline path is exercised against an address that cannot resolve. MNIST prepared from the
shared files, and the pipeline under tf.distribute, are tested in test_datasets_integration.py
(they take a minute or two).
"""

import io
import os
import time
import warnings

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

import kgan.data
from kgan import toy
from kgan.data import offline
from kgan.errors import KganError


@pytest.fixture(scope="session")
def tfds_dir(tmp_path_factory):
    """One TFDS data dir for the session, with `digits` prepared once."""
    path = str(tmp_path_factory.mktemp("tfds"))
    kgan.data.info("digits", data_dir=path)
    return path


@pytest.fixture(scope="session")
def sk_digits():
    from sklearn.datasets import load_digits

    return load_digits()


@pytest.fixture(scope="session")
def digits_split(sk_digits):
    """(train, test) indices into scikit-learn's digits, as kgan's `digits` splits them."""
    from kgan.data.builders.digits.digits_dataset_builder import split_indices

    return split_indices(sk_digits.target)


def test_digits_test_split_is_stratified_and_spans_the_writers(digits_split, sk_digits):
    train, test = digits_split
    assert (len(train), len(test)) == (1500, 297)
    assert not set(train) & set(test)
    shares = np.bincount(sk_digits.target[test], minlength=10)
    assert shares.min() >= 29 and shares.max() <= 30  # 29.7 per class, rounded
    # scikit-learn's file is ordered by writer: the held-out images come from all of it,
    # not from its end (the 1.0.0 split's last 297, other writers)
    assert np.histogram(test, bins=6, range=(0, 1797))[0].min() >= 20  # 49.5 expected


def first_batch(ds):
    return next(iter(ds))


# --------------------------------------------------------------------------- digits


def test_digits_info_comes_from_metadata(tfds_dir, monkeypatch):
    def no_reading(*args, **kwargs):
        raise AssertionError("info must not read the dataset")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "as_dataset", no_reading)
    info = kgan.data.info("digits", data_dir=tfds_dir)
    assert info == kgan.data.DataInfo(
        source="digits", split="train", kind="image", shape=(8, 8, 1), num_classes=10,
        class_names=[str(d) for d in range(10)], num_examples=1500,
    )
    test = kgan.data.info("digits", split="test", image_size=32, channels=3, data_dir=tfds_dir)
    assert (test.num_examples, test.shape) == (297, (32, 32, 3))
    with pytest.raises(Exception):
        info.num_examples = 3  # frozen


def test_digits_values_match_scikit_learn(tfds_dir, sk_digits, digits_split):
    x, y = kgan.data.load_arrays("digits", split="test", labels=True, data_dir=tfds_dir)
    assert x.dtype == np.float32 and y.dtype == np.int32
    assert x.shape == (297, 8, 8, 1) and y.shape == (297,)
    # counts 0..16 -> [-1, 1], stored as 8-bit pixels: within half a pixel level
    test = digits_split[1]
    np.testing.assert_allclose(x[..., 0], sk_digits.images[test] / 8 - 1, atol=1 / 255 + 1e-6)
    np.testing.assert_array_equal(y, sk_digits.target[test])
    assert x.min() == -1.0 and x.max() == 1.0
    # the counts come back exactly, and there are 17 levels
    pixels = np.rint((x + 1) * 127.5)
    np.testing.assert_array_equal(np.rint(pixels * 16 / 255)[..., 0], sk_digits.images[test])
    assert len(np.unique(x)) == 17


def test_digits_is_a_real_tfds_dataset(tfds_dir, sk_digits, digits_split):
    ds = tfds.load("digits", split="train[:5]", data_dir=tfds_dir, download=False)
    labels = [int(e["label"]) for e in tfds.as_numpy(ds)]
    assert labels == sk_digits.target[digits_split[0][:5]].tolist()


def test_load_batches_shapes_and_range(tfds_dir, sk_digits, digits_split):
    ds = kgan.data.load("digits", batch_size=32, labels=True, data_dir=tfds_dir)
    images, labels = first_batch(ds)
    assert images.shape == (32, 8, 8, 1) and images.dtype == tf.float32
    assert labels.shape == (32,) and labels.dtype == tf.int32
    assert ds.element_spec[0].shape == (32, 8, 8, 1)  # static batch: drop_remainder
    # every batch is a set of real digits with their own labels
    train = sk_digits.images[digits_split[0]] / 8 - 1
    for image, label in zip(images.numpy(), labels.numpy()):
        distance = np.abs(train - image[..., 0]).max(axis=(1, 2))
        assert distance.min() <= 1 / 255 + 1e-6
        assert sk_digits.target[digits_split[0]][distance.argmin()] == label


def test_unshuffled_batches_follow_the_source_order(tfds_dir):
    x = kgan.data.load_arrays("digits", split="test", data_dir=tfds_dir)
    ds = kgan.data.load("digits", split="test", batch_size=64, shuffle=False, data_dir=tfds_dir)
    batches = [b.numpy() for b in ds]
    assert len(batches) == 4  # 297 // 64, the remainder dropped
    np.testing.assert_array_equal(np.concatenate(batches), x[:256])
    ds = kgan.data.load(
        "digits", split="test", batch_size=64, shuffle=False, drop_remainder=False,
        cache=False, data_dir=tfds_dir,
    )
    sizes = [len(b) for b in ds]
    assert sizes == [64, 64, 64, 64, 41]


def test_shuffle_is_seeded_and_reshuffles_each_epoch(tfds_dir):
    def epochs(seed, n=2):
        ds = kgan.data.load("digits", split="test", batch_size=99, seed=seed, data_dir=tfds_dir)
        return [np.concatenate([b.numpy() for b in ds]) for _ in range(n)]

    a1, a2 = epochs(0)
    b1, b2 = epochs(0)
    c1, _ = epochs(1)
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)  # a new order every epoch
    assert not np.array_equal(a1, c1)
    # an epoch is a permutation of the split
    x = kgan.data.load_arrays("digits", split="test", data_dir=tfds_dir)
    key = lambda arr: sorted(map(bytes, arr.reshape(len(arr), -1)))  # noqa: E731
    assert key(a1) == key(x)


def test_upscaling_is_bilinear_of_the_native_images(tfds_dir):
    native = kgan.data.load_arrays("digits", split="test", limit=4, data_dir=tfds_dir)
    big = kgan.data.load_arrays("digits", split="test", limit=4, image_size=32, data_dir=tfds_dir)
    assert big.shape == (4, 32, 32, 1)
    expected = tf.image.resize((native + 1) / 2, (32, 32), "bilinear", antialias=True) * 2 - 1
    np.testing.assert_allclose(big, expected.numpy(), atol=1e-5)
    np.testing.assert_allclose(big.mean(axis=(1, 2, 3)), native.mean(axis=(1, 2, 3)), atol=0.02)


def test_gray_to_rgb_repeats_the_channel(tfds_dir):
    gray = kgan.data.load_arrays("digits", limit=8, data_dir=tfds_dir)
    rgb = kgan.data.load_arrays("digits", limit=8, channels=3, data_dir=tfds_dir)
    np.testing.assert_array_equal(rgb, np.repeat(gray, 3, axis=-1))


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "name,suggestion", [("mnsit", "did you mean mnist"), ("digts", "did you mean digits")]
)
def test_unknown_name_suggests_close_names(name, suggestion, tmp_path):
    with pytest.raises(KganError, match=suggestion) as error:
        kgan.data.load(name, data_dir=str(tmp_path))
    assert "\n" not in str(error.value) and name in str(error.value)


def test_unprepared_dataset_fails_fast_when_offline(tmp_path, monkeypatch):
    """No data and no network: a one-line error in seconds, not TFDS's minutes of retries."""
    monkeypatch.delenv("KGAN_OFFLINE", raising=False)
    monkeypatch.setattr(offline, "download_urls", lambda builder: ["http://kgan-test.invalid/a.gz"])
    start = time.monotonic()
    with pytest.raises(KganError) as error:
        kgan.data.load("mnist", data_dir=str(tmp_path))
    assert time.monotonic() - start < 10
    message = str(error.value)
    assert "\n" not in message
    assert "not prepared" in message and "kgan-test.invalid cannot be reached" in message
    assert f"kgan data prepare mnist --from DIR --data-dir {tmp_path}" in message


def test_kgan_offline_skips_the_probe(tmp_path, monkeypatch):
    monkeypatch.setenv("KGAN_OFFLINE", "1")
    monkeypatch.setattr(offline, "reachable", lambda url: pytest.fail("probed the network"))
    start = time.monotonic()
    with pytest.raises(KganError, match="KGAN_OFFLINE is set"):
        kgan.data.info("cifar10", data_dir=str(tmp_path))
    assert time.monotonic() - start < 5


def test_probe_gives_up_quickly():
    start = time.monotonic()
    assert not offline.reachable("http://kgan-test.invalid/", timeout=1.0)
    assert time.monotonic() - start < 3


def test_data_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("KGAN_DATA_DIR", raising=False)
    monkeypatch.delenv("TFDS_DATA_DIR", raising=False)
    assert offline.data_dir() == os.path.expanduser("~/tensorflow_datasets")
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "t"))
    assert offline.data_dir() == str(tmp_path / "t")
    monkeypatch.setenv("KGAN_DATA_DIR", str(tmp_path / "k"))
    assert offline.data_dir() == str(tmp_path / "k")
    assert offline.data_dir(str(tmp_path / "x")) == str(tmp_path / "x")


def test_batch_larger_than_the_split(tfds_dir):
    with pytest.raises(KganError, match=r"batch_size 300 is larger than split 'test' of digits \(297"):
        kgan.data.load("digits", split="test", batch_size=300, data_dir=tfds_dir)
    ds = kgan.data.load(
        "digits", split="test", batch_size=300, drop_remainder=False, data_dir=tfds_dir
    )
    assert [len(b) for b in ds] == [297]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"split": "validation"}, "no split 'validation'; valid splits: train, test"),
        ({"channels": 2}, "channels must be 1"),
        ({"image_size": 0}, "image_size 0 is too small"),
        ({"image_size": "32"}, "image_size must be a whole number"),
        ({"batch_size": 0}, "batch_size must be a positive"),
    ],
)
def test_bad_arguments(tfds_dir, kwargs, match):
    with pytest.raises(KganError, match=match):
        kgan.data.load("digits", data_dir=tfds_dir, **kwargs)


def test_image_size_power_of_two_check():
    assert kgan.data.check_image_size(64, power_of_two=True) == 64
    with pytest.raises(KganError, match="48 is not a power of two, which dcgan needs; use 32 or 64"):
        kgan.data.check_image_size(48, power_of_two=True, needed_by="dcgan")
    with pytest.raises(KganError, match="too small"):
        kgan.data.check_image_size(4, minimum=8)
    assert kgan.data.check_image_size(48) == 48


# --------------------------------------------------------------------------- folders


def save(path, array, fmt=None, mode=None, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(np.asarray(array, np.uint8), mode=mode) if mode else Image.fromarray(
        np.asarray(array, np.uint8)
    )
    image.save(path, fmt, **kwargs)
    return path


def solid(color, size=(4, 4)):
    return np.broadcast_to(np.asarray(color, np.uint8), (*size, len(color)))


@pytest.fixture
def pets(tmp_path):
    """cats/ and dogs/ in several formats and modes, plus junk that must be skipped."""
    root = tmp_path / "pets"
    save(root / "cats" / "red.png", solid((255, 0, 0)))
    save(root / "cats" / "sub" / "green.PNG", solid((0, 255, 0)))
    save(root / "dogs" / "blue.bmp", solid((0, 0, 255)))
    save(root / "dogs" / "white.gif", solid((255, 255, 255)))
    save(root / "dogs" / "gray.jpg", np.full((4, 4), 128), quality=100)
    save(root / "dogs" / "clear.png", solid((255, 0, 0, 0)))  # fully transparent red
    truncated = io.BytesIO()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(truncated, "PNG")
    (root / "cats" / "truncated.png").write_bytes(truncated.getvalue()[:40])
    (root / "dogs" / "empty.jpg").write_bytes(b"")
    (root / "dogs" / "notes.txt").write_text("not an image, ignored")
    return root


def load_folder(root, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kgan.data.KganDataWarning)
        return kgan.data.load_arrays(f"folder:{root}", **kwargs)


def test_folder_skips_bad_files_and_names_them(pets):
    with pytest.warns(kgan.data.KganDataWarning, match="skipped 2 of 8") as record:
        info = kgan.data.info(f"folder:{pets}")
    message = str(record[0].message)
    assert "cats/truncated.png" in message and "dogs/empty.jpg" in message
    assert info.num_examples == 6 and info.shape == (4, 4, 3)
    assert info.class_names == ["cats", "dogs"] and info.num_classes == 2
    assert [path for path, _ in info.skipped] == ["cats/truncated.png", "dogs/empty.jpg"]


def test_folder_values_and_labels(pets):
    x, y = load_folder(pets, labels=True)
    # sorted paths: cats/red, cats/sub/green, dogs/blue, dogs/clear, dogs/gray, dogs/white
    np.testing.assert_array_equal(y, [0, 0, 1, 1, 1, 1])
    expected = [
        (1, -1, -1), (-1, 1, -1), (-1, -1, 1),
        (1, 1, 1),  # transparent: composited on white
        (128 / 127.5 - 1,) * 3,  # gray JPEG repeated to RGB
        (1, 1, 1),
    ]
    np.testing.assert_allclose(x, np.broadcast_to(np.array(expected)[:, None, None], x.shape),
                               atol=2 / 255)
    gray = load_folder(pets, channels=1, limit=1)
    np.testing.assert_allclose(gray, np.round(0.2989 * 255) / 127.5 - 1, atol=1e-6)  # red


def test_folder_full_epoch_never_crashes(pets):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kgan.data.KganDataWarning)
        ds = kgan.data.load(f"folder:{pets}", batch_size=2, drop_remainder=False, cache=False)
    assert sum(len(b) for b in ds) == 6
    # a file that breaks after the scan is dropped, not fatal
    (pets / "dogs" / "white.gif").write_bytes(b"GIF89a broken")
    assert sum(len(b) for b in ds) == 5


def test_folder_labels_need_class_folders(pets, tmp_path):
    save(pets / "stray.png", solid((0, 0, 0)))
    with pytest.raises(KganError, match="1 images lie outside the class sub-folders"):
        load_folder(pets, labels=True)
    assert len(load_folder(pets)) == 7  # fine without labels
    flat = tmp_path / "flat"
    save(flat / "a.png", solid((0, 0, 0)))
    with pytest.raises(KganError, match="has no class labels; put the images in one sub-folder"):
        kgan.data.load(f"folder:{flat}", labels=True, batch_size=1)


def test_folder_mixed_modes_and_sizes(tmp_path):
    root = tmp_path / "mixed"
    save(root / "wide.png", np.concatenate([np.zeros((4, 2)), np.full((4, 4), 255), np.zeros((4, 2))], 1))
    save(root / "la.png", np.stack([np.full((6, 6), 0), np.full((6, 6), 255)], -1), mode="LA")
    save(root / "p.png", np.full((8, 8), 3), mode="P")
    save(root / "rgba.png", solid((0, 0, 0, 255), (2, 2)))
    with pytest.raises(KganError, match=r"differ in size \(4 sizes.*pass image_size=N"):
        kgan.data.load(f"folder:{root}", batch_size=2)
    x = load_folder(root, image_size=2)
    assert x.shape == (4, 2, 2, 3)  # palette and RGBA files have colour: default channels 3
    np.testing.assert_allclose(x[0], -1)  # la.png: opaque black
    np.testing.assert_allclose(x[2], -1)  # rgba.png: opaque black
    np.testing.assert_allclose(x[3], 1)  # wide.png: the centre crop is the white middle
    gray = load_folder(root, image_size=2, channels=1)
    assert gray.shape == (4, 2, 2, 1)
    np.testing.assert_allclose(gray[[0, 2, 3], ..., 0], x[[0, 2, 3], ..., 0])


def test_folder_downscaling_is_antialiased(tmp_path):
    checker = (np.indices((16, 16)).sum(0) % 2) * 255
    save(tmp_path / "c" / "checker.png", checker)
    x = load_folder(tmp_path / "c", image_size=4)
    np.testing.assert_allclose(x, 0.0, atol=0.02)  # averaged to mid-gray, not aliased


def test_folder_palette_bmp_is_skipped_with_a_reason(tmp_path):
    root = tmp_path / "bmp"
    save(root / "ok.bmp", solid((10, 20, 30)))
    save(root / "palette.bmp", np.full((4, 4), 1), mode="P")
    with pytest.warns(kgan.data.KganDataWarning, match="palette.bmp .*save it as PNG"):
        info = kgan.data.info(f"folder:{root}")
    assert info.num_examples == 1


def test_folder_that_is_missing_or_empty(tmp_path):
    with pytest.raises(KganError, match="does not exist or is not a folder"):
        kgan.data.load(f"folder:{tmp_path / 'nope'}")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(KganError, match="holds no PNG/JPEG/BMP/GIF images"):
        kgan.data.load(f"folder:{tmp_path / 'empty'}")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.png").write_bytes(b"junk")
    with pytest.raises(KganError, match=r"no readable images: all 1 image files failed.*x.png"):
        kgan.data.load(f"folder:{tmp_path / 'bad'}")
    with pytest.raises(KganError, match="folder: needs a path"):
        kgan.data.load("folder:")


# --------------------------------------------------------------------------- arrays and toys


def test_npy_images_and_vectors(tmp_path):
    pixels = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    np.save(tmp_path / "pix.npy", pixels)
    x = kgan.data.load_arrays(f"npy:{tmp_path / 'pix.npy'}")
    np.testing.assert_allclose(x[..., 0], pixels / 127.5 - 1, atol=1e-6)
    signed = np.linspace(-1, 1, 2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3)
    np.save(tmp_path / "signed.npy", signed)
    np.testing.assert_allclose(kgan.data.load_arrays(str(tmp_path / "signed.npy")), signed, atol=1e-6)
    vectors = np.random.default_rng(0).normal(size=(10, 3)) * 5
    np.save(tmp_path / "v.npy", vectors)
    info = kgan.data.info(str(tmp_path / "v.npy"))
    assert (info.kind, info.shape, info.num_examples) == ("vector", (3,), 10)
    batch = first_batch(kgan.data.load(str(tmp_path / "v.npy"), batch_size=10, shuffle=False))
    np.testing.assert_allclose(batch.numpy(), vectors.astype(np.float32))


def test_npz_with_labels_and_splits(tmp_path):
    rng = np.random.default_rng(0)
    x_train, y_train = rng.integers(0, 256, (6, 4, 4), dtype=np.uint8), np.array([0, 1, 2, 0, 1, 2])
    x_test, y_test = rng.integers(0, 256, (3, 4, 4), dtype=np.uint8), np.array([2, 1, 0])
    path = tmp_path / "mnist_like.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    x, y = kgan.data.load_arrays(f"npz:{path}", split="test", labels=True)
    np.testing.assert_allclose(x[..., 0], x_test / 127.5 - 1, atol=1e-6)
    np.testing.assert_array_equal(y, y_test)
    assert kgan.data.info(str(path)).num_classes == 3
    np.savez(tmp_path / "plain.npz", x=x_train, y=y_train)
    _, labels = first_batch(kgan.data.load(str(tmp_path / "plain.npz"), batch_size=6,
                                           labels=True, shuffle=False))
    np.testing.assert_array_equal(labels, y_train)


@pytest.mark.parametrize(
    "array,match",
    [
        (np.zeros((5,)), "expected \\(N, D\\) vectors"),
        (np.full((2, 3, 3), 2.0), "float images must lie in \\[-1, 1\\]"),
        (np.full((2, 3, 3), 300, np.int32), "integer pixels in \\[300, 300\\]"),
        (np.zeros((2, 3, 3, 7)), "expected \\(H, W\\) or \\(H, W, C\\)"),
        (np.array([[np.nan, 1.0]]), "NaN"),
        (np.ones((2, 3, 3), np.complex64) * 0.5j, "dtype complex64; expected real numbers"),
        (np.ones((2, 3), bool), "dtype bool; expected real numbers"),
        (np.array([["a", "b"]]), "dtype <U1; expected real numbers"),
    ],
)
def test_bad_arrays(tmp_path, array, match):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(KganError, match=match):
        kgan.data.load_arrays(str(tmp_path / "bad.npy"))


def test_array_files_that_are_missing_or_unlabelled(tmp_path):
    with pytest.raises(KganError, match="no file"):
        kgan.data.load("npy:/nonexistent/x.npy")
    np.save(tmp_path / "x.npy", np.zeros((4, 2), np.float32))
    with pytest.raises(KganError, match="has no class labels; store labels next to the data"):
        kgan.data.load(str(tmp_path / "x.npy"), labels=True, batch_size=2)
    (tmp_path / "junk.npy").write_text("nope")
    with pytest.raises(KganError, match="cannot read"):
        kgan.data.load(str(tmp_path / "junk.npy"))


@pytest.mark.parametrize(
    "name, write, why",
    [
        ("random.npy", lambda p: p.write_bytes(np.random.default_rng(0).bytes(1000)),
         "no NumPy .npy header"),
        ("objects.npy", lambda p: np.save(p, np.array([{"a": 1}, None]), allow_pickle=True),
         "it holds Python objects, not numbers"),
        ("objects.npz", lambda p: np.savez(p, x=np.array([{"a": 1}, None])),
         "it holds Python objects, not numbers"),
        ("truncated.npy", lambda p: p.write_bytes(b"\x93NUMPY\x01\x00v\x00{'descr'"),
         "truncated or corrupt"),
        ("random.npz", lambda p: p.write_bytes(b"PK\x03\x04" + bytes(100)), "truncated or corrupt"),
    ],
)
def test_array_files_that_are_not_numeric_arrays_never_suggest_pickle(tmp_path, name, write, why):
    path = tmp_path / name
    write(path)
    with pytest.raises(KganError) as error:
        kgan.data.info(str(path))
    message = str(error.value)
    assert f"cannot read {path}: it is not a valid numeric .npy array ({why}" in message
    assert "pickle" not in message and "\n" not in message


def test_folder_of_mixed_sizes_is_refused_by_info_too(tmp_path):
    save(tmp_path / "m" / "a.png", solid((0, 0, 0), (2, 2)))
    save(tmp_path / "m" / "b.png", solid((0, 0, 0), (3, 2)))
    with pytest.raises(KganError, match=r"differ in size \(2 sizes.*pass image_size=N"):
        kgan.data.info(f"folder:{tmp_path / 'm'}")
    assert kgan.data.info(f"folder:{tmp_path / 'm'}", image_size=2).shape == (2, 2, 3)


def test_skipped_files_are_reported_once(pets):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        kgan.data.info(f"folder:{pets}")
        kgan.data.load(f"folder:{pets}", batch_size=2)
        kgan.data.load_arrays(f"folder:{pets}")
    skipped = [w for w in record if issubclass(w.category, kgan.data.KganDataWarning)]
    assert len(skipped) == 1 and "skipped 2 of 8" in str(skipped[0].message)


def test_labels_asked_of_unlabelled_data_say_it_once():
    with pytest.raises(KganError) as error:
        kgan.data.load("ring8", labels=True)
    message = str(error.value)
    assert message.count("labels=False") == 1 and "drop --conditional" in message


def test_toy_mixtures():
    x = kgan.data.load_arrays("ring8")
    np.testing.assert_array_equal(x, toy.sample("ring8", 10_000, seed=0))
    np.testing.assert_array_equal(
        kgan.data.load_arrays("grid25", split="test"), toy.sample("grid25", 2_000, seed=1)
    )
    batch = first_batch(kgan.data.load("grid25", batch_size=128, shuffle=False))
    np.testing.assert_array_equal(batch, toy.sample("grid25", 10_000, seed=0)[:128])
    assert kgan.data.info("ring8").shape == (2,)
    with pytest.raises(KganError, match="vector data: image_size and channels do not apply"):
        kgan.data.load("ring8", image_size=32)
    with pytest.raises(KganError, match="ring8 has no class labels"):
        kgan.data.load("ring8", labels=True)


# --------------------------------------------------------------------------- prepare and CLI


def test_prepare_verifies_files_and_lists_every_problem(tmp_path):
    import gzip

    src = tmp_path / "src"
    src.mkdir()
    with gzip.open(src / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(b"not mnist")
    (src / "t10k-labels-idx1-ubyte").write_bytes(b"raw but wrong")
    with pytest.raises(KganError) as error:
        kgan.data.prepare("mnist", str(src), data_dir=str(tmp_path / "tfds"))
    message = str(error.value)
    assert "train-images-idx3-ubyte.gz decompresses to md5" in message
    assert "expected 6bbc9ace898e44ae57da46a324031adb" in message
    assert "t10k-labels-idx1-ubyte has md5" in message
    assert "train-labels-idx1-ubyte.gz is missing" in message
    assert os.listdir(tmp_path / "tfds") == []  # the staging cache is gone


def test_cli_prepare_prints_one_line_errors(tmp_path, capsys):
    from kgan.cli import main

    assert main(["data", "prepare", "mnist", "--from", str(tmp_path / "nope"),
                 "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kgan: error: ") and err.count("\n") == 1 and "is not a folder" in err
    assert main(["data", "prepare", "digits", "--data-dir", str(tmp_path)]) == 0
    assert "digits is prepared in" in capsys.readouterr().out
    assert main(["data", "prepare", "mnsit", "--from", str(tmp_path), "--data-dir", str(tmp_path)]) == 2
    assert "did you mean mnist" in capsys.readouterr().err
