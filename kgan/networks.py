"""Checks that a generator and a discriminator fit together as one `kgan.GAN`, with messages
that say which side to rebuild."""

from __future__ import annotations


def latent_dim_of(generator, num_classes: int | None, latent_dim: int | None = None) -> int:
    """The size of `z` the generator takes: `latent_dim` when given, checked against it."""
    inputs = generator.inputs
    if num_classes and len(inputs) != 2:
        raise ValueError(
            f"num_classes={num_classes} needs a conditional generator taking [z, label], "
            f"but the generator takes {len(inputs)} input(s); build it with num_classes"
        )
    if not num_classes and len(inputs) != 1:
        raise ValueError(
            "the generator takes [z, label] inputs but num_classes was not given; "
            "pass num_classes=K to GAN(...)"
        )
    found = inputs[0].shape[-1]
    if latent_dim is not None and found is not None and int(latent_dim) != found:
        raise ValueError(
            f"latent_dim={latent_dim} but the generator expects z of size {found}; "
            "build the generator with the same latent_dim"
        )
    if found is None and latent_dim is None:
        raise ValueError("the generator's z input has no static size; pass latent_dim")
    return int(latent_dim if latent_dim is not None else found)


def check_pair(generator, discriminator, num_classes: int | None) -> None:
    """Raises ValueError unless the discriminator takes what the generator makes (and labels
    exactly when the GAN is conditional)."""
    produced = tuple(generator.outputs[0].shape[1:])
    d_inputs = discriminator.inputs
    if len(d_inputs) != (2 if num_classes else 1):
        raise ValueError(
            f"the discriminator takes {len(d_inputs)} input(s) but a "
            f"{'conditional' if num_classes else 'unconditional'} GAN needs "
            f"{'[x, label]' if num_classes else 'x'}; build both networks with the "
            "same num_classes"
        )
    expected = tuple(d_inputs[0].shape[1:])
    if produced != expected:
        raise ValueError(
            f"the generator outputs samples of shape {produced} but the discriminator "
            f"expects {expected}; build both for the same data shape"
        )


__all__ = ["check_pair", "latent_dim_of"]
