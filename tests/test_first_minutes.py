"""A new user's first minutes (issue 17): quiet commands, one line while the built-in digits
dataset is prepared, and "next:" commands that work exactly as `kgan train` prints them."""

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kgan import cli, quiet, runs

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KGAN = BIN / "kgan"
README = PROJECT / "README.md"

#: What TensorFlow 2.21 printed before any kgan output, per process (recorded on this machine).
RECORDED = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    b"I0000 00:00:1796161145.172412    7757 port.cc:153] oneDNN custom operations are on. "
    b"You may see slightly different numerical results due to floating-point round-off errors "
    b"from different computation orders. To turn them off, set the environment variable "
    b"`TF_ENABLE_ONEDNN_OPTS=0`.\n"
    b"I0000 00:00:1796161145.237684    7757 cpu_feature_guard.cc:227] This TensorFlow binary is "
    b"optimized to use available CPU instructions in performance-critical operations.\n"
    b"To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other "
    b"operations, rebuild TensorFlow with the appropriate compiler flags.\n"
    b"W0000 00:00:1796161145.300000    7757 some.cc:1] a warning\n"
    b"E0000 00:00:1796161145.400000    7757 other.cc:2] an error\n"
    b"/x/y.py:3: UserWarning: a Python warning\n"
    b"2025-09-17 14:44:05.157831: I external/local_xla/xla/tsl/cuda/cudart_stub.cc:32] no cuda\n"
)

NOISE = (
    "All log messages before absl::InitializeLog()",
    "oneDNN custom operations are on",
    "This TensorFlow binary is optimized",
    "To enable the following instructions",
)


def noise(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(n in line for n in NOISE)]


def user_env(**changes) -> dict:
    """The environment of a user's shell: no TF_CPP_MIN_LOG_LEVEL (conftest sets one for the
    tests), the virtualenv's bin not on PATH (as after `make run`), and not inside a make
    (`make test` runs the suite: its MAKELEVEL would make a nested make print directories)."""
    dropped = ("TF_CPP_MIN_LOG_LEVEL", "KGAN_RUNS_DIR", "MAKELEVEL", "MAKEFLAGS", "MFLAGS")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != BIN]
    env["PATH"] = os.pathsep.join(path)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"  # outside the project's config
    env.update(changes)
    return env


# ----------------------------------------------------------------------------- quiet by default


def test_filter_lines_drops_cpp_logs_below_the_level():
    kept = quiet.filter_lines(RECORDED, 2).decode().splitlines()
    assert kept == [
        "E0000 00:00:1796161145.400000    7757 other.cc:2] an error",
        "/x/y.py:3: UserWarning: a Python warning",
    ]
    assert quiet.filter_lines(RECORDED, 3).decode().splitlines() == [
        "/x/y.py:3: UserWarning: a Python warning"
    ]
    kept = quiet.filter_lines(RECORDED, 1).decode()
    assert "a warning" in kept and "oneDNN" not in kept and "InitializeLog" not in kept
    assert quiet.filter_lines(RECORDED, 0) == RECORDED


@pytest.mark.parametrize(
    "given, verbose, level, env_after, hooked",
    [
        (None, False, 3, "3", True),     # kgan's default: fatal errors only
        ("2", False, 2, "2", True),      # the user's level, applied to the import-time lines too
        ("0", False, 0, "0", False),     # the user asked for everything
        (None, True, None, None, False),  # kgan --verbose: nothing changed
    ],
)
def test_the_quiet_rule(given, verbose, level, env_after, hooked):
    code = (
        "import os, sys\nfrom kgan import quiet\n"
        f"level = quiet.quiet_tensorflow(verbose={verbose})\n"
        "hook = any(type(f).__name__ == '_QuietImport' for f in sys.meta_path)\n"
        "print(repr(level), repr(os.environ.get('TF_CPP_MIN_LOG_LEVEL')), hook, "
        "'tensorflow' in sys.modules)"
    )
    env = user_env(**({"TF_CPP_MIN_LOG_LEVEL": given} if given is not None else {}))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=60, check=True)
    assert result.stdout.split() == [repr(level), repr(env_after), str(hooked), "False"]


# ----------------------------------------------------------------------------- built-in digits


def test_digits_is_prepared_with_one_kgan_line_and_no_tfds_output(tmp_path):
    code = (
        "from kgan import quiet\nquiet.quiet_tensorflow()\nimport kgan\n"
        "kgan.data.load('digits', batch_size=64)\nprint('loaded once', flush=True)\n"
        "kgan.data.load('digits', batch_size=64)\nprint('loaded twice', flush=True)\n"
        "from tensorflow_datasets.core.utils import tqdm_utils\n"
        "print('progress bars', tqdm_utils._active)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=user_env(KGAN_DATA_DIR=str(tmp_path / "tfds")), timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "kgan: preparing the built-in digits dataset (offline, once) ...",
        "loaded once",
        "loaded twice",
        "progress bars True",  # restored: a real TFDS download elsewhere keeps its bar
    ]
    for unwanted in ("Variant folder", "Downloading and preparing", "Generating", "Shuffling",
                     "downloaded and prepared", "\r", "WARNING:absl"):
        assert unwanted not in result.stderr + result.stdout
    assert (tmp_path / "tfds" / "digits" / "2.0.0" / "dataset_info.json").is_file()


@pytest.mark.parametrize("before", [True, False])
def test_quiet_tfds_restores_the_progress_bar_setting(before):
    import logging

    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.utils import tqdm_utils

    from kgan.data import offline

    tfds.display_progress_bar(before)
    try:
        with offline.quiet_tfds():
            assert tqdm_utils._active is False
            record = logging.LogRecord("absl", logging.WARNING, "/x/tensorflow_datasets/core/y.py",
                                       1, "Variant folder %s has no %s", ("d", "f"), None)
            assert not logging.getLogger("absl").filter(record)
            with offline.quiet_tfds():  # nested (is_prepared inside download_and_prepare)
                pass
            assert not logging.getLogger("absl").filter(record) and tqdm_utils._active is False
        assert tqdm_utils._active is before
        assert logging.getLogger("absl").filter(record)
    finally:
        tfds.display_progress_bar(True)


# ----------------------------------------------------------------------------- next: commands


def next_commands(stdout: str) -> list[str]:
    """The commands of the "next:" lines (their `# comment` dropped)."""
    lines = stdout.split("next:\n", 1)[1].splitlines()
    return [line.split("    # ")[0].strip() for line in lines if line.startswith("  ")]


def run_printed(command: str, cwd, env, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(shlex.split(command), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def serve_printed(command: str, cwd, env, url_pattern: str, path: str, timeout=180):
    """Starts a printed server command, waits for the URL it prints, fetches `path` from it
    and stops it (its whole process group): the fetched body."""
    process = subprocess.Popen(shlex.split(command), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    seen = []
    try:
        deadline = time.monotonic() + timeout
        url = None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            seen.append(line)
            match = re.search(url_pattern, line)
            url = match.group(1).rstrip("/") if match else None
        assert url, f"{command!r} printed no URL:\n{''.join(seen)}"
        for _ in range(60):
            try:
                with urllib.request.urlopen(url + path, timeout=10) as response:
                    return response.read().decode()
            except OSError:
                time.sleep(1)
        raise AssertionError(f"{url}{path} did not answer:\n{''.join(seen)}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stdout.close()


def check_commands(commands: list[str], name: str, cwd: Path, env: dict) -> None:
    """Runs each printed command as printed, in `cwd`, and checks what it did."""
    sample, dashboard, tensorboard = commands
    png = cwd / f"{name}.png"
    try:
        result = run_printed(sample, cwd, env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"wrote 64 samples of run {name!r} (seed 0) to {name}.png" in result.stdout
        assert png.stat().st_size > 0
        assert noise(result.stderr) == []
    finally:
        png.unlink(missing_ok=True)
    health = serve_printed(dashboard, cwd, env, r"URL: (http://127\.0\.0\.1:\d+)",
                           "/_stcore/health")
    assert health == "ok"
    if not port_free(6006):
        pytest.skip("port 6006 is taken: TensorBoard's printed command could not start here")
    tags = json.loads(serve_printed(tensorboard, cwd, env, r"at (http://localhost:\d+/?)",
                                    "/data/plugin/scalars/tags"))
    assert {"d_loss", "g_loss"} <= set(tags[f"{name}/tensorboard"])


@pytest.fixture(scope="module")
def trained_by_a_user(tmp_path_factory):
    """`kgan train` as a user types it in the project folder after `make run` (tiny ring8,
    TensorBoard on): the finished process and its runs folder."""
    root = tmp_path_factory.mktemp("runs")
    name = f"first-minutes-{os.getpid()}"
    argv = [str(KGAN), "train", "--preset", "ring8", "--epochs", "1", "--steps-per-epoch", "2",
            "--no-export", "--tensorboard", "--quiet", "--name", name, "--runs-dir", str(root)]
    result = subprocess.run(argv, cwd=PROJECT, env=user_env(), capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    return result, root, name


def test_kgan_train_prints_no_tensorflow_start_up_lines(trained_by_a_user):
    result, root, name = trained_by_a_user
    assert noise(result.stderr) == [], result.stderr
    assert not re.search(r"^[IWE]\d{4} ", result.stderr, flags=re.M), result.stderr
    # The run is announced once its checks pass: after kgan's own warnings and its auto
    # choices (precision, XLA), before anything else.
    notes = ("kgan: warning: ", "kgan: auto: ")
    lines = [l for l in result.stdout.splitlines() if not l.startswith(notes)]
    assert lines[0].startswith(f"training run {name!r} into "), result.stdout
    # --verbose (TensorFlow's own level) shows them again, where TensorFlow prints them at all.
    loud = subprocess.run([str(KGAN), "--verbose", "sample", name, "--num", "4", "--out",
                           str(root / "v.png"), "--runs-dir", str(root)],
                          env=user_env(), capture_output=True, text=True, timeout=300)
    assert loud.returncode == 0, loud.stderr
    assert "wrote 4 samples" in loud.stdout
    if not noise(loud.stderr):
        pytest.skip("TensorFlow prints no start-up lines on this machine, even when verbose")
    assert any("oneDNN" in line or "This TensorFlow binary" in line for line in noise(loud.stderr))


def test_next_commands_in_the_project_folder_are_make_targets_that_work(trained_by_a_user):
    result, root, name = trained_by_a_user
    commands = next_commands(result.stdout)
    assert commands == [
        f"make sample NAME={name} RUNS_DIR={root}",
        f"make dashboard RUNS_DIR={root}",
        f"make tensorboard RUNS_DIR={root}",
    ]
    check_commands(commands, name, PROJECT, user_env())


def test_next_commands_elsewhere_name_the_environments_programs(trained_by_a_user, tmp_path,
                                                                monkeypatch):
    """From another folder, with the virtualenv's bin off PATH, the same run's "next:" lines
    name the programs by path, and they work as printed there."""
    _, root, name = trained_by_a_user
    env = user_env()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", env["PATH"])
    monkeypatch.delenv("KGAN_RUNS_DIR", raising=False)
    lines = cli._next_lines(runs.open_run(root, name), root)
    commands = [line.split("    # ")[0].strip() for line in lines]
    assert commands == [
        f"{KGAN} sample {name} --out {name}.png --runs-dir {root}",
        (f"{BIN / 'streamlit'} run {PROJECT / 'app.py'} --server.address 127.0.0.1 "
         f"-- --runs-dir {root}"),
        f"{BIN / 'tensorboard'} --logdir {root}",
    ]
    check_commands(commands, name, tmp_path, env)


def test_programs_found_on_path_are_named_plainly(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(BIN))
    assert cli._program("kgan") == "kgan" and cli._program("streamlit") == "streamlit"
    assert cli._program("no-such-program") is None
    monkeypatch.setenv("PATH", "")
    assert cli._program("kgan") == str(KGAN)
    monkeypatch.chdir(PROJECT)
    assert cli._program("kgan") == str(KGAN.relative_to(PROJECT))  # .venv/bin/kgan


def test_what_cannot_run_is_said_in_words(trained_by_a_user, monkeypatch, tmp_path):
    _, root, name = trained_by_a_user
    monkeypatch.chdir(PROJECT)
    real = cli._program
    monkeypatch.setattr(cli.hints, "_program", lambda n: None if n != "kgan" else real(n))
    odd = tmp_path / "a$b"  # `$` cannot pass through make: the path forms instead
    odd.symlink_to(root, target_is_directory=True)
    lines = cli._next_lines(runs.open_run(odd, name), odd)
    assert lines == [
        f".venv/bin/kgan sample {name} --out {name}.png --runs-dir '{odd}'    # 64 samples "
        f"into {name}.png",
        "(the dashboard needs Streamlit: kgan's `app` extra)",
        "(TensorBoard needs the `tensorboard` extra)",
    ]


def readme_make_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith("make ")]


def test_every_make_command_of_the_readme_is_a_target():
    commands = readme_make_commands()
    assert {"make run", "make test", "make dashboard", "make tensorboard"} <= set(commands)
    for command in commands:
        result = subprocess.run([*shlex.split(command), "-n"], cwd=PROJECT, env=user_env(),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, (command, result.stderr)
    dry = subprocess.run(["make", "-n", "sample", "NAME=digits"], cwd=PROJECT,
                         env=user_env(RUNS_DIR="/not/this"), capture_output=True, text=True,
                         timeout=60)
    # RUNS_DIR only counts when given on make's command line (not from the environment).
    assert dry.stdout.splitlines()[-1] == '.venv/bin/kgan sample "digits" --out "digits.png" '
