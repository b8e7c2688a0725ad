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
| anything else (`digits`, `stacked_mnist`, `mnist`…) | TfdsSource |
"""

from __future__ import annotations

from kgan.data.sources.arrays import ArraySource
from kgan.data.sources.base import IMAGE, VECTOR, KganDataWarning, Native, Source
from kgan.data.sources.folders import FolderSource
from kgan.data.sources.tfds import TfdsSource
from kgan.data.sources.toy import ToySource
from kgan.errors import KganError


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


__all__ = [
    "IMAGE", "VECTOR", "ArraySource", "FolderSource", "KganDataWarning", "Native", "Source",
    "TfdsSource", "ToySource", "resolve",
]
