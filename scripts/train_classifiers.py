"""Trains the small digit classifiers that kgan ships as feature extractors (kgan/assets/).

    python scripts/train_classifiers.py                      # both
    python scripts/train_classifiers.py --only digits
    python scripts/train_classifiers.py --mnist-dir ../shared/data/mnist

`digits`: scikit-learn's 8x8 digits (values 0-16 mapped to [-1, 1] as v / 8 - 1), split as
kgan's `digits` TFDS dataset splits them (`digits_split`). `mnist`: the original IDX files
(train-*/t10k-*-ubyte.gz) in `--mnist-dir`, skipped with a message when they are absent.
Each classifier is saved without optimizer state as `kgan/assets/<name>_classifier.keras`;
its test accuracy goes to `kgan/assets/classifiers.json`. The penultimate Dense layer, named
`features`, is what `kgan.features` uses; the softmax layer is named `probabilities`.
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


def digits_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as `(N, 8, 8, 1)` float32 in [-1, 1] and int labels, split as
    kgan's `digits` TFDS dataset splits them (`split_indices`: 297 stratified test images)."""
    from sklearn.datasets import load_digits

    from kgan.data.builders.digits.digits_dataset_builder import split_indices

    data = load_digits()
    index = dict(zip(("train", "test"), split_indices(data.target)))[split]
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
    names = [
        f"{p}-{k}-idx{n}-ubyte.gz"
        for p in ("train", "t10k")
        for k, n in (("images", 3), ("labels", 1))
    ]
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


def _digits_augmenter():
    """Small random rotations, zooms and shifts (background -1 fills the gaps)."""
    import keras
    from keras import layers

    fill = dict(fill_mode="constant", fill_value=-1.0)
    return keras.Sequential(
        [
            layers.RandomRotation(0.04, **fill),
            layers.RandomZoom(0.15, **fill),
            layers.RandomTranslation(0.15, 0.15, **fill),
        ]
    )


def _calibrate_temperature(model, x: np.ndarray, y: np.ndarray) -> float:
    """Divides the softmax layer's logits by the temperature that minimises the training
    negative log-likelihood (folded into its weights), undoing label smoothing's damping."""
    import keras

    head = model.get_layer("probabilities")
    kernel, bias = head.get_weights()
    feats = keras.Model(model.input, model.get_layer("features").output).predict(x, verbose=0)
    logits = feats.astype(np.float64) @ kernel + bias
    best, best_nll = 1.0, np.inf
    for t in np.geomspace(0.05, 2.0, 400):
        z = logits / t
        z -= z.max(1, keepdims=True)
        nll = np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y])
        if nll < best_nll:
            best, best_nll = float(t), nll
    head.set_weights([kernel / best, bias / best])
    return best


def train(
    name: str,
    model,
    train_data,
    test_data,
    epochs: int,
    batch_size: int,
    seed: int,
    out_dir: Path = ASSETS,
    learning_rate: float = 1e-3,
    cosine: bool = False,
    augment=None,
    label_smoothing: float = 0.0,
) -> dict:
    """Fits `model` with Adam (constant or cosine-decayed rate, optional augmentation layers
    applied afresh each epoch, optional label smoothing followed by temperature
    calibration), saves it without optimizer state into kgan/assets and returns its record."""
    import keras

    (x, y), (x_test, y_test) = train_data, test_data
    if cosine:
        steps = epochs * -(-len(x) // batch_size)
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )
    onehot, onehot_test = np.eye(10, dtype=np.float32)[y], np.eye(10, dtype=np.float32)[y_test]
    start = time.time()
    for epoch in range(epochs):
        xe = keras.ops.convert_to_numpy(augment(x, training=True)) if augment else x
        model.fit(
            xe,
            onehot,
            batch_size=batch_size,
            epochs=epoch + 1,
            initial_epoch=epoch,
            shuffle=True,
            verbose=0,
        )
        _, acc = model.evaluate(x_test, onehot_test, batch_size=1000, verbose=0)
        print(f"{name}: epoch {epoch + 1}/{epochs} test accuracy {acc:.4f}", flush=True)
    seconds = time.time() - start

    clean = keras.Model.from_config(model.get_config())  # uncompiled: no optimizer state
    clean.set_weights(model.get_weights())
    temperature = _calibrate_temperature(clean, x, y) if label_smoothing else 1.0
    path = Path(out_dir) / f"{name}_classifier.keras"
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
        "label_smoothing": label_smoothing,
        "temperature": round(temperature, 4),
        "keras": keras.__version__,
    }
    print(f"{name}: saved {path} ({record['bytes'] / 1e6:.2f} MB), test accuracy {accuracy:.4f}")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["digits", "mnist"], help="train one classifier")
    parser.add_argument(
        "--mnist-dir",
        type=Path,
        default=DEFAULT_MNIST_DIR,
        help="folder with the MNIST IDX .gz files (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=ASSETS, help="output folder (default: %(default)s)"
    )
    args = parser.parse_args(argv)

    import keras

    keras.utils.set_random_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    record_path = args.out / "classifiers.json"
    records = json.loads(record_path.read_text()) if record_path.exists() else {}

    if args.only in (None, "digits"):
        records["digits"] = train(
            "digits",
            _digits_model(),
            digits_split("train"),
            digits_split("test"),
            epochs=80,
            batch_size=32,
            seed=args.seed,
            out_dir=args.out,
            learning_rate=2e-3,
            cosine=True,
            augment=_digits_augmenter(),
            label_smoothing=0.1,
        )
        records["digits"]["split"] = "kgan digits 2.0.0: 297 test images stratified by class"
    if args.only in (None, "mnist"):
        if mnist_available(args.mnist_dir):
            records["mnist"] = train(
                "mnist",
                _mnist_model(),
                mnist_split(args.mnist_dir, "train"),
                mnist_split(args.mnist_dir, "test"),
                epochs=4,
                batch_size=128,
                seed=args.seed,
                out_dir=args.out,
            )
            records["mnist"]["split"] = "official 60,000 train / 10,000 t10k test"
        else:
            print(f"mnist: skipped, no MNIST IDX files in {args.mnist_dir} (pass --mnist-dir)")
    record_path.write_text(json.dumps(records, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
