"""`train`: a run folder from a config, exact resume after SIGKILL, divergence, data order."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan.gan  # noqa: F401  (registers GAN for loading checkpoints here)
import kgan.schedules  # noqa: F401
from kgan import runs, training
from kgan.config import RunConfig
from kgan.data.stream import epoch_batches
from kgan.errors import KganError

# A tiny run that still exercises every piece of state: two critic steps, R1, a decaying
# learning rate, an EMA generator.
TINY = dict(
    dataset="ring8",
    arch="mlp",
    arch_kwargs={"units": 16, "depth": 1},
    latent_dim=4,
    loss="hinge",
    regularizer="r1",
    regularizer_weight=1.0,
    n_critic=2,
    g_lr=2e-3,
    d_lr=2e-3,
    lr_decay=0.5,
    ema=0.9,
    batch_size=32,
    epochs=3,
    steps_per_epoch=6,
    seed=3,
)


def tiny(**changes):
    return RunConfig(**TINY).replace(**changes)


def state(run):
    """Every variable of the run's last checkpoint (networks, EMA, optimizers), in order."""
    gan = keras.saving.load_model(run.latest_checkpoint()[1], safe_mode=True)
    variables = [*gan.variables, *gan.d_optimizer.variables, *gan.g_optimizer.variables,
                 *gan.sampler.weights]
    return [(v.name, v.numpy()) for v in variables]


def losses(run):
    return [{k: v for k, v in r.items() if k not in ("time", "epoch_time")} for r in run.history()]


def test_train_writes_a_complete_run_folder(tmp_path):
    run = training.train(tiny(), tmp_path, name="r", export=False, verbose=0)
    assert run.status == "complete"
    config = run.config()
    assert config["run"] == tiny().to_dict()
    gan = keras.saving.deserialize_keras_object(config["model"])  # the model's own config
    assert gan.latent_dim == 4 and gan.n_critic == 2 and gan.ema_decay == 0.9
    assert config["compile"]["loss"]["name"] == "hinge"
    meta = run.metadata()
    for key, value in {
        "dataset": "ring8", "kind": "vector", "data_shape": [2], "latent_dim": 4,
        "num_classes": None, "conditional": False, "architecture": "mlp", "loss": "hinge",
        "epochs": 3, "epochs_done": 3, "steps_done": 18, "steps_per_epoch": 6, "metrics": {},
    }.items():
        assert meta[key] == value, key
    assert set(meta["versions"]) == {"kgan", "tensorflow", "keras", "python"}
    assert meta["training_time_s"] > 0 and meta["regularizers"][0]["name"] == "r1"
    assert [e for e, _ in run.samples()] == [0, 1, 2, 3]
    assert [e for e, _ in run.checkpoints()] == [2, 3]
    assert run.has_generator and not run.has_export


def _trainer(root, pause_marker=None, resume=False) -> list[str]:
    """A `python -c` command line training `tiny(deterministic=True)` into `root` as run "r",
    optionally pausing (for a kill) after batch 3 of epoch 2."""
    child = textwrap.dedent(
        f"""
        import json, pathlib, sys, time, keras
        from kgan.config import RunConfig
        from kgan.training import train

        class PauseMidEpoch(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = epoch
            def on_train_batch_end(self, batch, logs=None):
                if {pause_marker is not None} and self.epoch == 1 and batch == 2:
                    pathlib.Path({str(pause_marker)!r}).write_text("x")
                    time.sleep(600)

        config = None if {resume} else RunConfig.from_dict(json.loads(sys.argv[1]))
        train(config, {str(root)!r}, name="r", resume={resume}, export=False, verbose=0,
              callbacks=[PauseMidEpoch()])
        """
    )
    return [sys.executable, "-c", child, json.dumps(tiny(deterministic=True).to_dict())]


def _deterministic_env() -> dict:
    """The environment a deterministic run repeats bit for bit in (`kgan.determinism`)."""
    from kgan import determinism

    return {**os.environ, **determinism.ENVIRONMENT}


@pytest.mark.exact
def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path):
    """Kill a real training process in the middle of epoch 2, resume, compare bit for bit.

    Exact equality across processes is what `deterministic=True` promises in the environment
    `kgan train` gives it (oneDNN off, one inter-op thread: `kgan.determinism`; without it
    kernels may round differently under load: docs/run_folder.md). Every run is its own
    process, since op determinism cannot be switched off again in this one."""
    marker = tmp_path / "paused"
    process = subprocess.Popen(_trainer(tmp_path / "killed", pause_marker=marker),
                               env=_deterministic_env())
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert process.poll() is None, "the training process ended before it paused"
            assert time.monotonic() < deadline, "the training process never reached epoch 2"
            time.sleep(0.1)
        # The full run trains while the other one sleeps, never beside it: two trainers
        # computing at once on 2 cores were seen to round epoch 1 differently (~1e-6).
        full_run = subprocess.run(_trainer(tmp_path / "full"), check=True, timeout=600,
                                  env=_deterministic_env(), capture_output=True, text=True)
        assert "warning" not in full_run.stdout, full_run.stdout
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    full = runs.open_run(tmp_path / "full", "r")
    killed = runs.open_run(tmp_path / "killed", "r")
    assert killed.status == runs.INTERRUPTED
    assert [e for e, _ in killed.checkpoints()] == [1]
    assert [r["epoch"] for r in killed.history()] == [1]

    subprocess.run(_trainer(tmp_path / "killed", resume=True), check=True, timeout=600,
                   env=_deterministic_env())
    resumed = runs.open_run(tmp_path / "killed", "r")
    assert resumed.status == "complete"
    assert resumed.metadata()["deterministic"] is True
    assert losses(resumed) == losses(full)
    want, got = state(full), state(resumed)
    assert [name for name, _ in got] == [name for name, _ in want]
    for (name, have), (_, expected) in zip(got, want):
        np.testing.assert_array_equal(have, expected, err_msg=name)
    assert resumed.metadata()["training_time_s"] >= resumed.history()[0]["time"]


class CrashAt(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 2:
            raise RuntimeError("power cut")


def test_a_run_that_dies_in_its_first_epoch_restarts_identically(tmp_path):
    config = tiny(epochs=1, n_critic=1, regularizer=None)
    with pytest.raises(RuntimeError, match="power cut"):
        training.train(config, tmp_path, name="r", export=False, verbose=0, callbacks=[CrashAt()])
    crashed = runs.open_run(tmp_path, "r")
    assert crashed.status == "failed" and crashed.reason == "RuntimeError: power cut"
    assert crashed.checkpoints() == []
    resumed = training.train(None, tmp_path, name="r", resume=True, export=False, verbose=0)
    full = training.train(config, tmp_path, name="full", export=False, verbose=0)
    # Without `deterministic` the promise is equality up to float rounding (oneDNN's kernels
    # may reorder sums under load): 1e-5 relative, far below any training effect.
    for a, b in zip(losses(resumed), losses(full)):
        assert a.keys() == b.keys()
        np.testing.assert_allclose([a[k] for k in a], [b[k] for k in a], rtol=1e-5, atol=1e-7)
    for (name, have), (_, want) in zip(state(resumed), state(full)):
        np.testing.assert_allclose(have, want, rtol=1e-5, atol=1e-6, err_msg=name)


def test_resume_extends_a_finished_run(tmp_path):
    config = tiny(lr_decay=0.0, epochs=1, n_critic=1, regularizer=None)
    training.train(config, tmp_path, name="r", export=False, verbose=0)
    run = training.train(None, tmp_path, name="r", resume=True, epochs=2, export=False, verbose=0)
    assert [r["epoch"] for r in run.history()] == [1, 2]
    assert run.config()["run"]["epochs"] == 2
    assert run.metadata()["epochs"] == 2 and run.status == "complete"


def test_resume_refuses_to_extend_a_decayed_run(tmp_path):
    run = runs.new_run(tmp_path, "r")
    run.write_config({"run": tiny(epochs=1).to_dict(), "model": {}})
    run.mark_complete()
    with pytest.raises(KganError, match="cannot be extended"):
        training.train(None, tmp_path, name="r", resume=True, epochs=2, verbose=0)


def test_resume_of_an_unknown_run(tmp_path):
    with pytest.raises(runs.RunError, match="no run named 'nope'"):
        training.train(None, tmp_path, name="nope", resume=True)


class PoisonAt(keras.callbacks.Callback):
    """NaN into the generator's first kernel (`part="generator"`; fused oneDNN kernels may
    hide it from the losses) or the EMA generator's (`"ema"`; no loss ever sees it)."""

    def __init__(self, part="generator"):
        super().__init__()
        self.part = part

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            network = self.model.generator if self.part == "generator" else self.model.ema_generator
            w = network.weights[0]
            w.assign(np.full(w.shape, np.nan, np.float32))


@pytest.mark.parametrize("part", ["generator", "ema"])
def test_diverging_run_is_marked_failed_and_keeps_its_checkpoint(tmp_path, part):
    with pytest.raises(training.TrainingDiverged, match="non-finite (loss at|weights after) epoch 2"):
        training.train(tiny(), tmp_path, name="r", verbose=0, callbacks=[PoisonAt(part)])
    run = runs.open_run(tmp_path, "r")
    assert run.status == "failed" and "non-finite" in run.reason
    assert [e for e, _ in run.checkpoints()] == [1]
    assert run.metadata()["epochs_done"] == 1
    assert np.isfinite(run.load_generator().get_weights()[0]).all()
    assert not run.has_export


def test_bad_configurations_fail_before_any_folder_is_made(tmp_path):
    with pytest.raises(KganError, match="valid names"):
        training.train(tiny(loss="nope"), tmp_path, name="r")
    with pytest.raises(KganError, match="invalid run name"):
        training.train(tiny(), tmp_path, name="../r")
    with pytest.raises(KganError, match="positive integer"):
        tiny(epochs=0)
    with pytest.raises(KganError, match="no class labels"):
        training.train(tiny(conditional=True), tmp_path, name="r")
    assert list(tmp_path.iterdir()) == []


def test_check_model_compares_with_the_models_config():
    config = tiny()
    keras.utils.set_random_seed(0)
    gan = config.build_gan((2,), steps_per_epoch=6)
    config.check_model(gan)
    with pytest.raises(KganError, match="latent_dim: model has 4, config says 8"):
        config.replace(latent_dim=8).check_model(gan)


def test_jit_compile_option_compiles_the_step_with_xla():
    assert not tiny().build_gan((2,)).jit_compile
    gan = tiny(jit_compile=True).build_gan((2,))
    assert gan.jit_compile and gan.get_compile_config()["jit_compile"] is True
    with pytest.raises(KganError, match="jit_compile must be true, false or .auto."):
        tiny(jit_compile="yes")


def test_epoch_batches_resume_the_same_data_order():
    examples = tf.data.Dataset.range(10)

    def batches(first):
        keras.utils.set_random_seed(7)
        ds = epoch_batches(examples, batch_size=3, steps=2, seed=7, first_epoch=first,
                           last_epoch=4, buffer=10)
        return [b.tolist() for b in ds.as_numpy_iterator()]

    full = batches(0)
    assert len(full) == 8
    assert batches(2) == full[4:]
    assert full[0] != full[2]  # a shuffled stream, not the same order every epoch


def test_a_run_being_trained_is_not_touched_by_a_second_process(tmp_path):
    run = runs.new_run(tmp_path, "r")
    run.write_config({"run": tiny().to_dict(), "model": {}})
    run.mark_running()  # this (live) process "trains" it
    with pytest.raises(KganError, match=f"being trained right now \\(process {os.getpid()}\\)"):
        training.train(None, tmp_path, name="r", resume=True)
    with pytest.raises(KganError, match="being trained right now"):
        training.train(tiny(), tmp_path, name="r", overwrite=True)
    assert run.config()["run"] == tiny().to_dict()


def test_a_corrupt_checkpoint_gets_advice_that_is_true(tmp_path):
    """Following the advice loses one epoch, not the run (two checkpoints are kept)."""
    config = tiny(lr_decay=0.0, n_critic=1, regularizer=None)
    training.train(config, tmp_path, name="r", export=False, verbose=0)
    run = runs.open_run(tmp_path, "r")
    assert [e for e, _ in run.checkpoints()] == [2, 3]
    run.checkpoint_path(3).write_bytes(b"PK\x03\x04 not a keras file")
    run.mark_failed("power cut")  # as after a crash at the very end
    with pytest.raises(runs.RunError) as error:
        training.train(None, tmp_path, name="r", resume=True, export=False, verbose=0)
    message = str(error.value)
    assert f"checkpoint {run.checkpoint_path(3)} is corrupt (" in message
    assert "delete it to resume from epoch 2 (the epochs after it are redone)" in message
    assert "not found" not in message.lower()
    run.checkpoint_path(3).unlink()  # the advice
    resumed = training.train(None, tmp_path, name="r", resume=True, export=False, verbose=0)
    assert resumed.status == "complete"
    assert [r["epoch"] for r in resumed.history()] == [1, 2, 3]
    assert [e for e, _ in resumed.samples()] == [0, 1, 2, 3]
    assert [e for e, _ in resumed.checkpoints()] == [2, 3]


def test_kgan_train_of_a_diverging_run_exits_non_zero_and_exports_nothing(tmp_path, capsys):
    """An unpenalised Wasserstein critic at lr 1 explodes while every loss stays finite."""
    from kgan import cli

    code = cli.main([
        "train", "--dataset", "ring8", "--arch", "mlp", "--loss", "wasserstein", "--lr", "1", "--epochs", "3",
        "--steps-per-epoch", "20", "--batch-size", "64", "--name", "w",
        "--runs-dir", str(tmp_path), "--quiet",
    ])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("kgan: error: run 'w' failed: exploding loss at epoch 1") and err.count("\n") == 1
    run = runs.open_run(tmp_path, "w")
    assert run.status == "failed" and "exploding loss" in run.reason
    assert not run.has_export and run.checkpoints() == [] and not run.has_generator


def test_a_run_without_an_architecture_gets_the_one_its_data_needs(tmp_path):
    """`kgan train --dataset grid25 --loss minimax` works: vector data trains an mlp."""
    config = RunConfig(dataset="grid25", loss="minimax", latent_dim=4, epochs=1,
                       steps_per_epoch=2, batch_size=16, eval_every=0)
    run = training.train(config, tmp_path, export=False, verbose=0)
    assert run.status == "complete"
    assert run.config()["run"]["arch"] == "mlp" and run.metadata()["architecture"] == "mlp"
    assert run.name.startswith("grid25-mlp-")


def test_a_time_budget_ends_a_complete_run_at_a_step_boundary(tmp_path, capsys):
    """--minutes: training stops after the first call (steps_per_execution steps) that ends
    past the budget, inside its epoch; that shorter epoch is recorded, checkpointed and
    measured, and the run is complete with it and extends from the next epoch."""
    config = tiny(minutes=1e-4, epochs=50, lr_decay=0.0, eval_every=20, eval_num=200,
                  steps_per_execution=2)
    run = training.train(config, tmp_path, name="r", export=False, verbose=0)
    assert run.status == "complete"
    assert [(r["epoch"], r["step"]) for r in run.history()] == [(1, 2)]  # 2 of its 6 steps
    assert run.metadata()["steps_done"] == 2
    assert [e for e, _ in run.checkpoints()] == [1]
    assert run.config()["run"]["epochs"] == 1 and run.metadata()["epochs"] == 1
    assert {r["epoch"] for r in run.metric_records()} == {1}  # the last epoch is measured
    out = capsys.readouterr().out
    assert "stopped at step 2, in epoch 1: the 0.0001-minute budget ran out" in out
    extended = training.train(None, tmp_path, name="r", resume=True, epochs=3, export=False,
                              verbose=0)
    # --epochs lifts the budget; the next epochs are whole.
    assert [(r["epoch"], r["step"]) for r in extended.history()] == [(1, 2), (2, 8), (3, 14)]
    assert extended.config()["run"]["minutes"] is None


def test_a_budget_that_is_not_reached_changes_nothing(tmp_path):
    run = training.train(tiny(minutes=60.0, lr_decay=0.0), tmp_path, name="r", export=False,
                         verbose=0)
    assert [r["epoch"] for r in run.history()] == [1, 2, 3] and run.config()["run"]["epochs"] == 3


def test_a_deterministic_run_says_when_its_process_cannot_repeat_it(tmp_path):
    """`kgan train --deterministic` starts TensorFlow in the environment that repeats bit for
    bit; a Python program that did not is warned, once."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_ENABLE_ONEDNN_OPTS",
                                                            "TF_NUM_INTEROP_THREADS")}
    python = subprocess.run(_trainer(tmp_path / "py"), env=env, capture_output=True, text=True,
                            timeout=600, check=True)
    assert python.stdout.count("kgan: warning: this deterministic run may not repeat") == 1
    assert "oneDNN on" in python.stdout and "TF_ENABLE_ONEDNN_OPTS=0" in python.stdout
    kgan = Path(sys.executable).with_name("kgan")
    cli = subprocess.run([str(kgan), "train", "--preset", "ring8", "--deterministic", "--epochs",
                          "1", "--steps-per-epoch", "2", "--steps-per-execution", "1",
                          "--no-export", "--quiet", "--runs-dir", str(tmp_path / "cli")],
                         env=env, capture_output=True, text=True, timeout=600)
    assert cli.returncode == 0, cli.stderr
    assert "warning: this deterministic run" not in cli.stdout, cli.stdout
