"""How much of a campaign's job time is the work it measures (issue 11).

Runs, each in a fresh store, with this checkout's launcher and, given --before, another
checkout's launcher (an older commit: its own venv and image) side by side:
  quick   the quick preset (MobileNetV3Small, 32 px digits, FP16, INT8, prune50, distill)
  paper   a subset at the paper's settings: MobileNetV3Small, 224 px, batch 4, one copy,
          digits upscaled to 224, FP16, INT8, prune50, distill; 1 training and 1 compression
          epoch and 200 latency images x 3 runs, so that it ends in minutes (the epochs and
          runs are work: fewer of them only raise the share of what is not)

Work, per job: train_s, conversion_s, prune_s, distill_s, and a benchmark's timed latency
runs (per-image ms x images, every run). Wall: the job's container from create to removal
(RunRecord.wall_s). Printed: total wall and work, efficiency = work / wall, the median
non-work seconds per job kind, and the floor (docker run IMAGE python3 -c "import
tensorflow", median of 3) measured beside them.

    .venv/bin/python -m bench.campaign_efficiency [--profile x86-tf2.12]
        [--before OTHER_CHECKOUT] [--only quick,paper]
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
from typing import Any

from launcher.device.profiles import get_profile

HERE = Path(__file__).resolve().parent.parent

PAPER_SUBSET = """\
name = "paper-subset"
models = ["MobileNetV3Small"]
methods = ["fp16", "int8", "prune50", "distill"]
copies = 1
input_size = 224
batch_size = 4
weights = "none"
bn_momentum = 0.9
epochs = 1
compress_epochs = 1
calibration_images = 128
timeout_s = 3600

[dataset]
source = "digits"

[training]
base = "full"
students = "full"

[distill]
student = "MobileNetV3Small"
self_distill = true

[benchmark]
latency_images = 200
latency_runs = 3
warmup_runs = 1
"""

WORK_FIELDS = ("train_s", "conversion_s", "prune_s", "distill_s")


def work_of(result: dict[str, Any]) -> float:
    metrics = result["metrics"]
    if result["job"] == "benchmark":
        runs = result.get("samples", {}).get("latency_ms_per_image_all_runs", [])
        return float(sum(runs) * metrics["latency_images"] / 1000.0)
    # decode has none: decoding the images is what the decode job saves the others, not work
    # the study measures.
    return next((float(metrics[name]) for name in WORK_FIELDS if name in metrics), 0.0)


def jobs_of(store: Path) -> list[tuple[str, float, float]]:
    """(job, wall_s, work_s) of every job that ran into the store."""
    rows = []
    for status in sorted((store / "jobs").glob("*/status.json")):
        record = json.loads(status.read_text())
        result_path = status.parent / "out" / "result.json"
        if record.get("status") != "succeeded" or not result_path.is_file():
            raise SystemExit(f"{status.parent.name}: {record.get('status')}: "
                             f"{record.get('reason')}")
        result = json.loads(result_path.read_text())
        rows.append((record["job"], float(record["wall_s"]), work_of(result)))
    return rows


def floor_s(image: str) -> float:
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(["docker", "run", "--rm", "--network", "none", "--entrypoint",
                        "python3", image, "-c", "import tensorflow"], check=True,
                       capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def run_campaign(checkout: Path, campaign: str, profile: str) -> tuple[Path, float]:
    store = Path(tempfile.mkdtemp(prefix="bench-efficiency-"))
    launcher = checkout / ".venv" / "bin" / "edgecompress"
    subprocess.run([str(launcher), "build", profile], check=True, cwd=checkout,
                   capture_output=True)
    started = time.perf_counter()
    proc = subprocess.run([str(launcher), "campaign", "run", campaign, "--store", str(store),
                           "--profile", profile], cwd=checkout, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{checkout}: campaign {campaign}: {proc.stderr[-2000:]}")
    return store, time.perf_counter() - started


def image_of(checkout: Path, profile: str) -> str:
    """The profile's image tag, pointed at this checkout's image by its build (the
    checkouts share the tag: every campaign builds, so reuses, its own image first)."""
    subprocess.run([str(checkout / ".venv" / "bin" / "edgecompress"), "build", profile],
                   check=True, cwd=checkout, capture_output=True)
    return get_profile(profile).image


def summarise(label: str, rows: list[tuple[str, float, float]], campaign_s: float,
              floor: float) -> dict[str, float]:
    wall = sum(w for _, w, _ in rows)
    work = sum(k for _, _, k in rows)
    print(f"\n{label}: {len(rows)} jobs, campaign {campaign_s:.0f} s, job wall {wall:.0f} s, "
          f"work {work:.0f} s, efficiency {work / wall:.2f}")
    print("| job | jobs | median wall s | median work s | median non-work s | non-work / floor |")
    print("|---|---|---|---|---|---|")
    kinds = sorted({job for job, _, _ in rows})
    medians = {}
    for kind in kinds:
        mine = [(w, k) for job, w, k in rows if job == kind]
        nonwork = statistics.median(w - k for w, k in mine)
        medians[kind] = nonwork
        print(f"| {kind} | {len(mine)} | {statistics.median(w for w, _ in mine):.1f} | "
              f"{statistics.median(k for _, k in mine):.1f} | {nonwork:.1f} | "
              f"{nonwork / floor:.1f}x |")
    return {"wall": wall, "work": work, "campaign": campaign_s, **medians}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="x86-tf2.12")
    parser.add_argument("--before", type=Path, help="an older checkout, with its .venv")
    parser.add_argument("--only", default="quick,paper")
    args = parser.parse_args()
    subset = Path(tempfile.mkdtemp(prefix="bench-efficiency-toml-")) / "paper-subset.toml"
    subset.write_text(PAPER_SUBSET)
    campaigns = {"quick": "quick", "paper": str(subset)}
    checkouts = {"after": HERE}
    if args.before:
        checkouts = {"before": args.before.resolve(), **checkouts}
    floors = {}
    for name, checkout in checkouts.items():
        floors[name] = floor_s(image_of(checkout, args.profile))
        print(f"{name}: floor (docker run IMAGE python3 -c 'import tensorflow') "
              f"{floors[name]:.2f} s", flush=True)
    figures: dict[tuple[str, str], dict[str, float]] = {}
    for which in args.only.split(","):
        for name, checkout in checkouts.items():
            store, campaign_s = run_campaign(checkout, campaigns[which], args.profile)
            figures[(which, name)] = summarise(f"{which}, {name} ({checkout}; store {store})",
                                               jobs_of(store), campaign_s, floors[name])
            sys.stdout.flush()
    if args.before:
        for which in args.only.split(","):
            before, after = figures[(which, "before")], figures[(which, "after")]
            print(f"{which}: campaign wall after / before = "
                  f"{after['campaign'] / before['campaign']:.2f}; job wall "
                  f"{after['wall'] / before['wall']:.2f}")


if __name__ == "__main__":
    main()
