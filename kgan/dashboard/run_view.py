"""One run: its training (curves, health warnings, sample-grid timeline), live sampling from its
generator, and its model card and configuration.

Every string read from the run folder goes through `safe.escape` before a Streamlit call that
renders Markdown (the model card's tables and `st.json` show text as it is)."""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from kgan import evaluation
from kgan import runs as runs_lib
from kgan.dashboard import charts, classes, data, navigation, sampling
from kgan.dashboard.safe import code, escape

#: Seconds between refreshes of a run that is still training.
REFRESH_SECONDS = 5.0
#: Metrics shown in the sample-quality row (with FID and its floor), not in the headline.
QUALITY = ("fid", "precision", "recall", "density", "coverage")

STATUS_BADGES = {
    "running": ":green-badge[running]",
    "complete": ":blue-badge[complete]",
    "failed": ":red-badge[failed]",
    runs_lib.INTERRUPTED: ":orange-badge[interrupted]",
}


def render(root: Path, run: runs_lib.Run, section: str) -> None:
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
        _live(training, running)(run, running)
    elif section == "sample":
        sample(root, run)
    else:
        model_card(run)


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


# ----------------------------------------------------------------------------- training


def training(run: runs_lib.Run, was_running: bool = False) -> None:
    _still(run, was_running)
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


# ----------------------------------------------------------------------------- sampling


def sample(root: Path, run: runs_lib.Run) -> None:
    meta = run.metadata()
    version = data.generator_version(run)
    if version is None:
        st.info("This run has no generator yet; it is saved at the end of the first epoch.")
        return
    try:
        info = sampling.ModelInfo.from_metadata(meta)
    except ValueError as e:
        st.error(escape(e))
        return
    # Each part is a fragment: moving one of its controls redraws only that part.
    st.fragment(_samples)(root, run, version, info)
    st.subheader("Latent interpolation")
    st.caption("Samples along the spherical path (slerp) between the first latents of two seeds.")
    st.fragment(_interpolation)(root, run, version, info)

    st.subheader("SavedModel")
    if run.has_export:
        st.download_button(
            "Download SavedModel (.zip)",
            lambda: data.export_zip(str(root), run.name),
            file_name=f"{run.name}-savedmodel.zip",
            mime="application/zip",
            key="export_download",
            on_click="ignore",
        )
        st.caption(
            "Signatures `serving_default` (z → samples) and `sample` (num, seed → samples); "
            "serve it with TF Serving or load it with `tf.saved_model.load`."
        )
    else:
        st.caption(f"No SavedModel export yet; write one with {code(f'kgan export {run.name}')}.")


def _samples(root: Path, run: runs_lib.Run, version: tuple, info: sampling.ModelInfo) -> None:
    controls = st.columns([2, 1, 2, 2])
    default_num = 256 if info.kind == "vector" else 64
    if info.conditional and info.num_classes <= 64:  # whole rows of 0..K-1
        default_num = info.num_classes * (64 // info.num_classes)
    num = controls[0].slider(
        "Number of samples", 1, 256, default_num, key=f"sample_num_{info.kind}"
    )
    seed = controls[1].number_input("Seed", 0, 2**31 - 1, 0, step=1, key="sample_seed")
    truncation = truncation_control(controls[2], "sample")
    label = _class_choice(controls[3], info, run.name)
    try:
        cols = sampling.grid_columns(info, int(num), label)
        drawn = data.draw(
            str(root), run.name, version, int(num), int(seed), truncation, label, cols
        )
    except (runs_lib.RunError, ValueError) as e:
        st.error(escape(e))
        return
    _show(drawn, info, width=480)
    what = "points" if info.kind == "vector" else "samples"
    parts = [f"{num} {what}", f"seed {seed}"]
    if truncation:
        parts.append(f"truncation {truncation:g}")
    if label is not None:
        parts.append(f"class {info.class_name(label)}")
    parts.append(f"drawn in {drawn.seconds * 1000:.0f} ms")
    st.caption(escape(" · ".join(parts)))  # class names come from the model card
    st.download_button(
        "Download PNG",
        drawn.png,
        file_name=f"{run.name}-seed{seed}-n{num}.png",
        mime="image/png",
        key="sample_download",
        on_click="ignore",
    )


def _interpolation(root: Path, run: runs_lib.Run, version: tuple, info) -> None:
    cols = st.columns([1, 1, 2, 2, 2])
    seed_a = cols[0].number_input("From seed", 0, 2**31 - 1, 0, key="interp_a")
    seed_b = cols[1].number_input("To seed", 0, 2**31 - 1, 1, key="interp_b")
    steps = cols[2].slider("Steps", 3, 16, 8, key="interp_steps")
    truncation = truncation_control(cols[3], "interp")
    label = _class_choice(cols[4], info, f"{run.name}_interp", allow_all=False)
    try:
        strip = data.interpolate(
            str(root), run.name, version, int(seed_a), int(seed_b), int(steps), truncation, label
        )
    except (runs_lib.RunError, ValueError) as e:
        st.error(escape(e))
        return
    _show(strip, info, width=None if info.kind == "image" else 420, path=True)


def truncation_control(column, key: str) -> float | None:
    """The truncation toggle and slider of a sampling panel in `column` (widget keys from
    `key`): the chosen t, or None when truncation is off. Shared with the compare page."""
    on = column.toggle(
        "Truncation",
        value=False,
        key=f"{key}_trunc_on",
        help="Draw latents inside [-t, t]: less variety, more typical samples.",
    )
    value = column.slider(
        "t", 0.1, 3.0, 1.0, 0.1, key=f"{key}_trunc", disabled=not on, label_visibility="collapsed"
    )
    return float(value) if on else None


def _class_choice(column, info: sampling.ModelInfo, key: str, allow_all=True) -> int | None:
    if not info.conditional:
        return None
    options = ([None] if allow_all else []) + list(range(info.num_classes))
    return column.selectbox(
        "Class",
        options,
        format_func=lambda c: "all classes" if c is None else info.class_name(c),
        key=f"class_{key}",
    )


def _show(drawn: data.Drawn, info: sampling.ModelInfo, width: int | None, path=False) -> None:
    if info.kind == "vector":
        if path:
            st.image(drawn.png, width=width)
        else:
            charts.scatter(drawn.samples, sampling.reference_points(info))
    else:
        st.image(drawn.png, width=width if width else "stretch")


# ----------------------------------------------------------------------------- model card


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


def model_card(run: runs_lib.Run) -> None:
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
