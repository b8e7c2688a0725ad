"""Trains the small digit classifiers that kgan ships as feature extractors (kgan/assets/).

    python scripts/train_classifiers.py                      # both
    python scripts/train_classifiers.py --only digits
    python scripts/train_classifiers.py --mnist-dir ../shared/data/mnist

`digits`: scikit-learn's 8x8 digits (values 0-16 mapped to [-1, 1] as v / 8 - 1), split by
`digits_split`. `mnist`: the original IDX files (train-*/t10k-*-ubyte.gz) in `--mnist-dir`,
skipped with a message when they are absent. Each classifier is saved without optimizer
state as `kgan/assets/<name>_classifier.keras`; its test accuracy goes to
`kgan/assets/classifiers.json`. The penultimate Dense layer, named `features`, is what
`kgan.features` uses; the softmax layer is named `probabilities`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "kgan" / "assets"
DEFAULT_MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"
DIGITS_TEST_SIZE = 360  # 20% of 1,797


def digits_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as `(N, 8, 8, 1)` float32 in [-1, 1] and int labels.

    The split is a fixed permutation (numpy seed 0) of the 1,797 images: the last 360 are
    `test`, the other 1,437 `train`.
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(0).permutation(len(data.target))
    index = {"train": order[:-DIGITS_TEST_SIZE], "test": order[-DIGITS_TEST_SIZE:]}[split]
    images = data.images[index].astype(np.float32) / 8.0 - 1.0
    return images[..., None], data.target[index].astype(np.int64)


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def mnist_split(directory: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST from its IDX files as `(N, 28, 28, 1)` float32 in [-1, 1] and int labels."""
    prefix = {"train": "train", "test": "t10k"}[split]
    images = _read_idx(Path(directory) / f"{prefix}-images-idx3-ubyte.gz")
    labels = _read_idx(Path(directory) / f"{prefix}-labels-idx1-ubyte.gz")
    return (images.astype(np.float32) / 127.5 - 1.0)[..., None], labels.astype(np.int64)


def mnist_available(directory: Path) -> bool:
    names = [f"{p}-{k}-idx{n}-ubyte.gz" for p in ("train", "t10k") for k, n in (("images", 3), ("labels", 1))]
    return all((Path(directory) / name).is_file() for name in names)


def _digits_model():
    import keras
    from keras import layers

    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(64, activation="relu", name="features")(x)
    outputs = layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="digits_classifier")


def _mnist_model():
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(128, activation="relu", name="features")(x)
    outputs = layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="mnist_classifier")


def _shift(images: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Random whole-pixel translations (background -1 fills the gap)."""
    out = np.full_like(images, -1.0)
    h, w = images.shape[1:3]
    for i, (dy, dx) in enumerate(rng.integers(-max_shift, max_shift + 1, size=(len(images), 2))):
        ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
        xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
        out[i, yd, xd] = images[i, ys, xs]
    return out


def train(name: str, model, train_data, test_data, epochs: int, batch_size: int, seed: int,
          augment_shift: int = 0) -> dict:
    """Fits `model`, saves it without optimizer state into kgan/assets, returns its record."""
    import keras

    (x, y), (x_test, y_test) = train_data, test_data
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(seed)
    start = time.time()
    for epoch in range(epochs):
        xe = _shift(x, rng, augment_shift) if augment_shift else x
        model.fit(xe, y, batch_size=batch_size, epochs=epoch + 1, initial_epoch=epoch,
                  shuffle=True, verbose=0)
        _, acc = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
        print(f"{name}: epoch {epoch + 1}/{epochs} test accuracy {acc:.4f}", flush=True)
    seconds = time.time() - start

    clean = keras.Model.from_config(model.get_config())  # uncompiled: no optimizer state
    clean.set_weights(model.get_weights())
    path = ASSETS / f"{name}_classifier.keras"
    clean.save(path)
    reloaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    pred = reloaded.predict(x_test, batch_size=1000, verbose=0).argmax(1)
    accuracy = float((pred == y_test).mean())
    record = {
        "file": path.name,
        "test_accuracy": round(accuracy, 4),
        "num_train": int(len(x)),
        "num_test": int(len(x_test)),
        "epochs": epochs,
        "params": int(clean.count_params()),
        "bytes": path.stat().st_size,
        "train_seconds": round(seconds, 1),
        "seed": seed,
        "keras": keras.__version__,
    }
    print(f"{name}: saved {path} ({record['bytes'] / 1e6:.2f} MB), test accuracy {accuracy:.4f}")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["digits", "mnist"], help="train one classifier")
    parser.add_argument("--mnist-dir", type=Path, default=DEFAULT_MNIST_DIR,
                        help="folder with the MNIST IDX .gz files (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import keras

    keras.utils.set_random_seed(args.seed)
    ASSETS.mkdir(parents=True, exist_ok=True)
    record_path = ASSETS / "classifiers.json"
    records = json.loads(record_path.read_text()) if record_path.exists() else {}

    if args.only in (None, "digits"):
        records["digits"] = train("digits", _digits_model(), digits_split("train"),
                                  digits_split("test"), epochs=60, batch_size=32, seed=args.seed,
                                  augment_shift=1)
        records["digits"]["split"] = "sklearn load_digits; permutation seed 0; last 360 = test"
    if args.only in (None, "mnist"):
        if mnist_available(args.mnist_dir):
            records["mnist"] = train("mnist", _mnist_model(), mnist_split(args.mnist_dir, "train"),
                                     mnist_split(args.mnist_dir, "test"), epochs=4, batch_size=128,
                                     seed=args.seed)
            records["mnist"]["split"] = "official 60,000 train / 10,000 t10k test"
        else:
            print(f"mnist: skipped, no MNIST IDX files in {args.mnist_dir} (pass --mnist-dir)")
    record_path.write_text(json.dumps(records, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
