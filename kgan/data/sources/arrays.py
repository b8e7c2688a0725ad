"""`ArraySource`: .npy/.npz arrays, read without pickle."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from kgan.data.sources.base import IMAGE, VECTOR, Native, Source
from kgan.errors import KganError


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


__all__ = ["ArraySource"]
