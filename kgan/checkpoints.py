"""Loading a run's checkpoint for resuming: the GAN it holds, or one line saying what is wrong
with it and what deleting it would do."""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras

import kgan.gan  # noqa: F401  (registers GAN, its losses and regularisers: `import kgan` is lazy)
import kgan.schedules  # noqa: F401
from kgan import runs as runs_lib


def load(path: Path):
    """The `kgan.GAN` of checkpoint `path` (`safe_mode=True`), refused in one line with the
    fix to offer when it does not load or holds NaN/inf."""
    try:
        # Keras calls a file that is not a zip archive "not found"; it is there, and corrupt.
        if not zipfile.is_zipfile(path):
            raise ValueError("not a .keras zip archive")
        gan = keras.saving.load_model(path, safe_mode=True)
    except Exception as e:  # noqa: BLE001 - a checkpoint that exists but does not load is corrupt
        raise runs_lib.RunError(
            f"checkpoint {path} is corrupt ({_first_line(e)}); {_corrupt_checkpoint_advice(path)}"
        ) from None
    found = gan.non_finite()
    if found:
        raise runs_lib.RunError(
            f"checkpoint {path} holds non-finite values ({found[0]}); "
            f"{_corrupt_checkpoint_advice(path)}"
        )
    return gan


def _first_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:200] + ("..." if len(text) > 200 else "")


def _corrupt_checkpoint_advice(path: Path) -> str:
    """What deleting the bad checkpoint `path` would really do, as the fix to offer."""
    run_dir = path.parent.parent
    earlier = [e for e, p in runs_lib.Run(run_dir.name, run_dir).checkpoints() if p != path]
    if earlier:
        return (
            f"delete it to resume from epoch {earlier[-1]} (the epochs after it are redone), "
            "or start the run again with --overwrite"
        )
    return (
        "delete it to restart the run from epoch 0 (its history and sample grids are redone), "
        "or start the run again with --overwrite"
    )


__all__ = ["load"]
