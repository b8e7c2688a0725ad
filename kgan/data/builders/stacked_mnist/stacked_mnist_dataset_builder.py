"""`stacked_mnist`: StackedMNIST, three MNIST digits as the R, G and B channels (1,000 modes).

The benchmark of mode coverage for image GANs (VEEGAN, PacGAN, PresGAN, R3GAN): every
colour image stacks three MNIST digits, so the data has 10^3 = 1,000 modes, the digit
triples; a generator's modes are read back channel by channel by an MNIST classifier
(`kgan.features.modes`, metric `stacked_modes`).

Built from the *prepared* TFDS `mnist` in the same data dir (`kgan data prepare mnist --from
DIR --data-dir DIR`); nothing is downloaded. Splits: `train` = 60,000 triples of MNIST train
images, `test` = 26,000 triples of MNIST test images (26,000 is the protocol's sample count,
so real test images give the floor at that N). Triple i of a split takes the MNIST images
`triple_indices(...)[i]` = (R, G, B), three independent indices drawn with replacement by a
seeded counter-based generator (sha256 of seed, split, triple and channel; no numpy stream,
so the data never change with numpy), indices into the MNIST split in the order TFDS reads it
back. Label = 100 * digit(R) + 10 * digit(G) + digit(B), 0-999. 28x28x3 uint8; 32x32 through
kgan's `image_size=32` resize.

Example:
    >>> kgan.data.load("stacked_mnist", batch_size=64, labels=True)  # (64, 28, 28, 3), (64,)
"""

from __future__ import annotations

import hashlib

import numpy as np
import tensorflow_datasets as tfds

from kgan.data.quiet import quiet_tfds
from kgan.errors import KganError

#: The seed of the triples (part of the dataset's version: another seed is other data).
SEED = 0
#: Triples per split, and the MNIST split each draws its digits from.
SPLITS = {"train": (60_000, "train"), "test": (26_000, "test")}
IMAGE_SHAPE = (28, 28, 3)
NUM_MODES = 1000

_CITATION = """\
@inproceedings{metz2017unrolled,
  title = {Unrolled Generative Adversarial Networks},
  author = {Metz, Luke and Poole, Ben and Pfau, David and Sohl-Dickstein, Jascha},
  booktitle = {ICLR},
  year = {2017}
}"""


def triple_indices(num: int, pool: int, split: str, seed: int = SEED) -> np.ndarray:
    """`(num, 3)` int64 indices into a pool of `pool` images: entry (i, c) is the first 8
    bytes of sha256(f"stacked_mnist/{seed}/{split}/{i}/{c}") as an integer, modulo `pool`
    (independent draws with replacement; the modulo bias is below 1e-14 for MNIST's sizes).

    Example:
        >>> triple_indices(2, 10_000, "test")
        array([[...], [...]])
    """
    out = np.empty((num, 3), np.int64)
    prefix = f"stacked_mnist/{seed}/{split}/"
    for i in range(num):
        for c in range(3):
            digest = hashlib.sha256(f"{prefix}{i}/{c}".encode()).digest()
            out[i, c] = int.from_bytes(digest[:8], "big") % pool
    return out


def triple_label(digits: np.ndarray) -> np.ndarray:
    """The mode of each (R, G, B) digit triple: 100 * r + 10 * g + b (works on `(..., 3)`)."""
    digits = np.asarray(digits, np.int64)
    return digits[..., 0] * 100 + digits[..., 1] * 10 + digits[..., 2]


def stack(images: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """`(N, 28, 28, 3)` uint8: the gray `images` (`(M, 28, 28)` or `(M, 28, 28, 1)`) picked by
    `indices` `(N, 3)` as the R, G, B channels."""
    gray = np.asarray(images, np.uint8).reshape(len(images), 28, 28)
    return np.stack([gray[indices[:, c]] for c in range(3)], axis=-1)


def prepared_mnist(data_dir: str):
    """The prepared TFDS `mnist` builder of `data_dir`, or a one-line `KganError` naming
    `kgan data prepare mnist --from DIR --data-dir DATA_DIR`. (Through kgan, `REQUIRES` has
    `kgan.data.offline.ensure_prepared` prepare or explain mnist before this builder runs.)"""
    builder = tfds.builder("mnist", data_dir=data_dir)
    with quiet_tfds():
        ready = builder.is_prepared()
    if not ready:
        raise KganError(
            f"stacked_mnist: TFDS dataset 'mnist' is not prepared in {data_dir}; prepare it "
            f"first with `kgan data prepare mnist --from DIR --data-dir {data_dir}`"
        )
    return builder


def mnist_arrays(data_dir: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images `(M, 28, 28, 1)` uint8, labels `(M,)`) of the prepared TFDS `mnist` split in
    `data_dir`, in TFDS's read order (`prepared_mnist`'s error when it is not prepared)."""
    ds = prepared_mnist(data_dir).as_dataset(split=split, batch_size=-1, shuffle_files=False)
    batch = tfds.as_numpy(ds)
    return batch["image"], batch["label"].astype(np.int64)


class Builder(tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for `stacked_mnist` (registered with TFDS under that name)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "60,000 train / 26,000 test triples, seed 0."}
    NEEDS_NETWORK = False  # built from the prepared mnist on first use
    REQUIRES = ("mnist",)  # prepared first, in the same data dir (`offline.ensure_prepared`)
    PREPARING_MESSAGE = "kgan: building stacked_mnist from the prepared mnist (offline, once) ..."

    def is_prepared(self) -> bool:
        with quiet_tfds():
            return super().is_prepared()

    def download_and_prepare(self, **kwargs):
        """Checks that mnist is prepared first (a one-line `KganError` naming the prepare
        command otherwise), then TFDS's preparation announced by one kgan line."""
        if not self.is_prepared():
            prepared_mnist(self.data_dir_root)
            print(self.PREPARING_MESSAGE, flush=True)
        with quiet_tfds():
            super().download_and_prepare(**kwargs)

    def _log_download_bytes(self) -> None:
        pass  # nothing is downloaded

    def _log_download_done(self) -> None:
        pass

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description=(
                "StackedMNIST: three MNIST digits as the R, G and B channels, labelled by "
                "the digit triple 100r + 10g + b (1,000 modes)."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=IMAGE_SHAPE),
                    "label": tfds.features.ClassLabel(
                        names=[f"{m:03d}" for m in range(NUM_MODES)]
                    ),
                }
            ),
            supervised_keys=("image", "label"),
            homepage="http://yann.lecun.com/exdb/mnist/",
            citation=_CITATION,
            disable_shuffling=True,  # triple i is read back as example i
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # made from the prepared mnist
        return {
            split: self._generate_examples(split, num, source)
            for split, (num, source) in SPLITS.items()
        }

    def _generate_examples(self, split: str, num: int, source: str):
        images, labels = mnist_arrays(self.data_dir_root, source)
        indices = triple_indices(num, len(images), split)
        stacked, modes = stack(images, indices), triple_label(labels[indices])
        for i in range(num):
            yield i, {"image": stacked[i], "label": int(modes[i])}
