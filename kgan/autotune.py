"""Run-time choice of precision and XLA (`precision="auto"`, `jit_compile="auto"`).

Which of them pays depends on the processor and on the networks: XLA was 1.4-2x faster on
one development CPU and 0.5x on the next; mixed_bfloat16 0.19x without native bf16 and 1.3x
with it (benchmarks/README.md). So nothing is hard-coded: `resolve` times a few training steps
of the run's own GAN under each candidate this device can run well, keeps the simplest one
within `MARGIN` of the fastest, and caches the answer per device, versions
and model in `$KGAN_CACHE_DIR/autotune.json` (else `~/.cache/kgan/`), so the next run of the
same model on the same machine starts at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kgan import machine
from kgan.cache import cache_root

#: The precision policies a run may ask for (`auto` is resolved to one of the first three).
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
#: A candidate later in the order must be at least this much faster than an earlier one to be
#: chosen (rounds on a shared machine vary by a few percent).
MARGIN = 1.1
#: Seconds per timed round (at most MAX_CALLS calls of `steps_per_execution` steps), and the
#: rounds, interleaved across the candidates.
ROUND_S, MAX_CALLS, ROUNDS = 0.4, 50, 3
CACHE_FILE = "autotune.json"

#: The fields of a run that change what one training step costs (the cache key).
_COST_FIELDS = (
    "arch", "arch_kwargs", "latent_dim", "conditional", "loss", "regularizer",
    "regularizer_every", "n_critic", "reuse_fakes", "ema", "batch_size",
)


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One way to run the train step."""

    precision: str
    jit_compile: bool

    @property
    def label(self) -> str:
        return self.precision + (" + XLA" if self.jit_compile else "")


def precisions_for_device() -> list[str]:
    """The precision policies worth timing here: float32 always; mixed_bfloat16 on a CPU with
    native bf16 or a GPU of compute capability 8.0+; mixed_float16 on a GPU of 7.0+ (on a CPU
    float16 is emulated: 0.11x measured)."""
    gpus = machine.gpus()
    if gpus:
        capability = min(g["compute_capability"] for g in gpus)
        return ["float32"] + (["mixed_float16"] if capability >= (7, 0) else []) + (
            ["mixed_bfloat16"] if capability >= (8, 0) else []
        )
    return ["float32"] + (["mixed_bfloat16"] if machine.native_bf16() else [])


def candidates(precision: str, jit_compile: bool | str) -> list[Candidate]:
    """Every combination the run leaves open (`auto`), simplest first: float32, then the
    device's mixed policies; for each, without XLA before with it."""
    precisions = precisions_for_device() if precision == "auto" else [precision]
    jits = [False, True] if jit_compile == "auto" else [bool(jit_compile)]
    return [Candidate(p, j) for p in precisions for j in jits]


def choose(speeds: dict[Candidate, float], margin: float = MARGIN) -> Candidate:
    """The first candidate (in the order of `candidates`: float32 before bf16, no XLA before
    XLA) within `margin` of the fastest's steps/s: a change of numerics or a compile has to
    buy a clear gain to be chosen."""
    fastest = max(speeds.values())
    return next(c for c, speed in speeds.items() if speed * margin >= fastest)


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Keras' global dtype policy set to `name` for the layers built inside, then restored."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def cache_path() -> Path:
    return cache_root() / CACHE_FILE


def cache_key(config, data_shape: Sequence[int], num_classes: int | None, options: list) -> str:
    """What the measurement depends on: the device, the versions, the model and the options."""
    import keras
    import tensorflow as tf

    fields = {name: getattr(config, name) for name in _COST_FIELDS}
    return json.dumps(
        {
            "device": machine.describe(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "shape": list(data_shape),
            "classes": num_classes,
            "candidates": [c.label for c in options],
            **fields,
        },
        sort_keys=True,
        default=str,
    )


def _read_cache() -> dict:
    try:
        found = json.loads(cache_path().read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _write_cache(key: str, entry: dict) -> None:
    """Adds `entry` under `key`, written to a temporary file and renamed (never half-written);
    an unwritable cache only costs the next run a new measurement."""
    path = cache_path()
    cache = _read_cache()
    cache[key] = entry
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".autotune-")
        with os.fdopen(handle, "w") as out:
            json.dump(cache, out, indent=1)
        os.replace(temp, path)


def time_candidates(
    config, data_shape: Sequence[int], num_classes: int | None, options: list[Candidate]
) -> dict[Candidate, float]:
    """Median steps/s of each candidate: the run's GAN built under it and trained on random
    batches of the data's shape through Keras' own compiled train function (what `fit` calls
    every `steps_per_execution` steps, without fit's set-up), in interleaved rounds of ~`ROUND_S` seconds so a
    busy machine slows all alike."""
    import keras
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (config.batch_size, *data_shape)).astype("float32")
    batch = (x, rng.integers(0, num_classes, config.batch_size)) if num_classes else x
    calls = {}
    for option in options:
        keras.utils.set_random_seed(config.seed)
        trial = dataclasses.replace(
            config, precision=option.precision, jit_compile=option.jit_compile, lr_decay=0.0
        )
        gan = trial.build_gan(data_shape, num_classes, trial.steps_per_execution)
        gan.make_train_function()
        step = gan.train_function
        batches = iter(tf.data.Dataset.from_tensors(batch).repeat())
        step(batches)  # traces and compiles
        start = time.perf_counter()
        step(batches)
        per_call = max(time.perf_counter() - start, 1e-4)
        calls[option] = (step, batches, int(min(MAX_CALLS, max(2, ROUND_S / per_call))))
    rounds: dict[Candidate, list[float]] = {option: [] for option in options}
    per_call = config.steps_per_execution  # each call runs this many steps
    for _ in range(ROUNDS):
        for option, (step, batches, count) in calls.items():
            start = time.perf_counter()
            for _ in range(count):
                step(batches)
            rounds[option].append(count * per_call / (time.perf_counter() - start))
    return {option: statistics.median(speeds) for option, speeds in rounds.items()}


def resolve(
    config,
    data_shape: Sequence[int],
    num_classes: int | None,
    *,
    report: Callable[[str], Any] | None = print,
    timer: Callable[..., dict[Candidate, float]] | None = None,
):
    """`config` with `precision` and `jit_compile` concrete: as given, or when `auto` the
    fastest candidate measured on this device (cached). `report` gets one line saying what was
    chosen and why; `timer` replaces `time_candidates`."""
    options = candidates(config.precision, config.jit_compile)
    if len(options) == 1:
        choice, why = options[0], None
    else:
        classes = num_classes if config.conditional else None
        key = cache_key(config, data_shape, classes, options)
        entry = _read_cache().get(key)
        if entry is None:
            speeds = (timer or time_candidates)(config, data_shape, classes, options)
            choice = choose(speeds)
            entry = {
                "choice": dataclasses.asdict(choice),
                "steps_per_s": {c.label: round(s, 2) for c, s in speeds.items()},
                "measured": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
            _write_cache(key, entry)
            source = "measured now"
        else:
            choice = Candidate(**entry["choice"])
            source = f"measured {entry.get('measured', 'before')}, cached in {cache_path()}"
        base = entry["steps_per_s"][options[0].label]
        ratios = ", ".join(f"{label} {s / base:.2f}x" for label, s in entry["steps_per_s"].items())
        why = f"auto: {choice.label} ({ratios} the steps/s of {options[0].label}; {source})"
    if why and report is not None:
        report(f"kgan: {why}")
    return dataclasses.replace(config, precision=choice.precision, jit_compile=choice.jit_compile)


__all__ = ["Candidate", "PRECISIONS", "candidates", "choose", "dtype_policy", "resolve"]
