"""The runs table: every run under the root with a thumbnail of its latest sample grid,
filterable and sortable, broken ones with errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from kgan import evaluation
from kgan import runs as runs_lib
from kgan.dashboard import data, navigation, run_view
from kgan.dashboard.safe import code, escape

#: The thumbnail column: each run's latest sample grid, beside its name.
SAMPLE = "sample"
#: Table rows tall enough for the thumbnails to be seen (Streamlit's default is 35 px).
ROW_HEIGHT = 56


def train_command(root: Path) -> str:
    return f"kgan train --preset digits --name digits --runs-dir {root}"


def render_empty(root: Path) -> None:
    st.info(
        f"There are no runs in {code(root)} yet. Train one, then reload this page:",
        icon=":material/info:",
    )
    st.code(train_command(root), language="bash")
    st.caption(
        "Or point the dashboard at another folder: `streamlit run app.py -- --runs-dir DIR` "
        "(or set `KGAN_RUNS_DIR`)."
    )


def render(root: Path, runs: list[runs_lib.Run]) -> None:
    st.title("Runs")
    st.caption(f"Runs folder: {code(root)}")
    if not runs:
        render_empty(root)
        return
    live = any(run.error is None and run.status == "running" for run in runs)
    table = st.fragment(run_every=run_view.REFRESH_SECONDS)(_table) if live else _table
    table(root, live)


def _table(root: Path, live: bool) -> None:
    """The table and its controls; re-run on a timer while some run is training."""
    if live and st.query_params.get("view", "runs") != "runs":
        st.rerun()  # a control of this fragment navigated away: redraw the whole page
    runs = runs_lib.list_runs(root)
    frame = add_thumbnails(data.runs_frame(runs), root, runs)
    if live:
        every = run_view.REFRESH_SECONDS
        st.caption(f"Some runs are training; this table refreshes every {every:g} s.")

    broken = frame[frame["status"] == "broken"]
    if not broken.empty:
        with st.container(border=True):
            st.warning(f"{len(broken)} run folder(s) cannot be read:", icon=":material/warning:")
            for _, row in broken.iterrows():
                st.markdown(f"- **{escape(row['name'])}** — {escape(row['reason / error'])}")
    below = below_floor(frame)
    if below:
        st.warning(
            f"FID under the real-vs-real floor at the same N in {', '.join(map(escape, below))}: "
            f"{evaluation.BELOW_FLOOR_WARNING}",
            icon=":material/warning:",
        )

    filter_col, status_col, sort_col, order_col = st.columns([3, 2, 2, 1])
    text = filter_col.text_input(
        "Filter", placeholder="name, dataset, architecture or loss", key="runs_filter"
    )
    statuses = sorted(frame["status"].dropna().unique())
    chosen = status_col.multiselect("Status", statuses, key="runs_status", placeholder="all")
    sort_options = [c for c in frame.columns if c not in ("reason / error", SAMPLE)]
    sort_by = sort_col.selectbox(
        "Sort by", sort_options, index=sort_options.index("updated"), key="runs_sort"
    )
    descending = order_col.toggle("Descending", value=True, key="runs_desc")

    shown = filter_frame(frame, text, chosen)
    shown = shown.sort_values(sort_by, ascending=not descending, na_position="last", kind="stable")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        row_height=ROW_HEIGHT,
        placeholder="",  # missing values (a run without a grid) are empty cells, not "None"
        column_config={
            SAMPLE: st.column_config.ImageColumn(
                help="The latest epoch's sample grid; double-click to enlarge", width="small"
            ),
            "training time (s)": st.column_config.NumberColumn(format="%.1f"),
            "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "updated": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "conditional": st.column_config.CheckboxColumn(),
            **FLOOR_CONFIG,
        },
    )
    st.caption(f"{len(shown)} of {len(frame)} runs · click a column header to sort by it")

    names = list(frame.loc[frame["status"] != "broken", "name"])
    if not names:
        return
    open_col, compare_col = st.columns(2)
    open_col.selectbox(
        "Open a run",
        names,
        index=None,
        placeholder="choose a run",
        key="runs_open",
        on_change=_open_chosen,
    )
    with compare_col:
        picked = st.multiselect(
            "Compare runs",
            names,
            max_selections=navigation.MAX_COMPARE,
            placeholder="choose 2 to 4 runs",
            key="runs_compare",
        )
        st.button(
            "Compare", disabled=len(picked) < 2, key="runs_compare_go", on_click=_compare_chosen
        )


#: How the runs table shows FID's real-vs-real floor (`data.FLOOR_COLUMNS`).
FLOOR_CONFIG = {
    "fid floor": st.column_config.NumberColumn(
        help="FID of held-out real data against the same reference at the same N: the best a "
        "generator can do at that N"
    ),
    "floor N": st.column_config.NumberColumn(format="%d", help="Samples on each side"),
    "fid / floor": st.column_config.NumberColumn(
        format="%.2fx", help="The run's FID at the floor's N over the floor (1x: as real data)"
    ),
    "below floor": st.column_config.CheckboxColumn(help=evaluation.BELOW_FLOOR_WARNING),
}


def below_floor(frame: pd.DataFrame) -> list[str]:
    """The runs whose latest FID is under its real-vs-real floor."""
    if "below floor" not in frame:
        return []
    return list(frame.loc[frame["below floor"].eq(True), "name"])  # missing: not below


def add_thumbnails(frame: pd.DataFrame, root: Path, runs: list[runs_lib.Run]) -> pd.DataFrame:
    """`frame` (`data.runs_frame(runs)`) with the `SAMPLE` column after the name: a thumbnail
    data URI of each run's latest sample grid, or None."""
    if frame.empty or "name" not in frame:
        return frame
    if SAMPLE in frame:  # a metric of that name
        frame = frame.rename(columns={SAMPLE: f"{SAMPLE} (metric)"})
    cells = data.thumbnails(root, runs, frame["status"])
    frame.insert(frame.columns.get_loc("name") + 1, SAMPLE, cells)
    return frame


def _open_chosen() -> None:
    name = st.session_state.get("runs_open")
    if name:
        st.session_state["runs_open"] = None  # coming back to the table, the box is empty again
        navigation.go(view="run", run=name, section="training")


def _compare_chosen() -> None:
    navigation.go(view="compare", compare=tuple(st.session_state.get("runs_compare") or ()))


def filter_frame(frame: pd.DataFrame, text: str, statuses) -> pd.DataFrame:
    """Rows whose name, dataset, architecture or loss contains `text` (case-insensitive) and
    whose status is one of `statuses` (all when empty)."""
    mask = pd.Series(True, index=frame.index)
    if text:
        needle = text.strip().lower()
        columns = [c for c in ("name", "dataset", "architecture", "loss") if c in frame]
        hay = frame[columns].apply(lambda r: " ".join(v for v in r if isinstance(v, str)), axis=1)
        mask &= hay.str.lower().str.contains(needle, regex=False)
    if statuses:
        mask &= frame["status"].isin(list(statuses))
    return frame[mask]
