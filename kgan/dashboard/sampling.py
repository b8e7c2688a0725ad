"""Drawing from a run's generator: latents, spherical interpolation, generator calls, pictures.

Plain numpy/Keras (no Streamlit), so the dashboard's views stay thin and these are tested
directly. Seeds, labels and grid columns go through `kgan.sampling`, the path `GAN.generate`,
`kgan sample` and the SavedModel's `sample` signature take, so a seed here gives the same
samples as there.

Example:
    >>> info = ModelInfo.from_metadata(run.metadata())
    >>> sampler = Sampler(run.load_generator(), info)
    >>> samples = draw(sampler, 64, seed=0)
    >>> png = kgan.images.png_bytes(picture(samples, info, grid_columns(info, 64)))
"""

from __future__ import annotations

import io
import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kgan import images
from kgan import sampling as core


@dataclass(frozen=True)
class ModelInfo:
    """What sampling needs to know about a run, read from its model card.

    Attributes:
        kind: "image" or "vector".
        data_shape: shape of one sample, e.g. (8, 8, 1) or (2,).
        latent_dim: size of z.
        num_classes: number of classes of a conditional run, else None.
        class_names: their names (or None).
        dataset: the dataset's name (the toy mixtures get a reference cloud under scatters).
    """

    kind: str
    data_shape: tuple
    latent_dim: int
    num_classes: int | None = None
    class_names: tuple | None = None
    dataset: str | None = None

    @classmethod
    def from_metadata(cls, meta: dict) -> "ModelInfo":
        """The info of a model card (`Run.metadata()`); `ValueError` names a missing field."""
        missing = [k for k in ("data_shape", "latent_dim") if not meta.get(k)]
        if missing:
            raise ValueError(f"the model card lacks {', '.join(missing)}; cannot sample from it")
        shape = tuple(int(d) for d in meta["data_shape"])
        kind = meta.get("kind") or ("vector" if len(shape) == 1 else "image")
        conditional = meta.get("conditional") and meta.get("num_classes")
        num_classes = int(meta["num_classes"]) if conditional else None
        names = meta.get("class_names")
        return cls(
            kind=kind,
            data_shape=shape,
            latent_dim=int(meta["latent_dim"]),
            num_classes=num_classes,
            class_names=tuple(str(n) for n in names) if num_classes and names else None,
            dataset=meta.get("dataset"),
        )

    @property
    def conditional(self) -> bool:
        return bool(self.num_classes)

    def class_name(self, label: int) -> str:
        if self.class_names and 0 <= label < len(self.class_names):
            return self.class_names[label]
        return str(label)


def latents(num: int, seed: int, latent_dim: int, truncation: float | None = None) -> np.ndarray:
    """`(num, latent_dim)` standard-normal latents of `seed` (truncated to [-t, t] when given)."""
    return np.asarray(core.sample_latents(int(num), int(seed), int(latent_dim), truncation))


def slerp(a: np.ndarray, b: np.ndarray, t) -> np.ndarray:
    """Spherical interpolation between the vectors `a` and `b` at the fractions `t` in [0, 1].

    Interpolates the direction along the great circle and the norm linearly, so intermediate
    latents keep the typical norm of Gaussian samples (a straight line would shrink it).
    Returns `(len(t), D)`; falls back to linear interpolation for (anti)parallel vectors.

    Example:
        >>> slerp(np.array([1., 0.]), np.array([0., 1.]), [0.5])
        array([[0.7071..., 0.7071...]])
    """
    a = np.asarray(a, np.float64).reshape(-1)
    b = np.asarray(b, np.float64).reshape(-1)
    t = np.asarray(t, np.float64).reshape(-1, 1)
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a == 0 or norm_b == 0:
        return ((1 - t) * a + t * b).astype(np.float32)
    unit_a, unit_b = a / norm_a, b / norm_b
    omega = math.acos(float(np.clip(unit_a @ unit_b, -1.0, 1.0)))
    if omega < 1e-6 or math.pi - omega < 1e-6:
        return ((1 - t) * a + t * b).astype(np.float32)
    direction = (np.sin((1 - t) * omega) * unit_a + np.sin(t * omega) * unit_b) / math.sin(omega)
    norm = (1 - t) * norm_a + t * norm_b
    return (direction * norm).astype(np.float32)


def interpolation_latents(
    seed_a: int, seed_b: int, steps: int, latent_dim: int, truncation: float | None = None
) -> np.ndarray:
    """`steps` latents on the spherical path from the first latent of `seed_a` to `seed_b`'s."""
    a = latents(1, seed_a, latent_dim, truncation)[0]
    b = latents(1, seed_b, latent_dim, truncation)[0]
    return slerp(a, b, np.linspace(0.0, 1.0, int(steps)))


def labels_for(info: ModelInfo, num: int, label: int | None = None) -> np.ndarray | None:
    """Labels of `num` samples: `label` for all, or 0..K-1 cycling; None if unconditional."""
    if info.conditional and label is not None and not 0 <= int(label) < info.num_classes:
        raise ValueError(f"class must be in [0, {info.num_classes - 1}], got {label}")
    return core.labels_for(num, info.num_classes, None if label is None else int(label))


def draw(
    sampler: "Sampler", num: int, seed: int, truncation: float | None = None,
    label: int | None = None,
) -> np.ndarray:
    """`num` float32 samples of `seed` (all of class `label`, or classes in turn): what
    `GAN.generate(num, seed)` and `kgan sample` give, through the compiled `sampler`."""
    labels = labels_for(sampler.info, num, label)
    return core.draw(sampler, int(num), int(seed), labels=labels, truncation=truncation)


def generate(generator, info: ModelInfo, z: np.ndarray, labels=None) -> np.ndarray:
    """The generator's float32 outputs for latents `z` (and `labels` for conditional runs),
    called eagerly; `Sampler` is the compiled equivalent for repeated use."""
    import keras

    z = np.asarray(z, np.float32)
    if info.conditional:
        if labels is None:
            labels = labels_for(info, len(z))
        inputs = [z, np.asarray(labels, np.int32)]
    else:
        inputs = z
    return np.asarray(keras.ops.convert_to_numpy(generator(inputs, training=False)), np.float32)


class Sampler:
    """A generator ready for interactive use: one compiled graph for every batch size (half the
    time of an eager call on a CPU), warmed up on creation.

    Example:
        >>> sampler = Sampler(run.load_generator(), ModelInfo.from_metadata(run.metadata()))
        >>> samples = sampler(latents(64, seed=0, latent_dim=sampler.info.latent_dim))
    """

    def __init__(self, generator, info: ModelInfo) -> None:
        import tensorflow as tf

        self.generator = generator
        self.info = info
        z = tf.TensorSpec([None, info.latent_dim], tf.float32, name="z")
        if info.conditional:
            label = tf.TensorSpec([None], tf.int32, name="label")
            self._call = tf.function(
                lambda z, y: generator([z, y], training=False), input_signature=[z, label]
            )
        else:
            self._call = tf.function(lambda z: generator(z, training=False), input_signature=[z])
        self(latents(1, 0, info.latent_dim))

    @property
    def latent_dim(self) -> int:
        return self.info.latent_dim

    @property
    def num_classes(self) -> int | None:
        return self.info.num_classes

    @property
    def data_shape(self) -> tuple:
        return self.info.data_shape

    def __call__(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        z = np.asarray(z, np.float32)
        if self.info.conditional:
            if labels is None:
                labels = labels_for(self.info, len(z))
            labels = np.asarray(labels, np.int32)
            return np.asarray(self._call(z, labels), np.float32)
        return np.asarray(self._call(z), np.float32)


def reference_points(info: ModelInfo, num: int = 1000) -> np.ndarray | None:
    """Real points of a toy mixture (drawn under scatter plots), or None for other data."""
    from kgan import toy

    if info.kind != "vector" or info.dataset not in toy.MIXTURES:
        return None
    return toy.sample(info.dataset, num, seed=0)


def picture(samples: np.ndarray, info: ModelInfo, cols: int | None = None) -> np.ndarray:
    """A uint8 picture of `samples`: an image grid (`cols` wide), or a 2-D scatter plot."""
    if info.kind == "vector":
        return images.scatter(samples, reference=reference_points(info))
    return images.grid(images.to_uint8(samples), cols=cols)


def grid_columns(info: ModelInfo, num: int, label: int | None = None) -> int:
    """Columns of a grid of `num` images: `kgan.sampling.grid_columns` (one per class when
    classes cycle, else ~square), as `kgan sample` and the training grids lay them out."""
    return core.grid_columns(num, info.num_classes, label)


def zip_folder(folder: str | os.PathLike) -> bytes:
    """The regular files under `folder` as a zip archive (paths relative to the folder's parent,
    so it unpacks into a folder of the same name). Symbolic links are not followed."""
    folder = Path(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not Path(dirpath, d).is_symlink())
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                if path.is_symlink() or not path.is_file() or filename.startswith(".tmp-"):
                    continue
                archive.write(path, path.relative_to(folder.parent).as_posix())
    return buffer.getvalue()


__all__ = [
    "ModelInfo",
    "Sampler",
    "draw",
    "generate",
    "grid_columns",
    "interpolation_latents",
    "labels_for",
    "latents",
    "picture",
    "reference_points",
    "slerp",
    "zip_folder",
]
