"""Load: a campaign of N tiny jobs through the real executor and runner, on the TensorFlow-free
stand-in image (stand_ins/job_image.py), to measure the launcher itself: jobs per
minute, the launcher's peak and final memory, its memory growth from job 50 to the last, and
what is left behind (containers, temp files, threads).

    .venv/bin/python -m bench.load [--jobs 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from launcher.docker_client import Engine, label
from stand_ins import job_image

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--base", default=os.environ.get("EDGECOMPRESS_BASE_X86_TF2_12",
                                                         "edgecompress/base:bookworm"))
    args = parser.parse_args()
    image_id = job_image.build(args.base)
    store = Path(tempfile.mkdtemp(prefix="bench-load-"))
    proc = subprocess.run([sys.executable, "-m", "stand_ins.load_driver", image_id,
                           str(store), str(args.jobs)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    final, progress = lines[-1], lines[:-1]
    peak = max(line["rss"] for line in progress)
    early = progress[min(49, len(progress) - 1)]["rss"]
    engine = Engine.connect()
    leaked = [c for c in engine.containers({label("kind"): "job"})
              if c.get("ImageID") == image_id]
    print(f"{final['done']} jobs in {final['wall_s']:.1f} s: "
          f"{60 * final['done'] / final['wall_s']:.1f} jobs per minute "
          f"({final['wall_s'] / final['done']:.2f} s per job)")
    print(f"launcher memory: peak {peak / 2**20:.1f} MiB, after job 50 {early / 2**20:.1f} "
          f"MiB, at the end {final['rss'] / 2**20:.1f} MiB "
          f"(growth {(final['rss'] - early) / 2**20:+.1f} MiB)")
    print(f"left behind: {len(leaked)} containers, {len(list(store.rglob('*.tmp')))} temp "
          f"files, threads {final['threads_before']} before / {final['threads_after']} after")


if __name__ == "__main__":
    main()
