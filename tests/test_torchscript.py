"""The restricted TorchScript reader: tensors and module trees come back as numpy and inert
stand-ins; a pickle that names any other global is refused before anything runs."""

import io
import os
import pickle
import zipfile

import numpy as np
import pytest

from kgan.errors import KganError
from kgan.features.torchscript import ScriptObject, read_torchscript


# Pickle opcodes (protocol 2), written by hand as torch writes a module tree.
def _global(module, name):
    return b"c" + f"{module}\n{name}\n".encode()


def _str(text):
    raw = text.encode()
    return b"X" + len(raw).to_bytes(4, "little") + raw


def _int(value):
    return b"J" + value.to_bytes(4, "little", signed=True)


def _tuple(*items):
    return b"(" + b"".join(items) + b"t"


def _tensor(key, count, offset, shape, stride):
    storage = _tuple(_str("storage"), _global("torch", "FloatStorage"), _str(key), _str("cpu"),
                     _int(count)) + b"Q"
    hooks = _global("collections", "OrderedDict") + b")R"
    args = _tuple(storage, _int(offset), _tuple(*map(_int, shape)), _tuple(*map(_int, stride)),
                  b"\x89", hooks)
    return _global("torch._utils", "_rebuild_tensor_v2") + args + b"R"


def _module(cls, **attributes):
    items = b"".join(_str(k) + v for k, v in attributes.items())
    return _global(*cls.split(" ")) + b")\x81}(" + items + b"ub"


def _archive(pickled, tensors=None):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model/data.pkl", b"\x80\x02" + pickled + b".")
        for key, values in (tensors or {}).items():
            archive.writestr(f"model/data/{key}", np.asarray(values, "<f4").tobytes())
    return buffer.getvalue()


def test_a_module_tree_with_strided_tensors_and_int_lists():
    conv = _module(
        "__torch__.net Conv2dLayer",
        weight=_tensor("0", 6, 0, (2, 3), (1, 2)),  # a transposed view of 0..5
        beta=_tensor("1", 4, 1, (2,), (2,)),  # every other value from offset 1
        stride=_int(2),
        padding=_global("torch.jit._pickle", "build_intlist") + _tuple(b"(" + _int(0)
                                                                          + _int(3) + b"l") + b"R",
    )
    tree = read_torchscript(_archive(_module("__torch__.net Net", layers=conv, training=b"\x89"),
                                     {"0": np.arange(6), "1": [9, 8, 7, 6]}))
    modules = dict(tree.modules())
    assert list(modules) == ["", "layers"]
    assert tree.type_name == "__torch__.net Net" and tree.attributes["training"] is False
    layer = modules["layers"]
    assert isinstance(layer, ScriptObject) and layer.type_name == "__torch__.net Conv2dLayer"
    np.testing.assert_array_equal(layer.attributes["weight"], np.arange(6).reshape(3, 2).T)
    assert layer.attributes["weight"].dtype == np.float32
    np.testing.assert_array_equal(layer.attributes["beta"], [8, 6])
    assert layer.attributes["stride"] == 2 and layer.attributes["padding"] == [0, 3]


class _Shell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_naming_another_global_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"
    evil = pickle.dumps(_Shell(marker), protocol=2)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model/data.pkl", evil)
    with pytest.raises(KganError, match=r"names the global (posix|os|nt)\.system, which kgan's "
                                        "restricted reader refuses"):
        read_torchscript(buffer.getvalue())
    assert not marker.exists()
    eval_call = _global("builtins", "eval") + _tuple(_str("1 + 1")) + b"R"
    with pytest.raises(KganError, match="builtins.eval"):
        read_torchscript(_archive(_module("__torch__.net Net", x=eval_call)))


def test_broken_archives_are_one_line_errors():
    with pytest.raises(KganError, match="not a TorchScript archive"):
        read_torchscript(b"not a zip")
    with pytest.raises(KganError, match="lacks the tensor data 0"):
        read_torchscript(_archive(_module("__torch__.net Net", w=_tensor("0", 6, 0, (6,), (1,)))))
    with pytest.raises(KganError, match="reaches past its storage"):
        read_torchscript(_archive(_module("__torch__.net Net", w=_tensor("0", 4, 2, (4,), (1,))),
                                  {"0": np.arange(4)}))
    with pytest.raises(KganError, match="does not hold a module"):
        read_torchscript(_archive(_int(3)))
    with pytest.raises(KganError, match="built with arguments"):
        read_torchscript(_archive(_global("__torch__.net", "Net") + _tuple(_int(1)) + b"\x81"))
