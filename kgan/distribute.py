"""The `tf.distribute` strategy a run trains under, chosen by name, and this process's role in it.

`kgan train --strategy NAME` (and `RunConfig.strategy`) picks one of `STRATEGIES`; each is a
small factory registered here. The batch size stays the *global* batch: Keras splits each batch
over the replicas, and `kgan.GAN.train_step` averages over the global batch, so a run gives the
same model on one device or several.

A strategy must exist before TensorFlow's runtime starts (logical CPU devices and the
multi-worker collectives are configured then), so `kgan.training.train` makes it first.

Example:
    >>> strategy = kgan.distribute.make("mirrored", devices="cpu:0,cpu:1")  # two logical CPUs
    >>> strategy.num_replicas_in_sync
    2
    >>> kgan.distribute.role(strategy)
    Role(chief=True, index=0, workers=1)
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import tensorflow as tf

from kgan.errors import KganError
from kgan.registry import Registry

#: Strategy factories by name: `fn(devices) -> tf.distribute.Strategy`.
_REGISTRY: Registry[Callable[[list[str] | None], tf.distribute.Strategy]] = Registry("strategy")
_DEVICE = re.compile(r"^/?(?:device:)?(cpu|gpu|tpu):(\d+)$", re.IGNORECASE)
_README = "README.md, 'Training on several devices or machines'"


def register(name: str):
    """Registers a strategy factory `fn(devices) -> tf.distribute.Strategy` under `name`."""
    return _REGISTRY.register(name)


def names() -> list[str]:
    return _REGISTRY.names()


# ----------------------------------------------------------------------------- devices


def parse_devices(devices: str | None) -> list[str] | None:
    """`"cpu:0,cpu:1"` (or `/gpu:0,/gpu:1`, ...) as TensorFlow device names; None for None."""
    if devices is None:
        return None
    parts = [p.strip() for p in str(devices).split(",") if p.strip()]
    found = [_DEVICE.match(p) for p in parts]
    bad = [p for p, m in zip(parts, found) if m is None]
    if not parts or bad:
        raise KganError(
            f"invalid --devices {devices!r}: give a comma-separated list of devices such as "
            "cpu:0,cpu:1 or gpu:0,gpu:1"
        )
    names = [f"/{m.group(1).lower()}:{int(m.group(2))}" for m in found]
    if len(set(names)) != len(names):
        raise KganError(f"--devices {devices!r} names a device twice; name each device once")
    return names


def _ensure_logical_cpus(names: list[str]) -> None:
    """Splits the first CPU into as many logical devices as `names` asks for (`/cpu:1` needs
    two), which lets one CPU stand in for several devices, as tests and benchmarks do."""
    wanted = 1 + max((int(n.split(":")[1]) for n in names if n.startswith("/cpu:")), default=0)
    cpus = tf.config.list_physical_devices("CPU")
    if wanted <= 1 or len(cpus) >= wanted:
        return
    configured = tf.config.get_logical_device_configuration(cpus[0]) or []
    if len(configured) >= wanted:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * wanted
        )
    except RuntimeError:
        raise KganError(
            f"devices {', '.join(names)} need {wanted} logical CPU devices, but TensorFlow has "
            "already started with fewer; choose the strategy first thing in the process "
            "(kgan train does), before anything runs TensorFlow"
        ) from None


def _check_available(names: list[str]) -> None:
    have = {d.name.replace("/device:", "/").lower() for d in tf.config.list_logical_devices()}
    have = {"/" + n.split("/")[-1] for n in have}  # /job:localhost/replica:0/task:0/cpu:0 -> /cpu:0
    missing = [n for n in names if n not in have]
    if missing:
        raise KganError(
            f"device(s) {', '.join(missing)} not found (TensorFlow sees {', '.join(sorted(have))}); "
            "pass --devices with devices this machine has"
        )


# ----------------------------------------------------------------------------- strategies


@register("auto")
def _auto(devices: list[str] | None) -> tf.distribute.Strategy:
    """All local GPUs when there are several (MirroredStrategy), else the default strategy."""
    if devices is not None:
        return _mirrored(devices)
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([g.name for g in gpus])
    return tf.distribute.get_strategy()


@register("one")
def _one(devices: list[str] | None) -> tf.distribute.Strategy:
    """TensorFlow's default strategy: one device, placed by TensorFlow (a GPU when it sees one)."""
    if devices is not None and len(devices) > 1:
        raise KganError("--strategy one trains on one device; pass one device, or --strategy mirrored")
    if devices:
        _check_available(devices)
        return tf.distribute.OneDeviceStrategy(devices[0])
    return tf.distribute.get_strategy()


@register("mirrored")
def _mirrored(devices: list[str] | None) -> tf.distribute.Strategy:
    """MirroredStrategy over `devices`, or over all local GPUs (the CPU when there is none)."""
    if devices is not None:
        _ensure_logical_cpus(devices)
        _check_available(devices)
    return tf.distribute.MirroredStrategy(devices)


@register("multiworker")
def _multiworker(devices: list[str] | None) -> tf.distribute.Strategy:
    """MultiWorkerMirroredStrategy over the cluster that `TF_CONFIG` describes (or, without
    it, the Slurm job this process is a task of)."""
    if devices is not None:
        raise KganError(
            "--devices does not apply to --strategy multiworker: each worker trains on its "
            "local devices (TF_CONFIG names the workers)"
        )
    raw = os.environ.get("TF_CONFIG")
    if not raw and os.environ.get("SLURM_JOB_ID"):
        # Under Slurm the job's nodes, tasks and GPUs say it all (srun: one kgan per task).
        resolver = tf.distribute.cluster_resolver.SlurmClusterResolver()
        return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
    if not raw:
        raise KganError(
            "--strategy multiworker needs TF_CONFIG: a JSON cluster spec naming every worker and "
            f"this process's task, or a Slurm job (see {_README})"
        )
    try:
        spec = json.loads(raw)
        cluster, task = spec["cluster"], spec["task"]
        task_type, index = task["type"], int(task["index"])
        members = cluster[task_type]
        if not 0 <= index < len(members):
            raise ValueError(f"task index {index} is not in cluster[{task_type!r}]")
    except (ValueError, KeyError, TypeError) as e:
        raise KganError(
            f"TF_CONFIG is not a valid cluster spec ({e}); give "
            '{"cluster": {"worker": ["host1:port", ...]}, "task": {"type": "worker", "index": I}}'
        ) from None
    return tf.distribute.MultiWorkerMirroredStrategy()


@register("tpu")
def _tpu(devices: list[str] | None) -> tf.distribute.Strategy:
    """TPUStrategy through TPUClusterResolver (a Cloud TPU VM, or $TPU_NAME)."""
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise KganError(
            f"--strategy tpu found no TPU ({str(e).splitlines()[0] if str(e) else type(e).__name__}); "
            "run on a TPU VM (or set TPU_NAME), or pick another --strategy"
        ) from None
    return tf.distribute.TPUStrategy(resolver)


def make(name: str, devices: str | None = None) -> tf.distribute.Strategy:
    """The strategy `name` (one of `names()`) over `devices` ("cpu:0,cpu:1"; None: its own
    choice). Call it before anything else runs TensorFlow."""
    try:
        factory = _REGISTRY.cls(name)
    except ValueError as e:
        raise KganError(str(e)) from None
    return factory(parse_devices(devices))


# ----------------------------------------------------------------------------- roles


@dataclass(frozen=True)
class Role:
    """This process in its strategy: whether it is the chief (the one that writes the run
    folder), its worker index and the number of workers."""

    chief: bool
    index: int
    workers: int


def role(strategy: tf.distribute.Strategy) -> Role:
    """The chief is the `chief` task when the cluster has one, else worker 0 (TensorFlow's rule)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return Role(True, 0, 1)
    spec = resolver.cluster_spec().as_dict()
    task_type, index = resolver.task_type, int(resolver.task_id or 0)
    workers = sum(len(spec.get(kind, [])) for kind in ("chief", "worker"))
    if task_type is None:  # a single-machine MWMS without TF_CONFIG
        return Role(True, 0, 1)
    chief = task_type == "chief" or (task_type == "worker" and index == 0 and "chief" not in spec)
    position = index + (1 if task_type == "worker" and "chief" in spec else 0)
    return Role(chief, position, max(workers, 1))


def describe(strategy: tf.distribute.Strategy, batch_size: int) -> str:
    """One line for the start of a run: the strategy, its replicas and the batch each takes."""
    replicas = strategy.num_replicas_in_sync
    if replicas == 1:
        return f"1 replica, batch {batch_size}"
    where = role(strategy)
    workers = f" on {where.workers} workers" if where.workers > 1 else ""
    return (
        f"{replicas} replicas{workers} ({type(strategy).__name__}), {batch_size // replicas} "
        f"examples each of the global batch {batch_size}"
    )


def check_batch(batch_size: int, strategy: tf.distribute.Strategy, name: str) -> None:
    """Refuses a global batch that does not split evenly over the strategy's replicas."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        low = batch_size - batch_size % replicas
        raise KganError(
            f"--batch-size {batch_size} does not split over the {replicas} replicas of "
            f"--strategy {name}; pass a multiple of {replicas} (e.g. {max(low, replicas)}: the "
            "batch is global, each replica takes an equal share)"
        )


def any_worker(strategy: tf.distribute.Strategy, flag: bool) -> bool:
    """True when `flag` is true on any worker: a decision (stop now?) that every worker then
    takes alike. A collective under several workers, so each of them must ask, at the same
    point of training (e.g. every epoch end)."""
    if role(strategy).workers == 1:
        return bool(flag)
    return bool(_vote(strategy)(tf.constant(1.0 if flag else 0.0)) > 0)


@functools.lru_cache(maxsize=4)
def _vote(strategy: tf.distribute.Strategy):
    @tf.function
    def vote(flag):
        per_replica = strategy.run(tf.identity, args=(flag,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    return vote


def fingerprint(weights) -> str:
    """A short sha256 of `weights`' values in order: equal on every worker of a healthy run."""
    digest = hashlib.sha256()
    for w in weights:
        digest.update(np.ascontiguousarray(np.asarray(w)).tobytes())
    return digest.hexdigest()[:16]


__all__ = ["Role", "any_worker", "check_batch", "describe", "fingerprint", "make", "names", "parse_devices",
           "register", "role"]
