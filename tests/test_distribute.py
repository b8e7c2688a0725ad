"""`kgan.distribute` and `kgan train --strategy`: mirrored over two logical CPUs and two workers
on localhost give the model one device gives; only the chief writes the run folder; a killed
worker's job resumes with every epoch once. Strategies configure TensorFlow as it starts, so
each run is its own `kgan train` process."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

import kgan.gan  # noqa: F401  (registers GAN for loading checkpoints here)
from kgan import distribute, runs
from kgan.config import RunConfig
from kgan.errors import KganError

KGAN = [sys.executable, "-m", "kgan.cli", "train"]
# A conditional digits run with a gradient penalty and two critic steps: every piece of
# state a strategy must keep in sync (both optimizers, the EMA, the BN statistics).
RUN = ["--dataset", "digits", "--conditional", "--regularizer", "gradient_penalty",
       "--n-critic", "2", "--batch-size", "32", "--epochs", "2", "--steps-per-epoch", "3",
       "--quiet"]


def _env(**extra) -> dict:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def _train(runs_dir: Path, name: str, *args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([*KGAN, "--runs-dir", str(runs_dir), "--name", name, *args],
                          capture_output=True, text=True, timeout=600, env=env or _env())


def _state(run) -> list[tuple[str, np.ndarray]]:
    """Every variable of the run's last checkpoint: networks, EMA, both optimizers."""
    gan = keras.saving.load_model(run.latest_checkpoint()[1], safe_mode=True)
    state = [(v.path, v) for v in gan.weights]
    for role, optimizer in (("d", gan.d_optimizer), ("g", gan.g_optimizer)):
        # Optimizers are named by creation order (adam_1, ...): name them by their role.
        state += [(f"{role}/{v.path.split('/', 1)[-1]}", v) for v in optimizer.variables]
    return [(name, np.asarray(v.numpy())) for name, v in state]


def _assert_same_state(a, b, atol: float) -> None:
    want, got = _state(a), _state(b)
    assert [n for n, _ in got] == [n for n, _ in want]
    for (name, have), (_, expected) in zip(got, want):
        np.testing.assert_allclose(have, expected, rtol=0, atol=atol, err_msg=name)


def _losses(run) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("time", "epoch_time")} for r in run.history()]


# ----------------------------------------------------------------------------- in process


def test_devices_are_parsed_into_tensorflow_names_and_bad_ones_refused():
    assert distribute.parse_devices(None) is None
    assert distribute.parse_devices("cpu:0, CPU:1") == ["/cpu:0", "/cpu:1"]
    assert distribute.parse_devices("/gpu:0,/device:GPU:1") == ["/gpu:0", "/gpu:1"]
    with pytest.raises(KganError, match="invalid --devices 'cpu0'.*cpu:0,cpu:1"):
        distribute.parse_devices("cpu0")
    with pytest.raises(KganError, match="names a device twice"):
        distribute.parse_devices("cpu:0,/cpu:0")


def test_unknown_strategy_and_multiworker_without_a_cluster_are_refused(monkeypatch):
    with pytest.raises(KganError, match="Unknown strategy 'ring'.*mirrored.*multiworker"):
        distribute.make("ring")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    with pytest.raises(KganError, match="needs TF_CONFIG"):
        distribute.make("multiworker")
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["h:1"]}, "task": {"index": 3}}')
    with pytest.raises(KganError, match="TF_CONFIG is not a valid cluster spec"):
        distribute.make("multiworker")
    with pytest.raises(KganError, match="does not apply to --strategy multiworker"):
        distribute.make("multiworker", devices="cpu:0")


def test_a_batch_must_split_evenly_over_the_replicas():
    class TwoReplicas:
        num_replicas_in_sync = 2

    distribute.check_batch(64, TwoReplicas(), "mirrored")
    with pytest.raises(KganError, match="--batch-size 63 does not split over the 2 replicas.*"
                                        "multiple of 2 \\(e.g. 62"):
        distribute.check_batch(63, TwoReplicas(), "mirrored")


def test_one_process_is_its_own_chief_and_fingerprints_see_every_value():
    import tensorflow as tf

    assert distribute.role(tf.distribute.get_strategy()) == distribute.Role(True, 0, 1)
    assert distribute.any_worker(tf.distribute.get_strategy(), True) is True
    assert distribute.any_worker(tf.distribute.get_strategy(), False) is False
    a = [np.zeros((2, 3), np.float32), np.ones(4, np.float32)]
    b = [np.zeros((2, 3), np.float32), np.ones(4, np.float32)]
    assert distribute.fingerprint(a) == distribute.fingerprint(b)
    b[1][3] = np.nextafter(np.float32(1), np.float32(2))
    assert distribute.fingerprint(a) != distribute.fingerprint(b)


def test_run_config_checks_the_strategy():
    assert RunConfig().strategy == "auto" and RunConfig().devices is None
    with pytest.raises(KganError, match="strategy must be one of auto, one, mirrored"):
        RunConfig(strategy="ring")
    assert RunConfig.from_dict(RunConfig(strategy="mirrored").to_dict()).strategy == "mirrored"


# ----------------------------------------------------------------------------- one machine


@pytest.fixture(scope="module")
def one_device(tmp_path_factory):
    """The reference: RUN on one device (shared by the tests that compare with it)."""
    root = tmp_path_factory.mktemp("one-device")
    out = _train(root, "one", *RUN, "--strategy", "one", "--no-export")
    assert out.returncode == 0, out.stderr[-2000:]
    return runs.open_run(root, "one")


@pytest.mark.exact
def test_mirrored_over_two_cpus_trains_the_model_one_device_trains(tmp_path, one_device):
    """Same global batches, same noise, synchronized batch norm: the same state after 6
    steps (12 critic steps), to float rounding; the run records its strategy."""
    two = _train(tmp_path, "two", *RUN, "--strategy", "mirrored", "--devices", "cpu:0,cpu:1",
                 "--no-export")
    assert two.returncode == 0, two.stderr[-2000:]
    assert "2 replicas (MirroredStrategy), 16 examples each of the global batch 32" in two.stdout
    a, b = one_device, runs.open_run(tmp_path, "two")
    card = b.metadata()
    assert (card["strategy"], card["replicas"], card["workers"]) == ("mirrored", 2, 1)
    assert a.metadata()["replicas"] == 1
    _assert_same_state(a, b, atol=1e-5)
    for x, y in zip(_losses(a), _losses(b)):
        assert x.keys() == y.keys()
        np.testing.assert_allclose([y[k] for k in x], [x[k] for k in x], rtol=1e-5, atol=1e-6)


def test_mirrored_turns_auto_xla_off_and_trains_with_reused_fakes(tmp_path):
    """XLA fails on variables mirrored over several devices, and the autotune times one
    device: under several replicas `--jit-compile auto` (what the presets ask) means off."""
    out = _train(tmp_path, "auto", *RUN, "--strategy", "mirrored", "--devices", "cpu:0,cpu:1",
                 "--jit-compile", "auto", "--reuse-fakes", "--no-export")
    assert out.returncode == 0, out.stderr[-2000:]
    run = runs.open_run(tmp_path, "auto")
    config = run.run_config()
    assert config.jit_compile is False and config.reuse_fakes is True
    assert run.config()["model"]["config"]["reuse_fakes"] is True
    assert len(run.history()) == 2


def test_mixed_float16_loss_scaling_with_a_penalty_under_mirrored(tmp_path):
    """Both loss-scale optimizers stay in sync across the replicas and with one device."""
    args = [*RUN, "--precision", "mixed_float16", "--loss", "wasserstein", "--no-export"]
    one = _train(tmp_path, "one", *args, "--strategy", "one")
    assert one.returncode == 0, one.stderr[-2000:]
    two = _train(tmp_path, "two", *args, "--strategy", "mirrored", "--devices", "cpu:0,cpu:1")
    assert two.returncode == 0, two.stderr[-2000:]
    a, b = runs.open_run(tmp_path, "one"), runs.open_run(tmp_path, "two")
    scales = {}
    for run in (a, b):
        gan = keras.saving.load_model(run.latest_checkpoint()[1], safe_mode=True)
        assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
        scales[run.name] = [float(o.dynamic_scale.numpy()) for o in (gan.d_optimizer, gan.g_optimizer)]
        assert all(np.isfinite(v.numpy()).all() for v in gan.weights)
    assert scales["one"] == scales["two"]
    # float16 activations round differently when the batch is split: close, not equal. Seen
    # here: weights within 0.9% (relative L2 per variable), Adam moments within 4%.
    for (name, have), (_, expected) in zip(_state(b), _state(a)):
        if have.dtype.kind == "f":
            limit = 0.2 if name[:2] in ("d/", "g/") else 0.05
            off = np.linalg.norm(have - expected) / max(np.linalg.norm(expected), 1e-12)
            assert off < limit, (name, off)


def test_a_batch_that_does_not_split_is_refused_before_anything_is_written(tmp_path):
    out = _train(tmp_path, "odd", "--dataset", "digits", "--batch-size", "33", "--epochs", "1",
                 "--strategy", "mirrored", "--devices", "cpu:0,cpu:1")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert "--batch-size 33 does not split over the 2 replicas of --strategy mirrored" in lines[0]
    assert not (tmp_path / "odd").exists()


# ----------------------------------------------------------------------------- two workers


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _workers(tmp_path: Path, args: list[str]) -> list[subprocess.Popen]:
    """Two `kgan train` workers on localhost, each with its own temporary folder."""
    cluster = {"worker": [f"localhost:{p}" for p in _free_ports(2)]}
    processes = []
    for index in range(2):
        scratch = tmp_path / f"tmp{index}"
        scratch.mkdir(exist_ok=True)
        env = _env(TF_CONFIG=json.dumps({"cluster": cluster,
                                         "task": {"type": "worker", "index": index}}),
                   TMPDIR=str(scratch))
        processes.append(subprocess.Popen(
            [*KGAN, "--runs-dir", str(tmp_path / "runs"), *args], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    return processes


def _finish(processes, timeout=600) -> list[tuple[int, str, str]]:
    results = []
    try:
        for p in processes:
            out, err = p.communicate(timeout=timeout)
            results.append((p.returncode, out, err))
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    return results


def _fingerprint(stdout: str) -> str:
    return stdout.split("weights fingerprint ")[1].split()[0]


def _leftovers(tmp_path: Path, index: int) -> list[str]:
    return [p.name for p in (tmp_path / f"tmp{index}").glob("kgan-worker*")]


@pytest.mark.exact
def test_two_workers_train_the_one_device_model_and_only_the_chief_writes(tmp_path, one_device):
    # A time budget that does not run out: the workers still vote after every call.
    args = ["--name", "mw", *RUN, "--strategy", "multiworker", "--minutes", "60"]
    (chief_rc, chief, chief_err), (worker_rc, worker, worker_err) = _finish(_workers(tmp_path, args))
    assert chief_rc == 0, chief_err[-2000:]
    assert worker_rc == 0, worker_err[-2000:]
    assert "2 replicas on 2 workers" in chief
    assert _fingerprint(chief) == _fingerprint(worker)
    assert "worker done: the chief holds the run folder" in worker
    run = runs.open_run(tmp_path / "runs", "mw")
    assert run.status == "complete" and run.has_export and run.has_generator
    assert [r["epoch"] for r in run.history()] == [1, 2]
    assert (run.metadata()["replicas"], run.metadata()["workers"]) == (2, 2)
    assert [p.name for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")] == ["mw"]
    assert _leftovers(tmp_path, 0) == [] and _leftovers(tmp_path, 1) == []
    _assert_same_state(one_device, run, atol=1e-5)


def test_a_killed_worker_and_a_restarted_job_train_every_epoch_once(tmp_path):
    args = ["--name", "k", "--dataset", "digits", "--batch-size", "32", "--epochs", "4",
            "--steps-per-epoch", "15", "--quiet", "--no-export", "--strategy", "multiworker"]
    chief, worker = _workers(tmp_path, args)
    second = tmp_path / "runs" / "k" / "checkpoint" / "epoch-0002.keras"
    try:
        deadline = time.monotonic() + 300
        while not second.exists():
            assert chief.poll() is None and worker.poll() is None, chief.stderr.read()[-2000:]
            assert time.monotonic() < deadline, "the job never reached epoch 2"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        _, err = chief.communicate(timeout=120)  # its collectives fail: it stops, one line
    finally:
        for p in (chief, worker):
            if p.poll() is None:
                p.kill()
    assert chief.returncode == 2 and "Traceback" not in err, err[-2000:]
    assert "lost contact with another worker" in err and "--resume k" in err
    stopped = runs.open_run(tmp_path / "runs", "k")
    assert stopped.status == "failed"
    done = [r["epoch"] for r in stopped.history()]
    assert done[:2] == [1, 2] and len(done) <= 3

    results = _finish(_workers(tmp_path, ["--resume", "k", "--quiet"]))
    for rc, out, err in results:
        assert rc == 0, err[-2000:]
    assert _fingerprint(results[0][1]) == _fingerprint(results[1][1])
    resumed = runs.open_run(tmp_path / "runs", "k")
    assert resumed.status == "complete"
    assert [r["epoch"] for r in resumed.history()] == [1, 2, 3, 4]
    assert [e for e, _ in resumed.checkpoints()][-1] == 4
    assert _leftovers(tmp_path, 0) == [] and _leftovers(tmp_path, 1) == []
