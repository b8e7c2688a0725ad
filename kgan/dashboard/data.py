"""The dashboard's reads, shaped for display and cached where it pays.

Everything goes through `kgan.runs`; nothing here writes. Run files are read afresh on every
page run (a training run keeps changing them); only the generator (`st.cache_resource`, one per
run and generator file version) and drawn pictures (`st.cache_data`) are cached.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from kgan import images
from kgan import runs as runs_lib
from kgan.dashboard import sampling

#: History columns that are not losses, regularisers or metrics.
BOOKKEEPING = ("epoch", "step", "time", "epoch_time", "warnings")
LOSSES = ("d_loss", "g_loss")
D_OUTPUTS = ("d_real", "d_fake")


# ----------------------------------------------------------------------------- memory


def settle() -> None:
    """Moves every object alive now (TensorFlow, Keras, loaded generators) out of the garbage
    collector's sight. Streamlit runs a full collection after every script or fragment run;
    with TensorFlow loaded that scans ~400k objects (~0.3 s of CPU per click) for nothing.
    Called after the imports and after each generator load, so only long-lived objects freeze.
    """
    gc.collect()
    gc.freeze()


# ----------------------------------------------------------------------------- runs table


def runs_frame(runs: list[runs_lib.Run]) -> pd.DataFrame:
    """One row per run (broken ones included, with their error), metrics as columns."""
    rows = []
    for run in runs:
        try:
            summary = run.summary()
        except runs_lib.RunError as e:  # changed between the check and the read
            summary = {"name": run.name, "status": "broken", "error": str(e)}
        row = {
            "name": summary["name"],
            "status": summary.get("status"),
            "dataset": summary.get("dataset"),
            "architecture": summary.get("architecture"),
            "loss": summary.get("loss"),
            "conditional": summary.get("conditional"),
            "epochs": _epochs(summary),
            "steps": summary.get("steps_done"),
            "training time (s)": summary.get("training_time_s"),
            "created": summary.get("created"),
            "updated": summary.get("updated"),
        }
        for name, value in (summary.get("metrics") or {}).items():
            row[name] = value if isinstance(value, (int, float)) else None
        row["reason / error"] = summary.get("error") or summary.get("reason")
        rows.append(row)
    frame = pd.DataFrame(rows)
    for column in ("created", "updated"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], errors="coerce", utc=True)
    return frame


def _epochs(summary: dict) -> str | None:
    done, planned = summary.get("epochs_done"), summary.get("epochs")
    if done is None and planned is None:
        return None
    return f"{done if done is not None else 0}/{planned if planned is not None else '?'}"


def readable(runs: list[runs_lib.Run]) -> list[runs_lib.Run]:
    return [run for run in runs if run.error is None]


# ----------------------------------------------------------------------------- one run


def history_frame(run: runs_lib.Run) -> pd.DataFrame:
    """`history.jsonl` as a frame indexed by nothing, one row per epoch (nulls as NaN)."""
    records = [{k: v for k, v in r.items() if k != "warnings"} for r in run.history()]
    frame = pd.DataFrame(records)
    if frame.empty:
        return frame
    return frame.apply(pd.to_numeric, errors="coerce")


def metrics_frame(run: runs_lib.Run) -> pd.DataFrame:
    """Every metric evaluation (`metrics.jsonl`): columns metric, value, epoch, step, num_samples,
    feature_extractor."""
    frame = pd.DataFrame(run.metric_records())
    if frame.empty:
        return frame
    frame["value"] = pd.to_numeric(frame.get("value"), errors="coerce")
    return frame


def metric_names(meta: dict, metrics: pd.DataFrame) -> list[str]:
    names = list((meta.get("metrics") or {}).keys())
    if not metrics.empty and "metric" in metrics:
        names += [m for m in metrics["metric"].dropna().unique() if m not in names]
    return names


def extra_loss_columns(history: pd.DataFrame, metric_columns) -> list[str]:
    """Regulariser terms and other logged numbers that are not losses, outputs or metrics."""
    known = set(BOOKKEEPING) | set(LOSSES) | set(D_OUTPUTS) | set(metric_columns)
    return [c for c in history.columns if c not in known]


def health_warnings(meta: dict, history: list[dict]) -> list[dict]:
    """The health monitor's warnings ({epoch, kind, message}) from the model card and the
    history, oldest first, without duplicates."""
    found, seen = [], set()
    sources = [meta.get("warnings")] + [record.get("warnings") for record in history]
    for source in sources:
        for warning in source or []:
            if isinstance(warning, str):
                warning = {"message": warning}
            if not isinstance(warning, dict):
                continue
            key = (warning.get("epoch"), warning.get("kind"), warning.get("message"))
            if key not in seen:
                seen.add(key)
                found.append(warning)
    return sorted(found, key=lambda w: (w.get("epoch") is None, w.get("epoch") or 0))


# ----------------------------------------------------------------------------- sampling


def generator_version(run: runs_lib.Run) -> tuple | None:
    """Identifies the current `generator.keras` (it is rewritten every epoch while training)."""
    try:
        stat = run.generator_path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


@st.cache_resource(max_entries=8, show_spinner="Loading the generator…")
def sampler(root: str, name: str, version: tuple) -> sampling.Sampler:
    """The run's generator, loaded once per file version (safe_mode=True), compiled, warmed up."""
    run = runs_lib.open_run(root, name)
    model = sampling.Sampler(run.load_generator(), sampling.ModelInfo.from_metadata(run.metadata()))
    settle()
    return model


@dataclass(frozen=True)
class Drawn:
    """A drawn picture: PNG bytes, the raw samples (vector runs plot them), seconds it took."""

    png: bytes
    samples: np.ndarray
    seconds: float


@st.cache_data(max_entries=64, show_spinner=False)
def draw(
    root: str,
    name: str,
    version: tuple,
    num: int,
    seed: int,
    truncation: float | None,
    label: int | None,
    cols: int | None = None,
) -> Drawn:
    """`num` samples of `seed` as one picture (a grid `cols` wide, or a scatter plot), with the
    time the draw took (latents, generator, picture and PNG; the generator is loaded before)."""
    model = sampler(root, name, version)
    info = model.info
    start = time.perf_counter()
    z = sampling.latents(num, seed, info.latent_dim, truncation)
    samples = model(z, sampling.labels_for(info, num, label))
    png = images.png_bytes(sampling.picture(samples, info, cols))
    return Drawn(png, samples, time.perf_counter() - start)


@st.cache_data(max_entries=32, show_spinner=False)
def interpolate(
    root: str,
    name: str,
    version: tuple,
    seed_a: int,
    seed_b: int,
    steps: int,
    truncation: float | None,
    label: int | None,
) -> Drawn:
    """The strip of samples along the spherical path between the latents of two seeds."""
    model = sampler(root, name, version)
    info = model.info
    start = time.perf_counter()
    z = sampling.interpolation_latents(seed_a, seed_b, steps, info.latent_dim, truncation)
    label = 0 if info.conditional and label is None else label
    samples = model(z, sampling.labels_for(info, steps, label))
    if info.kind == "vector":
        png = images.png_bytes(sampling.picture(samples, info))
    else:
        png = images.png_bytes(images.grid(images.to_uint8(samples), cols=steps))
    return Drawn(png, samples, time.perf_counter() - start)


def export_zip(root: str, name: str) -> bytes:
    """The run's SavedModel export as a zip archive (built when the download is clicked)."""
    run = runs_lib.open_run(root, name)
    return sampling.zip_folder(run.export_dir)
