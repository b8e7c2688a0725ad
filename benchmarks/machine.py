"""What machine a benchmark ran on (kept here so the benchmarks' imports stay short; the facts
come from `kgan.machine`, which the run-time `auto` choices read as well)."""

from kgan.machine import cpu

__all__ = ["cpu"]
