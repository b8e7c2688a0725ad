"""`load`, `info` and `load_arrays`: from a source string to batches, facts, or numpy arrays."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from kgan.data import sources as sources_lib
from kgan.data import transforms
from kgan.errors import KganError

SHUFFLE_BUFFER = 10_000  # elements, when the split is too large to shuffle whole
SHUFFLE_BYTES = 1 << 30  # splits up to this size (as float32) are shuffled whole
CACHE_FRACTION = 0.25  # of physical memory that a cached split may take


@dataclass(frozen=True)
class DataInfo:
    """What a source yields after the pipeline, per example.

    Attributes:
        source, split: as asked.
        kind: "image" or "vector".
        shape: one example after resizing and channel conversion, e.g. (8, 8, 1) or (2,).
        num_classes, class_names: the labels, or None when the source has none.
        num_examples: examples in the split (decodable files for a folder).
        skipped: (file, reason) pairs left out of a folder source.

    Example:
        >>> info("digits")
        DataInfo(source='digits', split='train', kind='image', shape=(8, 8, 1), num_classes=10, ...)
    """

    source: str
    split: str
    kind: str
    shape: tuple
    num_classes: int | None
    class_names: list | None
    num_examples: int
    skipped: tuple = field(default=(), repr=False)


def check_image_size(
    image_size, *, power_of_two: bool = False, minimum: int = 1, needed_by: str = ""
) -> int:
    """Returns `image_size` as an int, or raises a KganError that proposes valid sizes.

    Architectures whose layers halve the resolution call it with `power_of_two=True`.

    Example:
        >>> check_image_size(48, power_of_two=True, needed_by="the dcgan architecture")
        KganError: image_size 48 is not a power of two, which the dcgan architecture needs; use 32 or 64
    """
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)):
        raise KganError(f"image_size must be a whole number of pixels, got {image_size!r}")
    size = int(image_size)
    by = f", which {needed_by} needs" if needed_by else ""
    if size < minimum:
        raise KganError(f"image_size {size} is too small{by}; use at least {minimum}")
    if power_of_two and size & (size - 1):
        low = 1 << (size.bit_length() - 1)
        options = " or ".join(str(s) for s in (low, low * 2) if s >= minimum)
        raise KganError(f"image_size {size} is not a power of two{by}; use {options}")
    return size


def _check_channels(channels) -> int | None:
    if channels is None:
        return None
    if isinstance(channels, bool) or channels not in (1, 3):
        raise KganError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
    return int(channels)


def _plan(source: str, split: str, image_size, channels, data_dir):
    """(source object, its Native facts, the DataInfo after the pipeline)."""
    if not isinstance(split, str) or not split:
        raise KganError(f"split must be a split name such as 'train', got {split!r}")
    channels = _check_channels(channels)
    if image_size is not None:
        image_size = check_image_size(image_size)
    src = sources_lib.resolve(source, data_dir)
    native = src.native(split)
    if native.kind == sources_lib.VECTOR:
        if image_size is not None or channels is not None:
            raise KganError(
                f"{source} is {native.shape[0]}-D vector data: image_size and channels do not "
                "apply; leave them unset"
            )
        shape = native.shape
    else:
        height, width, have = native.shape
        if image_size is not None:
            height = width = image_size
        shape = (height, width, channels or (1 if have in (1, 2) else 3))
    if native.kind == sources_lib.IMAGE and None in shape[:2]:
        _refuse_mixed_sizes(source, src)
    data_info = DataInfo(
        source=source,
        split=split,
        kind=native.kind,
        shape=tuple(shape),
        num_classes=native.num_classes,
        class_names=list(native.class_names) if native.class_names else None,
        num_examples=native.num_examples,
        skipped=native.skipped,
    )
    return src, native, data_info


def _refuse_mixed_sizes(source: str, src) -> None:
    """Raises the one-line error for images of several sizes without `image_size`: `info`,
    `load` and `load_arrays` all need one shape per example."""
    sizes = f" ({src.sizes_hint()})" if hasattr(src, "sizes_hint") else ""
    raise KganError(
        f"images of {source} differ in size{sizes}; pass image_size=N (kgan train: "
        "--image-size N) to centre-crop and resize them all to N x N"
    )


def info(
    source: str,
    *,
    split: str = "train",
    image_size: int | None = None,
    channels: int | None = None,
    data_dir: str | None = None,
) -> DataInfo:
    """Facts about what `load` yields, from metadata (a TFDS dataset is not read).

    A TFDS dataset that is not prepared is prepared first (`digits`), or fails fast (see
    `load`); a folder is scanned once (and remembered for the following `load`).

    Example:
        >>> kgan.data.info("digits", image_size=32).shape
        (32, 32, 1)
    """
    return _plan(source, split, image_size, channels, data_dir)[2]


def version(source: str, data_dir: str | None = None) -> str | None:
    """What identifies the data's content, for cache keys: a TFDS builder's version (a
    changed split gets a new one), a digest of an array file, or a folder's fingerprint (its
    image files' names, sizes and modification times); None for the toy mixtures (fixed)."""
    from kgan.features import file_sha256

    src = sources_lib.resolve(source, data_dir)
    if isinstance(src, sources_lib.TfdsSource):
        return f"v{src.builder.version}"
    if isinstance(src, sources_lib.ArraySource):
        return file_sha256(src.path)[:12]
    if isinstance(src, sources_lib.FolderSource):
        return src.scan.fingerprint
    return None


#: How to do without labels, in library and in CLI terms.
_UNLABELLED = "load it without labels (labels=False; kgan train: drop --conditional)"


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def shuffle_buffer(data_info: DataInfo) -> int:
    """The shuffle buffer of every kgan stream: the whole split when it takes at most
    `SHUFFLE_BYTES` as float32 (the same on every machine, so a seed gives the same order),
    else `SHUFFLE_BUFFER` examples, drawn from a shuffled file order (`_examples`)."""
    n = data_info.num_examples or SHUFFLE_BUFFER
    if n * 4 * math.prod(data_info.shape) <= SHUFFLE_BYTES:
        return n
    return min(n, SHUFFLE_BUFFER)


def _cached(ds: tf.data.Dataset, data_info: DataInfo, cache: bool) -> tf.data.Dataset:
    """`ds` cached in memory when `cache` and the split takes at most `CACHE_FRACTION` of it."""
    split_bytes = data_info.num_examples * 4 * math.prod(data_info.shape)
    if cache and split_bytes <= CACHE_FRACTION * _memory_bytes():
        return ds.cache()
    return ds


def _examples(source, split, image_size, channels, labels, data_dir, *, shuffle_files, seed):
    """(DataInfo, unbatched dataset of transformed examples, or of (example, label) pairs).

    With `shuffle_files`, the files are read in a seeded random order when the split is too
    large for `shuffle_buffer` to cover (a folder listed class by class would otherwise give
    batches of one class); a split shuffled whole keeps the source's order, so a seed keeps
    giving the batches it gave before.
    """
    src, native, data_info = _plan(source, split, image_size, channels, data_dir)
    shuffle_files = shuffle_files and shuffle_buffer(data_info) < data_info.num_examples
    if labels:
        if native.num_classes is None:
            hint = (
                "put the images in one sub-folder per class, or "
                if isinstance(src, sources_lib.FolderSource)
                else "store labels next to the data, or "
                if isinstance(src, sources_lib.ArraySource)
                else ""
            )
            raise KganError(f"{source} has no class labels; {hint}{_UNLABELLED}")
        if native.unlabelled:
            raise KganError(
                f"{source}: {native.unlabelled} images lie outside the class sub-folders; move "
                f"them into a class folder, or {_UNLABELLED}"
            )
    ds = src.examples(
        split, data_info.shape[-1] if data_info.kind == sources_lib.IMAGE else None,
        shuffle_files=shuffle_files, seed=seed,
    )
    if data_info.kind == sources_lib.IMAGE:
        size, channels_out = data_info.shape[0], data_info.shape[-1]
        resize = image_size is not None

        def transform(x):
            x = transforms.to_channels(transforms.to_unit(x), channels_out)
            if resize:
                x = transforms.square_resize(x, size)
            return tf.ensure_shape(transforms.to_signed(x), data_info.shape)

    else:

        def transform(x):
            return tf.cast(x, tf.float32)

    if labels:
        ds = ds.map(lambda x, y: (transform(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(lambda x, y: transform(x), num_parallel_calls=tf.data.AUTOTUNE)
    return data_info, ds


def load(
    source: str,
    *,
    split: str = "train",
    batch_size: int = 64,
    image_size: int | None = None,
    channels: int | None = None,
    labels: bool = False,
    shuffle: bool = True,
    seed: int | None = 0,
    data_dir: str | None = None,
    cache: bool = True,
    drop_remainder: bool = True,
) -> tf.data.Dataset:
    """A batched `tf.data.Dataset` of float32 images in [-1, 1] `(B, H, W, C)`, or vectors
    `(B, D)`; `(x, labels)` with int32 labels `(B,)` when `labels=True`.

    Sources: any TFDS image dataset by name (`mnist`, `cifar10`, ...; its image feature and
    ClassLabel feature are found automatically), `digits` (kgan's offline default, prepared into
    the TFDS data dir on first use), `stacked_mnist` (StackedMNIST's 1,000 modes, built on first
    use from the prepared `mnist` of the same data dir), `folder:PATH` (recursive; with
    `labels=True` the first sub-folder level names the classes), `ring8` / `grid25` (2-D toy
    mixtures), and `npy:PATH` / `npz:PATH` arrays. TFDS data live in `data_dir`, else
    $KGAN_DATA_DIR, else $TFDS_DATA_DIR, else `~/tensorflow_datasets`.

    Pipeline: decode -> channels (`channels=None` keeps the source's: gray stays gray; RGBA is
    composited on white) -> if `image_size` is given: centre crop to a square, then bilinear
    antialiased resize to `image_size` x `image_size` (`None` keeps the native size) -> scale
    to [-1, 1] -> cache in memory when `cache` and the split takes at most a quarter of the
    machine's memory -> shuffle (`shuffle_buffer`: the whole split up to 1 GiB, else 10,000
    examples from a shuffled file order; seeded: the same `seed` gives the same batches) ->
    batch -> prefetch. `batch_size` is the global batch: under `tf.distribute`, Keras splits
    each batch over the replicas. Training reads the same pipeline as an endless stream of
    epochs (`kgan.data.stream`).

    Raises:
        KganError: an unknown source (with close names), a missing or empty folder, a TFDS
            dataset that is neither prepared nor downloadable (within seconds), labels asked
            of unlabelled data, images of mixed sizes without `image_size`, or a batch larger
            than the split with `drop_remainder`. Undecodable files in a folder are skipped
            with a `KganDataWarning` that names them.

    Example:
        >>> ds = kgan.data.load("digits", batch_size=32, image_size=16, labels=True)
        >>> images, labels = next(iter(ds))  # (32, 16, 16, 1) float32, (32,) int32
    """
    _check_batch_size(batch_size)
    data_info, ds = _examples(
        source, split, image_size, channels, labels, data_dir, shuffle_files=shuffle, seed=seed
    )
    n = data_info.num_examples
    if drop_remainder and batch_size > n:
        raise KganError(
            f"batch_size {batch_size} is larger than split {split!r} of {source} "
            f"({n} examples); use batch_size <= {n}"
        )
    ds = _cached(ds, data_info, cache)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer(data_info), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder, num_parallel_calls=tf.data.AUTOTUNE)
    return _with_options(ds.prefetch(tf.data.AUTOTUNE), deterministic=seed is not None or not shuffle)


def _with_options(ds: tf.data.Dataset, *, deterministic: bool) -> tf.data.Dataset:
    """`ds` with kgan's tf.data options: element order kept when `deterministic`, and sharded
    by element under `tf.distribute`."""
    options = tf.data.Options()
    options.deterministic = deterministic
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def _check_batch_size(batch_size) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise KganError(f"batch_size must be a positive whole number, got {batch_size!r}")


def load_arrays(
    source: str,
    *,
    split: str = "train",
    image_size: int | None = None,
    channels: int | None = None,
    labels: bool = False,
    limit: int | None = None,
    data_dir: str | None = None,
):
    """The whole split (or its first `limit` examples, in the source's order) as numpy,
    through the same transforms as `load`: float32 images in [-1, 1] or vectors, and with
    `labels=True` a tuple `(x, int32 labels)`. For metrics: FID reference statistics, the
    memorisation audit.

    Example:
        >>> x, y = kgan.data.load_arrays("digits", split="test", labels=True)
        >>> x.shape, y.shape
        ((297, 8, 8, 1), (297,))
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
        raise KganError(f"limit must be a positive whole number or None, got {limit!r}")
    data_info, ds = _examples(
        source, split, image_size, channels, labels, data_dir, shuffle_files=False, seed=None
    )
    if limit is not None:
        ds = ds.take(int(limit))
    xs, ys = [], []
    for batch in ds.batch(1024).prefetch(2).as_numpy_iterator():
        if labels:
            xs.append(batch[0])
            ys.append(batch[1])
        else:
            xs.append(batch)
    x = np.concatenate(xs) if xs else np.zeros((0, *data_info.shape), np.float32)
    if labels:
        y = np.concatenate(ys) if ys else np.zeros((0,), np.int32)
        return x, y.astype(np.int32)
    return x
