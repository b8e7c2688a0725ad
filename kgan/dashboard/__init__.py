"""The Streamlit dashboard behind `streamlit run app.py`: browse, compare and sample trained runs.

It only reads: every file comes through `kgan.runs` from the runs root chosen by
`streamlit run app.py -- --runs-dir DIR`, `$KGAN_RUNS_DIR`, or `saved_models/` beside app.py.

    navigation     the runs root, and the URL query parameters that say what the page shows
    data           reads shaped for display; the cached generator and drawn pictures
    sampling       latents, slerp, generator calls, pictures (no Streamlit; tested directly)
    charts         training curves and scatter plots
    runs_view, run_view, compare_view    the three pages

Example:
    streamlit run app.py -- --runs-dir saved_models
    # then open http://localhost:8501/?view=run&run=digits&section=sample
"""

from __future__ import annotations

from pathlib import Path

_settled = False


def render(root: Path) -> None:
    """Draws the page for the runs under `root` (one Streamlit script run)."""
    import streamlit as st

    from kgan import runs as runs_lib
    from kgan.dashboard import compare_view, data, navigation, run_view, runs_view
    from kgan.dashboard.safe import escape

    global _settled
    if not _settled:  # once per server process, after the heavy imports above
        data.settle()
        _settled = True
    st.set_page_config(page_title="kgan runs", page_icon=":material/grid_view:", layout="wide")
    runs = runs_lib.list_runs(root)
    known = [run.name for run in data.readable(runs)]
    navigation.remember_known(known)
    route = navigation.read_route(dict(st.query_params), known)
    _sidebar(root, route, known)
    for problem in route.problems:
        st.warning(escape(problem), icon=":material/link_off:")  # quotes the URL's values

    try:
        if route.view == "run" and route.run:
            run_view.render(root, runs_lib.open_run(root, route.run), route.section)
        elif route.view == "run":
            st.title("Run")
            st.info("Choose a run in the sidebar." if known else "There are no readable runs yet.")
        elif route.view == "compare":
            compare_view.render(root, known, route.compare)
        else:
            runs_view.render(root, runs)
    except runs_lib.RunError as e:  # a run folder changed or broke while being read
        st.error(escape(e), icon=":material/error:")


def _sidebar(root: Path, route, known: list[str]) -> None:
    import streamlit as st

    from kgan.dashboard import navigation
    from kgan.dashboard.safe import code

    labels = list(navigation.VIEWS.values())
    keys = {label: key for key, label in navigation.VIEWS.items()}
    with st.sidebar:
        st.header("kgan")
        st.session_state["nav_view"] = navigation.VIEWS[route.view]
        st.radio(
            "View",
            labels,
            key="nav_view",
            on_change=lambda: navigation.go(view=keys[st.session_state["nav_view"]]),
        )
        if route.view == "run":
            st.session_state["nav_run"] = route.run
            st.selectbox(
                "Run",
                known,
                index=None,
                placeholder="choose a run",
                key="nav_run",
                on_change=lambda: navigation.go(run=st.session_state["nav_run"]),
            )
        st.divider()
        st.caption(f"Runs folder: {code(root)}")
        st.button("Reload", help="Read the runs folder again", key="nav_reload")


__all__ = ["render"]
