"""`ImageFolder`: a folder of the user's images read through TFDS, every file checked up front.

Layout: any tree of PNG, JPEG, BMP and GIF files (found recursively, by extension, case
insensitive; other files are ignored). The first sub-folder level names the classes:

    faces/                      -> labels=False: all 5 images
      cats/a.png, cats/b.jpg    -> labels=True: class "cats" (0)
      dogs/x/c.png, dogs/d.bmp  ->              class "dogs" (1)
      e.png                     -> outside any class folder (an error only when labels are asked)

Unlike `tfds.folder_dataset.ImageFolder` (which needs `split/label/` folders) and Keras'
`image_dataset_from_directory`, which both fail in the middle of an epoch on a corrupt file
with a message that does not name it, `scan_folder` decodes every file once, with the very
decoder the pipeline uses, before any training starts. Files that do not decode (corrupt,
truncated, empty, not really an image) are left out and listed by name in `FolderScan.skipped`;
so are BMP variants that TensorFlow's decoder would misread (palette and 1-bit BMPs).

Images of any mode are converted to the channels asked for (gray, gray+alpha, palette, RGB,
RGBA; transparency composited on white), so a folder may mix modes and sizes.

Example:
    >>> builder = ImageFolder("~/faces", channels=3)
    >>> builder.info.splits["train"].num_examples, builder.scan.skipped
    >>> ds = builder.as_dataset(split="train")  # {"image": uint8 (H, W, 3), "label", ...}
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

import tensorflow as tf
import tensorflow_datasets as tfds

from kgan.data.transforms import to_channels_dynamic, to_unit

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


@dataclass(frozen=True)
class FolderScan:
    """What `scan_folder` found: the decodable images, their classes and sizes, and the rest."""

    root: str
    files: tuple[str, ...]  # paths relative to root, sorted, decodable
    classes: tuple[int, ...]  # index into class_names, -1 for files outside a class folder
    class_names: tuple[str, ...]
    shapes: tuple[tuple[int, int, int], ...]  # (height, width, channels in the file)
    skipped: tuple[tuple[str, str], ...]  # (relative path, reason)
    #: A digest of every image file's name, size and modification time: changes when the
    #: folder's files do (what keys cached statistics of the folder, `kgan.data.version`).
    fingerprint: str = ""

    @property
    def default_channels(self) -> int:
        """3 when any image has colour, else 1."""
        return 3 if any(c >= 3 for _, _, c in self.shapes) else 1

    def sizes(self) -> list[tuple[int, int]]:
        """The distinct (height, width) pairs, most common first."""
        counts: dict[tuple[int, int], int] = {}
        for h, w, _ in self.shapes:
            counts[(h, w)] = counts.get((h, w), 0) + 1
        return sorted(counts, key=lambda s: -counts[s])


def _decode(contents: tf.Tensor) -> tf.Tensor:
    """The one decoder of the folder pipeline (first frame of an animated GIF)."""
    return tf.io.decode_image(contents, channels=0, expand_animations=False)


def _list_images(root: str) -> list[str]:
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            if not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(found)


def _bmp_problem(path: str) -> str | None:
    """Why TensorFlow would misread this BMP (it reads palette indices as gray), if it would."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            mode = image.mode
    except Exception:  # noqa: BLE001 - the decoder check reports unreadable files
        return None
    if mode in ("P", "1"):
        return f"{mode!r}-mode BMP, which TensorFlow cannot decode correctly; save it as PNG"
    return None


def _reason(path: str) -> str:
    """A short reason why `path` does not decode."""
    try:
        _decode(tf.io.read_file(path))
    except Exception as error:  # noqa: BLE001 - any failure is the reason
        message = getattr(error, "message", None) or str(error)
        message = re.sub(r"\{\{.*?\}\}\s*", "", message.splitlines()[0])
        return re.sub(r"\s*\[Op:\w+\]$", "", message).strip() or type(error).__name__
    return "could not be decoded"


_SCANS: dict[tuple, FolderScan] = {}


def scan_folder(root: str) -> FolderScan:
    """Lists and decodes every image under `root` once; memoised on the files' names, sizes
    and modification times, so `info` and `load` of the same folder scan it once."""
    root = os.path.abspath(os.path.expanduser(root))
    relative = _list_images(root)
    stats = []
    for rel in relative:
        try:
            st = os.stat(os.path.join(root, rel))
            stats.append((rel, st.st_size, st.st_mtime_ns))
        except OSError:
            stats.append((rel, -1, -1))
    key = (root, tuple(stats))
    if key not in _SCANS:
        fingerprint = hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:12]
        _SCANS[key] = _scan(root, relative, fingerprint)
    return _SCANS[key]


def _scan(root: str, relative: list[str], fingerprint: str) -> FolderScan:
    paths = [os.path.join(root, rel) for rel in relative]
    shapes: dict[int, tuple[int, int, int]] = {}
    if paths:

        def probe(index, path):
            return index, tf.shape(_decode(tf.io.read_file(path)))

        ds = tf.data.Dataset.from_tensor_slices((tf.range(len(paths)), paths))
        ds = ds.map(probe, num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
        for index, shape in ds.batch(1024).as_numpy_iterator():
            for i, s in zip(index.tolist(), shape.tolist()):
                shapes[i] = tuple(s)
    skipped, files, file_shapes = [], [], []
    for i, (rel, path) in enumerate(zip(relative, paths)):
        problem = None
        if i not in shapes:
            problem = _reason(path)
        elif rel.lower().endswith(".bmp"):
            problem = _bmp_problem(path)
        if problem:
            skipped.append((rel, problem))
        else:
            files.append(rel)
            file_shapes.append(shapes[i])
    class_names = sorted({rel.split(os.sep)[0] for rel in files if os.sep in rel})
    index = {name: i for i, name in enumerate(class_names)}
    classes = [index[rel.split(os.sep)[0]] if os.sep in rel else -1 for rel in files]
    return FolderScan(
        root=root,
        files=tuple(files),
        classes=tuple(classes),
        class_names=tuple(class_names),
        shapes=tuple(file_shapes),
        skipped=tuple(skipped),
        fingerprint=fingerprint,
    )


class ImageFolder(tfds.core.DatasetBuilder, skip_registration=True):
    """The decodable images of one folder as a TFDS dataset with a single `train` split.

    Args:
        root_dir: the folder (searched recursively).
        channels: 1 or 3, the channels every image is converted to; None picks 3 when any
            image has colour, else 1.
    """

    VERSION = tfds.core.Version("1.0.0")

    def __init__(self, root_dir: str, *, channels: int | None = None):
        self.scan = scan_folder(root_dir)
        self.channels = channels or self.scan.default_channels
        super().__init__(data_dir=self.scan.root)
        self._data_dir = self.scan.root  # the images are read where they are
        self.info.set_splits(
            tfds.core.SplitDict(
                [tfds.core.SplitInfo(name="train", shard_lengths=[len(self.scan.files)], num_bytes=0)]
            )
        )

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=f"Images of the folder {self.scan.root}.",
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(None, None, self.channels)),
                    "label": tfds.features.ClassLabel(names=list(self.scan.class_names)),
                    "image/filename": tfds.features.Text(),
                }
            ),
            supervised_keys=("image", "label"),
        )

    def _download_and_prepare(self, dl_manager, download_config=None):
        del dl_manager, download_config  # nothing to prepare: files are read in place

    def download_and_prepare(self, **kwargs):
        del kwargs

    def is_prepared(self) -> bool:
        return True

    def _as_dataset(self, split, decoders=None, read_config=None, shuffle_files=False):
        del decoders
        if str(split) != "train":
            raise ValueError(f"{self.scan.root} has one split, 'train'; got {split!r}")
        paths = [os.path.join(self.scan.root, rel) for rel in self.scan.files]
        ds = tf.data.Dataset.from_tensor_slices(
            (tf.constant(paths, tf.string), tf.constant(self.scan.classes, tf.int64))
        )
        if shuffle_files:  # seeded by `ReadConfig(shuffle_seed=...)`, as TFDS' own builders
            ds = ds.shuffle(len(paths), seed=read_config.shuffle_seed if read_config else None)
        channels = self.channels

        def load(path, label):
            image = to_channels_dynamic(to_unit(_decode(tf.io.read_file(path))), channels)
            image = tf.cast(tf.round(image * 255.0), tf.uint8)
            return {"image": image, "label": label, "image/filename": path}

        # Every file decoded once in `scan_folder`; should one change or vanish afterwards,
        # it is dropped (and logged) rather than ending the epoch.
        ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.ignore_errors(log_warning=True)
