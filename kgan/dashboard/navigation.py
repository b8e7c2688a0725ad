"""Where the dashboard looks and what it shows: the runs root, and the URL's query parameters.

The URL is the state of the page, so a view can be bookmarked and shared::

    ?view=runs                                   the runs table (the default)
    ?view=run&run=NAME&section=training|sample|card
    ?view=compare&runs=A,B[,C,D]

Names from the URL are only accepted when they are runs `kgan.runs.list_runs` found under the
root (and pass `kgan.runs.validate_name`); anything else is dropped with a message.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from kgan import runs as runs_lib

VIEWS = {"runs": "Runs", "run": "Run", "compare": "Compare"}
SECTIONS = {"training": "Training", "sample": "Sample", "card": "Model card"}
MAX_COMPARE = 4


def runs_root(argv: Sequence[str], app_dir: str | os.PathLike) -> Path:
    """The runs root: `--runs-dir DIR` in `argv`, else `$KGAN_RUNS_DIR`, else `saved_models/`
    beside `app_dir` (the folder of app.py). Other arguments in `argv` are ignored.

    Example:
        >>> runs_root(["--runs-dir", "/tmp/runs"], ".")
        PosixPath('/tmp/runs')
    """
    parser = argparse.ArgumentParser(
        prog="streamlit run app.py --", add_help=False, allow_abbrev=False
    )
    parser.add_argument("--runs-dir", default=None)
    args, _ = parser.parse_known_args(list(argv))
    if args.runs_dir:
        return Path(args.runs_dir).expanduser().resolve()
    if os.environ.get("KGAN_RUNS_DIR"):
        return runs_lib.default_root().expanduser().resolve()
    return (Path(app_dir) / runs_lib.default_root()).resolve()


@dataclass(frozen=True)
class Route:
    """A validated reading of the query parameters.

    Attributes:
        view: "runs", "run" or "compare".
        run: the run of the run view (None: none chosen yet).
        compare: the runs of the compare view (at most `MAX_COMPARE`).
        section: the part of the run view ("training", "sample" or "card").
        problems: messages about parameters that were ignored.
    """

    view: str = "runs"
    run: str | None = None
    compare: tuple = ()
    section: str = "training"
    problems: tuple = field(default=())


def _name(value: str | None, known: Sequence[str], problems: list) -> str | None:
    if not value:
        return None
    try:
        runs_lib.validate_name(value)
    except runs_lib.RunError as e:
        problems.append(str(e))
        return None
    if value not in known:
        problems.append(f"there is no readable run named {value!r} in this runs folder")
        return None
    return value


def read_route(params: Mapping[str, str], known: Sequence[str]) -> Route:
    """The route of the query `params`, keeping only names of `known` (readable) runs.

    Example:
        >>> read_route({"run": "digits"}, known=["digits"]).view
        'run'
    """
    problems: list[str] = []
    view = params.get("view")
    if not view:
        view = "run" if params.get("run") else "compare" if params.get("runs") else "runs"
    if view not in VIEWS:
        problems.append(f"unknown view {view!r}; showing the runs table")
        view = "runs"
    section = params.get("section") or "training"
    if section not in SECTIONS:
        problems.append(f"unknown section {section!r}; showing training")
        section = "training"
    run = _name(params.get("run"), known, problems)
    compare: list[str] = []
    for value in (params.get("runs") or "").split(","):
        name = _name(value.strip(), known, problems)
        if name and name not in compare:
            compare.append(name)
    if len(compare) > MAX_COMPARE:
        problems.append(f"compare takes at most {MAX_COMPARE} runs; showing the first ones")
        compare = compare[:MAX_COMPARE]
    return Route(view, run, tuple(compare), section, tuple(problems))


def query(route: Route) -> dict[str, str]:
    """The query parameters of `route` (the inverse of `read_route`)."""
    params = {"view": route.view}
    if route.view == "run" and route.run:
        params["run"] = route.run
        params["section"] = route.section
    if route.view == "compare" and route.compare:
        params["runs"] = ",".join(route.compare)
    return params


def go(**changes) -> None:
    """Moves the page to the route with `changes` (e.g. `go(view="run", run="digits")`)."""
    import dataclasses

    import streamlit as st

    current = read_route(dict(st.query_params), _known())
    target = dataclasses.replace(current, problems=(), **changes)
    st.query_params.from_dict(query(target))


def _known() -> list[str]:
    import streamlit as st

    return list(st.session_state.get("_kgan_known_runs", ()))


def remember_known(names: Sequence[str]) -> None:
    """Stores the readable run names of this page run for `go` (widget callbacks run before the
    script, so they cannot list the root themselves)."""
    import streamlit as st

    st.session_state["_kgan_known_runs"] = list(names)


__all__ = [
    "MAX_COMPARE",
    "SECTIONS",
    "VIEWS",
    "Route",
    "go",
    "query",
    "read_route",
    "remember_known",
    "runs_root",
]
