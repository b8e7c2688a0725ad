"""One run's page: its header (status, what it trains, failures), the section switch, and the
live refresh of a run still training. The sections live beside it: `run_training` (curves,
health warnings, timeline), `run_sampling` (live samples from its generator) and `run_card`
(model card and configuration).

Every string read from the run folder goes through `safe.escape` before a Streamlit call that
renders Markdown."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from kgan import runs as runs_lib
from kgan.dashboard import navigation, run_card, run_sampling, run_training
from kgan.dashboard.run_sampling import truncation_control  # noqa: F401  (compare_view uses it)
from kgan.dashboard.safe import code, escape

#: Seconds between refreshes of a run that is still training.
REFRESH_SECONDS = 5.0
STATUS_BADGES = {
    "running": ":green-badge[running]",
    "complete": ":blue-badge[complete]",
    "failed": ":red-badge[failed]",
    runs_lib.INTERRUPTED: ":orange-badge[interrupted]",
}


def render(root: Path, run: runs_lib.Run, section: str) -> None:
    """Draws the page of `run` (under `root`) open at `section` (a key of navigation.SECTIONS)."""
    running = run.status == "running"
    header = _live(_header, running)
    header(run, running)
    labels = list(navigation.SECTIONS.values())
    st.session_state["nav_section"] = navigation.SECTIONS[section]
    st.radio(
        "Section",
        labels,
        horizontal=True,
        label_visibility="collapsed",
        key="nav_section",
        on_change=lambda: navigation.go(section=_section_key(st.session_state["nav_section"])),
    )
    if section == "training":
        _live(_training, running)(run, running)
    elif section == "sample":
        run_sampling.render(root, run)
    else:
        run_card.render(run)


def status_badge(status) -> str:
    """The Markdown badge of a run status (an unknown status, read from metadata.json, escaped)."""
    known = STATUS_BADGES.get(status) if isinstance(status, str) else None
    return known or f":gray-badge[{escape(status)}]"


def _section_key(label: str) -> str:
    return next(k for k, v in navigation.SECTIONS.items() if v == label)


def _live(render_fn, running: bool):
    """`render_fn` as a fragment re-run every `REFRESH_SECONDS` while the run trains."""
    return st.fragment(run_every=REFRESH_SECONDS)(render_fn) if running else render_fn


def _still(run: runs_lib.Run, was_running: bool) -> None:
    """Inside a live fragment: a run that stopped training redraws the whole page once."""
    if was_running and run.status != "running":
        st.rerun()


def _header(run: runs_lib.Run, was_running: bool = False) -> None:
    _still(run, was_running)
    meta = run.metadata()
    status = run.status
    st.title(escape(run.name))
    badge = status_badge(status)
    parts = [
        meta.get("dataset"),
        meta.get("architecture"),
        f"{meta.get('loss')} loss" if meta.get("loss") else None,
        "conditional" if meta.get("conditional") else None,
        f"epoch {meta.get('epochs_done') or 0} of {meta.get('epochs') or '?'}",
        f"updated {str(meta.get('updated') or '?').replace('T', ' ')[:19]}",
    ]
    st.markdown(badge + " " + " · ".join(escape(p) for p in parts if p))
    reason = run.reason
    if status == "failed":
        st.error(
            f"Training failed: {escape(reason) if reason else 'no reason recorded'}",
            icon=":material/error:",
        )
    elif status == runs_lib.INTERRUPTED:
        command = code(f"kgan train --resume {run.name}")
        st.warning(f"Interrupted: {escape(reason)} ({command})", icon=":material/pause_circle:")
    elif status == "running":
        st.caption(f"Still training — this page refreshes every {REFRESH_SECONDS:g} s.")


def _training(run: runs_lib.Run, was_running: bool = False) -> None:
    _still(run, was_running)
    run_training.render(run)
