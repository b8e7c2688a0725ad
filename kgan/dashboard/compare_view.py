"""Two to four runs side by side: the same seeds through each generator, their metrics, and
their curves on shared axes."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import streamlit as st

from kgan import runs as runs_lib
from kgan.dashboard import charts, data, navigation, run_view, sampling
from kgan.dashboard.safe import escape

QUANTITIES = (
    ("d_loss", "Discriminator loss"),
    ("g_loss", "Generator loss"),
    ("d_real", "D output on real"),
    ("d_fake", "D output on generated"),
)


def render(root: Path, known: list[str], chosen: tuple) -> None:
    st.title("Compare runs")
    st.session_state["nav_compare"] = list(chosen)
    st.multiselect(
        "Runs",
        known,
        max_selections=navigation.MAX_COMPARE,
        placeholder="choose 2 to 4 runs",
        key="nav_compare",
        on_change=lambda: navigation.go(compare=tuple(st.session_state["nav_compare"])),
    )
    if len(chosen) < 2:
        st.info("Choose two to four runs to compare.")
        return
    runs = [runs_lib.open_run(root, name) for name in chosen]
    cols = st.columns([1, 1, 2])
    num = cols[0].slider("Samples per run", 1, 64, 16, key="compare_num")
    seed = cols[1].number_input("Seed", 0, 2**31 - 1, 0, key="compare_seed")
    truncation = run_view.truncation_control(cols[2], "compare")
    running = any(run.status == "running" for run in runs)
    body = st.fragment(run_every=run_view.REFRESH_SECONDS)(_body) if running else _body
    body(root, runs, int(num), int(seed), truncation)


def _body(root: Path, runs: list[runs_lib.Run], num: int, seed: int, truncation) -> None:
    metas = {run.name: run.metadata() for run in runs}
    st.subheader(f"Same seed ({seed}) through each generator")
    for column, run in zip(st.columns(len(runs)), runs):
        with column:
            meta = metas[run.name]
            st.markdown(f"**{escape(run.name)}** {run_view.status_badge(run.status)}")
            st.caption(
                " · ".join(escape(meta.get(key)) for key in ("dataset", "architecture", "loss"))
                + f" · epoch {escape(meta.get('epochs_done') or 0)}"
            )
            version = data.generator_version(run)
            if version is None:
                st.info("No generator yet.")
                continue
            try:
                info = sampling.ModelInfo.from_metadata(meta)
                cols = math.ceil(math.sqrt(num))  # the same square grid for every run
                drawn = data.draw(str(root), run.name, version, num, seed, truncation, None, cols)
            except (runs_lib.RunError, ValueError) as e:
                st.error(escape(e))
                continue
            st.image(drawn.png, width="stretch")
            cycle = " · classes cycle 0…K-1" if info.conditional else ""
            st.caption(f"drawn in {drawn.seconds * 1000:.0f} ms{cycle}")

    st.subheader("Metrics")
    st.dataframe(summary_table(runs, metas), hide_index=True, width="stretch")

    st.subheader("Curves")
    histories = {run.name: data.history_frame(run) for run in runs}
    cols = st.columns(2)
    for i, (column, title) in enumerate(QUANTITIES):
        with cols[i % 2]:
            st.markdown(f"**{title}**")
            if not charts.compared(histories, column):
                st.caption("Not recorded.")
    metric_histories: dict[str, dict[str, pd.DataFrame]] = {}
    for run in runs:
        frame = data.metrics_frame(run)
        if frame.empty or "metric" not in frame or "epoch" not in frame:
            continue
        for name, group in frame.groupby("metric"):
            metric_histories.setdefault(name, {})[run.name] = (
                group[["epoch", "value"]].rename(columns={"value": name}).sort_values("epoch")
            )
    for i, (name, per_run) in enumerate(sorted(metric_histories.items())):
        with cols[i % 2]:
            st.markdown(f"**{escape(name)}**")
            charts.compared(per_run, name)


def summary_table(runs: list[runs_lib.Run], metas: dict) -> pd.DataFrame:
    rows = []
    for run in runs:
        meta = metas[run.name]
        row = {
            "run": run.name,
            "status": run.status,
            "dataset": meta.get("dataset"),
            "architecture": meta.get("architecture"),
            "loss": meta.get("loss"),
            "epochs": meta.get("epochs_done"),
            "steps": meta.get("steps_done"),
            "training time (s)": meta.get("training_time_s"),
        }
        for name, metric in (meta.get("metrics") or {}).items():
            value = metric.get("value") if isinstance(metric, dict) else metric
            row[name] = value
            if isinstance(metric, dict) and metric.get("num_samples"):
                row[f"{name} samples"] = metric["num_samples"]
        rows.append(row)
    return pd.DataFrame(rows)
