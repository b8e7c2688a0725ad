"""Where data come from: one small class per kind of source, chosen from the source string.

A source answers two questions: `native(split)` — what its examples are before the pipeline
(kind, shape, classes, count), cheaply — and `examples(split, channels)` — a `tf.data.Dataset`
of `(x, label)` pairs, `x` being a uint8 image (or a float32 image in [0, 1]) with a static
channel count, or a float32 vector; `label` int32, -1 where there is none.

| source string                       | class         |
| ----------------------------------- | ------------- |
| `folder:PATH`                       | FolderSource  |
| `npy:PATH`, `npz:PATH`, `*.npy/npz` | ArraySource   |
| `ring8`, `grid25`                   | ToySource     |
| anything else (`digits`, `mnist`…)  | TfdsSource    |
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from kgan.data import offline
from kgan.errors import KganError

IMAGE = "image"
VECTOR = "vector"


class KganDataWarning(UserWarning):
    """Data were left out (e.g. undecodable image files); the message lists them."""


@dataclass(frozen=True)
class Native:
    """A split as the source holds it, before resizing and channel conversion."""

    kind: str  # IMAGE or VECTOR
    shape: tuple  # (H, W, C), H and W None when images differ in size; or (D,)
    num_examples: int
    num_classes: int | None = None
    class_names: tuple[str, ...] | None = None
    skipped: tuple[tuple[str, str], ...] = ()
    unlabelled: int = 0  # examples outside any class (folder images outside class folders)


def resolve(source: str, data_dir: str | None = None) -> "Source":
    """The source object for a source string."""
    if not isinstance(source, str) or not source.strip():
        raise KganError(f"data source must be a non-empty string, got {source!r}")
    source = source.strip()
    if source.startswith("folder:"):
        return FolderSource(source)
    if source.startswith(("npy:", "npz:")) or source.lower().endswith((".npy", ".npz")):
        return ArraySource(source)
    from kgan import toy

    if source in toy.MIXTURES:
        return ToySource(source)
    return TfdsSource(source, data_dir)


class Source:
    """Base class; see the module docstring."""

    def __init__(self, source: str):
        self.source = source

    def splits(self) -> list[str]:
        return ["train"]

    def check_split(self, split: str) -> None:
        if split not in self.splits():
            raise KganError(
                f"{self.source} has no split {split!r}; valid splits: {', '.join(self.splits())}"
            )

    def native(self, split: str) -> Native:
        raise NotImplementedError

    def examples(self, split: str, channels: int | None, *, shuffle_files=False, seed=None):
        raise NotImplementedError


# --------------------------------------------------------------------------- TFDS


class TfdsSource(Source):
    """Any TFDS dataset with an image feature; labels from its ClassLabel feature."""

    def __init__(self, name: str, data_dir: str | None):
        super().__init__(name)
        import tensorflow_datasets as tfds

        self.builder = offline.tfds_builder(name, data_dir)
        features = self.builder.info.features
        supervised = self.builder.info.supervised_keys or (None, None)
        if isinstance(supervised, dict):  # rare nested form
            supervised = (None, None)
        candidates = [k for k in (supervised[0], "image") if k in features] + list(features)
        images = [k for k in candidates if isinstance(features[k], tfds.features.Image)]
        if not images:
            raise KganError(
                f"{name}: this TFDS dataset has no image feature; kgan reads image datasets "
                "from TFDS (vector data: use an .npy/.npz file)"
            )
        self.image_key = images[0]
        candidates = [k for k in (supervised[-1], "label") if k in features] + list(features)
        labels = [k for k in candidates if isinstance(features[k], tfds.features.ClassLabel)]
        self.label_key = labels[0] if labels else None
        self._prepared = False

    def _ensure_prepared(self) -> None:
        if not self._prepared:
            offline.ensure_prepared(self.builder, self.source)
            self._prepared = True

    def splits(self) -> list[str]:
        self._ensure_prepared()
        return list(self.builder.info.splits.keys())

    def check_split(self, split: str) -> None:
        self._ensure_prepared()
        try:
            self.builder.info.splits[split]
        except Exception:  # noqa: BLE001 - TFDS raises several types for bad splits
            raise KganError(
                f"{self.source} has no split {split!r}; valid splits: "
                f"{', '.join(self.splits())} (TFDS slicing such as 'train[:90%]' works too)"
            ) from None

    def native(self, split: str) -> Native:
        self.check_split(split)
        info = self.builder.info
        feature = info.features[self.image_key]
        label = info.features[self.label_key] if self.label_key else None
        return Native(
            kind=IMAGE,
            shape=tuple(feature.shape),
            num_examples=int(info.splits[split].num_examples),
            num_classes=int(label.num_classes) if label else None,
            class_names=tuple(label.names) if label else None,
        )

    def examples(self, split, channels, *, shuffle_files=False, seed=None):
        import tensorflow_datasets as tfds

        self.check_split(split)
        read_config = tfds.ReadConfig(shuffle_seed=seed, try_autocache=False)
        ordered = self.builder.info.disable_shuffling  # TFDS refuses to shuffle those files
        ds = self.builder.as_dataset(
            split=split, shuffle_files=shuffle_files and not ordered, read_config=read_config
        )
        image_key, label_key = self.image_key, self.label_key

        def pick(example):
            label = tf.cast(example[label_key], tf.int32) if label_key else tf.constant(-1)
            return example[image_key], label

        return ds.map(pick, num_parallel_calls=tf.data.AUTOTUNE)


# --------------------------------------------------------------------------- folders


def _list_names(pairs, limit: int = 5) -> str:
    shown = ", ".join(f"{path} ({why})" for path, why in pairs[:limit])
    return shown + (f" and {len(pairs) - limit} more" if len(pairs) > limit else "")


#: Folder scans whose skipped files were already reported in this process.
_WARNED_SCANS: set = set()


class FolderSource(Source):
    """`folder:PATH`: the user's images, through kgan's `ImageFolder` TFDS builder."""

    def __init__(self, source: str):
        super().__init__(source)
        from kgan.data.builders import scan_folder

        path = source[len("folder:") :].strip()
        if not path:
            raise KganError("folder: needs a path, e.g. folder:~/images")
        self.root = os.path.abspath(os.path.expanduser(path))
        if not os.path.isdir(self.root):
            raise KganError(
                f"{source}: {self.root} does not exist or is not a folder; give a folder "
                "of PNG/JPEG/BMP/GIF images"
            )
        self.scan = scan_folder(self.root)
        if not self.scan.files:
            if self.scan.skipped:
                raise KganError(
                    f"{source} holds no readable images: all {len(self.scan.skipped)} image "
                    f"files failed to decode: {_list_names(list(self.scan.skipped))}"
                )
            raise KganError(
                f"{source} holds no PNG/JPEG/BMP/GIF images (searched recursively); "
                "point it at the folder that contains them"
            )
        if self.scan.skipped and self.scan not in _WARNED_SCANS:
            # `info` and `load` (and the evaluator) each make a source: warn once per scan.
            _WARNED_SCANS.add(self.scan)
            warnings.warn(
                f"{source}: skipped {len(self.scan.skipped)} of "
                f"{len(self.scan.skipped) + len(self.scan.files)} image files that cannot be "
                f"used: {_list_names(list(self.scan.skipped), limit=10)}",
                KganDataWarning,
                stacklevel=4,
            )

    def native(self, split: str) -> Native:
        self.check_split(split)
        scan = self.scan
        sizes = scan.sizes()
        height, width = sizes[0] if len(sizes) == 1 else (None, None)
        names = scan.class_names or None
        return Native(
            kind=IMAGE,
            shape=(height, width, scan.default_channels),
            num_examples=len(scan.files),
            num_classes=len(names) if names else None,
            class_names=tuple(names) if names else None,
            skipped=scan.skipped,
            unlabelled=sum(1 for c in scan.classes if c < 0),
        )

    def sizes_hint(self) -> str:
        sizes = self.scan.sizes()
        shown = ", ".join(f"{w}x{h}" for h, w in sizes[:3])
        return f"{len(sizes)} sizes, e.g. {shown}"

    def examples(self, split, channels, *, shuffle_files=False, seed=None):
        from kgan.data.builders import ImageFolder

        self.check_split(split)
        import tensorflow_datasets as tfds

        builder = ImageFolder(self.root, channels=channels)
        ds = builder.as_dataset(
            split="train", shuffle_files=shuffle_files, read_config=tfds.ReadConfig(shuffle_seed=seed)
        )
        return ds.map(
            lambda ex: (ex["image"], tf.cast(ex["label"], tf.int32)),
            num_parallel_calls=tf.data.AUTOTUNE,
        )


# --------------------------------------------------------------------------- arrays

_X_KEYS = ("x", "images", "image", "data", "arr_0")
_NPY_KEY = "<npy>"  # the one array of an .npy file, in `_read_arrays`' answer
_NPY_MAGIC, _ZIP_MAGIC = b"\x93NUMPY", b"PK\x03\x04"
_Y_KEYS = ("y", "labels", "label", "arr_1")


def _read_arrays(source: str, path: str) -> dict:
    """Every array of an .npy/.npz file, numeric arrays only and never through pickle; a
    file that is not one is refused in one line (NumPy's advice to unpickle is not passed on)."""
    with open(path, "rb") as f:
        magic = f.read(6)

    def refuse(why: str) -> KganError:
        return KganError(
            f"{source}: cannot read {path}: it is not a valid numeric .npy array ({why}); "
            "kgan reads only arrays of numbers saved with numpy.save or numpy.savez"
        )

    if not magic.startswith((_NPY_MAGIC, _ZIP_MAGIC)):
        raise refuse("no NumPy .npy header")
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return {_NPY_KEY: loaded}
        with loaded:
            return dict(loaded.items())
    except Exception as error:  # noqa: BLE001 - any failure is the file's
        text = " ".join(str(error).split())
        if "pickle" in text or "Object arrays" in text:
            raise refuse("it holds Python objects, not numbers") from None
        raise refuse(f"truncated or corrupt: {text[:200] or type(error).__name__}") from None


class ArraySource(Source):
    """`npy:PATH` / `npz:PATH` (or a path ending in .npy/.npz): arrays held in memory.

    Shapes: `(N, D)` vectors (used as they are, as float32); `(N, H, W)` or `(N, H, W, C)`
    images, C in 1-4: uint8 (or integers in 0..255) are pixels, floats must already lie in
    [-1, 1]. An .npz file gives its images as `x` (or `images`, `image`, `data`, `arr_0`, or
    its only array) and labels as `y` (or `labels`, `label`, `arr_1`); per split, `x_test` /
    `y_test` style keys are used (Keras' `mnist.npz` works as it is).
    """

    def __init__(self, source: str):
        super().__init__(source)
        path = source.split(":", 1)[1] if source.startswith(("npy:", "npz:")) else source
        self.path = os.path.abspath(os.path.expanduser(path.strip()))
        if not os.path.isfile(self.path):
            raise KganError(f"{source}: no file {self.path}; give the path of an .npy/.npz file")
        self._arrays = self._split_npz(_read_arrays(source, self.path))
        self._checked: dict[str, tuple] = {}

    def _split_npz(self, arrays: dict) -> dict:
        """{split: (x, y or None)} of the arrays of a file (an .npy file is one `x`)."""
        if _NPY_KEY in arrays:
            return {"train": (arrays[_NPY_KEY], None)}
        out = {}
        for key in arrays:
            if key.startswith("x_"):
                split = key[2:]
                out[split] = (arrays[key], arrays.get(f"y_{split}"))
        if "train" not in out:
            x_key = next((k for k in _X_KEYS if k in arrays), None)
            if x_key is None and len(arrays) == 1:
                x_key = next(iter(arrays))
            if x_key is None:
                raise KganError(
                    f"{self.source}: which array holds the data? name it one of "
                    f"{', '.join(_X_KEYS)} (found {', '.join(sorted(arrays)) or 'none'})"
                )
            y_key = next((k for k in _Y_KEYS if k in arrays and k != x_key), None)
            out["train"] = (arrays[x_key], arrays[y_key] if y_key else None)
        return out

    def splits(self) -> list[str]:
        return sorted(self._arrays)

    def _checked_split(self, split: str):
        """(x ready for tf: uint8 pixels, float [0, 1] pixels or float32 vectors), labels, kind."""
        self.check_split(split)
        if split in self._checked:
            return self._checked[split]
        x, y = self._arrays[split]
        x = np.asarray(x)
        where = f"{self.source} (split {split!r})"
        if x.ndim < 2 or x.shape[0] == 0:
            raise KganError(
                f"{where}: array of shape {x.shape}; expected (N, D) vectors or "
                "(N, H, W[, C]) images with N > 0"
            )
        if x.dtype.kind not in "iuf":
            raise KganError(
                f"{where}: array of dtype {x.dtype}; expected real numbers (integers or "
                "floats; complex, boolean, text and object arrays are refused)"
            )
        if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
            raise KganError(f"{where}: the array holds NaN or infinite values; remove them")
        if x.ndim == 2:
            kind, x = VECTOR, x.astype(np.float32)
        else:
            kind = IMAGE
            if x.ndim == 3:
                x = x[..., None]
            if x.ndim != 4 or x.shape[-1] not in (1, 2, 3, 4):
                raise KganError(
                    f"{where}: images of shape {x.shape[1:]}; expected (H, W) or (H, W, C) "
                    "with C = 1, 3 (or 2, 4 with alpha)"
                )
            if np.issubdtype(x.dtype, np.integer):
                if x.min() < 0 or x.max() > 255:
                    raise KganError(
                        f"{where}: integer pixels in [{x.min()}, {x.max()}]; expected 0..255"
                    )
                x = x.astype(np.uint8)
            else:
                low, high = float(x.min()), float(x.max())
                if low < -1.0 or high > 1.0:
                    raise KganError(
                        f"{where}: float images in [{low:.3g}, {high:.3g}]; float images must "
                        "lie in [-1, 1] (from [0, 1]: save x * 2 - 1; or save uint8 pixels)"
                    )
                x = ((x.astype(np.float32) + 1.0) / 2.0).astype(np.float32)
        if y is not None:
            y = np.asarray(y)
            if (
                y.shape != (x.shape[0],)
                or not np.issubdtype(y.dtype, np.integer)
                or (y.size and y.min() < 0)
            ):
                raise KganError(
                    f"{where}: labels must be N = {x.shape[0]} non-negative integers, got "
                    f"shape {y.shape} dtype {y.dtype}"
                )
            y = y.astype(np.int32)
        self._checked[split] = (x, y, kind)
        return self._checked[split]

    def native(self, split: str) -> Native:
        x, y, kind = self._checked_split(split)
        num_classes = None
        if y is not None:
            all_labels = [v[1] for v in self._arrays.values() if v[1] is not None]
            num_classes = int(max(int(np.max(lab)) for lab in all_labels if lab.size)) + 1
        return Native(
            kind=kind, shape=tuple(x.shape[1:]), num_examples=int(x.shape[0]),
            num_classes=num_classes,
        )

    def examples(self, split, channels, *, shuffle_files=False, seed=None):
        x, y, _ = self._checked_split(split)
        y = y if y is not None else np.full((x.shape[0],), -1, np.int32)
        return tf.data.Dataset.from_tensor_slices((x, y))


# --------------------------------------------------------------------------- toy mixtures


class ToySource(Source):
    """`ring8`, `grid25`: fixed draws of the 2-D mixtures of `kgan.toy` (train: 10,000 points
    drawn with seed 0; test: 2,000 with seed 1). Points are used as they are (not rescaled)."""

    SIZES = {"train": (10_000, 0), "test": (2_000, 1)}

    def splits(self) -> list[str]:
        return list(self.SIZES)

    def _points(self, split: str) -> np.ndarray:
        from kgan import toy

        self.check_split(split)
        n, seed = self.SIZES[split]
        return toy.sample(self.source, n, seed)

    def native(self, split: str) -> Native:
        self.check_split(split)
        return Native(kind=VECTOR, shape=(2,), num_examples=self.SIZES[split][0])

    def examples(self, split, channels, *, shuffle_files=False, seed=None):
        points = self._points(split)
        return tf.data.Dataset.from_tensor_slices(
            (points, np.full((len(points),), -1, np.int32))
        )
