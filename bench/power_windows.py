"""Lining power samples up with a benchmark's timed runs: the scan it was against bisection.

Before, ``measure`` (launcher/device/power.py) tested every sample against every window,
O(samples x windows); now ``inside_windows`` sorts the stamps once and bisects each window,
O((samples + windows) log samples), and ``measure`` refuses a record of more than
``MAX_WINDOWS`` runs. Side by side in one run, on tegrastats samples 100 ms apart over a
minute (600) and back-to-back windows over its middle half (the job loads and saves around its
timed runs: those samples are in no window, and the scan tests each against every window): the
scan (kept here as it was) and the bisection, the same samples selected by both, and the
ratio. No Docker, no device.

    .venv/bin/python -m bench.power_windows [--samples 600] [--windows 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from launcher.device.power import MAX_WINDOWS, inside_windows
from launcher.device.tegrastats import Sample, parse_line

ROOT = Path(__file__).resolve().parent.parent

LINE = (ROOT / "tests" / "data" / "jetson" / "xavier-nx" / "tegrastats-jp512.log"
        ).read_text().splitlines()[0]

Selection = Callable[[Sequence[tuple[float, Sample]], Sequence[tuple[float, float]]],
                     list[Sample]]


def scan(samples: Sequence[tuple[float, Sample]],
         windows: Sequence[tuple[float, float]]) -> list[Sample]:
    """The selection as ``measure`` made it before."""
    return [sample for stamp, sample in samples
            if any(start <= stamp <= end for start, end in windows)]


def timed(select: Selection, samples: Sequence[tuple[float, Sample]],
          windows: Sequence[tuple[float, float]]) -> tuple[float, list[Sample]]:
    started = time.perf_counter()
    selected = select(samples, windows)
    return time.perf_counter() - started, selected


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=600, help="samples, 100 ms apart")
    parser.add_argument("--windows", type=int, nargs="+", default=[1000, MAX_WINDOWS, 100_000])
    args = parser.parse_args()
    base = parse_line(LINE)
    # Out of order, as a log's stamps never are: the bisection sorts them itself.
    samples = [(t / 10, replace(base, rails_mw={**base.rails_mw, "VDD_IN": 4000 + t}))
               for t in reversed(range(args.samples))]
    span = args.samples / 10
    print(f"{args.samples} samples over {span:g} s; windows back to back from {span / 4:g} s "
          f"to {span * 3 / 4:g} s")
    print(f"{'windows':>9} | {'scan (before)':>13} | {'bisection':>10} | {'ratio':>8} | same")
    for count in args.windows:
        width = span / 2 / count
        windows = [(span / 4 + i * width, span / 4 + i * width + width * 0.9)
                   for i in range(count)]
        old_s, old = timed(scan, samples, windows)
        new_s, new = timed(inside_windows, samples, windows)
        print(f"{count:>9,} | {old_s:>11.3f} s | {new_s:>8.4f} s | {old_s / new_s:>7.0f}x | "
              f"{'yes' if old == new else 'NO'} ({len(new)} samples inside)")
    print(f"measure refuses more than MAX_WINDOWS = {MAX_WINDOWS:,} runs before lining up")


if __name__ == "__main__":
    main()
