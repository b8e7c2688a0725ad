"""The extractor names: `get` builds an extractor from a name, `default_for` picks a dataset's."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kgan.registry import Registry

if TYPE_CHECKING:
    from kgan.features.base import FeatureExtractor

EXTRACTORS: Registry = Registry("feature extractor")
_DEFAULTS = {"digits": "digits_pixels", "mnist": "mnist_pooled"}


def names() -> list[str]:
    """The registered extractor names."""
    return EXTRACTORS.names()


def get(identifier: Any, **kwargs: Any) -> FeatureExtractor:
    """An extractor from a name (constructor kwargs allowed), a config dict, or an instance.

    Example:
        >>> get("mnist").name
        'mnist'
        >>> get("inception", weights="/data/fid_inception.keras")
    """
    return EXTRACTORS.get(identifier, **kwargs)


def default_for(dataset: str) -> str | None:
    """The extractor kgan uses by default for a dataset name, or None when it has none.

    Datasets without a default need `inception` (`kgan features install inception`) or no image
    metric at all (the 2-D toy mixtures use `kgan.metrics.mode_coverage`).

    Example:
        >>> default_for("digits"), default_for("mnist:3.0.1"), default_for("cifar10")
        ('digits_pixels', 'mnist_pooled', None)
    """
    base = re.split(r"[:/\[]", str(dataset), maxsplit=1)[0].strip().lower()
    return _DEFAULTS.get(base)
