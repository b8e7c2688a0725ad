"""The dashboard's reads, shaped for display and cached where it pays.

Everything goes through `kgan.runs`; nothing here writes. Run files are read afresh on every
page run (a training run keeps changing them); only the generator (`st.cache_resource`, one per
run and generator file version), drawn pictures and the runs table's thumbnails (`st.cache_data`,
the latter per sample file version) are cached.
"""

from __future__ import annotations

import base64
import gc
import io
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

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
#: The runs table's columns beside `fid`: its equal-N real-vs-real floor, N, and the ratio.
FLOOR_COLUMNS = ("fid floor", "floor N", "fid / floor", "below floor")


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
        details = summary.get("metric_details") or {}
        for name, value in (summary.get("metrics") or {}).items():
            row[name] = value if isinstance(value, (int, float)) else None
            if name == "fid":
                row.update(_floor_cells(fid_floor(details.get("fid"))))
        row["reason / error"] = summary.get("error") or summary.get("reason")
        rows.append(row)
    frame = pd.DataFrame(rows)
    for column in ("created", "updated"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], errors="coerce", utc=True)
    return frame


@dataclass(frozen=True)
class FidFloor:
    """A FID beside the real-vs-real floor at the same N (`Evaluator.fid_floor`): `fid` is
    the generated samples' FID at that N, `ratio` fid / floor (None when the floor is 0)."""

    fid: float
    floor: float
    num: int
    ratio: float | None
    below: bool


def is_number(value) -> bool:
    """Whether a value read from a run folder is a number (JSON true/false are not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fid_floor(entry) -> FidFloor | None:
    """The floor recorded in the model card's `fid` entry; None when there is none (no
    held-out split) or its fields are not numbers (the card is hand-made)."""
    if not isinstance(entry, dict):
        return None
    fid, floor, num = (entry.get(k) for k in ("fid_at_floor_num", "fid_floor", "fid_floor_num"))
    if not all(is_number(v) for v in (fid, floor, num)):
        return None
    ratio = entry.get("fid_ratio")
    ratio = float(ratio) if is_number(ratio) else None
    return FidFloor(float(fid), float(floor), int(num), ratio, entry.get("below_floor") is True)


def _floor_cells(floor: FidFloor | None) -> dict:
    if floor is None:
        return {}
    return dict(zip(FLOOR_COLUMNS, (floor.floor, floor.num, floor.ratio, floor.below)))


def _epochs(summary: dict) -> str | None:
    done, planned = summary.get("epochs_done"), summary.get("epochs")
    if done is None and planned is None:
        return None
    return f"{done if done is not None else 0}/{planned if planned is not None else '?'}"


def readable(runs: list[runs_lib.Run]) -> list[runs_lib.Run]:
    return [run for run in runs if run.error is None]


#: Longest side of a runs-table thumbnail, in pixels (the grids themselves are 100-1000 px).
THUMBNAIL_PX = 96
#: Sample grids larger than this (file bytes, decoded pixels) are not decoded for a thumbnail:
#: kgan's own grids are far smaller, and a shared folder may hold anything.
MAX_GRID_BYTES = 16 * 2**20
MAX_GRID_PIXELS = 4096 * 4096


def thumbnails(root, runs: list[runs_lib.Run], statuses) -> list[str | None]:
    """A `data:image/...;base64,...` thumbnail of each run's latest sample grid, in the order
    of `runs` (`statuses` is the runs table's status column, same order); None for broken runs,
    runs without a grid, and grids that cannot be read or decoded."""
    real_root = Path(root).resolve()
    return [
        None if status == "broken" else _run_thumbnail(real_root, run)
        for run, status in zip(runs, statuses)
    ]


def _run_thumbnail(real_root: Path, run: runs_lib.Run) -> str | None:
    version = latest_grid(real_root, run)
    return thumbnail(*version) if version else None


def latest_grid(real_root: Path, run: runs_lib.Run) -> tuple[str, int, int] | None:
    """(path, mtime in ns, size) of the run's newest sample grid when it is a regular file
    inside the runs folder `real_root` (already resolved), else None. The path has its
    symlinks resolved, so a grid linked to a file outside the folder is never read."""
    try:
        samples = run.samples()
        if not samples:
            return None
        path = samples[-1][1].resolve(strict=True)
        if not path.is_relative_to(real_root):
            return None  # a symlink (of the file or a folder above it) leading out
        info = path.stat()
    except (OSError, RuntimeError, runs_lib.RunError):  # RuntimeError: a symlink loop
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return (str(path), info.st_mtime_ns, info.st_size)


@st.cache_data(max_entries=1024, show_spinner=False)
def thumbnail(path: str, mtime_ns: int, size: int, px: int = THUMBNAIL_PX) -> str | None:
    """The image file `path` (a version from `latest_grid`: the key includes its mtime and
    size, so a rewritten grid is decoded again) shrunk to at most `px` pixels a side, as a PNG
    or JPEG data URI (the smaller); None if it is too large or not an image. Never raises."""
    del mtime_ns  # only part of the cache key
    if size > MAX_GRID_BYTES:
        return None
    try:
        # O_NOFOLLOW: the last component cannot have become a symlink since `latest_grid`;
        # O_NONBLOCK: nor a FIFO that would hang the page.
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        with os.fdopen(os.open(path, flags), "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None
            raw = f.read(MAX_GRID_BYTES + 1)
        if len(raw) > MAX_GRID_BYTES:
            return None
        kind, encoded = _shrink(raw, px)
        return f"data:image/{kind};base64," + base64.b64encode(encoded).decode("ascii")
    except Exception:  # noqa: BLE001 - PIL raises many kinds on garbage; the cell stays empty
        return None


def _shrink(raw: bytes, px: int) -> tuple[str, bytes]:
    """(image type, bytes) of the image file `raw` shrunk to at most `px` pixels a side: PNG,
    or JPEG (quality 85) when that is smaller; images with transparency stay PNG."""
    from PIL import Image

    with Image.open(io.BytesIO(raw)) as image:
        if image.width * image.height > MAX_GRID_PIXELS:
            raise ValueError(f"{image.width}x{image.height} is too large for a thumbnail")
        if image.mode not in ("L", "LA", "RGB", "RGBA"):
            transparent = "A" in image.getbands() or "transparency" in image.info
            image = image.convert("RGBA" if transparent else "RGB")
        image.thumbnail((px, px))  # keeps the aspect ratio; decodes the file
        png = io.BytesIO()
        image.save(png, format="PNG", optimize=True)
        if image.mode not in ("L", "RGB"):
            return "png", png.getvalue()
        jpeg = io.BytesIO()
        image.save(jpeg, format="JPEG", quality=85)
    if jpeg.tell() < png.tell():
        return "jpeg", jpeg.getvalue()
    return "png", png.getvalue()


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
    samples = sampling.draw(model, num, seed, truncation, label)
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
