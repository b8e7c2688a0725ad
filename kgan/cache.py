"""Where kgan keeps what it computed once per machine: `$KGAN_CACHE_DIR`, else `~/.cache/kgan`."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "KGAN_CACHE_DIR"


def cache_root() -> Path:
    """`$KGAN_CACHE_DIR`, else `~/.cache/kgan` (created only when something is written)."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "kgan"
