"""Generator/discriminator families, one file each, looked up by name.

Example:
    >>> generator, discriminator = get("dcgan", width=1).build((32, 32, 3), latent_dim=128)
"""

from __future__ import annotations

from kgan.architectures import mlp  # noqa: F401  (registers the family)
from kgan.architectures import dcgan, resnet  # noqa: F401  (register the families)
from kgan.architectures.base import REGISTRY, Architecture



def get(identifier, **kwargs) -> Architecture:
    """An architecture from its name (plus its constructor arguments), a config, or an instance."""
    return REGISTRY.get(identifier, **kwargs)


def names() -> list[str]:
    return REGISTRY.names()


__all__ = ["Architecture", "get", "names"]
