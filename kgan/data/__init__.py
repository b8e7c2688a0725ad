"""kgan's data layer: from a source name to a batched `tf.data.Dataset` of images in [-1, 1].

Every dataset reaches `GAN.fit` through `load`. Sources: TFDS datasets by name, `digits`
(embedded, offline), `stacked_mnist` (StackedMNIST, built from the prepared `mnist`),
`folder:PATH`, `ring8` / `grid25`, and `npy:` / `npz:` arrays. `info` describes a source
cheaply; `stream` gives a training run its resumable epochs of batches; `load_arrays` returns a
whole split as numpy (for metrics); `prepare` builds a TFDS dataset from local copies of its
files with no network.

Example:
    >>> import kgan.data
    >>> ds = kgan.data.load("digits", batch_size=64)       # (64, 8, 8, 1) in [-1, 1]
    >>> kgan.data.info("mnist", image_size=32).shape        # (32, 32, 1)
    >>> kgan.data.prepare("mnist", "../shared/data/mnist")  # then load("mnist") works offline
"""

from kgan.data.api import DataInfo, check_image_size, info, load, load_arrays, version
from kgan.data.stream import stream
from kgan.data.offline import prepare
from kgan.data.sources import KganDataWarning

__all__ = [
    "DataInfo",
    "KganDataWarning",
    "check_image_size",
    "info",
    "load",
    "load_arrays",
    "prepare",
    "stream",
    "version",
]
