"""What a deterministic run needs beyond `tf.config.experimental.enable_op_determinism()`.

Measured here (2-core AMD EPYC, TensorFlow 2.21, the tiny run of tests/test_training.py, each
run its own process): with op determinism alone, 6 of 17 processes under load ended epoch 1
differently with oneDNN off; with one inter-op thread, 0 of 35. With oneDNN on, 1 of 26 still
differed after its first steps, also with one intra-op thread (1 of 32): oneDNN's kernels are
outside TensorFlow's op determinism, and Adam's first steps (a sign step) amplify a rounding
difference into a visible one. So a deterministic run wants oneDNN off and one inter-op
thread; both are read once, when TensorFlow starts: `kgan train` sets them, a Python
program sets the environment variables before it imports TensorFlow.
"""

from __future__ import annotations

import os

#: The environment of a process whose deterministic runs repeat bit for bit.
ENVIRONMENT = {"TF_ENABLE_ONEDNN_OPTS": "0", "TF_NUM_INTEROP_THREADS": "1"}

_warned = False  # the warning is said once per process


def _onednn_on() -> bool:
    return os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip().lower() not in ("0", "false")


def enable() -> None:
    """Op determinism, one inter-op thread where TensorFlow has not started yet, and a warning
    for what can no longer be changed in this process (process-wide and irreversible)."""
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    problems = []
    if tf.config.threading.get_inter_op_parallelism_threads() != 1:
        try:
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            problems.append("several inter-op threads")
    if _onednn_on():
        problems.append("oneDNN on")
    global _warned
    if problems and not _warned:
        _warned = True
        fix = " ".join(f"{k}={v}" for k, v in ENVIRONMENT.items())
        print(
            f"kgan: warning: this deterministic run may not repeat bit for bit in another "
            f"process: TensorFlow runs with {' and '.join(problems)}; start Python with "
            f"{fix} (kgan train does)",
            flush=True,
        )


__all__ = ["ENVIRONMENT", "enable"]
