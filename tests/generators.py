"""Hand-built conditional generators with known diversity, shared by the tests of the health
monitor and of the evaluator."""

import keras
import numpy as np


def real_draws_generator(rows, labels, per_class=40, latent_dim=8):
    """One of `per_class` real images of the label, picked by z (a near one-hot softmax over a
    fixed random projection of z): every sample is a real image of its class, at random."""
    z = keras.Input((latent_dim,), name="z")
    label = keras.Input((), dtype="int32", name="label")
    bank = np.stack([rows[labels == c][:per_class] for c in range(10)]).reshape(10, -1)
    pick = keras.layers.Dense(per_class, use_bias=False, kernel_initializer=keras.initializers
                              .RandomNormal(stddev=50.0, seed=1))(z)
    images = keras.layers.Embedding(
        10, per_class * 64, embeddings_initializer=keras.initializers.Constant(bank))(label)
    images = keras.layers.Reshape((per_class, 64))(images)
    out = keras.layers.Dot(axes=(1, 1))([keras.layers.Softmax()(pick), images])
    return keras.Model([z, label], keras.layers.Reshape((8, 8, 1))(out))
