"""Run folders for the dashboard tests, made by kgan's real training code in a few steps.

`fixture_runs(root)` trains tiny runs into `root` once per test process (both dashboard test
modules share them). Every run is trained for real, including the unstable one whose health
monitor raises warnings and the one that diverges and fails; only two states are derived from
real runs: a run marked "running" through `kgan.runs`' writer API (its pid is this test
process, which is alive) and a broken folder with a corrupt model card.
"""

from __future__ import annotations

import shutil
from pathlib import Path

DIGITS = "digits"  # unconditional dcgan on digits, with its SavedModel export
CONDITIONAL = "digits-cond"  # class-conditional dcgan on digits
RING = "ring8"  # mlp on the 2-D ring of 8 Gaussians (vector data): D overpowers G, so the
#                 health monitor warns; a mode-coverage metric is recorded
FAILED = "ring8-diverged"  # learning rate far too high: the losses explode, status failed
RUNNING = "digits-live"  # a copy of DIGITS marked as still training
BROKEN = "broken"  # a copy of DIGITS whose metadata.json is corrupt

_made: set[Path] = set()


def _tiny(**options):
    from kgan.config import RunConfig

    base = dict(epochs=2, steps_per_epoch=2, batch_size=16, latent_dim=16, grid_size=4, seed=0)
    return RunConfig(**{**base, **options})


def fixture_runs(root: Path) -> Path:
    """Trains (once per process) the fixture runs into `root` and returns it."""
    root = Path(root)
    if root in _made:
        return root
    from kgan import toy
    from kgan.dashboard import sampling
    from kgan.training import TrainingDiverged, train

    # Metrics every epoch (few samples: the numbers only need to exist, not be accurate).
    dcgan = dict(dataset="digits", arch="dcgan", arch_kwargs={"width": 16}, eval_num=50)
    train(_tiny(**dcgan, eval_every=1), root, name=DIGITS, verbose=0)
    train(_tiny(**dcgan, conditional=True, epochs=1), root, name=CONDITIONAL, export=False,
          verbose=0)
    toy_run = dict(dataset="ring8", arch="mlp", latent_dim=8, batch_size=64, steps_per_epoch=5,
                   loss="wasserstein", g_lr=1e-4, ema=None, eval_num=500)
    # A critic learning rate that makes D(real) - D(fake) pass the monitor's 10 logits in epoch
    # 1 (~28) while the unpenalised Wasserstein loss stays well below kgan's explosion check.
    ring = train(_tiny(**toy_run, d_lr=0.015), root, name=RING, export=False, verbose=0)
    try:
        train(_tiny(**toy_run, d_lr=1e3, epochs=1), root, name=FAILED, export=False, verbose=0)
    except TrainingDiverged:
        pass
    else:
        raise AssertionError(f"{FAILED} was meant to diverge")
    # Mode coverage of the real generator, recorded the way kgan's evaluation records metrics
    # (TODO: eval_every=1 on ring8 once kgan.evaluation.record stops passing num_samples twice).
    meta = ring.metadata()
    info = sampling.ModelInfo.from_metadata(meta)
    sampler = sampling.Sampler(ring.load_generator(), info)
    coverage = toy.mode_coverage(sampler(sampling.latents(500, 1, info.latent_dim)), "ring8")
    ring.record_metric("modes", coverage["modes"], epoch=meta["epochs_done"],
                       step=meta["steps_done"], num_samples=coverage["num_samples"])

    _copy(root, DIGITS, RUNNING).mark_running()
    broken = _copy(root, DIGITS, BROKEN)
    broken.metadata_path.write_text('{"name": "broken", "status": ', encoding="utf-8")
    _made.add(root)
    return root


def _copy(root: Path, source: str, name: str):
    from kgan import runs as runs_lib

    shutil.copytree(runs_lib.resolve(root, source), runs_lib.resolve(root, name))
    run = runs_lib.open_run(root, name)
    run.update_metadata(name=name)
    return run


# ----------------------------------------------------------------------------- thumbnails

LATEST = "latest-wide"  # a copy of DIGITS whose newest grid (epoch 3) is 200x100 pixels, and
#                         with a metric named like the thumbnail column ("sample")
NO_GRID = "no-grid"  # no samples/ folder at all
GARBAGE = "garbage-grid"  # its newest grid is a PNG signature followed by junk
TOO_LARGE = "huge-grid"  # its newest grid is a valid 5000x5000 PNG (25 Mpixels)
LINKED_OUT = "linked-out"  # its newest grid is a symlink to a PNG outside the runs folder
LINKED_DIR = "linked-dir"  # its samples/ folder is a symlink to a folder outside the runs folder
BROKEN_WITH_GRID = "broken-with-grid"  # corrupt metadata.json, sample grids intact


def png(width: int, height: int, value: int = 128) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (width, height), value).save(out, format="PNG")
    return out.getvalue()


def thumbnail_runs(root: Path, source_root: Path) -> Path:
    """Copies of the fixture run DIGITS (in `source_root`) into `root` with every kind of
    sample grid the runs table's thumbnails must cope with; files the dashboard must not read
    go to `root.parent / (root.name + "-outside")`. Returns `root`."""
    from kgan import runs as runs_lib

    root, outside = Path(root), Path(root).parent / f"{Path(root).name}-outside"
    root.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.png").write_bytes(png(50, 150, 255))
    (outside / "samples").mkdir(exist_ok=True)
    (outside / "samples" / "epoch-0009.png").write_bytes(png(150, 50, 255))

    def copy(name: str):
        shutil.copytree(runs_lib.resolve(source_root, DIGITS), runs_lib.resolve(root, name))
        run = runs_lib.open_run(root, name)
        run.update_metadata(name=name)
        return run

    latest = copy(LATEST)
    latest.sample_path(3).write_bytes(png(200, 100))
    latest.update_metadata(metrics={"sample": {"value": 0.5}})
    shutil.rmtree(copy(NO_GRID).samples_dir)
    copy(GARBAGE).sample_path(3).write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 64)
    copy(TOO_LARGE).sample_path(3).write_bytes(png(5000, 5000, 0))
    (copy(LINKED_OUT).sample_path(3)).symlink_to(outside / "secret.png")
    linked_dir = copy(LINKED_DIR)
    shutil.rmtree(linked_dir.samples_dir)
    linked_dir.samples_dir.symlink_to(outside / "samples", target_is_directory=True)
    copy(BROKEN_WITH_GRID).metadata_path.write_text("{", encoding="utf-8")
    return root
