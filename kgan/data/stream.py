"""`stream`: the batches a training run reads, one seeded stream of epochs that resumes exactly.

`kgan.data.load` gives one shuffled pass at a time; a run needs more: its epochs are slices of
one endless stream, so that a run resumed at epoch `e` sees exactly the batches that an
uninterrupted run sees from there. Both shuffle with `api.shuffle_buffer`.

Example:
    >>> keras.utils.set_random_seed(0)
    >>> ds = kgan.data.stream("digits", batch_size=64, steps=20, first_epoch=3, last_epoch=5, seed=0)
    >>> sum(1 for _ in ds)   # epochs 4 and 5 (1-based): 2 x 20 batches
    40
"""

from __future__ import annotations

import tensorflow as tf

from kgan.data import api


def stream(
    source: str,
    *,
    batch_size: int,
    steps: int,
    first_epoch: int,
    last_epoch: int,
    seed: int,
    split: str = "train",
    image_size: int | None = None,
    channels: int | None = None,
    labels: bool = False,
    data_dir: str | None = None,
) -> tf.data.Dataset:
    """Batches for epochs `first_epoch .. last_epoch - 1` (0-based) of `source`, `steps`
    batches of `batch_size` per epoch: the pipeline of `kgan.data.load` (cached in memory
    when it fits), shuffled and cut into epochs by `epoch_batches`.

    `keras.utils.set_random_seed(seed)` must have been called first: tf.data combines it
    with `seed`. Raises `KganError` as `load` does.
    """
    api._check_batch_size(batch_size)
    data_info, examples = api._examples(
        source, split, image_size, channels, labels, data_dir, shuffle_files=True, seed=seed
    )
    batches = epoch_batches(
        api._cached(examples, data_info, cache=True),
        batch_size=batch_size,
        steps=steps,
        seed=seed,
        first_epoch=first_epoch,
        last_epoch=last_epoch,
        buffer=api.shuffle_buffer(data_info),
    )
    return api._with_options(batches, deterministic=True)


def epoch_batches(
    examples: tf.data.Dataset,
    *,
    batch_size: int,
    steps: int,
    seed: int,
    first_epoch: int,
    last_epoch: int,
    buffer: int,
) -> tf.data.Dataset:
    """Batches for epochs `first_epoch .. last_epoch - 1` (0-based) of single `examples`.

    The examples form one endless stream, reshuffled through a `buffer`-element shuffle on
    every pass from `seed`; epoch `e` is its slice `[e * steps * batch_size, (e + 1) * steps *
    batch_size)`. A run resumed at epoch `e` skips the earlier slices, so it sees exactly the
    batches an uninterrupted run sees.

    Example:
        >>> ds = epoch_batches(tf.data.Dataset.range(10), batch_size=3, steps=2, seed=7,
        ...                    first_epoch=2, last_epoch=4, buffer=10)   # 4 batches of 3
    """
    per_epoch = steps * batch_size

    def endless(_):
        return examples.shuffle(buffer, seed=seed, reshuffle_each_iteration=True).repeat()

    # Made inside `flat_map`, the shuffle's reshuffling state belongs to each iterator rather
    # than to the dataset, so every iterator replays the same stream: Keras draws a batch from
    # an iterator of its own before training under a `tf.distribute` strategy.
    return (
        tf.data.Dataset.range(1)
        .flat_map(endless)
        .skip(first_epoch * per_epoch)
        .take(max(0, last_epoch - first_epoch) * per_epoch)
        .batch(batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )


__all__ = ["epoch_batches", "stream"]
