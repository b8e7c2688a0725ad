"""The run folder format: names, atomic writes, reading and listing good and broken runs."""

import json
import os
import subprocess
import sys

import pytest

from kgan import runs


def make_run(root, name="r1", status="running", **meta):
    run = runs.new_run(root, name)
    run.write_config({"run": {"dataset": "ring8"}, "model": {"class_name": "GAN"}})
    run.update_metadata(name=name, dataset="ring8", architecture="mlp", loss="hinge",
                        epochs=3, epochs_done=1, **meta)
    if status == "running":
        run.mark_running()
    elif status == "complete":
        run.mark_complete()
    else:
        run.mark_failed(status)
    return run


@pytest.mark.parametrize("name", ["digits", "a", "run-1.v2_x", "A" * 100])
def test_valid_names(name):
    assert runs.validate_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "..", "../x", "a/b", "a\\b", ".hidden", "-x", "a..b", "a b", "A" * 101, "/etc", None],
)
def test_invalid_names_are_refused(tmp_path, name):
    with pytest.raises(runs.RunError, match="invalid run name"):
        runs.resolve(tmp_path, name)


def test_resolve_stays_inside_root(tmp_path):
    assert runs.resolve(tmp_path, "x") == (tmp_path / "x").resolve()
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "escape").symlink_to(outside)
    with pytest.raises(runs.RunError, match="outside the runs folder"):
        runs.resolve(root, "escape")
    assert [r.name for r in runs.list_runs(root)] == []


def test_atomic_writes_leave_no_temporary_files(tmp_path):
    path = tmp_path / "sub" / "a.json"
    runs.write_json(path, {"x": float("nan"), "y": (1, 2)})
    runs.write_json(path, {"x": 1.5})
    assert json.loads(path.read_text()) == {"x": 1.5}
    assert os.listdir(path.parent) == ["a.json"]
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_jsonable_writes_non_finite_as_null(tmp_path):
    run = runs.new_run(tmp_path, "r")
    run.append_history({"epoch": 1, "d_loss": float("inf"), "g_loss": 0.5})
    assert run.history() == [{"epoch": 1, "d_loss": None, "g_loss": 0.5}]


def test_reading_a_run(tmp_path):
    run = make_run(tmp_path, status="complete")
    for epoch in (0, 2, 1):
        runs.write_bytes(run.sample_path(epoch), b"png")
    runs.write_bytes(run.checkpoint_path(2), b"k")
    (run.samples_dir / "notes.txt").write_text("ignored")
    run.append_history({"epoch": 2, "g_loss": 2.0})
    run.append_history({"epoch": 1, "g_loss": 1.0})
    run.append_history({"epoch": 2, "g_loss": 3.0})  # replaces epoch 2
    with open(run.history_path, "a") as f:
        f.write('{"epoch": 3, "g_lo')  # a torn line is skipped
    opened = runs.open_run(tmp_path, "r1")
    assert opened == run
    assert [e for e, _ in opened.samples()] == [0, 1, 2]
    assert opened.latest_checkpoint() == (2, run.checkpoint_path(2))
    assert [r["g_loss"] for r in opened.history()] == [1.0, 3.0]
    assert opened.status == "complete" and opened.reason is None and opened.error is None
    assert opened.config()["format"] == runs.FORMAT_VERSION
    assert not opened.has_export and not opened.has_generator
    with pytest.raises(runs.RunError, match="no generator yet"):
        opened.load_generator()


def test_truncate_forgets_later_epochs(tmp_path):
    run = make_run(tmp_path)
    for epoch in (1, 2, 3):
        run.append_history({"epoch": epoch})
        runs.write_bytes(run.sample_path(epoch), b"png")
        runs.write_bytes(run.checkpoint_path(epoch), b"k")
    run.truncate(1)
    assert [r["epoch"] for r in run.history()] == [1]
    assert [e for e, _ in run.samples()] == [1]
    assert [e for e, _ in run.checkpoints()] == [1]


def test_status_failed_and_interrupted(tmp_path):
    failed = make_run(tmp_path, "f", status="non-finite loss")
    assert failed.status == "failed" and failed.reason == "non-finite loss"
    running = make_run(tmp_path, "live")
    assert running.status == "running"  # this process is alive
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    gone = make_run(tmp_path, "gone")
    gone.update_metadata(pid=int(dead.stdout))
    assert gone.status == runs.INTERRUPTED
    assert "--resume" in gone.reason
    assert gone.summary()["status"] == runs.INTERRUPTED


def test_list_runs_includes_broken_ones(tmp_path):
    make_run(tmp_path, "good", status="complete")
    (tmp_path / "empty").mkdir()
    corrupt = make_run(tmp_path, "corrupt")
    corrupt.metadata_path.write_text("{not json")
    no_model = runs.new_run(tmp_path, "nomodel")
    no_model.write_config({"run": {}})
    no_model.update_metadata(status="complete")
    (tmp_path / "bad name").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "file.txt").write_text("x")
    listed = {r.name: r for r in runs.list_runs(tmp_path)}
    assert sorted(listed) == ["bad name", "corrupt", "empty", "good", "nomodel"]
    assert listed["good"].error is None
    assert "metadata.json is missing" in listed["empty"].error
    assert "not valid JSON" in listed["corrupt"].error
    assert "'model'" in listed["nomodel"].error
    assert "invalid run name" in listed["bad name"].error
    rows = {r.name: r.summary() for r in listed.values()}
    assert rows["corrupt"]["status"] == "broken"
    assert rows["good"]["dataset"] == "ring8" and rows["good"]["epochs_done"] == 1
    assert runs.list_runs(tmp_path / "missing") == []


def test_open_run_names_the_available_runs(tmp_path):
    make_run(tmp_path, "digits")
    with pytest.raises(runs.RunError, match="available runs: digits"):
        runs.open_run(tmp_path, "nope")
    with pytest.raises(runs.RunError, match="no runs yet"):
        runs.open_run(tmp_path / "empty", "nope")


def test_new_run_refuses_to_overwrite_unless_asked(tmp_path):
    make_run(tmp_path, "r")
    with pytest.raises(runs.RunError, match="already exists.*--resume r.*--overwrite"):
        runs.new_run(tmp_path, "r")
    fresh = runs.new_run(tmp_path, "r", overwrite=True)
    assert os.listdir(fresh.path) == []


def test_record_metric_updates_log_and_card(tmp_path):
    run = make_run(tmp_path)
    run.record_metric("fid", 12.5, epoch=3, num_samples=1000, feature_extractor="digits")
    run.record_metric("fid", 10.0, epoch=4, num_samples=1000, feature_extractor="digits")
    assert [r["value"] for r in run.metric_records()] == [12.5, 10.0]
    card = run.metadata()["metrics"]["fid"]
    assert card["value"] == 10.0 and card["num_samples"] == 1000 and card["epoch"] == 4
    assert run.summary()["metrics"] == {"fid": 10.0}


def test_default_root_follows_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("KGAN_RUNS_DIR", raising=False)
    assert str(runs.default_root()) == "saved_models"
    monkeypatch.setenv("KGAN_RUNS_DIR", str(tmp_path))
    assert runs.default_root() == tmp_path
