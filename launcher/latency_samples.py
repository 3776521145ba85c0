"""The benchmark's per-image latency file, read under the trust rules.

A benchmark job writes every timed image's latency of every kept run (milliseconds, float32
little-endian, run after run: LATENCY_SAMPLES_FILE) and names it in its result as the artifact
LATENCY_SAMPLES_ARTIFACT. Like everything a job writes it is untrusted: it must be a regular
file (no link: ``read_regular_file`` opens with O_NOFOLLOW), exactly latency_runs_kept x
latency_images values long as the result's metrics say, every value finite and positive.
``decode`` is pure; ``read_samples`` reads.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

from launcher.contract.results import BenchmarkResult
from launcher.contract.vocabulary import LATENCY_SAMPLES_ARTIFACT
from launcher.untrusted import Untrusted, read_regular_file

VALUE_BYTES = 4  # float32


def decode(data: bytes, runs: int, images: int) -> list[list[float]]:
    """runs x images milliseconds from the file's bytes; Untrusted when the length, a value's
    finiteness or its sign is wrong."""
    expected = runs * images * VALUE_BYTES
    if len(data) != expected:
        raise Untrusted(f"{LATENCY_SAMPLES_ARTIFACT}: {len(data):,} bytes, expected "
                        f"{expected:,} ({runs} kept runs x {images} images x float32)")
    values = struct.unpack(f"<{runs * images}f", data)
    for index, value in enumerate(values):
        if not math.isfinite(value) or value <= 0:
            raise Untrusted(f"{LATENCY_SAMPLES_ARTIFACT}: value {index} is {value!r}, not a "
                            "finite positive latency")
    return [list(values[run * images:(run + 1) * images]) for run in range(runs)]


def samples_path(result: BenchmarkResult) -> str | None:
    """The relative path of the result's latency file, or None when it has none."""
    if result.metrics.latency_samples_format is None:
        return None
    for artifact in result.artifacts:
        if artifact.name == LATENCY_SAMPLES_ARTIFACT:
            return artifact.path
    return None


def read_samples(out_dir: Path, result: BenchmarkResult) -> list[list[float]] | None:
    """The validated per-image latencies of a benchmark result (kept runs x images), or None
    when the result predates them. Untrusted when the file is not what it must be;
    FileNotFoundError passes through (a store copied without its artifacts)."""
    relative = samples_path(result)
    if relative is None:
        return None
    metrics = result.metrics
    cap = metrics.latency_runs_kept * metrics.latency_images * VALUE_BYTES
    data = read_regular_file(out_dir / relative, cap)
    return decode(data, metrics.latency_runs_kept, metrics.latency_images)
