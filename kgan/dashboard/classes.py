"""Per-class sample quality of a conditional run, from its model card: each class's spread
ratio and recall (`class_diversity`) beside what held-out real data scores, and its share of
the samples (`class_balance`), with the health monitor's `class_collapse` warnings.

The model card comes from the run folder, so every value is checked before it is shown and
class names go through `safe.escape` wherever Streamlit renders Markdown.
"""

from __future__ import annotations

import streamlit as st

from kgan.dashboard import data
from kgan.dashboard.safe import escape

#: Model card entries holding the per-class lists (`kgan.evaluation` logs them with these).
DIVERSITY, BALANCE = "spread_ratio", "min_share"
#: Table columns: (heading, model card entry, per-class list in it).
COLUMNS = (
    ("spread ratio", DIVERSITY, "spread_ratio_by_class"),
    ("spread ratio, real", DIVERSITY, "spread_ratio_floor_by_class"),
    ("recall", DIVERSITY, "recall_by_class"),
    ("recall, real", DIVERSITY, "recall_floor_by_class"),
)


def render(meta: dict) -> None:
    """The per-class section of a conditional run (nothing for other runs or without data)."""
    if not meta.get("conditional"):
        return
    rows, warnings = class_rows(meta), collapse_warnings(meta)
    if not rows and not warnings:
        return
    st.subheader("Per class")
    for warning in warnings:
        st.warning(_collapse_text(warning), icon=":material/monitor_heart:")
    if not rows:
        return
    st.caption(
        "Inside each class: how much the generated samples vary (spread ratio, 1 = as much as "
        "real ones of that class) and how much of the class they cover (recall), each beside "
        "held-out real data at the same N; share: the class's part of the samples by the "
        "classifier (1/K when balanced)."
    )
    st.dataframe(rows, hide_index=True, width="stretch")


def _collapse_text(warning: dict) -> str:
    """A `class_collapse` warning as it reads beside the table (which marks its classes)."""
    where = f"epoch {escape(warning.get('epoch'))}" if warning.get("epoch") else "run"
    flagged = [c for c in warning.get("classes") or [] if _is_index(c)]
    if not flagged:
        return f"**Class collapse ({where}):** {escape(warning.get('message', ''))}"
    return (
        f"**Class collapse ({where}):** inside {'class' if len(flagged) == 1 else 'classes'} "
        f"{escape(', '.join(map(str, flagged)))} the generated samples vary too little: the "
        "generator ignores its latent there (marked *collapse* in the table)."
    )


def class_rows(meta: dict) -> list[dict]:
    """One row per measured class: class (its name when known), the COLUMNS, and share;
    None where the model card has no number."""
    card = meta.get("metrics") or {}
    diversity = card.get(DIVERSITY) if isinstance(card.get(DIVERSITY), dict) else {}
    shares = _numbers(card.get(BALANCE), "share_by_class")
    classes = [c for c in diversity.get("classes") or [] if _is_index(c)]
    if not classes:
        classes = list(range(len(shares)))
    flagged = {c for w in collapse_warnings(meta) for c in w.get("classes") or []}
    rows = []
    for i, c in enumerate(classes):
        row = {"class": class_name(meta, c)}
        for heading, entry, key in COLUMNS:
            row[heading] = _at(_numbers(card.get(entry), key), i)
        row["share"] = _at(shares, c)
        row["monitor"] = "collapse" if c in flagged else ""
        rows.append(row)
    if not any(row["monitor"] for row in rows):
        for row in rows:
            del row["monitor"]
    return rows


def collapse_warnings(meta: dict) -> list[dict]:
    """The model card's `class_collapse` warnings, oldest first."""
    return [w for w in data.health_warnings(meta, []) if w.get("kind") == "class_collapse"]


def class_name(meta: dict, index: int) -> str:
    """`index` as the model card names it (`class_names`), else the number."""
    names = meta.get("class_names")
    if isinstance(names, list) and 0 <= index < len(names) and str(names[index]) != str(index):
        return f"{index}: {names[index]}"
    return str(index)


def _numbers(entry, key: str) -> list:
    values = entry.get(key) if isinstance(entry, dict) else None
    return [v if data.is_number(v) else None for v in values] if isinstance(values, list) else []


def _at(values: list, i: int):
    return values[i] if 0 <= i < len(values) else None


def _is_index(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


__all__ = ["class_rows", "collapse_warnings", "render"]
