"""Fully connected generator and discriminator for vector data and tiny images."""

from __future__ import annotations

import math
from typing import Sequence

import keras

from kgan.architectures.base import (
    MAX_DEPTH,
    MAX_UNITS,
    REGISTRY,
    Architecture,
    discriminator_inputs,
    generator_inputs,
    int_option,
    logit_head,
    spectral,
)


@REGISTRY.register("mlp")
class MLP(Architecture):
    """`depth` hidden layers of `units` each in both networks.

    Args:
        units: width of every hidden layer, 1 to 16384.
        depth: number of hidden layers, 0 to 64.
        spectral_norm: spectral-normalise the discriminator's dense layers.
        output_activation: "auto" uses tanh for images (data in [-1, 1]) and a linear output
            for vector data, whose values (e.g. grid25 in [-4, 4]) are not bounded.

    Example:
        >>> g, d = get("mlp", units=128).build((2,), latent_dim=8)
    """

    def __init__(
        self,
        units: int = 256,
        depth: int = 3,
        spectral_norm: bool = False,
        output_activation: str = "auto",
    ) -> None:
        self.units = int_option("mlp", "units", units, 1, MAX_UNITS)
        self.depth = int_option("mlp", "depth", depth, 0, MAX_DEPTH)
        self.spectral_norm = bool(spectral_norm)
        self.output_activation = output_activation

    def generator(self, data_shape: Sequence[int], latent_dim: int, num_classes=None):
        inputs, h = generator_inputs(latent_dim, num_classes)
        for i in range(self.depth):
            h = keras.layers.Dense(self.units, activation="relu", name=f"dense_{i}")(h)
        activation = self.output_activation
        if activation == "auto":
            activation = "tanh" if len(data_shape) == 3 else "linear"
        h = keras.layers.Dense(math.prod(data_shape), name="out")(h)
        h = keras.layers.Activation(activation, dtype="float32", name="out_activation")(h)
        out = keras.layers.Reshape(tuple(data_shape), dtype="float32", name="sample")(h)
        return keras.Model(inputs, out, name="generator")

    def discriminator(self, data_shape: Sequence[int], num_classes=None):
        inputs, x, label = discriminator_inputs(data_shape, num_classes)
        sn = spectral(self.spectral_norm)
        h = keras.layers.Flatten()(x)
        for i in range(self.depth):
            h = sn(keras.layers.Dense(self.units, name=f"dense_{i}"))(h)
            h = keras.layers.LeakyReLU(0.2)(h)
        return keras.Model(inputs, logit_head(h, label, num_classes, sn), name="discriminator")
