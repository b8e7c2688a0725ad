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


def test_record_metric_appends_and_survives_a_torn_last_line(tmp_path):
    run = make_run(tmp_path)
    run.record_metric("fid", 12.5, epoch=1)
    before = run.metrics_path.stat().st_ino, run.metrics_path.read_text()
    run.record_metric("kid", 0.5, epoch=1)
    after = run.metrics_path.read_text()
    assert run.metrics_path.stat().st_ino == before[0]  # appended, not rewritten
    assert after.startswith(before[1]) and after.count("\n") == 2
    with open(run.metrics_path, "a") as f:
        f.write('{"metric": "fid", "val')  # a crash in the middle of a record
    assert [r["metric"] for r in run.metric_records()] == ["fid", "kid"]
    run.record_metric("fid", 9.0, epoch=2)
    assert [(r["metric"], r["value"]) for r in run.metric_records()] == [
        ("fid", 12.5), ("kid", 0.5), ("fid", 9.0)
    ]
    assert run.metrics_path.read_text().splitlines()[2] == '{"metric": "fid", "val'


def test_duration_is_written_for_people():
    assert [runs.duration(s) for s in (42, 119.96, 210, 7200, None, "3", True)] == [
        "42.0 s", "120.0 s", "3.5 min", "2.0 h", "–", "–", "–"
    ]


def test_default_root_follows_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("KGAN_RUNS_DIR", raising=False)
    assert str(runs.default_root()) == "saved_models"
    monkeypatch.setenv("KGAN_RUNS_DIR", str(tmp_path))
    assert runs.default_root() == tmp_path


# ----------------------------------------------------------------------------- hostile inputs
# Regression tests of issue 10's hostile inputs 2, 6, 8, 10, 11 and 12.

import contextlib  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402

HOLD_LOCK = textwrap.dedent(
    """
    import sys
    from kgan import runs
    lock = runs.lock_run(sys.argv[1], sys.argv[2])
    print("locked", flush=True)
    sys.stdin.read()  # hold it until the test closes stdin
    """
)
LINUX = Path("/proc/self/stat").exists()


@contextlib.contextmanager
def locked_elsewhere(root, name):
    """Run `name`'s lock, held by another (live) process for the duration."""
    child = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(root), name],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        yield child
    finally:
        child.stdin.close()
        child.wait(timeout=60)


def tiny_config(**changes):
    from kgan.config import RunConfig

    return RunConfig(dataset="ring8", arch="mlp", arch_kwargs={"units": 8, "depth": 1},
                     latent_dim=4, batch_size=32, epochs=2, steps_per_epoch=2, seed=1,
                     ema=None).replace(**changes)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A tiny finished 2-epoch run `r` with the checkpoints of epochs 1 and 2, trained once;
    tests copy it."""
    from kgan import training

    root = tmp_path_factory.mktemp("finished")
    training.train(tiny_config(epochs=1), root, name="r", export=False, verbose=0)
    first = runs.open_run(root, "r").checkpoint_path(1)
    saved = first.read_bytes()
    run = training.train(None, root, name="r", resume=True, epochs=2, export=False, verbose=0)
    if not first.exists():  # however many checkpoints training keeps
        first.write_bytes(saved)
    assert [e for e, _ in run.checkpoints()] == [1, 2] and run.status == "complete"
    return run


def copy_run(finished, root, name="r"):
    shutil.copytree(finished.path, Path(root) / name)
    return runs.open_run(root, name)


def resume(root, name="r", **options):
    from kgan import training

    return training.train(None, root, name=name, resume=True, export=False, verbose=0, **options)


def test_training_locks_the_run_beside_its_folder_and_frees_it(finished):
    root = finished.path.parent
    assert finished.lock_path == root / ".r.lock" and finished.lock_path.is_file()
    assert [r.name for r in runs.list_runs(root)] == ["r"]  # the lock file is no run
    assert finished.error is None and finished.status == "complete"
    with finished.lock() as lock:  # train() freed it when it marked the run complete
        assert lock.held and finished.trainer(own=True).pid == os.getpid()
    assert not lock.held


def test_a_held_lock_refuses_a_second_process(tmp_path):
    lock = runs.lock_run(tmp_path, "r")
    try_lock = "import sys\nfrom kgan import runs\ntry:\n    runs.lock_run(sys.argv[1], 'r')\n" \
               "except runs.RunError as e:\n    print(e)\n    sys.exit(3)\n"
    refused = subprocess.run([sys.executable, "-c", try_lock, str(tmp_path)],
                             capture_output=True, text=True)
    assert refused.returncode == 3
    assert refused.stdout.strip() == (
        f"run 'r' is being trained right now (process {os.getpid()}) by another process on host "
        f"{socket.gethostname()} that holds its lock; wait for it to finish or stop it, then "
        "continue the run with --resume r")
    lock.release()
    assert subprocess.run([sys.executable, "-c", try_lock, str(tmp_path)]).returncode == 0


def test_two_overwrites_started_together_cannot_share_a_folder(finished, tmp_path):
    """The first `--overwrite` holds the lock but has not marked the run running yet: the
    second one must fail on the lock instead of training into the same folder."""
    from kgan import training

    copy_run(finished, tmp_path, "x")
    paused, go = tmp_path / "paused", tmp_path / "go"
    child = textwrap.dedent(
        f"""
        import json, pathlib, sys, time
        from kgan import training
        from kgan.config import RunConfig
        from kgan.runs import lifecycle

        new_run = lifecycle.new_run
        def paused_new_run(*args, **kwargs):  # the lock is held, nothing is deleted yet
            pathlib.Path({str(paused)!r}).write_text("x")
            while not pathlib.Path({str(go)!r}).exists():
                time.sleep(0.05)
            return new_run(*args, **kwargs)
        lifecycle.new_run = paused_new_run
        config = RunConfig.from_dict(json.loads(sys.argv[1]))
        training.train(config, {str(tmp_path)!r}, name="x", overwrite=True, export=False,
                       verbose=0)
        """
    )
    first = subprocess.Popen([sys.executable, "-c", child, json.dumps(tiny_config().to_dict())])
    try:
        for _ in range(3000):
            if paused.exists() or first.poll() is not None:
                break
            __import__("time").sleep(0.1)
        assert paused.exists(), "the first training process never reached new_run"
        with pytest.raises(runs.RunError) as refused:
            training.train(tiny_config(epochs=1), tmp_path, name="x", overwrite=True,
                           export=False, verbose=0)
        assert str(refused.value).startswith(
            f"run 'x' is being trained right now (process {first.pid}) by another process")
        go.write_text("x")
        assert first.wait(timeout=600) == 0
    finally:
        go.write_text("x")
        if first.poll() is None:
            first.kill()
    run = runs.open_run(tmp_path, "x")
    assert run.status == "complete" and run.config()["run"]["epochs"] == 2
    assert [r["epoch"] for r in run.history()] == [1, 2]


def test_a_run_locked_by_a_live_process_is_running_and_cannot_be_resumed(finished, tmp_path):
    run = copy_run(finished, tmp_path)
    with locked_elsewhere(tmp_path, "r") as child:
        # Even a card naming another host is trusted while its lock is held.
        run.update_metadata(status="running", pid=child.pid, host="elsewhere")
        assert run.status == "running"
        assert run.trainer() == runs.Trainer(child.pid, socket.gethostname(), True)
        with pytest.raises(runs.RunError, match=rf"right now \(process {child.pid}\).*--resume r"):
            resume(tmp_path)
    assert run.status == runs.INTERRUPTED  # the lock died with its process


@pytest.mark.skipif(not LINUX, reason="process start times come from /proc")
def test_a_card_naming_a_reused_pid_is_interrupted_and_resumable(finished, tmp_path, capsys):
    run = copy_run(finished, tmp_path)
    run.mark_running()  # this live process, not holding the lock
    assert run.status == "running"
    started = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
    run.update_metadata(pid_start=started + 1)  # the same pid, another process
    assert run.status == runs.INTERRUPTED
    assert "--resume r" in run.reason and run.summary()["status"] == runs.INTERRUPTED
    run.update_metadata(pid_start=started, boot_id="another-boot")  # recorded before a reboot
    assert run.status == runs.INTERRUPTED
    resumed = resume(tmp_path, epochs=3)
    assert resumed.status == "complete" and [r["epoch"] for r in resumed.history()] == [1, 2, 3]
    assert "kgan: warning" not in capsys.readouterr().out  # an intact history resumes quietly


@pytest.mark.skipif(not LINUX, reason="process start times come from /proc")
def test_a_card_written_before_start_times_were_recorded(tmp_path):
    run = make_run(tmp_path)
    meta = {k: v for k, v in run.metadata().items() if k not in ("pid_start", "boot_id")}
    runs.write_json(run.metadata_path, meta)
    assert run.status == "running"  # this process started before the card was written
    runs.write_json(run.metadata_path, {**meta, "updated": "2001-01-01T00:00:00+00:00"})
    assert run.status == runs.INTERRUPTED  # this process started long after: a reused pid


def test_a_card_from_another_host_is_interrupted(tmp_path):
    run = make_run(tmp_path)
    run.update_metadata(host="other-machine")
    assert run.status == runs.INTERRUPTED and run.trainer() is None
    assert "other-machine" in run.reason and "--resume r1" in run.reason


@pytest.mark.parametrize(
    "field, value, want",
    [
        ("metrics", "notadict", "an object of"),
        ("metrics", {"fid": {"value": "low"}}, "an object of"),
        ("warnings", 5, "a list of"),
        ("epochs_done", "x", "a whole number >= 0"),
        ("epochs", -1, "a whole number >= 0"),
        ("status", "paused", "one of running, complete, failed"),
        ("data_shape", ["8", 8], "a list of whole numbers"),
        ("pid", "123", "a whole number >= 0"),
        ("training_time_s", True, "a number"),
    ],
)
def test_a_wrong_typed_model_card_is_broken_not_a_traceback(tmp_path, capsys, field, value,
                                                            want):
    from kgan import cli

    make_run(tmp_path, "good", status="complete")
    bad = make_run(tmp_path, "bad", status="complete")
    runs.write_json(bad.metadata_path, {**bad.metadata(), field: value})
    error = bad.error
    assert error.startswith(f"{bad.metadata_path}: field {field!r} should be {want}")
    rows = {r.name: r.summary() for r in runs.list_runs(tmp_path)}
    assert rows["bad"]["status"] == "broken" and rows["bad"]["error"] == error
    assert rows["good"]["status"] == "complete" and rows["good"]["error"] is None
    assert cli.main(["list", "--runs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"broken: {error}" in out and "good" in out
    with pytest.raises(runs.RunError, match=f"field '{field}'"):
        bad.status  # the dashboard's run page shows this RunError as one line


def test_the_dashboards_runs_table_shows_a_wrong_typed_card_as_broken(tmp_path):
    from kgan.dashboard import data

    make_run(tmp_path, "good", status="complete")
    bad = make_run(tmp_path, "bad", status="complete")
    runs.write_json(bad.metadata_path, {**bad.metadata(), "metrics": "notadict"})
    frame = data.runs_frame(runs.list_runs(tmp_path)).set_index("name")
    assert frame.loc["bad", "status"] == "broken" and frame.loc["good", "status"] == "complete"
    assert "field 'metrics'" in frame.loc["bad", "reason / error"]
    assert [r.name for r in data.readable(runs.list_runs(tmp_path))] == ["good"]


def test_invalid_history_records_are_skipped_and_named(tmp_path):
    run = make_run(tmp_path)
    lines = ['{"epoch": 1, "d_loss": 1.0}', '{"epoch": "x", "d_loss": 2.0}', '{"d_loss": 3.0}',
             '{"epoch": 3, "d_loss": "abc"}', '{"epoch": true}', "[1, 2]",
             '{"epoch": 2, "d_loss": null, "time": 4.5}', '{"epoch": 4, "d_lo']
    run.history_path.write_text("\n".join(lines) + "\n")
    assert run.history() == [{"epoch": 1, "d_loss": 1.0},
                             {"epoch": 2, "d_loss": None, "time": 4.5}]
    problems = run.history_problems()
    assert [p.split(" of ")[0] for p in problems] == [f"line {n}" for n in (2, 3, 4, 5, 6, 8)]
    assert "'epoch' should be a whole number >= 1, got a string ('x')" in problems[0]
    assert "'d_loss' should be a number or null" in problems[2]
    assert "not valid JSON" in problems[-1]
    assert run.history_gap(2) is None
    gap = run.history_gap(4)
    assert gap.startswith(f"{run.history_path} has no valid record of epoch(s) 3, 4 (line 2")
    run.truncate(2)  # what a resume keeps: the valid records, invalid lines dropped
    assert run.history_problems() == [] and [r["epoch"] for r in run.history()] == [1, 2]


def test_resume_reports_a_history_record_that_is_not_valid(finished, tmp_path, capsys):
    run = copy_run(finished, tmp_path)
    first, second = run.history_path.read_text().splitlines()
    run.history_path.write_text(first.replace('"epoch": 1', '"epoch": "x"') + "\n" + second + "\n")
    resumed = resume(tmp_path, epochs=3)
    assert [r["epoch"] for r in resumed.history()] == [2, 3]
    out = capsys.readouterr().out
    assert f"kgan: warning: {run.history_path} has no valid record of epoch(s) 1 (line 1" in out
    assert "'epoch' should be a whole number" in out


def test_resume_redoes_the_epoch_of_a_torn_last_history_record(finished, tmp_path, capsys):
    run = copy_run(finished, tmp_path)
    text = run.history_path.read_text()
    run.history_path.write_text(text[: len(text) - 20])  # epoch 2's line, cut by a killed write
    assert run.resume_point() == (1, run.checkpoint_path(1))
    resumed = resume(tmp_path, epochs=3)
    assert resumed.status == "complete"
    assert [r["epoch"] for r in resumed.history()] == [1, 2, 3]  # epoch 2 redone, no gap
    assert capsys.readouterr().out == (
        f"kgan: note: {run.history_path} has no valid record of epoch 2 (line 2 of "
        f"{run.history_path} is not valid JSON (a torn or corrupt write)); resuming from the "
        "checkpoint of epoch 1, not 2, to redo it\n")


def test_resume_reports_a_torn_record_it_cannot_redo(finished, tmp_path, capsys):
    run = copy_run(finished, tmp_path)
    run.checkpoint_path(1).unlink()  # only the newest checkpoint is left
    text = run.history_path.read_text()
    run.history_path.write_text(text[: len(text) - 20])
    resumed = resume(tmp_path, epochs=3)
    assert resumed.status == "complete"
    assert [r["epoch"] for r in resumed.history()] == [1, 3]  # epoch 2's losses are gone ...
    out = capsys.readouterr().out  # ... and the user is told so, with the reason
    assert f"kgan: warning: {run.history_path} has no valid record of epoch(s) 2 (line 2" in out
    assert "not valid JSON (a torn or corrupt write)" in out
    assert "the checkpoint of epoch 2 is intact and training continues from it" in out


def test_resume_point_is_the_newest_checkpoint_with_a_complete_history(tmp_path):
    run = make_run(tmp_path)
    assert run.resume_point() is None
    for epoch in (3, 4, 5):
        runs.write_bytes(run.checkpoint_path(epoch), b"k")
    for epoch in (1, 2, 3, 5):
        run.append_history({"epoch": epoch})
    assert run.resume_point() == (3, run.checkpoint_path(3))  # redoes 4 and 5
    run.append_history({"epoch": 4})
    assert run.resume_point() == (5, run.checkpoint_path(5)) and run.resume_message(5) is None
    run.write_history([{"epoch": 2}, {"epoch": 3}, {"epoch": 4}, {"epoch": 5}])
    assert run.resume_point() == (5, run.checkpoint_path(5))  # none is complete: the newest
    assert run.resume_message(5).startswith("warning: ")


def test_resume_refuses_fewer_epochs_than_done_before_writing(finished, tmp_path, capsys):
    from kgan import cli
    from kgan.errors import KganError

    run = copy_run(finished, tmp_path)
    before = {p: p.read_bytes() for p in (run.config_path, run.metadata_path, run.history_path)}
    with pytest.raises(KganError, match="has already trained 2 epochs, more than --epochs 1; "
                                        "pass --epochs 2 or more"):
        resume(tmp_path, epochs=1)
    assert cli.main(["train", "--resume", "r", "--epochs", "1", "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == ("kgan: error: run 'r' has already trained 2 epochs, more than --epochs 1; "
                   "pass --epochs 2 or more (or leave it out), or train a new run\n")
    assert {p: p.read_bytes() for p in before} == before
    assert run.summary()["epochs"] == 2 and run.status == "complete"


def test_resuming_a_complete_run_for_its_own_epochs_does_nothing(finished, tmp_path, capsys):
    run = copy_run(finished, tmp_path)
    before = {p.relative_to(run.path): p.read_bytes() for p in run.path.rglob("*") if p.is_file()}
    for epochs in (2, None):
        assert resume(tmp_path, epochs=epochs) == run
        assert capsys.readouterr().out == (
            "kgan: note: run 'r' is already complete (2 of 2 epochs); nothing to do — pass "
            "--epochs N with N > 2 to train it further\n")
    after = {p.relative_to(run.path): p.read_bytes() for p in run.path.rglob("*") if p.is_file()}
    assert after == before


def make_leftovers(run, outside):
    """Temporary files and folders of killed writes, and things that must survive them."""
    outside.mkdir()
    (outside / "precious.txt").write_text("keep")
    for path in (run.path / ".tmp-a1b2.json", run.path / ".tmp-x9.keras",
                 run.checkpoint_dir / ".tmp-c3.keras", run.samples_dir / ".tmp-s4.png",
                 run.path / ".tmp-export-abc" / "saved_model.pb",
                 run.path / ".tmp-old-def" / "x" / "variables" / "v"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    (run.path / ".tmp-link").symlink_to(outside)  # a symlink is removed, never followed
    (run.path / ".tmp-file-link").symlink_to(outside / "precious.txt")
    (run.path / "notes.txt").write_text("mine")
    (run.samples_dir / "notes.tmp-keep").write_text("mine")


def test_remove_temp_files_only_touches_the_runs_own_leftovers(tmp_path):
    run = make_run(tmp_path / "root")
    runs.write_bytes(run.sample_path(0), b"png")
    make_leftovers(run, tmp_path / "outside")
    (tmp_path / "root" / ".tmp-of-the-root").write_text("not the run's")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".tmp-theirs").write_text("theirs")
    run.checkpoint_dir.rename(tmp_path / "gone")
    run.checkpoint_dir.symlink_to(elsewhere)  # a symlinked subfolder is not entered
    removed = run.remove_temp_files()
    assert sorted(p.name for p in removed) == [
        ".tmp-a1b2.json", ".tmp-export-abc", ".tmp-file-link", ".tmp-link", ".tmp-old-def",
        ".tmp-s4.png", ".tmp-x9.keras"]
    assert not any(p.name.startswith(".tmp-") for p in run.path.rglob("*"))
    assert sorted(os.listdir(run.path)) == [
        "checkpoint", "config.json", "metadata.json", "notes.txt", "samples"]
    assert sorted(os.listdir(run.samples_dir)) == ["epoch-0000.png", "notes.tmp-keep"]
    assert (tmp_path / "outside" / "precious.txt").read_text() == "keep"
    assert (elsewhere / ".tmp-theirs").exists()
    assert (tmp_path / "root" / ".tmp-of-the-root").exists()


def test_resume_removes_the_leftovers_of_killed_writes(finished, tmp_path):
    run = copy_run(finished, tmp_path / "root")
    make_leftovers(run, tmp_path / "outside")
    kept = sorted(p.relative_to(run.path) for p in run.path.rglob("*")
                  if ".tmp-" not in str(p.relative_to(run.path)).replace("notes.tmp-", ""))
    resumed = resume(tmp_path / "root", epochs=3)
    assert resumed.status == "complete"
    now = sorted(p.relative_to(run.path) for p in run.path.rglob("*"))
    assert not [p for p in now if p.name.startswith(".tmp-") or ".tmp-" in p.parent.name]
    def others(paths):  # checkpoints come and go as training goes on
        return {p for p in paths if p.parent.name != "checkpoint"}

    assert others(now) == others(kept) | {Path("samples/epoch-0003.png")}
    assert [e for e, _ in resumed.checkpoints()][-1] == 3
    assert all(p.name.startswith("epoch-") for p in resumed.checkpoint_dir.iterdir())
    assert (tmp_path / "outside" / "precious.txt").read_text() == "keep"


def test_a_failed_start_frees_the_lock(finished, tmp_path):
    run = copy_run(finished, tmp_path)
    for _, path in run.checkpoints():
        path.write_bytes(b"not a keras file")
    with pytest.raises(runs.RunError, match="checkpoint"):  # fails after taking the lock
        resume(tmp_path, epochs=3)
    runs.lock_run(tmp_path, "r", wait=0).release()  # nobody holds it any more


def test_a_file_named_like_the_run_is_never_replaced(tmp_path):
    (tmp_path / "r").write_text("the user's notes")
    for overwrite in (False, True):
        with pytest.raises(runs.RunError, match="is a file, not a run folder"):
            runs.new_run(tmp_path, "r", overwrite=overwrite)
    assert (tmp_path / "r").read_text() == "the user's notes"


def test_linked_samples_and_checkpoints_are_never_listed(tmp_path):
    """A shared run folder may hold symlinks leading outside the runs folder: never read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"not yours")
    run = runs.new_run(tmp_path / "root", "r")
    runs.write_bytes(run.sample_path(1), b"png")
    run.sample_path(2).symlink_to(outside / "secret.png")
    assert [e for e, _ in run.samples()] == [1]
    run.checkpoint_dir.symlink_to(outside, target_is_directory=True)
    (outside / "epoch-0001.keras").write_bytes(b"k")
    assert run.checkpoints() == []


# ----------------------------------------------------------------------------- lifecycle

from kgan.errors import KganError  # noqa: E402


def test_start_checks_everything_before_it_locks_or_writes(tmp_path):
    seen = []
    started = runs.start(tmp_path, "r", tiny_config(), check=lambda c, ckpt: seen.append(ckpt) or 7)
    assert (started.run.name, started.checkpoint, started.checked, started.done) == ("r", None, 7, False)
    assert seen == [None] and started.run.path.is_dir() and os.listdir(started.run.path) == []
    assert started.run.trainer(own=True).locked  # held until the run is marked
    started.run.mark_failed("test over")

    def refuse(config, checkpoint):
        raise KganError("no such data")

    with pytest.raises(KganError, match="no such data"):
        runs.start(tmp_path, "r2", tiny_config(), check=refuse)
    with pytest.raises(KganError, match="valid names"):
        runs.start(tmp_path, "r3", tiny_config(loss="nope"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".r.lock", "r"]


def test_start_resumes_from_the_resume_point_and_saves_new_epochs(finished, tmp_path):
    run = copy_run(finished, tmp_path)
    started = runs.start(tmp_path, "r", None, resume=True, epochs=4)
    assert started.checkpoint == (2, run.checkpoint_path(2)) and started.config.epochs == 4
    assert run.run_config() == tiny_config(epochs=4)  # written back to config.json
    started.run.mark_complete()
    assert runs.start(tmp_path, "r", None, resume=True).done is False  # 2 of 4 epochs done
    run.mark_complete()


def test_start_does_nothing_for_a_complete_run(finished, tmp_path):
    copy_run(finished, tmp_path)
    started = runs.start(tmp_path, "r", None, resume=True, check=pytest.fail)
    assert started.done and "already complete (2 of 2 epochs)" in started.note
    runs.lock_run(tmp_path, "r", wait=0).release()  # nothing was locked


@pytest.mark.parametrize("raised, status, reason", [
    (None, "complete", None),
    (runs.RunFailed("run 'r' failed: exploding loss", "exploding loss"), "failed", "exploding loss"),
    (KeyboardInterrupt(), "failed", "interrupted by the user; continue it with --resume r"),
    (OSError("disk\n full"), "failed", "OSError: disk full"),
])
def test_recording_marks_the_run_from_how_the_block_ends(tmp_path, raised, status, reason):
    run = runs.start(tmp_path, "r", tiny_config()).run
    with contextlib.suppress(type(raised) if raised else ()):
        with run.recording():
            assert run.metadata()["status"] == "running"
            if raised:
                raise raised
    assert (run.status, run.reason) == (status, reason)
    runs.lock_run(tmp_path, "r", wait=0).release()  # freed either way


def test_run_config_reads_back_the_run_section(tmp_path):
    run = runs.new_run(tmp_path, "r")
    run.write_config({"run": tiny_config().to_dict(), "model": {}})
    assert run.run_config() == tiny_config()
    run.write_config({"model": {}})
    with pytest.raises(runs.RunError, match="no valid 'run' section"):
        run.run_config()
