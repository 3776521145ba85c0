"""Shared by the benchmarks: time commands side by side and summarise."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Sequence


def timed(command: Sequence[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def summary(samples: list[float]) -> str:
    return (f"median {statistics.median(samples):.3f} s, mean {statistics.mean(samples):.3f} s, "
            f"min {min(samples):.3f} s, max {max(samples):.3f} s (n={len(samples)})")
