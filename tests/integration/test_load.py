"""Load: a campaign of many tiny jobs (the TensorFlow-free stand-in) runs with bounded
launcher memory and leaks no containers, files or threads. The 300-job figures are
bench/load.py's (docs/benchmarks.md); this keeps a lean 40."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from launcher.docker_client import label
from stand_ins import job_image

pytestmark = pytest.mark.docker
ROOT = Path(__file__).parents[2]
BASE = os.environ.get("EDGECOMPRESS_BASE_X86_TF2_12", "edgecompress/base:bookworm")
JOBS = 40


def test_many_jobs_leak_nothing(engine, tmp_path):
    image_id = job_image.build(BASE)
    store = tmp_path / "store"
    proc = subprocess.run([sys.executable, "-m", "stand_ins.load_driver", image_id,
                           str(store), str(JOBS)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    final = lines[-1]
    assert final["done"] == JOBS and final["complete"], final
    assert final["threads_after"] == final["threads_before"], "a thread outlived its job"
    by_job = {line["finished"]: line for line in lines[:-1]}
    growth = by_job[JOBS]["rss"] - by_job[10]["rss"]
    assert growth < 20 * 1024**2, f"launcher memory grew {growth / 1024**2:.1f} MB"
    assert len(list((store / "jobs").iterdir())) == JOBS
    assert not list(store.rglob("*.tmp")), "a temp file was left behind"
    assert not [c for c in engine.containers({label("kind"): "job"})
                if c["Image"] == image_id or c.get("ImageID") == image_id]
