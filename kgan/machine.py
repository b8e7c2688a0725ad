"""What machine this is: the processor's model and the vector-instruction flags that TensorFlow
and oneDNN dispatch on (as .ci/run reports them), and the GPUs TensorFlow sees. Every benchmark
prints it; `kgan.autotune` keys its measurements by it."""

from __future__ import annotations

import contextlib
import os
import platform
import re
from pathlib import Path


def cpu() -> dict:
    """`{"cpu_model", "cpu_flags", "cores"}` of this machine."""
    model, flags = platform.processor() or platform.machine(), []
    with contextlib.suppress(OSError):
        info = Path("/proc/cpuinfo").read_text()
        found = re.search(r"^model name\s*:\s*(.+)$", info, re.MULTILINE)
        model = found.group(1).strip() if found else model
        found = re.search(r"^flags\s*:\s*(.+)$", info, re.MULTILINE)
        wanted = re.compile(r"(avx|avx2|fma|f16c|avx512.*|amx.*)$")
        flags = sorted(f for f in (found.group(1).split() if found else []) if wanted.match(f))
    return {"cpu_model": model, "cpu_flags": " ".join(flags) or "none", "cores": os.cpu_count()}


def native_bf16() -> bool:
    """Whether the CPU computes bfloat16 natively (AVX512_BF16 or AMX-BF16): without it,
    mixed_bfloat16 is emulated and several times slower (benchmarks/README.md)."""
    if os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper() in _ISAS_WITHOUT_BF16:
        return False  # oneDNN was told not to use the bf16 instructions
    flags = cpu()["cpu_flags"].split()
    return "avx512_bf16" in flags or "amx_bf16" in flags


#: Values of oneDNN's ONEDNN_MAX_CPU_ISA cap below its first bf16 instruction set.
_ISAS_WITHOUT_BF16 = {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE",
                      "AVX512_CORE_VNNI"}


def gpus() -> list[dict]:
    """`{"name", "compute_capability"}` of each GPU TensorFlow sees (empty on a CPU machine)."""
    import tensorflow as tf

    found = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        found.append({
            "name": details.get("device_name", device.name),
            "compute_capability": tuple(details.get("compute_capability") or (0, 0)),
        })
    return found


def describe() -> str:
    """One line naming the devices a measurement depends on (the GPUs, else the CPU)."""
    found = gpus()
    if found:
        return "; ".join(f"{g['name']} (compute {g['compute_capability'][0]}.{g['compute_capability'][1]})" for g in found)
    facts = cpu()
    return f"{facts['cpu_model']} [{facts['cpu_flags']}] x{facts['cores']}"
