"""Training curves and scatter plots as Streamlit charts (Altair, which Streamlit ships).

Example:
    >>> history = data.history_frame(run)
    >>> curves(history, ["d_loss", "g_loss"], "loss")
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st


#: Series with at most this many points also show them as dots (a single point stays visible).
POINTS_UP_TO = 40


def lines(frame: pd.DataFrame, x: str, y: str, color: str) -> None:
    """One line per value of `color`, `y` over `x`, with tooltips."""
    longest = int(frame.groupby(color)[x].count().max()) if not frame.empty else 0
    several = frame[color].nunique() > 1
    chart = (
        alt.Chart(frame)
        .mark_line(point=longest <= POINTS_UP_TO)
        .encode(
            x=alt.X(f"{x}:Q", title=x, axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y(f"{y}:Q", title=y, scale=alt.Scale(zero=False)),
            color=alt.Color(
                f"{color}:N", legend=alt.Legend(orient="bottom", title=None) if several else None
            ),
            tooltip=[color, x, alt.Tooltip(f"{y}:Q", format=".4g")],
        )
    )
    st.altair_chart(chart, width="stretch")


def curves(history: pd.DataFrame, columns, y_label: str, x: str = "epoch") -> bool:
    """A line per column of `history` over `x`; False (and nothing drawn) when none has data."""
    columns = [c for c in columns if c in history and history[c].notna().any()]
    if history.empty or x not in history or not columns:
        return False
    frame = history[[x, *columns]].melt(x, var_name="series", value_name=y_label).dropna()
    lines(frame, x, y_label, "series")
    return True


def metric_curves(metrics: pd.DataFrame, name: str) -> bool:
    """The evaluations of metric `name` over epochs (one point per evaluation)."""
    if metrics.empty or "metric" not in metrics:
        return False
    frame = metrics[metrics["metric"] == name]
    frame = frame[["epoch", "value"]].dropna() if "epoch" in frame else frame.iloc[0:0]
    if frame.empty:
        return False
    lines(frame.rename(columns={"value": name}).assign(series=name), "epoch", name, "series")
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
    lines(pd.concat(frames, ignore_index=True).dropna(), x, column, "run")
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
