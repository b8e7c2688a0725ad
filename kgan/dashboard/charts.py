"""Training curves as Streamlit charts (Vega-Lite through `st.line_chart` / `st.altair_chart`).

Example:
    >>> history = data.history_frame(run)
    >>> curves(history, ["d_loss", "g_loss"], "loss")
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st


def curves(history: pd.DataFrame, columns, y_label: str, x: str = "epoch") -> bool:
    """A line per column of `history` over `x`; False (and nothing drawn) when none has data."""
    columns = [c for c in columns if c in history and history[c].notna().any()]
    if history.empty or x not in history or not columns:
        return False
    frame = history[[x, *columns]].melt(x, var_name="series", value_name=y_label).dropna()
    st.line_chart(frame, x=x, y=y_label, color="series", x_label=x, y_label=y_label)
    return True


def metric_curves(metrics: pd.DataFrame, name: str) -> bool:
    """The evaluations of metric `name` over epochs (one point per evaluation)."""
    if metrics.empty or "metric" not in metrics:
        return False
    frame = metrics[metrics["metric"] == name]
    frame = frame[["epoch", "value"]].dropna() if "epoch" in frame else frame.iloc[0:0]
    if frame.empty:
        return False
    chart = (
        alt.Chart(frame.rename(columns={"value": name}))
        .mark_line(point=True)
        .encode(x=alt.X("epoch:Q", title="epoch"), y=alt.Y(f"{name}:Q", title=name),
                tooltip=["epoch", name])
    )
    st.altair_chart(chart, width="stretch")
    return True


def compared(histories: dict[str, pd.DataFrame], column: str, x: str = "epoch") -> bool:
    """One line per run for `column`, all on the same axes."""
    frames = [
        h[[x, column]].assign(run=name)
        for name, h in histories.items()
        if not h.empty and x in h and column in h and h[column].notna().any()
    ]
    if not frames:
        return False
    frame = pd.concat(frames, ignore_index=True).dropna()
    st.line_chart(frame, x=x, y=column, color="run", x_label=x, y_label=column)
    return True


def scatter(samples: np.ndarray, reference: np.ndarray | None = None, height: int = 420) -> None:
    """The first two coordinates of `samples` (and of real `reference` points, in grey)."""
    frame = pd.DataFrame({"x": samples[:, 0], "y": samples[:, 1], "points": "generated"})
    if reference is not None:
        real = pd.DataFrame({"x": reference[:, 0], "y": reference[:, 1], "points": "real"})
        frame = pd.concat([real, frame], ignore_index=True)
    chart = (
        alt.Chart(frame)
        .mark_circle(size=12, opacity=0.7)
        .encode(
            x=alt.X("x:Q", scale=alt.Scale(zero=False)),
            y=alt.Y("y:Q", scale=alt.Scale(zero=False)),
            color=alt.Color("points:N", scale=alt.Scale(domain=["real", "generated"],
                                                        range=["#bbbbbb", "#1f77b4"])),
        )
        .properties(height=height)
    )
    st.altair_chart(chart, width="stretch")
