"""A campaign of N stand-in make_model jobs (stand_ins/job_image.py) run by the real
executor, reporting as JSON lines what a load test judges: the launcher's memory (VmRSS) and
threads as jobs finish, then the totals.

    python -m stand_ins.load_driver IMAGE_ID STORE N
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from launcher.docker_client import Engine
from launcher.execution.local import LocalSite
from launcher.execution.schedule import Silent, run_plan
from launcher.store import Store
from launcher.study.campaign import load_campaign, with_overrides
from launcher.study.plan import Plan
from launcher.target import Target
from stand_ins.job_image import make_model_node


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Report(Silent):
    """The scheduler's events, silent but for one line per finished job: its memory."""

    def __init__(self) -> None:
        self.count = 0

    def finished(self, node: object, assessment: object, ran: bool) -> None:
        self.count += 1
        print(json.dumps({"finished": self.count, "rss": rss_bytes(),
                          "threads": threading.active_count()}), flush=True)


def main() -> None:
    image_id, store, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    config = with_overrides(load_campaign("paper"), models=["MobileNetV3Small"],
                            methods=["fp16"], copies=1)
    plan = Plan(config, tuple(make_model_node(32 + n) for n in range(count)))
    target = Target(store=Store(store), profile="x86-tf2.12", image="stand-in",
                    image_id=image_id)
    threads = threading.active_count()
    started = time.monotonic()
    summary = run_plan(plan, LocalSite(Engine.connect(), target), Report())
    print(json.dumps({"done": len(summary.ran), "complete": summary.complete,
                      "wall_s": time.monotonic() - started, "rss": rss_bytes(),
                      "threads_before": threads, "threads_after": threading.active_count()}),
          flush=True)


if __name__ == "__main__":
    main()
