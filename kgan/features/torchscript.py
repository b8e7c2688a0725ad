"""A restricted reader of TorchScript archives: module attributes and weight tensors as numpy,
without torch and without unpickling arbitrary objects.

A TorchScript `.pt` file is a zip holding `<root>/data.pkl` (the module tree, pickled) and the
tensors' bytes under `<root>/data/N`. `data.pkl` is read by an `Unpickler` whose `find_class`
accepts only what such a tree names: TorchScript module classes (`__torch__.*`, rebuilt as inert
`ScriptObject` stand-ins that run no code), `torch._utils._rebuild_tensor_v2`, the `torch.*Storage`
types, `torch.jit._pickle.build_intlist` and `collections.OrderedDict`. Any other global
(`os.system`, `builtins.eval`, ...) is refused with a `KganError` before anything is called.
"""

from __future__ import annotations

import collections
import io
import pickle
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kgan.errors import KganError

#: The storage types a tensor may name, as numpy dtypes (little-endian, as torch writes them).
_STORAGES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}
_SCRIPT_CLASS = re.compile(r"__torch__(\.[A-Za-z_][A-Za-z0-9_]*)+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class ScriptObject:
    """An inert stand-in for a pickled TorchScript module: its class name and attributes
    (submodules are `ScriptObject`s, tensors numpy arrays)."""

    type_name: str
    attributes: dict = field(default_factory=dict)

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise KganError(f"{self.type_name} has a state of type {type(state).__name__}, "
                            "not the dict of attributes a TorchScript module pickles")
        self.attributes = dict(state)

    def modules(self, prefix: str = ""):
        """(dotted path, object) of this object and every submodule below it, depth first."""
        yield prefix, self
        for name, value in self.attributes.items():
            if isinstance(value, ScriptObject):
                yield from value.modules(f"{prefix}.{name}" if prefix else name)


def _script_class(type_name: str) -> type:
    """A fresh `ScriptObject` subclass standing for the TorchScript class `type_name`."""

    def new(cls, *args):  # NEWOBJ passes no arguments for TorchScript modules
        if args:
            raise KganError(f"{type_name} is built with arguments {args!r}; a TorchScript "
                            "module takes none")
        obj = object.__new__(cls)
        obj.type_name, obj.attributes = type_name, {}
        return obj

    return type("Script_" + type_name.rsplit(" ", 1)[-1], (ScriptObject,), {"__new__": new})


@dataclass(frozen=True)
class _Storage:
    dtype: str


class _Reader(pickle.Unpickler):
    """Unpickles `data.pkl` with the whitelist above; storages come from `data/N`."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile, root: str) -> None:
        super().__init__(io.BytesIO(data))
        self._archive, self._root = archive, root

    def find_class(self, module: str, name: str) -> Any:
        qualified = f"{module} {name}"
        if _SCRIPT_CLASS.fullmatch(module) and _NAME.fullmatch(name):
            return _script_class(qualified)
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch" and name in _STORAGES:
            return _Storage(_STORAGES[name])
        if module == "torch.jit._pickle" and name == "build_intlist":
            return list
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise KganError(
            f"the TorchScript archive names the global {module}.{name}, which kgan's "
            "restricted reader refuses (it accepts only module classes, tensors and their "
            "storages): the file is not a plain TorchScript model; use the unmodified original"
        )

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _Storage) and _NAME.fullmatch(f"_{pid[2]}")):
            raise KganError(f"the TorchScript archive has an unexpected persistent id {pid!r}")
        _, storage, key, _location, count = pid
        try:
            raw = self._archive.read(f"{self._root}/data/{key}")
        except KeyError:
            raise KganError(f"the TorchScript archive lacks the tensor data {key}") from None
        values = np.frombuffer(raw, dtype=storage.dtype)
        if values.size < count:
            raise KganError(f"tensor data {key} holds {values.size} values, expected {count}")
        return values[:count]


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, *_):
    """`torch._utils._rebuild_tensor_v2` for numpy: a copy of the strided view."""
    if not isinstance(storage, np.ndarray):
        raise KganError("a tensor of the TorchScript archive has no storage")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise KganError(f"a tensor has size {size} but stride {stride}")
    last = int(offset) + sum((n - 1) * s for n, s in zip(size, stride, strict=True) if n)
    if size and min(size) > 0 and last >= storage.size:
        raise KganError(f"a tensor of size {size} reaches past its storage of {storage.size}")
    view = np.lib.stride_tricks.as_strided(
        storage[int(offset):], shape=size, strides=[s * storage.itemsize for s in stride]
    )
    return np.array(view)


def read_torchscript(source: bytes | str) -> ScriptObject:
    """The module tree of a TorchScript archive (a `.pt` file's path or bytes), its tensors as
    numpy arrays; a `KganError` for anything else than a plain module tree.

    Example:
        >>> net = read_torchscript("default_1.pt")
        >>> dict(net.modules())["net.layers.conv"].attributes["weight"].shape
        (32, 3, 3, 3)
    """
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError) as error:
        raise KganError(f"not a TorchScript archive (a zip): {error}") from None
    with archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise KganError("not a TorchScript archive: it has no <root>/data.pkl")
        root = pickles[0].split("/", 1)[0]
        tree = _Reader(archive.read(pickles[0]), archive, root).load()
    if not isinstance(tree, ScriptObject):
        raise KganError("the TorchScript archive's data.pkl does not hold a module")
    return tree
