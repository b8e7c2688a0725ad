"""`TfdsSource`: any TFDS dataset by name (kgan's own `digits` builder included)."""

from __future__ import annotations

import tensorflow as tf

from kgan.data import offline
from kgan.data.sources.base import IMAGE, Native, Source
from kgan.errors import KganError


class TfdsSource(Source):
    """Any TFDS dataset with an image feature; labels from its ClassLabel feature."""

    def __init__(self, name: str, data_dir: str | None):
        super().__init__(name)
        import tensorflow_datasets as tfds

        self.builder = offline.tfds_builder(name, data_dir)
        features = self.builder.info.features
        supervised = self.builder.info.supervised_keys or (None, None)
        if isinstance(supervised, dict):  # rare nested form
            supervised = (None, None)
        candidates = [k for k in (supervised[0], "image") if k in features] + list(features)
        images = [k for k in candidates if isinstance(features[k], tfds.features.Image)]
        if not images:
            raise KganError(
                f"{name}: this TFDS dataset has no image feature; kgan reads image datasets "
                "from TFDS (vector data: use an .npy/.npz file)"
            )
        self.image_key = images[0]
        candidates = [k for k in (supervised[-1], "label") if k in features] + list(features)
        labels = [k for k in candidates if isinstance(features[k], tfds.features.ClassLabel)]
        self.label_key = labels[0] if labels else None
        self._prepared = False

    def _ensure_prepared(self) -> None:
        if not self._prepared:
            offline.ensure_prepared(self.builder, self.source)
            self._prepared = True

    def splits(self) -> list[str]:
        self._ensure_prepared()
        return list(self.builder.info.splits.keys())

    def check_split(self, split: str) -> None:
        self._ensure_prepared()
        try:
            self.builder.info.splits[split]
        except Exception:  # noqa: BLE001 - TFDS raises several types for bad splits
            raise KganError(
                f"{self.source} has no split {split!r}; valid splits: "
                f"{', '.join(self.splits())} (TFDS slicing such as 'train[:90%]' works too)"
            ) from None

    def native(self, split: str) -> Native:
        self.check_split(split)
        info = self.builder.info
        feature = info.features[self.image_key]
        label = info.features[self.label_key] if self.label_key else None
        return Native(
            kind=IMAGE,
            shape=tuple(feature.shape),
            num_examples=int(info.splits[split].num_examples),
            num_classes=int(label.num_classes) if label else None,
            class_names=tuple(label.names) if label else None,
        )

    def examples(self, split, channels, *, shuffle_files=False, seed=None):
        import tensorflow_datasets as tfds

        self.check_split(split)
        read_config = tfds.ReadConfig(shuffle_seed=seed, try_autocache=False)
        ordered = self.builder.info.disable_shuffling  # TFDS refuses to shuffle those files
        ds = self.builder.as_dataset(
            split=split, shuffle_files=shuffle_files and not ordered, read_config=read_config
        )
        image_key, label_key = self.image_key, self.label_key

        def pick(example):
            label = tf.cast(example[label_key], tf.int32) if label_key else tf.constant(-1)
            return example[image_key], label

        return ds.map(pick, num_parallel_calls=tf.data.AUTOTUNE)


__all__ = ["TfdsSource"]
