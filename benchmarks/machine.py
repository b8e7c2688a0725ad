"""What machine a benchmark ran on: the processor's model and the vector-instruction flags that
TensorFlow and oneDNN dispatch on (as .ci/run reports them). Every benchmark prints it."""

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
