"""`kgan.data.stream`: a run's epochs of batches resume exactly and mix the classes."""

import keras
import numpy as np
import pytest
from PIL import Image

import kgan.data
from kgan.data import api

CLASSES = 12


def stream_labels(source, first_epoch=0, last_epoch=1, steps=4, batch_size=128, **kwargs):
    keras.utils.set_random_seed(5)
    ds = kgan.data.stream(source, batch_size=batch_size, steps=steps, first_epoch=first_epoch,
                          last_epoch=last_epoch, seed=5, labels=True, **kwargs)
    return [y.tolist() for _, y in ds.as_numpy_iterator()]


def assert_mixed(labels):
    """Every class within 60% of its share in the batches (sorted input gives 0 for some)."""
    counts = np.bincount(np.concatenate(labels), minlength=CLASSES)
    expected = counts.sum() / CLASSES
    assert counts.min() > 0.4 * expected and counts.max() < 1.6 * expected, counts


@pytest.fixture(scope="module")
def sorted_folder(tmp_path_factory):
    """10,800 tiny images in 12 class folders: listed class by class, more than 10,000."""
    root = tmp_path_factory.mktemp("sorted")
    pixel = np.zeros((2, 2), np.uint8)
    for c in range(CLASSES):
        (root / f"c{c:02d}").mkdir()
        for i in range(900):
            Image.fromarray(pixel + c).save(root / f"c{c:02d}" / f"{i:04d}.png")
    return f"folder:{root}"


def test_a_large_folder_sorted_by_class_gives_batches_of_every_class(sorted_folder, monkeypatch):
    monkeypatch.setattr(api, "SHUFFLE_BYTES", 0)  # as a split too large to shuffle whole
    info = kgan.data.info(sorted_folder)
    assert api.shuffle_buffer(info) == api.SHUFFLE_BUFFER < info.num_examples
    assert_mixed(stream_labels(sorted_folder))


def test_arrays_sorted_by_class_are_shuffled_whole(tmp_path):
    path = tmp_path / "sorted.npz"
    y = np.repeat(np.arange(CLASSES, dtype=np.int32), 1_000)
    np.savez(path, x=np.zeros((len(y), 2), np.float32), y=y)
    info = kgan.data.info(f"npz:{path}")
    assert api.shuffle_buffer(info) == len(y)
    assert_mixed(stream_labels(f"npz:{path}"))


def test_a_resumed_stream_sees_the_batches_of_an_uninterrupted_one(tmp_path):
    path = tmp_path / "few.npz"
    y = np.arange(40, dtype=np.int32) % 4
    np.savez(path, x=np.zeros((40, 2), np.float32), y=y)
    full = stream_labels(f"npz:{path}", last_epoch=3, steps=2, batch_size=8)
    assert len(full) == 6 and full[0] != full[2]  # reshuffled every pass
    assert stream_labels(f"npz:{path}", first_epoch=2, last_epoch=3, steps=2, batch_size=8) == full[4:]


def test_a_stream_of_no_epochs_is_empty(tmp_path):
    path = tmp_path / "few.npz"
    np.savez(path, x=np.zeros((40, 2), np.float32), y=np.zeros(40, np.int32))
    assert stream_labels(f"npz:{path}", first_epoch=3, last_epoch=3, batch_size=8) == []


def test_every_iterator_of_a_stream_replays_the_same_batches():
    """Keras draws a batch from an iterator of its own before training under a strategy; the
    training iterator must still see the run's batches, and each pass is a new shuffle."""
    keras.utils.set_random_seed(5)
    ds = kgan.data.stream("digits", batch_size=64, steps=30, first_epoch=0, last_epoch=2, seed=5)
    next(iter(ds))  # an iterator of someone else's, as Keras makes one
    first = [b for b in ds.as_numpy_iterator()]
    second = [b for b in ds.as_numpy_iterator()]
    assert len(first) == 60
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    # 1,500 training digits: rows 1,500-2,999 are the second pass, the same digits reshuffled.
    rows = np.concatenate(first).reshape(60 * 64, -1)
    one, two = rows[:1500], rows[1500:3000]
    assert not np.array_equal(one, two)
    np.testing.assert_array_equal(np.unique(one, axis=0), np.unique(two, axis=0))
