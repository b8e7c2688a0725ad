"""What every source is: its kinds of data, what it holds natively (`Native`), the `Source` base class."""

from __future__ import annotations

from dataclasses import dataclass

from kgan.errors import KganError


IMAGE = "image"
VECTOR = "vector"


class KganDataWarning(UserWarning):
    """Data were left out (e.g. undecodable image files); the message lists them."""


@dataclass(frozen=True)
class Native:
    """A split as the source holds it, before resizing and channel conversion."""

    kind: str  # IMAGE or VECTOR
    shape: tuple  # (H, W, C), H and W None when images differ in size; or (D,)
    num_examples: int
    num_classes: int | None = None
    class_names: tuple[str, ...] | None = None
    skipped: tuple[tuple[str, str], ...] = ()
    unlabelled: int = 0  # examples outside any class (folder images outside class folders)


class Source:
    """Base class; see the module docstring."""

    def __init__(self, source: str):
        self.source = source

    def splits(self) -> list[str]:
        return ["train"]

    def check_split(self, split: str) -> None:
        if split not in self.splits():
            raise KganError(
                f"{self.source} has no split {split!r}; valid splits: {', '.join(self.splits())}"
            )

    def native(self, split: str) -> Native:
        raise NotImplementedError

    def examples(self, split: str, channels: int | None, *, shuffle_files=False, seed=None):
        raise NotImplementedError


__all__ = ["IMAGE", "VECTOR", "KganDataWarning", "Native", "Source"]
