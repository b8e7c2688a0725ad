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


def test_list_shows_fid_beside_its_equal_n_real_floor(capsys, trained, tmp_path):
    """FID's floor and ratio as `kgan.evaluation.record` writes them into the model card: at
    the FID's own N, at a larger N (then the equal-N value too), and below real data."""
    import shutil

    from kgan import evaluation

    floor = {"fid_floor": 0.68, "fid_floor_num": 297, "fid_floor_split": "test", "num_real": 1500}
    cases = {
        "equal": dict(fid=1.23, num_fake=297, fid_at_floor_num=1.23, fid_ratio=1.23 / 0.68,
                      below_floor=False),
        "more": dict(fid=0.95, num_fake=5000, fid_at_floor_num=1.23, fid_ratio=1.23 / 0.68,
                     below_floor=False),
        "copies": dict(fid=0.5, num_fake=297, fid_at_floor_num=0.5, fid_ratio=0.5 / 0.68,
                       below_floor=True),
    }
    dc = {"density": 0.97, "coverage": 0.91, "k": 5, "num_real": 297, "num_fake": 297}
    for name, fid in cases.items():
        shutil.copytree(trained / "r", tmp_path / name)
        run = runs.open_run(tmp_path, name)
        run.update_metadata(name=name)
        evaluation.record(run, {"fid": {**fid, **floor}, "dc": dc}, epoch=2, step=6)
    status, out, _ = kgan(capsys, "list", "--runs-dir", tmp_path)
    assert status == 0
    rows = [line.split("complete", 1) for line in out.splitlines()[1:]]
    metrics = {head.split()[0]: cell.strip() for head, cell in rows}
    assert metrics["equal"] == "fid=1.23 (1.81x real floor 0.68 @N=297) coverage=0.91 +1 more"
    assert metrics["more"].startswith("fid=0.95 @N=5000 (1.23 = 1.81x real floor 0.68 @N=297) ")
    assert metrics["copies"].startswith(
        "fid=0.5 (0.735x real floor 0.68 @N=297; WARNING below real data: check memorisation "
        "and sample size) "
    )
    assert "WARNING" not in metrics["equal"] + metrics["more"]


#: Results as `kgan.evaluation.Evaluator.measure` returns them, with every real-vs-real floor.
FLOORED = {
    "fid": {"fid": 0.95, "num_fake": 5000, "extractor": "digits_pixels", "fid_floor": 0.68,
            "fid_floor_num": 297, "fid_floor_split": "test", "fid_at_floor_num": 1.23,
            "fid_ratio": 1.23 / 0.68, "below_floor": False},
    "pr": {"precision": 0.81, "recall": 0.52, "k": 3, "num_fake": 5000, "precision_floor": 0.77,
           "recall_floor": 0.74, "pr_floor_num": 297, "pr_floor_split": "test",
           "precision_at_floor_num": 0.8, "recall_at_floor_num": 0.61,
           "recall_ratio": 0.61 / 0.74},
    "dc": {"density": 0.97, "coverage": 0.91, "k": 5, "num_fake": 5000},
    "class_diversity": {
        "spread_ratio": 0.9, "min_spread_ratio": 0.42, "worst_class": 3, "class_recall": 0.66,
        "min_class_recall": 0.4, "classes": [0, 3, 7], "spread_ratio_by_class": [1.1, 0.42, 1.2],
        "spread_ratio_floor": 0.99, "min_spread_ratio_floor": 0.97, "class_recall_floor": 0.8,
        "spread_ratio_floor_by_class": [1.0, 0.97, 0.99], "class_floor_num": 297,
        "class_floor_split": "test", "spread_ratio_at_floor_num": 0.88,
        "class_recall_at_floor_num": 0.6, "labels_from": "generator", "num_fake": 5000},
    "class_balance": {"min_share": 0.05, "max_share": 0.5, "share_by_class": [0.45, 0.05, 0.5],
                      "num_classes": 3, "num_fake": 5000},
}


def test_evaluate_prints_each_number_beside_its_real_floor(capsys, trained, monkeypatch):
    from kgan import evaluation

    monkeypatch.setattr(evaluation, "evaluate", lambda *a, **k: FLOORED)
    status, out, _ = kgan(capsys, "evaluate", "r", "--runs-dir", trained, "--quiet")
    assert status == 0
    real = "(real test vs real train, N=297; generated at N=297:"
    assert out.splitlines()[1:-1] == [
        "  fid                0.95",
        f"  fid_floor          0.68  {real} 1.23, ratio 1.81)",
        "  precision          0.81",
        f"  precision_floor    0.77  {real} 0.8)",
        "  recall             0.52",
        f"  recall_floor       0.74  {real} 0.61, ratio 0.824)",
        "  density            0.97",
        "  coverage           0.91",
        "  spread_ratio       0.9  (classes drawn by the generator)",
        f"  spread_ratio_floor 0.99  {real} 0.88)",
        "  min_spread_ratio   0.42  (class 3; real floor 0.97 at N=297)",
        "  class_recall       0.66",
        f"  class_recall_floor 0.8  {real} 0.6)",
        "  min_share          0.05  (class 1; balanced 0.333)",
        "  max_share          0.5  (class 2; balanced 0.333)",
    ]
    assert "WARNING" not in out


def test_evaluate_without_floors_prints_the_numbers_alone(capsys, trained, monkeypatch):
    """No held-out split: no floor lines; a classifier's classes are named as such."""
    from kgan import evaluation

    bare = {
        "pr": {"precision": 0.81, "recall": 0.52, "k": 3, "num_fake": 100},
        "class_diversity": {"spread_ratio": 0.9, "min_spread_ratio": 0.42, "worst_class": 3,
                            "class_recall": 0.66, "classes": [0, 3],
                            "labels_from": "digits_classifier", "num_fake": 100},
    }
    monkeypatch.setattr(evaluation, "evaluate", lambda *a, **k: bare)
    status, out, _ = kgan(capsys, "evaluate", "r", "--runs-dir", trained, "--quiet")
    assert status == 0
    assert out.splitlines()[1:-1] == [
        "  precision          0.81",
        "  recall             0.52",
        "  spread_ratio       0.9  (classes: digits_classifier's top class)",
        "  min_spread_ratio   0.42  (class 3)",
        "  class_recall       0.66",
    ]


def test_list_shows_a_compact_selection_of_the_numbers(capsys, trained, tmp_path):
    """fid (with its floor), precision, recall, coverage, spread_ratio, in that order; the
    other numbers of the model card are counted, not listed."""
    import shutil

    from kgan import evaluation

    shutil.copytree(trained / "r", tmp_path / "r")
    run = runs.open_run(tmp_path, "r")
    results = {"memorisation": {"near_copy_share": 0.0, "num_fake": 5000},
               "kid": {"kid": 0.01, "num_fake": 5000}, **FLOORED}
    evaluation.record(run, results, epoch=2, step=6)
    status, out, _ = kgan(capsys, "list", "--runs-dir", tmp_path)
    assert status == 0
    cell = out.splitlines()[1].split("complete", 1)[1].strip()
    assert cell == ("fid=0.95 @N=5000 (1.23 = 1.81x real floor 0.68 @N=297) precision=0.81 "
                    "recall=0.52 coverage=0.91 spread_ratio=0.9 +7 more")
    assert len(run.metadata()["metrics"]) == 12  # the 7: kid, density, memorisation, ...


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
    assert lines["jit_compile"] == "'auto'"  # the preset leaves XLA to the timing at start
    assert not (tmp_path / "runs").exists()


def test_jit_compile_flag_reaches_the_config(capsys, tmp_path):
    status, out, _ = kgan(capsys, "train", "--preset", "ring8", "--jit-compile", "--dry-run",
                          "--runs-dir", tmp_path)
    lines = dict(line.split(None, 1) for line in out.splitlines()[1:])
    assert status == 0 and lines["jit_compile"] == "True"


def test_deterministic_flag_reaches_the_config(capsys, tmp_path):
    status, out, _ = kgan(capsys, "train", "--preset", "ring8", "--dry-run", "--runs-dir", tmp_path)
    lines = dict(line.split(None, 1) for line in out.splitlines()[1:])
    assert status == 0 and lines["deterministic"] == "False"
    status, out, _ = kgan(capsys, "train", "--preset", "ring8", "--deterministic", "--dry-run",
                          "--runs-dir", tmp_path)
    lines = dict(line.split(None, 1) for line in out.splitlines()[1:])
    assert status == 0 and lines["deterministic"] == "True"


def test_minutes_flag_lets_the_budget_end_the_run(capsys, tmp_path):
    """--minutes without --epochs: the budget, not the preset's epoch count, ends the run."""
    status, out, _ = kgan(capsys, "train", "--preset", "digits", "--minutes", 15, "--dry-run",
                          "--runs-dir", tmp_path)
    lines = dict(line.split(None, 1) for line in out.splitlines()[1:])
    assert status == 0 and lines["minutes"] == "15.0" and lines["epochs"] == "1000000"
    status, out, _ = kgan(capsys, "train", "--preset", "digits", "--minutes", 15, "--epochs", 40,
                          "--dry-run", "--runs-dir", tmp_path)
    lines = dict(line.split(None, 1) for line in out.splitlines()[1:])
    assert status == 0 and lines["epochs"] == "40"  # an explicit cap stays
    status, _, err = kgan(capsys, "train", "--preset", "ring8", "--minutes", 5, "--dry-run",
                          "--runs-dir", tmp_path)
    assert status == 2 and "minutes and lr_decay do not go together" in err
    assert "--lr-decay 0" in err and "Traceback" not in err


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


# ----------------------------------------------------------------------------- hostile inputs
# Issue 10, items 5, 9, 13, 14, 15, 16: each ends in one line and status 2, before any work.


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["--lr", "inf"], ["g_lr must be a finite number > 0, got inf"]),
        (["--g-lr", "nan"], ["g_lr must be a finite number > 0, got nan"]),
        (["--d-lr=-inf"], ["d_lr must be a finite number > 0, got -inf"]),
        (["--regularizer", "r1", "--regularizer-weight", "nan"],
         ["regularizer_weight must be a finite number >= 0", "got nan"]),
        (["--regularizer", "r1", "--regularizer-weight", "inf"],
         ["regularizer_weight must be a finite number >= 0", "got inf"]),
        (["--epochs", str(10**20)], ["epochs must be at most 1,000,000, got 100,000,"]),
        (["--steps-per-epoch", str(10**20)], ["steps_per_epoch must be at most 1,000,000,000"]),
        (["--epochs", "1000000", "--steps-per-epoch", "1000000000"],
         ["epochs x steps_per_epoch x batch_size", "at most 10**15"]),
        (["--grid-size", "400"], ["grid_size must be at most 32, got 400"]),
        (["--latent-dim", "100000"], ["latent_dim must be at most 4,096, got 100,000"]),
        (["--arch-arg", "width=100000"], ["dcgan: --arch-arg width must be between 1 and 1024"]),
        (["--arch-arg", "width=abc"], ["--arch-arg width must be an integer, got 'abc'"]),
        (["--arch", "mlp", "--arch-arg", "units=1e9"],
         ["mlp: --arch-arg units must be between 1 and 16384, got 1000000000"]),
        (["--arch", "mlp", "--arch-arg", "depth=true"],
         ["mlp: --arch-arg depth must be an integer, got True"]),
    ],
)
def test_values_that_would_fail_later_are_refused_up_front(capsys, tmp_path, argv, needles):
    status, _, err = kgan(capsys, "train", "--preset", "digits", *argv, "--dry-run",
                          "--runs-dir", tmp_path / "runs")
    one_line_error(status, err, *needles)
    assert "invalid literal" not in err


def test_mixed_size_folder_without_image_size(capsys, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / "a.png")
    Image.fromarray(np.zeros((12, 10, 3), np.uint8)).save(folder / "b.png")
    status, _, err = kgan(capsys, "train", "--dataset", f"folder:{folder}", "--arch", "mlp",
                          "--batch-size", 2, "--epochs", 1, "--runs-dir", tmp_path / "runs")
    one_line_error(status, err, "differ in size (2 sizes", "--image-size N")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("steps", [[], ["--steps-per-epoch", "3"]])
def test_a_batch_larger_than_the_dataset_is_refused(capsys, tmp_path, steps):
    tiny = ["--dataset", "ring8", "--arch", "mlp", "--arch-arg", "units=4", "--arch-arg",
            "depth=1", "--epochs", "1", "--no-export", "--quiet"]
    status, _, err = kgan(capsys, "train", *tiny, "--batch-size", 20_000, *steps,
                          "--runs-dir", tmp_path / "runs")
    one_line_error(status, err, "10000 examples, fewer than one batch of 20000",
                   "lower --batch-size to at most 10000")
    assert not (tmp_path / "runs").exists()


def test_conditional_on_unlabelled_data_says_drop_conditional(capsys, tmp_path):
    status, _, err = kgan(capsys, "train", *TINY, "--conditional", "--runs-dir", tmp_path / "runs")
    one_line_error(status, err, "'ring8' has no class labels", "drop --conditional")
    assert "labels=False" not in err


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["--truncation", "nan"], ["--truncation must be a finite number > 0", "got nan"]),
        (["--truncation", "inf"], ["--truncation must be a finite number > 0", "got inf"]),
        (["--truncation=-1"], ["--truncation must be a finite number > 0"]),
        (["--num", "1000000"], ["--num must be between 1 and 100,000, got 1000000"]),
        (["--num", "0"], ["--num must be between 1 and 100,000, got 0"]),
        (["--cols", "-5"], ["--cols must be between 1 and --num (64), got -5"]),
        (["--cols", "1000000"], ["--cols must be between 1 and --num (64)"]),
    ],
)
def test_bad_sample_values(capsys, trained, tmp_path, argv, needles):
    out = tmp_path / "s.png"
    status, _, err = kgan(capsys, "sample", "r", *argv, "--out", out, "--runs-dir", trained)
    one_line_error(status, err, *needles)
    assert not out.exists()


def test_sample_out_under_a_file_or_a_folder(capsys, trained, tmp_path):
    (tmp_path / "f").write_text("mine")
    status, _, err = kgan(capsys, "sample", "r", "--out", tmp_path / "f" / "s.png",
                          "--runs-dir", trained)
    one_line_error(status, err, "is a file, not a folder", "choose another --out")
    (tmp_path / "d.png").mkdir()
    status, _, err = kgan(capsys, "sample", "r", "--out", tmp_path / "d.png", "--runs-dir", trained)
    one_line_error(status, err, "d.png is a folder; give a file name")


def test_os_errors_about_the_users_files_are_one_line(capsys, monkeypatch, tmp_path):
    def denied(args):
        raise PermissionError(13, "Permission denied", str(tmp_path / "x"))

    monkeypatch.setattr(cli.listing, "cmd_list", denied)
    status, _, err = kgan(capsys, "list", "--runs-dir", tmp_path)
    one_line_error(status, err, f"Permission denied: {tmp_path / 'x'}; check the path")


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_runs_dir_that_cannot_be_used(capsys, tmp_path, dry_run):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    status, _, err = kgan(capsys, "train", *TINY, *dry_run, "--runs-dir", afile)
    one_line_error(status, err, f"the runs folder {afile} is a file, not a folder")
    status, _, err = kgan(capsys, "train", *TINY, *dry_run, "--runs-dir", afile / "sub")
    one_line_error(status, err, f"cannot be created: {afile} is a file", "--runs-dir")
    assert afile.read_text() == "mine"


def test_read_only_runs_dir(capsys, tmp_path, monkeypatch):
    """Root ignores permission bits, so the check's answer is simulated."""
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    status, _, err = kgan(capsys, "train", *TINY, "--runs-dir", tmp_path / "runs")
    one_line_error(status, err, "is not writable", "permission denied", "--runs-dir")


def test_overwrite_never_deletes_a_file_named_like_the_run(capsys, tmp_path):
    root = tmp_path / "runs"
    root.mkdir()
    (root / "x").write_text("mine")
    for extra in [["--overwrite"], ["--overwrite", "--dry-run"], []]:
        status, _, err = kgan(capsys, "train", *TINY, "--name", "x", *extra, "--runs-dir", root)
        one_line_error(status, err, "is a file, not a run folder", "choose another --name")
    assert (root / "x").read_text() == "mine"


@pytest.mark.parametrize(
    "command, hint",
    [("sample", "lower --num"), ("train", "lower --batch-size")],
)
def test_out_of_memory_is_one_line(capsys, monkeypatch, tmp_path, command, hint):
    import tensorflow as tf

    def exhausted(args):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")

    def no_memory(args):
        raise MemoryError()

    module = {"sample": cli.sample, "train": cli.train}[command]  # where the parser finds it
    monkeypatch.setattr(module, f"cmd_{command}", exhausted)
    argv = [command, "r"] if command == "sample" else [command]
    status, _, err = kgan(capsys, *argv, "--runs-dir", tmp_path)
    one_line_error(status, err, f"out of memory while running `kgan {command}`", hint)
    monkeypatch.setattr(module, f"cmd_{command}", no_memory)
    status, _, err = kgan(capsys, *argv, "--runs-dir", tmp_path)
    one_line_error(status, err, "out of memory", hint)


def test_help_does_not_import_tensorflow():
    code = ("import sys\nfrom kgan import cli\ntry:\n    cli.main(['--help'])\n"
            "except SystemExit:\n    pass\nprint('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "False"
