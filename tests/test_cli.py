"""The `kgan` command line: train, sample, export, list, --dry-run, --help, one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kgan import cli, runs

TINY = [
    "--dataset", "ring8", "--arch", "mlp", "--arch-arg", "units=16", "--arch-arg", "depth=1",
    "--latent-dim", "4", "--batch-size", "32", "--epochs", "2", "--steps-per-epoch", "3",
    "--seed", "5", "--quiet",
]


def kgan(capsys, *argv):
    """Runs `kgan ARGV` in this process: (exit status, stdout, stderr)."""
    try:
        status = cli.main([str(a) for a in argv])
    except SystemExit as e:  # argparse: --help and usage errors
        status = e.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny finished run `r` made by `kgan train`, shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("runs")
    assert cli.main(["train", *TINY, "--name", "r", "--runs-dir", str(root)]) == 0
    return root


@pytest.fixture(scope="module")
def conditional(tmp_path_factory):
    """A conditional digits run (tiny DCGAN, two steps) made by `kgan train`."""
    root = tmp_path_factory.mktemp("runs")
    data_dir = tmp_path_factory.mktemp("tfds")
    argv = ["train", "--preset", "digits", "--arch-arg", "width=4", "--epochs", "1",
            "--steps-per-epoch", "2", "--batch-size", "16", "--no-export", "--quiet",
            "--data-dir", str(data_dir), "--name", "d", "--runs-dir", str(root)]
    assert cli.main(argv) == 0
    return root


@pytest.mark.parametrize("command", [[], ["train"], ["sample"], ["export"], ["list"]])
def test_help_everywhere(capsys, command):
    status, out, _ = kgan(capsys, *command, "--help")
    assert status == 0 and "usage: kgan" in out and "--help" in out
    if command:
        assert "--runs-dir" in out


def test_train_then_list_sample_export(capsys, trained):
    run = runs.open_run(trained, "r")
    assert run.status == "complete" and run.has_export
    assert run.config()["run"]["arch_kwargs"] == {"units": 16, "depth": 1}

    status, out, _ = kgan(capsys, "list", "--runs-dir", trained)
    assert status == 0
    header, row = out.splitlines()
    assert header.split() == ["NAME", "DATASET", "ARCH", "LOSS", "EPOCHS", "STATUS", "METRICS"]
    assert row.split() == ["r", "ring8", "mlp", "hinge", "2/2", "complete", "-"]


def test_sample_png_and_npz(capsys, trained, tmp_path):
    png, npz = tmp_path / "s.png", tmp_path / "s.npz"
    status, out, _ = kgan(capsys, "sample", "r", "--num", 30, "--seed", 1, "--out", png,
                          "--runs-dir", trained)
    assert status == 0 and "wrote 30 samples" in out
    assert Image.open(png).size == (384, 384)  # vector data: a scatter plot
    assert kgan(capsys, "sample", "r", "--num", 30, "--seed", 1, "--out", npz,
                "--runs-dir", trained)[0] == 0
    x = np.load(npz)["x"]
    assert x.shape == (30, 2) and x.dtype == np.float32
    generator = runs.open_run(trained, "r").load_generator()
    from kgan.gan import sample_latents

    np.testing.assert_allclose(x, generator(sample_latents(30, 1, 4)).numpy(), rtol=1e-6)


def test_sample_a_conditional_run(capsys, conditional, tmp_path):
    run = runs.open_run(conditional, "d")
    meta = run.metadata()
    assert meta["conditional"] and meta["num_classes"] == 10 and meta["data_shape"] == [8, 8, 1]
    assert Image.open(run.sample_path(1)).size == (10 * 33 + 1, 8 * 33 + 1)  # a column per class
    out = tmp_path / "d.npz"
    status, _, _ = kgan(capsys, "sample", "d", "--num", 12, "--out", out, "--runs-dir", conditional)
    assert status == 0
    arrays = np.load(out)
    assert arrays["x"].shape == (12, 8, 8, 1) and arrays["x"].dtype == np.uint8
    assert arrays["labels"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    status, _, _ = kgan(capsys, "sample", "d", "--num", 5, "--label", 7, "--out", out,
                        "--runs-dir", conditional)
    assert status == 0 and np.load(out)["labels"].tolist() == [7] * 5
    status, _, err = kgan(capsys, "sample", "d", "--label", 10, "--runs-dir", conditional)
    one_line_error(status, err, "--label must be in 0..9")
    png = tmp_path / "d.png"
    assert kgan(capsys, "sample", "d", "--out", png, "--runs-dir", conditional)[0] == 0
    assert Image.open(png).size == (10 * 33 + 1, 7 * 33 + 1)  # 64 samples, 10 columns


def test_export_to_another_folder(capsys, trained, tmp_path):
    out = tmp_path / "model" / "1"
    status, stdout, _ = kgan(capsys, "export", "r", "--out", out, "--runs-dir", trained)
    assert status == 0 and "serving_default, sample" in stdout
    assert (out / "saved_model.pb").is_file()


def test_dry_run_prints_the_config_and_writes_nothing(capsys, tmp_path):
    status, out, _ = kgan(capsys, "train", "--preset", "digits", "--epochs", 3, "--lr", 1e-3,
                          "--ema", 0, "--regularizer", "r1", "--name", "d", "--dry-run",
                          "--runs-dir", tmp_path / "runs")
    assert status == 0
    assert f"would train run d into {tmp_path / 'runs'}" in out
    lines = dict(line.split(None, 1) for line in out.splitlines()[1:])
    assert lines["dataset"] == "'digits'" and lines["epochs"] == "3"
    assert lines["g_lr"] == lines["d_lr"] == "0.001"
    assert lines["ema"] == "None" and lines["regularizer"] == "'r1'"
    assert lines["arch_kwargs"] == "{'width': 32}"  # the preset's, kept for the same arch
    assert lines["jit_compile"] == "False"
    assert not (tmp_path / "runs").exists()


def test_jit_compile_flag_reaches_the_config(capsys, tmp_path):
    status, out, _ = kgan(capsys, "train", "--preset", "ring8", "--jit-compile", "--dry-run",
                          "--runs-dir", tmp_path)
    lines = dict(line.split(None, 1) for line in out.splitlines()[1:])
    assert status == 0 and lines["jit_compile"] == "True"


def test_resume_dry_run(capsys, trained):
    status, out, _ = kgan(capsys, "train", "--resume", "r", "--dry-run", "--runs-dir", trained)
    assert status == 0 and "would resume run 'r'" in out and "from epoch 2" in out


def one_line_error(status, err, *needles):
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kgan: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["train", "--preset", "nope"], ["unknown preset 'nope'", "digits, grid25, mnist, ring8"]),
        (["train", "--loss", "nope", "--dry-run"], ["Unknown loss 'nope'", "hinge"]),
        (["train", "--epochs", "0", "--dry-run"], ["epochs must be a positive integer"]),
        (["train", "--name", "../x", "--dry-run"], ["invalid run name '../x'"]),
        (["train", "--arch-arg", "width", "--dry-run"], ["KEY=VALUE"]),
        (["train", "--resume", "r", "--loss", "hinge"], ["drop --loss", "only --epochs"]),
        (["train", "--resume", "nope"], ["no run named 'nope'", "available runs: r"]),
        (["train", *TINY, "--name", "r"], ["already exists", "--resume r", "--overwrite"]),
        (["sample", "nope"], ["no run named 'nope'", "kgan list"]),
        (["sample", "r", "--out", "x.jpg"], [".png", ".npz"]),
        (["sample", "r", "--label", "1"], ["unconditional", "drop --label"]),
        (["export", "../etc"], ["invalid run name"]),
    ],
)
def test_user_errors_are_one_line_with_status_2(capsys, trained, argv, needles):
    status, _, err = kgan(capsys, *argv, "--runs-dir", trained)
    one_line_error(status, err, *needles)


def test_bad_flag_values_are_usage_errors(capsys):
    status, _, err = kgan(capsys, "train", "--epochs", "many")
    assert status == 2 and "invalid int value" in err


def test_corrupt_run_folder(capsys, trained, tmp_path):
    root = tmp_path / "runs"
    broken = runs.new_run(root, "broken")
    broken.metadata_path.write_text("{")
    status, out, _ = kgan(capsys, "list", "--runs-dir", root)
    assert status == 0 and "broken: " in out and "not valid JSON" in out
    status, _, err = kgan(capsys, "sample", "broken", "--runs-dir", root)
    one_line_error(status, err, "not valid JSON")


def test_empty_root(capsys, tmp_path):
    status, out, _ = kgan(capsys, "list", "--runs-dir", tmp_path / "none")
    assert status == 0 and "no runs" in out


def test_console_script_error_has_no_traceback(tmp_path):
    """The installed `kgan` entry point, as a user runs it."""
    script = Path(sys.executable).with_name("kgan")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "kgan.cli"]
    result = subprocess.run([*command, "sample", "nope", "--runs-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 2
    errors = [l for l in result.stderr.splitlines() if l.startswith("kgan:")]
    assert errors == [f"kgan: error: no run named 'nope' in {tmp_path} (there are no runs yet); "
                      "see `kgan list`"]
    assert "Traceback" not in result.stderr
