"""Run folders for the dashboard tests, made by kgan's real training code in a few steps.

`fixture_runs(root)` trains tiny runs into `root` once per test session (both dashboard test
modules share them) and derives the states a dashboard must show from real runs through the
`kgan.runs` writer API: a failed run carrying health-monitor warnings, a run that is still
"running" (its pid is this test process, which is alive), and a broken folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: name -> what it is; the dashboard tests refer to these names.
DIGITS = "digits"  # unconditional dcgan on digits, with its SavedModel export
CONDITIONAL = "digits-cond"  # class-conditional dcgan on digits
RING = "ring8"  # mlp on the 2-D ring of 8 Gaussians (vector data), with a mode-coverage metric
RUNNING = "digits-live"  # a copy of DIGITS marked as still training
FAILED = "ring8-failed"  # a copy of RING marked failed, with health-monitor warnings
BROKEN = "broken"  # a copy of DIGITS whose metadata.json is corrupt

_made: dict[Path, Path] = {}


def _tiny(**options):
    from kgan.config import RunConfig

    base = dict(epochs=2, steps_per_epoch=2, batch_size=16, latent_dim=16, grid_size=4, seed=0)
    return RunConfig(**{**base, **options})


def fixture_runs(root: Path) -> Path:
    """Trains (once per process) the fixture runs into `root` and returns it."""
    root = Path(root)
    if root in _made:
        return root
    from kgan import runs as runs_lib
    from kgan import toy
    from kgan.dashboard import sampling
    from kgan.training import train

    train(_tiny(dataset="digits", arch="dcgan", arch_kwargs={"width": 16}), root, name=DIGITS, verbose=0)
    train(
        _tiny(dataset="digits", arch="dcgan", arch_kwargs={"width": 16}, conditional=True, epochs=1),
        root,
        name=CONDITIONAL,
        export=False,
        verbose=0,
    )
    ring = train(
        _tiny(dataset="ring8", arch="mlp", latent_dim=8, batch_size=64, steps_per_epoch=5),
        root,
        name=RING,
        export=False,
        verbose=0,
    )
    # A real metric of the real generator, recorded the way `kgan evaluate` records metrics.
    meta = ring.metadata()
    info = sampling.ModelInfo.from_metadata(meta)
    points = sampling.generate(ring.load_generator(), info, sampling.latents(500, 1, info.latent_dim))
    coverage = toy.mode_coverage(points, "ring8")
    ring.record_metric("modes", coverage["modes"], epoch=meta["epochs_done"], step=meta["steps_done"],
                       num_samples=coverage["num_samples"], feature_extractor=None)

    running = _copy(root, DIGITS, RUNNING)
    running.mark_running()

    failed = _copy(root, RING, FAILED)
    failed.update_metadata(
        warnings=[
            {"epoch": 1, "kind": "d_overpowering", "message": "D(real) - D(fake) grew past 10"},
            {"epoch": 2, "kind": "mode_collapse", "message": "samples cover 1 of 8 modes"},
        ]
    )
    failed.mark_failed("non-finite losses at step 9 (d_loss=nan); the last good checkpoint is kept")

    broken = _copy(root, DIGITS, BROKEN)
    broken.metadata_path.write_text('{"name": "broken", "status": ', encoding="utf-8")
    _made[root] = root
    return root


def _copy(root: Path, source: str, name: str):
    from kgan import runs as runs_lib

    shutil.copytree(runs_lib.resolve(root, source), runs_lib.resolve(root, name))
    run = runs_lib.open_run(root, name)
    run.update_metadata(name=name)
    return run
