"""What --parallel buys on this machine (issue 20): the quick campaign with 4 copies run at
--parallel 1 and at --parallel 2, each into a fresh store, in one run, as a user runs it
(edgecompress campaign run in a subprocess).

Printed: each run's wall time, the speed-up, the most jobs that ran at once (from the job
records' start and end times), and for each benchmark of copy 1 (the latency benchmarks:
benchmarks run alone whatever N is) its median latency per image in both runs and their ratio,
which must agree within the noise between two runs.

    .venv/bin/python -m bench.parallel [--copies 4] [--profile x86-tf2.12] [--parallel 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_campaign(store: Path, copies: int, profile: str, parallel: int) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "launcher", "campaign", "run", "quick",
                    "--copies", str(copies), "--profile", profile, "--store", str(store),
                    "--parallel", str(parallel)], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def records(store: Path) -> list[dict[str, Any]]:
    found = []
    for folder in sorted((store / "jobs").iterdir()):
        status = json.loads((folder / "status.json").read_text())
        result_path = folder / "out" / "result.json"
        result = json.loads(result_path.read_text()) if result_path.exists() else None
        found.append({"folder": folder.name, "status": status, "result": result})
    return found


def most_at_once(found: list[dict[str, Any]]) -> int:
    """The most jobs whose [started_at, finished_at] overlap, from the records."""
    edges = []
    for item in found:
        status = item["status"]
        edges.append((dt.datetime.fromisoformat(status["started_at"]), 1))
        edges.append((dt.datetime.fromisoformat(status["finished_at"]), -1))
    running = most = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):
        running += step
        most = max(most, running)
    return most


def benchmark_overlaps(found: list[dict[str, Any]]) -> int:
    """How many benchmark jobs overlapped any other job (must be 0)."""
    spans = [(dt.datetime.fromisoformat(i["status"]["started_at"]),
              dt.datetime.fromisoformat(i["status"]["finished_at"]), i) for i in found]
    count = 0
    for start, end, item in spans:
        if item["status"]["job"] != "benchmark":
            continue
        if any(other is not item and s < end and start < e for s, e, other in spans):
            count += 1
    return count


def latencies(store: Path, found: list[dict[str, Any]]) -> dict[str, float]:
    """Median ms per image of each copy-1 benchmark, by its campaign node's id."""
    by_folder = {item["folder"]: item for item in found}
    (manifest,) = (store / "campaigns").glob("quick@*.json")
    medians = {}
    for node_id, node in json.loads(manifest.read_text())["nodes"].items():
        item = by_folder.get(node["folder"])
        if node["role"] != "benchmark" or node["copy_label"] != 1 or not item:
            continue
        if item["result"] is not None:
            medians[node_id] = item["result"]["metrics"]["latency_ms_median"]
    return medians


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--profile", default="x86-tf2.12")
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-parallel-"))
    walls, found = {}, {}
    for slots in (1, args.parallel):
        store = work / f"parallel-{slots}"
        walls[slots] = run_campaign(store, args.copies, args.profile, slots)
        found[slots] = records(store)
        print(f"--parallel {slots}: {walls[slots]:.0f} s, {len(found[slots])} jobs, at most "
              f"{most_at_once(found[slots])} at once, benchmarks beside another job: "
              f"{benchmark_overlaps(found[slots])}", flush=True)
    print(f"speed-up of --parallel {args.parallel} over 1: "
          f"{walls[1] / walls[args.parallel]:.2f}x")
    one = latencies(work / "parallel-1", found[1])
    many = latencies(work / f"parallel-{args.parallel}", found[args.parallel])
    ratios = []
    for name in sorted(one):
        if name in many:
            ratios.append(many[name] / one[name])
            print(f"  latency {name}: {one[name]:.4f} ms at 1, {many[name]:.4f} ms at "
                  f"{args.parallel}: ratio {ratios[-1]:.3f}")
    if ratios:
        print(f"latency ratio (--parallel {args.parallel} / 1), median over "
              f"{len(ratios)} benchmarks: {statistics.median(ratios):.3f} "
              f"(range {min(ratios):.3f} to {max(ratios):.3f})")
    print(f"stores kept in {work}")


if __name__ == "__main__":
    main()
