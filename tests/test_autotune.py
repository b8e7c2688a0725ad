"""The run-time choice of precision and XLA: what is timed, what is chosen, what is recorded."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from kgan import autotune, cli, machine, training
from kgan.autotune import Candidate
from kgan.config import RunConfig
from kgan.errors import KganError

F32, F32_XLA = Candidate("float32", False), Candidate("float32", True)
BF16, BF16_XLA = Candidate("mixed_bfloat16", False), Candidate("mixed_bfloat16", True)

TINY = RunConfig(
    dataset="ring8", arch="mlp", arch_kwargs={"units": 16, "depth": 1}, latent_dim=4,
    batch_size=32, epochs=1, steps_per_epoch=3, seed=1, ema=0.9,
)


def test_choose_keeps_the_simplest_candidate_within_the_margin():
    # bf16 + XLA is fastest but float32 + XLA is within 10%: numerics stay float32
    assert autotune.choose({F32: 10.0, F32_XLA: 13.6, BF16: 9.0, BF16_XLA: 13.8}) == F32_XLA
    # nothing clearly beats float32: no compile, no mixed precision
    assert autotune.choose({F32: 10.0, F32_XLA: 10.5, BF16: 10.9}) == F32
    # a clear gain is taken, whatever its place
    assert autotune.choose({F32: 8.3, F32_XLA: 4.1, BF16: 11.0}) == BF16


def test_candidates_follow_the_device(monkeypatch):
    monkeypatch.setattr(machine, "gpus", lambda: [])
    monkeypatch.setattr(machine, "native_bf16", lambda: False)
    assert autotune.candidates("auto", False) == [F32]  # emulated bf16: never timed
    assert autotune.candidates("auto", "auto") == [F32, F32_XLA]
    monkeypatch.setattr(machine, "native_bf16", lambda: True)
    assert autotune.candidates("auto", True) == [F32_XLA, BF16_XLA]
    assert autotune.candidates("mixed_float16", "auto") == [
        Candidate("mixed_float16", False), Candidate("mixed_float16", True)]
    monkeypatch.setattr(machine, "gpus", lambda: [{"name": "A100", "compute_capability": (8, 0)}])
    assert [c.precision for c in autotune.candidates("auto", False)] == [
        "float32", "mixed_float16", "mixed_bfloat16"]
    monkeypatch.setattr(machine, "gpus", lambda: [{"name": "P100", "compute_capability": (6, 0)}])
    assert autotune.candidates("auto", False) == [F32]


def test_native_bf16_reads_the_cpu_flags(monkeypatch):
    facts = {"cpu_model": "x", "cores": 2}
    monkeypatch.setattr(machine, "cpu", lambda: {**facts, "cpu_flags": "avx2 avx512f fma"})
    assert not machine.native_bf16()
    monkeypatch.setattr(machine, "cpu", lambda: {**facts, "cpu_flags": "avx512_bf16 avx512f"})
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    assert machine.native_bf16()
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")  # capped: bf16 would not run natively
    assert not machine.native_bf16()


def test_resolve_measures_once_then_reads_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("KGAN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(machine, "native_bf16", lambda: True)
    calls, lines = [], []

    def timer(config, shape, classes, options):
        calls.append((tuple(shape), options))
        return dict(zip(options, [10.0, 5.0, 14.0, 7.0]))

    config = TINY.replace(precision="auto", jit_compile="auto")
    first = autotune.resolve(config, (2,), None, report=lines.append, timer=timer)
    assert (first.precision, first.jit_compile) == ("mixed_bfloat16", False)
    assert calls == [((2,), [F32, F32_XLA, BF16, BF16_XLA])]
    assert "mixed_bfloat16 (" in lines[0] and "1.40x" in lines[0] and "measured now" in lines[0]
    again = autotune.resolve(config, (2,), None, report=lines.append, timer=timer)
    assert again == first and len(calls) == 1  # the cache answered
    assert "cached in" in lines[1]
    cache = json.loads((tmp_path / "autotune.json").read_text())
    (entry,) = cache.values()
    assert entry["steps_per_s"] == {"float32": 10.0, "float32 + XLA": 5.0,
                                    "mixed_bfloat16": 14.0, "mixed_bfloat16 + XLA": 7.0}
    # another model costs differently: measured anew
    autotune.resolve(config.replace(batch_size=64), (2,), None, report=None, timer=timer)
    assert len(calls) == 2


def test_resolve_leaves_a_concrete_config_alone():
    def timer(*args):
        raise AssertionError("nothing to measure")

    config = TINY.replace(precision="mixed_bfloat16", jit_compile=True)
    assert autotune.resolve(config, (2,), None, report=None, timer=timer) == config


def test_time_candidates_trains_the_runs_own_model():
    speeds = autotune.time_candidates(TINY, (2,), None, [F32, F32_XLA])
    assert set(speeds) == {F32, F32_XLA}
    assert all(np.isfinite(s) and s > 1.0 for s in speeds.values())
    assert keras.config.dtype_policy().name == "float32"  # restored


def test_bf16_run_trains_finite_float32_samples_and_resumes(tmp_path):
    config = RunConfig(
        dataset="digits", conditional=True, arch="dcgan", arch_kwargs={"width": 8},
        loss="nonsaturating", regularizer="r1", regularizer_weight=0.1, latent_dim=8,
        batch_size=32, epochs=2, steps_per_epoch=4, precision="mixed_bfloat16",
    )
    run = training.train(config, tmp_path, name="bf16", export=False, verbose=0)
    assert json.loads((run.path / "config.json").read_text())["run"]["precision"] == "mixed_bfloat16"
    generator = run.load_generator()
    assert generator.output.dtype == "float32"  # samples leave the network in float32
    conv = next(layer for layer in generator.layers if "conv" in layer.name)
    assert conv.dtype_policy.name == "mixed_bfloat16"  # the networks computed in bf16
    history = run.history()
    assert len(history) == 2 and all(np.isfinite(r["d_loss"]) and np.isfinite(r["r1"]) for r in history)
    run = training.train(None, tmp_path, name="bf16", resume=True, epochs=3, export=False,
                         verbose=0)
    assert [r["epoch"] for r in run.history()] == [1, 2, 3]


def test_cli_auto_records_what_it_chose(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("KGAN_CACHE_DIR", str(tmp_path / "cache"))
    # the timing itself is tested above; here XLA "wins" so the choice is visible
    monkeypatch.setattr(autotune, "time_candidates", lambda config, shape, classes, options: {
        option: 20.0 if option.jit_compile else 10.0 for option in options})
    argv = ["train", "--dataset", "ring8", "--arch", "mlp", "--arch-arg", "units=16",
            "--arch-arg", "depth=1", "--latent-dim", "4", "--epochs", "1",
            "--steps-per-epoch", "3", "--precision", "auto", "--jit-compile", "auto",
            "--quiet", "--runs-dir", str(tmp_path), "--name", "r"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "kgan: auto: float32 + XLA (" in out
    run = json.loads((tmp_path / "r" / "config.json").read_text())["run"]
    card = json.loads((tmp_path / "r" / "metadata.json").read_text())
    assert (run["precision"], run["jit_compile"]) == ("float32", True)
    assert (card["precision"], card["jit_compile"]) == ("float32", True)


@pytest.mark.parametrize("value, expected", [("on", True), ("off", False), ("auto", "auto")])
def test_jit_compile_flag_takes_on_off_auto(value, expected):
    from kgan.cli.entry import build_parser
    from kgan.cli.flags import resolve_train_config

    def parsed(*flags):
        return resolve_train_config(build_parser().parse_args(["train", *flags]))

    assert parsed("--jit-compile", value).jit_compile == expected
    assert parsed("--jit-compile", "--epochs", "3").jit_compile is True
    assert parsed().jit_compile is False


def test_bad_precision_and_jit_values_are_refused(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["train", "--jit-compile", "maybe", "--dry-run"])
    assert exit.value.code == 2 and "expected on, off or auto" in capsys.readouterr().err
    with pytest.raises(KganError, match="precision must be one of"):
        RunConfig(precision="bf16")
