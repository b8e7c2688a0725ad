"""`digits`: the 1,797 handwritten 8x8 digits that scikit-learn ships, as a TFDS dataset.

The data come from the copy inside the scikit-learn package (the UCI "Optical Recognition of
Handwritten Digits" test set), so preparing it needs no network. It is kgan's offline default.

Splits (deterministic, read back in scikit-learn's order): `train` = the first 1,500 images,
`test` = the last 297. Labels 0-9.

Pixels: scikit-learn's values are counts 0-16; they are stored as ordinary 8-bit grayscale
images, `round(v * 255 / 16)`, so that TFDS tools show them and kgan's pipeline maps them to
[-1, 1] like any other image dataset (0 -> -1, 16 -> 1). The mapping is exact both ways:
`round(p * 16 / 255)` gives back the counts.

Example:
    >>> import kgan.datasets, tensorflow_datasets as tfds
    >>> ds = tfds.load("digits", split="train", data_dir="/tmp/tfds")  # prepared on first use
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

NUM_TRAIN = 1500
NUM_EXAMPLES = 1797
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


class Builder(tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for `digits` (registered with TFDS under that name)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: train = first 1,500, test = last 297."}
    NEEDS_NETWORK = False  # kgan prepares it on first use, even offline
    #: The one line printed while it is prepared (TFDS's own messages and bars are hidden).
    PREPARING_MESSAGE = "kgan: preparing the built-in digits dataset (offline, once) ..."

    def is_prepared(self) -> bool:
        from kgan.data import offline

        with offline.quiet_tfds():  # no "Variant folder ... has no dataset_info.json"
            return super().is_prepared()

    def download_and_prepare(self, **kwargs):
        """TFDS's preparation, announced by one kgan line instead of TFDS's "Downloading and
        preparing dataset" (there is nothing to download), its progress bars and its absl
        notes; silent when already prepared."""
        from kgan.data import offline

        if not self.is_prepared():
            print(self.PREPARING_MESSAGE, flush=True)
        with offline.quiet_tfds():
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
        return {
            "train": self._generate_examples(0, NUM_TRAIN),
            "test": self._generate_examples(NUM_TRAIN, NUM_EXAMPLES),
        }

    def _generate_examples(self, start: int, stop: int):
        from sklearn.datasets import load_digits

        digits = load_digits()
        pixels = counts_to_pixels(digits.images)[..., None]
        for index in range(start, stop):
            yield index, {"image": pixels[index], "label": int(digits.target[index])}
