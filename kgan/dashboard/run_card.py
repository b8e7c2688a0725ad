"""The model card section of a run's page: its metadata and run options as tables, its metrics,
which of its files exist, and the raw metadata.json and config.json.

`st.dataframe` and `st.json` show text as it is, so nothing here needs `safe.escape`: the one
Markdown list, of files, holds only kgan's own names and counts."""

from __future__ import annotations

import json

import streamlit as st

from kgan import runs as runs_lib

CARD_FIELDS = (
    ("dataset", "Dataset"),
    ("split", "Split"),
    ("kind", "Data kind"),
    ("data_shape", "Sample shape"),
    ("num_examples", "Training examples"),
    ("latent_dim", "Latent size"),
    ("conditional", "Conditional"),
    ("num_classes", "Classes"),
    ("architecture", "Architecture"),
    ("loss", "Loss"),
    ("regularizers", "Regularisers"),
    ("n_critic", "n_critic"),
    ("ema_decay", "EMA decay"),
    ("batch_size", "Batch size"),
    ("epochs", "Epochs planned"),
    ("epochs_done", "Epochs done"),
    ("steps_per_epoch", "Steps per epoch"),
    ("steps_done", "Steps done"),
    ("training_time_s", "Training time (s)"),
    ("seed", "Seed"),
    ("created", "Created"),
    ("updated", "Updated"),
    ("host", "Host"),
)


def _text(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value) if value else "none"
    return str(value)


def render(run: runs_lib.Run) -> None:
    """Draws the model card section of `run`."""
    meta = run.metadata()
    config = run.config()
    left, right = st.columns(2)
    with left:
        st.subheader("Model card")
        rows = [
            {"field": label, "value": _text(meta.get(key))}
            for key, label in CARD_FIELDS
            if key in meta
        ]
        if meta.get("class_names"):
            rows.append({"field": "Class names", "value": ", ".join(map(str, meta["class_names"]))})
        for name, version in (meta.get("versions") or {}).items():
            rows.append({"field": f"{name} version", "value": _text(version)})
        st.dataframe(rows, hide_index=True, width="stretch", height="content")
    with right:
        st.subheader("Configuration")
        options = config.get("run") or {}
        rows = [{"option": k, "value": _text(v)} for k, v in options.items()]
        st.dataframe(rows, hide_index=True, width="stretch", height="content")
    metrics = meta.get("metrics") or {}
    if metrics:
        st.subheader("Metrics")
        rows = [
            {"metric": name, **(m if isinstance(m, dict) else {"value": m})}
            for name, m in metrics.items()
        ]
        st.dataframe(rows, hide_index=True, width="stretch")
    st.subheader("Files")
    latest = run.latest_checkpoint()
    st.markdown(
        f"- generator `{runs_lib.GENERATOR}`: {'saved' if run.has_generator else 'not yet'}\n"
        f"- SavedModel `{runs_lib.EXPORT_DIR}/`: {'written' if run.has_export else 'not written'}\n"
        f"- resumable checkpoint: {f'epoch {latest[0]}' if latest else 'none'}\n"
        f"- sample grids: {len(run.samples())}"
    )
    with st.expander("metadata.json"):
        st.json(meta)
    with st.expander("config.json — models and compile configuration (Keras)"):
        st.json({k: v for k, v in config.items() if k != "run"}, expanded=False)
