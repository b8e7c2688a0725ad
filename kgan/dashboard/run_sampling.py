"""The sampling section of a run's page: samples drawn live from its generator, a latent
interpolation, and the SavedModel download. Each part is a fragment, so moving one of its
controls redraws only that part."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from kgan import runs as runs_lib
from kgan.dashboard import charts, data, sampling
from kgan.dashboard.safe import code, escape


def render(root: Path, run: runs_lib.Run) -> None:
    """Draws the sampling section of `run`, whose files are under `root`."""
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
