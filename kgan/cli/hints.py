"""The "next:" lines `kgan train` prints when a run is complete: how to sample it and open the
dashboard and TensorBoard on it.

They are commands that work exactly as printed, typed in the same folder and environment (the
same $KGAN_RUNS_DIR) as the `kgan train` that printed them:
- when kgan runs from its project's own `.venv` and the working folder is that project
  folder (as after `make run`), they are the Makefile's targets: `make sample NAME=RUN`,
  `make dashboard`, `make tensorboard`, plus `RUNS_DIR=DIR` for another runs folder;
- otherwise they name the programs of the Python environment kgan runs in: plain `kgan`,
  `streamlit`, `tensorboard` when PATH finds those very programs, else their paths
  (`.venv/bin/kgan`, relative to the working folder when inside it); the dashboard's app.py
  by its path, with `--server.address 127.0.0.1` outside the project folder (whose
  .streamlit/config.toml says so) and `-- --runs-dir DIR` unless app.py's default applies.
A program the environment lacks is named in words, never as a command that would fail.
"""

from __future__ import annotations

import sys


def _project_folder():
    """kgan's source folder (holding its Makefile and app.py) when kgan runs from one, else
    None (an installed copy)."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2]
    if (folder / "Makefile").is_file() and (folder / "app.py").is_file():
        return folder
    return None


def _use_make() -> bool:
    """True when kgan runs from its project's `.venv` and the working folder is the project."""
    from pathlib import Path

    project = _project_folder()
    return (
        project is not None
        and Path.cwd().resolve() == project
        and Path(sys.prefix).resolve() == (project / ".venv").resolve()
    )


def _as_typed(path) -> str:
    """`path` as the user types it here: relative to the working folder when inside it,
    else absolute; shell-quoted."""
    import os
    import shlex
    from pathlib import Path

    path = Path(os.path.abspath(path))
    try:
        shown = str(path.relative_to(Path.cwd()))
    except ValueError:
        shown = str(path)
    return shlex.quote(shown)


def _program(name: str) -> str | None:
    """How to type program `name` of the environment kgan runs in (see above), or None."""
    import os
    import shutil
    import sysconfig
    from pathlib import Path

    path = Path(sysconfig.get_path("scripts")) / name
    if not path.is_file():
        return None
    found = shutil.which(name)
    if found and os.path.samefile(found, path):
        return name
    return _as_typed(path)


def _kgan_program() -> str:
    import shlex

    return _program("kgan") or f"{shlex.quote(sys.executable)} -m kgan.cli"


def _make_runs_dir(root) -> str | None:
    """` RUNS_DIR=DIR` for a runs folder other than the default, "" for the default, None
    when DIR cannot pass through make (characters make or the shell would change)."""
    import shlex
    from pathlib import Path

    from kgan import runs

    if Path(root).resolve() == runs.default_root().resolve():
        return ""
    text = str(root)
    if any(c in text for c in "$\"'`\n\\#%"):
        return None
    return f" RUNS_DIR={shlex.quote(text)}"


def _dashboard_hint(runs_dir) -> str:
    """The command that opens the dashboard on `runs_dir`, or a note saying what it needs."""
    import os
    from pathlib import Path

    from kgan import runs

    if _use_make() and _make_runs_dir(runs_dir) is not None:
        return f"make dashboard{_make_runs_dir(runs_dir)}"
    project = _project_folder()
    streamlit = _program("streamlit")
    if project is None:
        return "(the dashboard is app.py of kgan's source folder, not part of this install)"
    if streamlit is None:
        return "(the dashboard needs Streamlit: kgan's `app` extra)"
    here = Path.cwd().resolve() == project
    address = "" if here else " --server.address 127.0.0.1"
    app_default = (
        runs.default_root() if os.environ.get("KGAN_RUNS_DIR") else project / "saved_models"
    )
    same = Path(runs_dir).resolve() == Path(app_default).resolve()
    where = "" if same else f" -- --runs-dir {_as_typed(runs_dir)}"
    return f"{streamlit} run {_as_typed(project / 'app.py')}{address}{where}"


def _next_lines(run, root) -> list[str]:
    """The "next:" commands after `kgan train`: sample, dashboard, TensorBoard (when the run
    wrote event files), each with what it does."""
    from pathlib import Path

    from kgan import runs

    make_dir = _make_runs_dir(root) if _use_make() else None
    if make_dir is not None:
        sample = f"make sample NAME={run.name}{make_dir}"
    else:
        given = Path(root).resolve() != runs.default_root().resolve()
        sample = (f"{_kgan_program()} sample {run.name} --out {run.name}.png"
                  f"{f' --runs-dir {_as_typed(root)}' if given else ''}")
    lines = [(sample, f"64 samples into {run.name}.png"),
             (_dashboard_hint(root), "open the dashboard")]
    tb_dir = run.tensorboard_dir
    if tb_dir.is_dir() and any(tb_dir.iterdir()):
        if make_dir is not None:
            tensorboard = f"make tensorboard{make_dir}"
        elif _program("tensorboard"):
            tensorboard = f"{_program('tensorboard')} --logdir {_as_typed(root)}"
        else:
            tensorboard = "(TensorBoard needs the `tensorboard` extra)"
        lines.append((tensorboard, "TensorBoard: scalars and sample grids per epoch"))
    commands = [command for command, _ in lines if not command.startswith("(")]
    width = max([len(command) for command in commands if len(command) <= 56] or [0])
    return [command if command.startswith("(") else f"{command:<{width}}    # {what}"
            for command, what in lines]
