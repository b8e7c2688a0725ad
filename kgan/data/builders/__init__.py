"""TFDS dataset builders that ship with kgan (inside `kgan.data`, beside the transforms they use).

Importing this package registers `digits` and `stacked_mnist` with TFDS, so that after
`import kgan.data.builders` also `tfds.load("digits")` works. `ImageFolder` is not registered:
it is built for one folder at a time (see `kgan.data.load("folder:PATH")`).

Each builder lives in its own package: TFDS reads a builder's metadata relative to its
package, and `dataset_info_from_configs` fails for a builder defined in a plain module.
"""

from kgan.data.builders.digits.digits_dataset_builder import Builder as Digits
from kgan.data.builders.stacked_mnist.stacked_mnist_dataset_builder import Builder as StackedMnist
from kgan.data.builders.image_folder.image_folder_builder import (
    FolderScan,
    ImageFolder,
    scan_folder,
)

__all__ = ["Digits", "FolderScan", "ImageFolder", "StackedMnist", "scan_folder"]
