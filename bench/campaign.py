"""Campaign benchmarks, on the quick campaign in a fresh store:

  (b) the launcher's own overhead during a campaign: the campaign's wall time minus the time
      its jobs' containers took (RunRecord.wall_s, create to removal), as a share of the wall
      time and per job (target < 2 %). For context, the containers' own fixed cost: wall_s
      minus what the job measured inside (Timings.total_s), i.e. container create/start,
      Python start and removal.
  (a) re-running the finished campaign: containers started (target 0) and wall time of the
      whole command (target < 3 s), --reruns times.

    .venv/bin/python -m bench.campaign [--profile x86-tf2.12] [--reruns 5] [--store DIR]

With --store DIR holding a finished quick campaign, (b) is skipped.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import summary
from launcher.study.manifest import manifests


def run(command: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    return time.perf_counter() - started, proc


def statuses(store: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in (store / "jobs").glob("*/status.json")}


def job_times(store: Path) -> list[tuple[str, float, float]]:
    """(folder, RunRecord.wall_s, Timings.total_s) of every job of the campaign."""
    (_, manifest), = [m for m in manifests(store) if m[1].name == "quick"]
    rows = []
    for entry in manifest.nodes.values():
        folder = store / "jobs" / entry.folder
        record = json.loads((folder / "status.json").read_text())
        result = json.loads((folder / "out" / "result.json").read_text())
        rows.append((entry.folder, record["wall_s"], result["timings"]["total_s"]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="x86-tf2.12")
    parser.add_argument("--reruns", type=int, default=5)
    parser.add_argument("--store", type=Path)
    args = parser.parse_args()
    store = args.store or Path(tempfile.mkdtemp(prefix="bench-campaign-")) / "store"
    command = [sys.executable, "-m", "launcher", "campaign", "run", "quick", "--profile",
               args.profile, "--store", str(store)]

    if args.store is None:
        wall, proc = run(command)
        if proc.returncode != 0:
            sys.exit(f"the campaign failed:\n{proc.stdout}\n{proc.stderr}")
        jobs = job_times(store)
        in_containers = sum(w for _, w, _ in jobs)
        inside_jobs = sum(t for _, _, t in jobs)
        own = wall - in_containers
        print(f"(b) quick campaign, {len(jobs)} jobs, fresh store {store}")
        print(f"    campaign wall time (the whole command): {wall:.1f} s")
        print(f"    in containers (sum of RunRecord.wall_s): {in_containers:.1f} s")
        print(f"    launcher's own time: {own:.2f} s = {100 * own / wall:.2f} % of the wall "
              f"time, {own / len(jobs):.3f} s per job (target < 2 %)")
        print(f"    containers' fixed cost (wall_s - Timings.total_s): "
              f"{in_containers - inside_jobs:.1f} s = "
              f"{100 * (in_containers - inside_jobs) / wall:.1f} % of the wall time, "
              f"{(in_containers - inside_jobs) / len(jobs):.2f} s per job")

    samples, started = [], []
    for _ in range(args.reruns):
        before = statuses(store)
        wall, proc = run(command)
        if proc.returncode != 0:
            sys.exit(f"the re-run failed:\n{proc.stdout}\n{proc.stderr}")
        after = statuses(store)
        started.append(sum(1 for path, mtime in after.items() if before.get(path) != mtime))
        samples.append(wall)
    print(f"(a) re-running the finished quick campaign ({len(statuses(store))} jobs), "
          f"{args.reruns} times")
    print(f"    containers started: {started} (target 0)")
    print(f"    wall time: {summary(samples)} (target < 3 s)")
    print(f"    median {statistics.median(samples):.3f} s")


if __name__ == "__main__":
    main()
