"""The training section of a run's page: headline numbers, sample quality beside FID's floor,
health warnings, loss and metric curves, per-class rows and the sample-grid timeline.

Every string read from the run folder goes through `safe.escape` before it reaches Markdown."""

from __future__ import annotations

import streamlit as st

from kgan import evaluation
from kgan import runs as runs_lib
from kgan.dashboard import charts, classes, data
from kgan.dashboard.safe import escape

#: Metrics shown in the sample-quality row (with FID and its floor), not in the headline.
QUALITY = ("fid", "precision", "recall", "density", "coverage")


def render(run: runs_lib.Run) -> None:
    """Draws the training section of `run` (re-run by the page while the run trains)."""
    meta = run.metadata()
    records = run.history()
    history = data.history_frame(run)
    metrics = data.metrics_frame(run)
    metric_names = data.metric_names(meta, metrics)

    _headline(meta, history, metric_names)
    _sample_quality(meta)
    for warning in data.health_warnings(meta, records):
        epoch = warning.get("epoch")
        where = f"epoch {escape(epoch)}" if epoch is not None else "run"
        kind = f" ({escape(warning['kind'])})" if warning.get("kind") else ""
        message = escape(warning.get("message", ""))
        st.warning(f"**Health monitor, {where}{kind}:** {message}", icon=":material/monitor_heart:")

    if history.empty:
        st.info("No epoch has finished yet; the curves appear after the first one.")
    else:
        left, right = st.columns(2)
        with left:
            st.subheader("Losses")
            extra = data.extra_loss_columns(history, metric_names)
            if not charts.curves(history, [*data.LOSSES, *extra], "loss"):
                st.caption("No losses recorded.")
        with right:
            st.subheader("Discriminator outputs")
            st.caption("Mean discriminator logits on real and generated samples.")
            if not charts.curves(history, data.D_OUTPUTS, "logit"):
                st.caption("No discriminator outputs recorded.")
    if metric_names:
        st.subheader("Metrics")
        columns = st.columns(min(len(metric_names), 3))
        for i, name in enumerate(metric_names):
            with columns[i % len(columns)]:
                st.markdown(f"**{escape(name)}**")
                drawn = charts.metric_curves(metrics, name) or charts.curves(history, [name], name)
                if not drawn:
                    st.caption("No evaluation over epochs yet.")
    classes.render(meta)
    timeline(run, meta)


def _headline(meta: dict, history, metric_names) -> None:
    cells = [
        ("Epochs", f"{meta.get('epochs_done') or 0} / {meta.get('epochs') or '?'}"),
        ("Steps", f"{meta.get('steps_done') or 0:,}"),
        ("Training time", runs_lib.duration(meta.get("training_time_s"))),
    ]
    if not history.empty:
        last = history.iloc[-1]
        for column in data.LOSSES:
            if column in history and last.notna().get(column, False):
                cells.append((column, f"{last[column]:.3f}"))
    for name in [n for n in metric_names if n not in QUALITY][:3]:
        value = _latest((meta.get("metrics") or {}).get(name))
        if value is not None:
            cells.append((name, f"{value:.4g}"))
    _metric_row(cells)


def _metric_row(cells: list[tuple[str, str]]) -> None:
    for column, (label, value) in zip(st.columns(len(cells)), cells):
        column.metric(escape(label), escape(value))  # metric names come from the run folder


def _latest(entry) -> float | None:
    """A model card metric entry's value when it is a number."""
    value = entry.get("value") if isinstance(entry, dict) else entry
    return value if data.is_number(value) else None


def _sample_quality(meta: dict) -> None:
    """FID beside its real-vs-real floor at the same N and their ratio, then fidelity
    (precision, density) and diversity (recall, coverage); a warning below the floor."""
    cells, floor = _quality_cells(meta.get("metrics") or {})
    if not cells:
        return
    st.subheader("Sample quality")
    _metric_row(cells)
    if floor is None:
        return
    st.caption(
        "FID falls as N grows, so it is read beside the floor: the FID of held-out real data "
        "against the same reference at the same N. Precision and density measure fidelity, "
        "recall and coverage diversity."
    )
    if floor.below:
        st.warning(
            f"FID {floor.fid:.4g} is under the real-vs-real floor {floor.floor:.4g} at "
            f"N={floor.num}: {evaluation.BELOW_FLOOR_WARNING}",
            icon=":material/warning:",
        )


def _quality_cells(card: dict) -> tuple[list[tuple[str, str]], data.FidFloor | None]:
    """(label, value) cells of the model card's sample-quality numbers, and FID's floor. A FID
    measured at another N than its floor also shows its value at the floor's N."""
    entry = card.get("fid") if isinstance(card.get("fid"), dict) else {}
    fid, floor, num = _latest(card.get("fid")), data.fid_floor(entry), entry.get("num_samples")
    cells = []
    if fid is not None:
        cells.append((f"FID @N={num}" if isinstance(num, int) else "FID", f"{fid:.4g}"))
    if floor is not None:
        if floor.num != num:
            cells.append((f"FID @N={floor.num}", f"{floor.fid:.4g}"))
        cells.append((f"Real floor @N={floor.num}", f"{floor.floor:.4g}"))
        cells.append(("FID / floor", "–" if floor.ratio is None else f"{floor.ratio:.2f}x"))
    cells += [(n, f"{v:.3g}") for n in QUALITY[1:] if (v := _latest(card.get(n))) is not None]
    return cells, floor


def timeline(run: runs_lib.Run, meta: dict) -> None:
    """The saved sample grids of `run`, one epoch at a time on a slider."""
    st.subheader("Training timeline")
    grids = run.samples()
    if not grids:
        st.info("No sample grid yet; one is saved before training and after every epoch.")
        return
    epochs = [epoch for epoch, _ in grids]
    if len(epochs) > 1:
        epoch = st.select_slider("Epoch", options=epochs, value=epochs[-1], key=None)
    else:
        epoch = epochs[0]
    path = dict(grids)[epoch]
    grid = meta.get("sample_grid") or {}
    what = "scatter of generated points" if meta.get("kind") == "vector" else "sample grid"
    caption = f"Epoch {epoch}: {what}"
    if "seed" in grid:
        caption += f" (fixed latents, seed {grid['seed']})"
    try:
        st.image(path.read_bytes(), caption=escape(caption), width=420)
    except OSError as e:
        st.warning(escape(f"cannot read {path.name}: {e.strerror}"))
