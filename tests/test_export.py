"""The SavedModel export: both signatures, loaded by a TensorFlow-only process, saved_model_cli,
agreement with `GAN.generate`, the TFLite conversion of `serving_default`, and `--out` never
replacing anything kgan did not write."""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

import kgan
from kgan import cli, export, images, runs
from kgan.errors import KganError


def tiny_gan(arch, data_shape, num_classes=None, **kwargs):
    generator, discriminator = kgan.architectures.get(arch, **kwargs).build(
        data_shape, latent_dim=6, num_classes=num_classes
    )
    gan = kgan.GAN(generator, discriminator, num_classes=num_classes, ema_decay=0.99)
    # Give the EMA generator different weights, so the test sees which network is exported.
    gan.ema_generator.set_weights([w * 0.5 for w in gan.generator.get_weights()])
    return gan


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    keras.utils.set_random_seed(0)
    image_gan = tiny_gan("dcgan", (8, 8, 1), num_classes=3, width=4)
    vector_gan = tiny_gan("mlp", (2,), units=8, depth=1)
    return {
        "image": (image_gan, export.export_generator(image_gan.sampler, root / "image",
                                                     num_classes=3)),
        "vector": (vector_gan, export.export_generator(vector_gan.sampler, root / "vector")),
    }


TF_ONLY = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    image_dir, vector_dir, out = sys.argv[1:]
    result = {}
    image = tf.saved_model.load(image_dir)
    serve, sample = image.signatures["serving_default"], image.signatures["sample"]
    z = tf.random.stateless_normal([5, 6], seed=[1, 2])
    label = tf.constant([0, 1, 2, 0, 1], tf.int32)
    served = serve(z=z, label=label)["images"]
    a = sample(num=tf.constant(5), seed=tf.constant(7), label=label)["images"]
    b = sample(num=tf.constant(5), seed=tf.constant(7), label=label)["images"]
    c = sample(num=tf.constant(5), seed=tf.constant(8), label=label)["images"]
    vector = tf.saved_model.load(vector_dir)
    v = vector.signatures["sample"](num=tf.constant(4), seed=tf.constant(3))["samples"]
    w = vector.signatures["serving_default"](z=tf.zeros([2, 6]))["samples"]
    np.savez(out, z=z.numpy(), served=served.numpy(), a=a.numpy(), b=b.numpy(), c=c.numpy(),
             v=v.numpy(), w=w.numpy())
    print(json.dumps({
        "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("kgan", "keras")),
        "image_outputs": sorted(serve.structured_outputs),
        "image_inputs": sorted(serve.structured_input_signature[1]),
        "sample_inputs": sorted(sample.structured_input_signature[1]),
        "vector_outputs": sorted(vector.signatures["sample"].structured_outputs),
    }))
    """
)


def test_export_loads_in_a_tensorflow_only_process(exports, tmp_path):
    (image_gan, image_dir), (vector_gan, vector_dir) = exports["image"], exports["vector"]
    out = tmp_path / "out.npz"
    result = subprocess.run(
        [sys.executable, "-c", TF_ONLY, str(image_dir), str(vector_dir), str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert not [m for m in report["modules"] if m.split(".")[0] == "kgan"]
    assert report["image_outputs"] == ["images"]
    assert report["image_inputs"] == ["label", "z"]
    assert report["sample_inputs"] == ["label", "num", "seed"]
    assert report["vector_outputs"] == ["samples"]
    got = np.load(out)
    labels = np.array([0, 1, 2, 0, 1], np.int32)

    # serving_default is the sampling (EMA) generator, served as uint8 images
    assert got["served"].dtype == np.uint8 and got["served"].shape == (5, 8, 8, 1)
    expected = image_gan.sampler([got["z"], labels], training=False).numpy()
    assert np.abs(got["served"].astype(int) - images.to_uint8(expected).astype(int)).max() <= 1
    # sample(num, seed) gives what GAN.generate(num, seed) gives; same seed, same images
    generated = images.to_uint8(image_gan.generate(5, seed=7, labels=labels))
    assert np.abs(got["a"].astype(int) - generated.astype(int)).max() <= 1
    np.testing.assert_array_equal(got["a"], got["b"])
    assert not np.array_equal(got["a"], got["c"])
    # vector data: float32 samples
    assert got["v"].dtype == np.float32 and got["v"].shape == (4, 2)
    np.testing.assert_allclose(got["v"], vector_gan.generate(4, seed=3), rtol=1e-5, atol=1e-6)
    assert got["w"].shape == (2, 2)


def test_saved_model_cli_shows_both_signatures(exports):
    cli = Path(sys.executable).with_name("saved_model_cli")
    if not cli.exists():
        pytest.skip(f"saved_model_cli is not installed beside {sys.executable}")
    result = subprocess.run(
        [str(cli), "show", "--dir", str(exports["image"][1]), "--all"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    text = result.stdout
    for signature in ("signature_def['serving_default']", "signature_def['sample']"):
        assert signature in text
    assert "inputs['z']" in text and "inputs['label']" in text
    assert "inputs['num']" in text and "inputs['seed']" in text
    assert "outputs['images']" in text and "dtype: DT_UINT8" in text
    assert "shape: (-1, 8, 8, 1)" in text


@pytest.mark.parametrize("kind", ["image", "vector"])
def test_tflite_converts_serving_default(exports, kind):
    report = export.check_tflite(exports[kind][1])
    key = export.output_key(kind)
    assert report["bytes"] > 0
    assert report["outputs"][key]["max_abs_diff"] <= (1 if kind == "image" else 1e-5)


def test_export_replaces_only_its_own_exports(exports, tmp_path):
    gan, _ = exports["vector"]
    target = tmp_path / "export"
    export.export_generator(gan.sampler, target)
    assert export.export_marker(target)["format"] == export.MARKER_FORMAT
    with pytest.raises(KganError, match="already holds a kgan export; pass --overwrite"):
        export.export_generator(gan.sampler, target)
    export.export_generator(gan.sampler, target, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]  # no temp folder left
    (target / "notes.txt").write_text("mine")
    with pytest.raises(KganError, match=r"holds files a kgan export does not \(notes.txt\)"):
        export.export_generator(gan.sampler, target, overwrite=True)
    assert (target / "notes.txt").read_text() == "mine"


# ----------------------------------------------------------------------------- kgan export --out

TINY = [
    "--dataset", "ring8", "--arch", "mlp", "--arch-arg", "units=8", "--arch-arg", "depth=1",
    "--latent-dim", "4", "--batch-size", "32", "--epochs", "1", "--steps-per-epoch", "2",
    "--seed", "3", "--quiet",
]


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory):
    """Two finished runs: `r` (made by `kgan train`, with its export) and `other`, a copy."""
    root = tmp_path_factory.mktemp("runs")
    assert cli.main(["train", *TINY, "--name", "r", "--runs-dir", str(root)]) == 0
    shutil.copytree(root / "r", root / "other")
    runs.open_run(root, "other").update_metadata(name="other")
    return root


def kgan_export(capsys, root, *argv):
    """`kgan export r ARGV --runs-dir ROOT` in this process: (exit status, stdout, stderr)."""
    status = cli.main(["export", "r", *map(str, argv), "--runs-dir", str(root)])
    out, err = capsys.readouterr()
    return status, out, err


def snapshot(folder: Path) -> dict:
    """Every file under `folder` with its bytes, and every folder (to see what was touched)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


def refused(capsys, root, out, *flags, says: str) -> None:
    """`kgan export r --out OUT` exits 2 with one line saying `says`, and touches nothing."""
    watched = Path(out).resolve()
    watched = watched if watched.is_dir() else watched.parent
    before = snapshot(watched), snapshot(root)
    status, stdout, err = kgan_export(capsys, root, "--out", out, *flags)
    assert status == 2, (stdout, err)
    assert err.startswith("kgan: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert says in err, err
    assert (snapshot(watched), snapshot(root)) == before


def test_export_out_refuses_a_file(capsys, runs_root, tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    refused(capsys, runs_root, target, says=f"--out {target} is a file, not a folder")
    refused(capsys, runs_root, target, "--overwrite", says="is a file")
    assert target.read_text() == "keep me"


def test_export_out_refuses_a_user_folder_and_keeps_its_files(capsys, runs_root, tmp_path):
    folder = tmp_path / "photos"
    (folder / "2024").mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"jpeg")
    (folder / "2024" / "b.jpg").write_bytes(b"jpeg2")
    for flags in ((), ("--overwrite",)):
        refused(capsys, runs_root, folder, *flags,
                says=f"--out {folder} is a folder that is not a kgan export (2 entries")
    assert (folder / "a.jpg").read_bytes() == b"jpeg"
    assert (folder / "2024" / "b.jpg").read_bytes() == b"jpeg2"
    # a SavedModel kgan did not write (no marker) is not replaced either
    (folder / "saved_model.pb").write_bytes(b"pb")
    refused(capsys, runs_root, folder, "--overwrite", says="not a kgan export")


@pytest.mark.parametrize("flags", [(), ("--overwrite",)])
def test_export_out_refuses_run_folders_and_the_runs_root(capsys, runs_root, flags):
    other = runs_root / "other"
    refused(capsys, runs_root, other, *flags, says=f"--out {other} is a kgan run folder")
    own = runs_root / "r"
    refused(capsys, runs_root, own, *flags, says=f"--out {own} is a kgan run folder")
    refused(capsys, runs_root, other / "export", *flags,
            says=f"is inside the run folder {other}")
    refused(capsys, runs_root, runs_root, *flags, says="is the runs folder")
    refused(capsys, runs_root, runs_root / "new", *flags, says="is inside the runs folder")
    refused(capsys, runs_root, runs_root.parent, *flags, says="or holds it")
    assert runs.open_run(runs_root, "other").has_export and runs.open_run(runs_root, "r").has_export


@pytest.mark.parametrize("out", [".", ".."])
def test_export_out_refuses_the_working_directory(capsys, runs_root, tmp_path, monkeypatch, out):
    (tmp_path / "work" / "keep.txt").parent.mkdir()
    (tmp_path / "work" / "keep.txt").write_text("x")
    monkeypatch.chdir(tmp_path / "work")
    refused(capsys, runs_root, out, "--overwrite",
            says=f"--out {out} is the working directory or a folder holding it")


def test_export_out_replaces_a_previous_export_only_with_overwrite(capsys, runs_root, tmp_path):
    out = tmp_path / "models" / "r" / "1"
    status, stdout, _ = kgan_export(capsys, runs_root, "--out", out)
    assert status == 0 and f"to {out}" in stdout
    marker = export.export_marker(out)
    assert marker["run"] == "r" and (out / "saved_model.pb").is_file()
    refused(capsys, runs_root, out,
            says=f"--out {out} already holds a kgan export of run 'r'; pass --overwrite")
    status, _, err = kgan_export(capsys, runs_root, "--out", out, "--overwrite")
    assert status == 0, err
    assert export.export_marker(out)["written"] >= marker["written"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["1"]  # no temp folders left
    (out / "variables" / "notes.txt").write_text("mine")
    (out / "assets" / "more").mkdir()
    refused(capsys, runs_root, out, "--overwrite", says="(assets/more, variables/notes.txt)")


def test_default_export_is_rewritten_without_overwrite(capsys, runs_root):
    run = runs.open_run(runs_root, "r")
    assert export.export_marker(run.export_dir)["run"] == "r"  # written by training
    (run.export_dir / "stale.txt").write_text("old")
    for argv in ((), ("--out", run.export_dir)):
        status, stdout, err = kgan_export(capsys, runs_root, *argv)
        assert status == 0, err
        assert f"to {run.export_dir}" in stdout and not (run.export_dir / "stale.txt").exists()
    assert run.has_export and export.export_marker(run.export_dir)["run"] == "r"
    assert not [p for p in run.path.iterdir() if p.name.startswith(".tmp-")]


def test_export_out_under_a_file_is_one_line(capsys, runs_root, tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    refused(capsys, runs_root, tmp_path / "notes.txt" / "model",
            says=f"cannot be created: {tmp_path / 'notes.txt'} is a file")
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_a_generator_with_nan_weights_is_never_exported(tmp_path):
    """Fused CPU kernels may hide NaN weights from the output: the weights are checked too."""
    gan = tiny_gan("mlp", (2,), units=8, depth=1)
    w = gan.sampler.weights[0]
    w.assign(np.full(w.shape, np.nan, np.float32))
    assert export.non_finite(gan.sampler)[0] == "generator/dense_0/kernel"
    with pytest.raises(KganError, match=r"holds NaN or infinity \(generator/dense_0/kernel\)"):
        export.export_generator(gan.sampler, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []  # not even a temporary folder


def test_a_generator_that_overflows_is_never_exported(tmp_path):
    gan = tiny_gan("mlp", (2,), units=8, depth=1)
    gan.sampler.set_weights([np.full(w.shape, 1e30, np.float32) for w in gan.sampler.get_weights()])
    assert export.non_finite(gan.sampler) == ["generator output"]
    with pytest.raises(KganError, match="it cannot be exported"):
        export.export_generator(gan.sampler, tmp_path / "out")
