"""`digits`: the 1,797 handwritten 8x8 digits that scikit-learn ships, as a TFDS dataset.

The data come from the copy inside the scikit-learn package (the UCI "Optical Recognition of
Handwritten Digits" test set), so preparing it needs no network. It is kgan's offline default.

Splits (deterministic, each read back in scikit-learn's order): `test` = 297 images drawn
without randomness, stratified by class (`split_indices`), `train` = the other 1,500. Labels 0-9.
scikit-learn's file is ordered by writer, so its last 297 images (the 1.0.0 test split) are
other people's handwriting: real-vs-real FID against them was 1.35 in pixel space where a
same-writers held-out set scores about 0.5, a floor generated samples could pass without
being good. A held-out split from the same population is what a generator's floor needs.

Pixels: scikit-learn's values are counts 0-16; they are stored as ordinary 8-bit grayscale
images, `round(v * 255 / 16)`, so that TFDS tools show them and kgan's pipeline maps them to
[-1, 1] like any other image dataset (0 -> -1, 16 -> 1). The mapping is exact both ways:
`round(p * 16 / 255)` gives back the counts.

Example:
    >>> import kgan.data.builders, tensorflow_datasets as tfds
    >>> ds = tfds.load("digits", split="train", data_dir="/tmp/tfds")  # prepared on first use
"""

from __future__ import annotations

import hashlib

import numpy as np
import tensorflow_datasets as tfds

from kgan.data.quiet import quiet_tfds

NUM_TRAIN = 1500
NUM_EXAMPLES = 1797
NUM_TEST = NUM_EXAMPLES - NUM_TRAIN
IMAGE_SHAPE = (8, 8, 1)

_CITATION = """\
@misc{alpaydin1998digits,
  author = {Alpaydin, E. and Kaynak, C.},
  title = {Optical Recognition of Handwritten Digits},
  year = {1998},
  howpublished = {UCI Machine Learning Repository},
  doi = {10.24432/C50P49}
}"""


def counts_to_pixels(counts: np.ndarray) -> np.ndarray:
    """scikit-learn's 0-16 counts as uint8 pixels 0-255."""
    return np.rint(np.asarray(counts, np.float64) * (255.0 / 16.0)).astype(np.uint8)


def _digest(index: int) -> str:
    return hashlib.sha256(f"digits-{index}".encode()).hexdigest()


def split_indices(labels: np.ndarray, num_test: int = NUM_TEST) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices, each ascending: per class, the images whose index has the
    smallest sha256 digest go to test, as many as the class's share of `num_test` (largest
    remainders round it). No random generator, so the split never changes with numpy."""
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * num_test / len(labels)
    take = np.floor(quota).astype(int)
    take[np.argsort(-(quota - take), kind="stable")[: num_test - take.sum()]] += 1
    test = []
    for c, n in zip(classes, take):
        members = sorted(np.flatnonzero(labels == c), key=_digest)
        test += members[:n]
    test = np.sort(np.asarray(test, np.int64))
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train, test


class Builder(tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for `digits` (registered with TFDS under that name)."""

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release: train = first 1,500, test = last 297.",
        "2.0.0": "test = 297 images stratified by class across all writers (split_indices); "
        "the last 297 were other writers, a shifted floor for generators.",
    }
    NEEDS_NETWORK = False  # kgan prepares it on first use, even offline
    #: The one line printed while it is prepared (TFDS's own messages and bars are hidden).
    PREPARING_MESSAGE = "kgan: preparing the built-in digits dataset (offline, once) ..."

    def is_prepared(self) -> bool:
        with quiet_tfds():  # no "Variant folder ... has no dataset_info.json"
            return super().is_prepared()

    def download_and_prepare(self, **kwargs):
        """TFDS's preparation, announced by one kgan line instead of TFDS's "Downloading and
        preparing dataset" (there is nothing to download), its progress bars and its absl
        notes; silent when already prepared."""
        if not self.is_prepared():
            print(self.PREPARING_MESSAGE, flush=True)
        with quiet_tfds():
            super().download_and_prepare(**kwargs)

    def _log_download_bytes(self) -> None:
        pass  # TFDS's "Downloading and preparing dataset ..." (nothing is downloaded)

    def _log_download_done(self) -> None:
        pass  # TFDS's "Dataset digits downloaded and prepared to ..."

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description=(
                "The 1,797 8x8 handwritten digits of scikit-learn (UCI optical recognition "
                "of handwritten digits, test set), 17 gray levels stored as 8-bit images."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=IMAGE_SHAPE),
                    "label": tfds.features.ClassLabel(names=[str(d) for d in range(10)]),
                }
            ),
            supervised_keys=("image", "label"),
            homepage="https://scikit-learn.org/stable/datasets/toy_dataset.html#digits-dataset",
            citation=_CITATION,
            disable_shuffling=True,  # splits read back in scikit-learn's order
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # the data ship inside scikit-learn
        from sklearn.datasets import load_digits

        digits = load_digits()
        train, test = split_indices(digits.target)
        return {
            "train": self._generate_examples(digits, train),
            "test": self._generate_examples(digits, test),
        }

    def _generate_examples(self, digits, indices: np.ndarray):
        pixels = counts_to_pixels(digits.images)[..., None]
        for index in indices:
            yield int(index), {"image": pixels[index], "label": int(digits.target[index])}
