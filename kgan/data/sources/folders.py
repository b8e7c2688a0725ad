"""`FolderSource`: a folder of the user's images (class sub-folders are labels), through the
`ImageFolder` builder."""

from __future__ import annotations

import os
import warnings

import tensorflow as tf

from kgan.data.sources.base import IMAGE, KganDataWarning, Native, Source
from kgan.errors import KganError


def _list_names(pairs, limit: int = 5) -> str:
    shown = ", ".join(f"{path} ({why})" for path, why in pairs[:limit])
    return shown + (f" and {len(pairs) - limit} more" if len(pairs) > limit else "")


#: Folder scans whose skipped files were already reported in this process.
_WARNED_SCANS: set = set()


class FolderSource(Source):
    """`folder:PATH`: the user's images, through kgan's `ImageFolder` TFDS builder."""

    def __init__(self, source: str):
        super().__init__(source)
        from kgan.data.builders import scan_folder

        path = source[len("folder:") :].strip()
        if not path:
            raise KganError("folder: needs a path, e.g. folder:~/images")
        self.root = os.path.abspath(os.path.expanduser(path))
        if not os.path.isdir(self.root):
            raise KganError(
                f"{source}: {self.root} does not exist or is not a folder; give a folder "
                "of PNG/JPEG/BMP/GIF images"
            )
        self.scan = scan_folder(self.root)
        if not self.scan.files:
            if self.scan.skipped:
                raise KganError(
                    f"{source} holds no readable images: all {len(self.scan.skipped)} image "
                    f"files failed to decode: {_list_names(list(self.scan.skipped))}"
                )
            raise KganError(
                f"{source} holds no PNG/JPEG/BMP/GIF images (searched recursively); "
                "point it at the folder that contains them"
            )
        if self.scan.skipped and self.scan not in _WARNED_SCANS:
            # `info` and `load` (and the evaluator) each make a source: warn once per scan.
            _WARNED_SCANS.add(self.scan)
            warnings.warn(
                f"{source}: skipped {len(self.scan.skipped)} of "
                f"{len(self.scan.skipped) + len(self.scan.files)} image files that cannot be "
                f"used: {_list_names(list(self.scan.skipped), limit=10)}",
                KganDataWarning,
                stacklevel=4,
            )

    def native(self, split: str) -> Native:
        self.check_split(split)
        scan = self.scan
        sizes = scan.sizes()
        height, width = sizes[0] if len(sizes) == 1 else (None, None)
        names = scan.class_names or None
        return Native(
            kind=IMAGE,
            shape=(height, width, scan.default_channels),
            num_examples=len(scan.files),
            num_classes=len(names) if names else None,
            class_names=tuple(names) if names else None,
            skipped=scan.skipped,
            unlabelled=sum(1 for c in scan.classes if c < 0),
        )

    def sizes_hint(self) -> str:
        sizes = self.scan.sizes()
        shown = ", ".join(f"{w}x{h}" for h, w in sizes[:3])
        return f"{len(sizes)} sizes, e.g. {shown}"

    def examples(self, split, channels, *, shuffle_files=False, seed=None):
        from kgan.data.builders import ImageFolder

        self.check_split(split)
        import tensorflow_datasets as tfds

        builder = ImageFolder(self.root, channels=channels)
        ds = builder.as_dataset(
            split="train", shuffle_files=shuffle_files, read_config=tfds.ReadConfig(shuffle_seed=seed)
        )
        return ds.map(
            lambda ex: (ex["image"], tf.cast(ex["label"], tf.int32)),
            num_parallel_calls=tf.data.AUTOTUNE,
        )


__all__ = ["FolderSource"]
