"""Fleet runs on a real Docker Swarm of docker-in-docker nodes (tests/stand_ins/swarm.py), with
the TensorFlow-free stand-in job image (tests/stand_ins/job_image.py), side by side in one run:

  dispatch  the same trivial job, one at a time: as a Swarm service on a worker against a
            local container on this host (RunRecord.wall_s, create to removal); the fleet's
            cost per job is the difference of the medians (target <= 1 s)
  spread    a campaign of --jobs jobs that each wait --wait seconds, on one worker against
            two: the speed-up of the campaign's wall time (target >= 1.6x). The jobs wait
            rather than compute: what is measured is how well the launcher keeps the boards
            busy, not the boards; a real campaign adds the boards' own speed.

    .venv/bin/python bench/fleet.py [--dispatch 10] [--jobs 8] [--wait 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from launcher.docker_client import Engine  # noqa: E402
from launcher.docker_swarm import SwarmEngine  # noqa: E402
from launcher.fleet.backend import SwarmBackend  # noqa: E402
from launcher.fleet.connect import prepare  # noqa: E402
from launcher.fleet.execute import run_fleet_plan  # noqa: E402
from launcher.fleet.placement import eligible  # noqa: E402
from launcher.runner import JobRequest, run_job  # noqa: E402
from launcher.store import Store  # noqa: E402
from launcher.study.campaign import load_campaign, with_overrides  # noqa: E402
from launcher.study.plan import Plan, resolve_spec  # noqa: E402
from tests.stand_ins import job_image, swarm  # noqa: E402
from tests.stand_ins.job_image import make_model_node  # noqa: E402

PROFILE = "x86-tf2.12"
BASE = os.environ.get("EDGECOMPRESS_BASE_X86_TF2_12", "edgecompress/base:bookworm")


class Quiet:
    def begin(self, plan, assessments): pass  # type: ignore[no-untyped-def]
    def started(self, node): pass  # type: ignore[no-untyped-def]
    def line(self, text): pass  # type: ignore[no-untyped-def]
    def finished(self, node, assessment, ran): pass  # type: ignore[no-untyped-def]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dispatch", type=int, default=10, help="jobs timed each way")
    parser.add_argument("--jobs", type=int, default=8, help="jobs of the spread campaign")
    parser.add_argument("--wait", type=float, default=5.0, help="seconds each of them waits")
    args = parser.parse_args()
    stand_in = job_image.build(BASE)
    lab = swarm.start(workers=2, profile=PROFILE)
    try:
        engine = SwarmEngine.connect(base_url=lab.manager_url)
        local = Engine.connect()
        fleet, target = prepare(engine, local, job_image.TAG + ":latest", stand_in, PROFILE,
                                lab.store / "results", lab.registry, lab.push_registry,
                                lambda line: None)
        worker = eligible(engine.nodes(), PROFILE)[0]
        on_fleet, here = [], []
        for index in range(args.dispatch):
            spec = resolve_spec(make_model_node(100 + index), {})
            request = JobRequest(spec=spec, image=job_image.TAG, image_id=stand_in,
                                 deadline_s=120, limits=target.limits)
            swarm_run = run_job(engine, Store(lab.store / "dispatch"), request,
                                backend=SwarmBackend(engine, worker, fleet.image, fleet.network))
            local_run = run_job(local, Store(Path(tempfile.mkdtemp())), request)
            on_fleet.append(swarm_run.record.wall_s)
            here.append(local_run.record.wall_s)
        fleet_median, local_median = statistics.median(on_fleet), statistics.median(here)
        print(f"dispatch, {args.dispatch} jobs each way: Swarm service median "
              f"{fleet_median:.2f} s, local container median {local_median:.2f} s, the "
              f"fleet's cost per job {fleet_median - local_median:.2f} s", flush=True)

        config = with_overrides(load_campaign("paper"), models=["MobileNetV3Small"],
                                methods=["fp16"], copies=1)
        waiting = dataclasses.replace(target, environment={"SLEEP_S": str(args.wait),
                                                           "SLEEP_SIZE": "*"})
        walls = {}
        for workers in (1, 2):
            # One worker: the other drained for the run (a board taken out of the lab).
            others = lab.workers[workers:]
            for node in others:
                swarm.docker("node", "update", "--availability", "drain", node.name,
                             host=lab.manager_url)
            try:
                sizes = range(200 + 100 * workers, 200 + 100 * workers + args.jobs)
                plan = Plan(config, tuple(make_model_node(size) for size in sizes))
                started = time.perf_counter()
                summary = run_fleet_plan(fleet, plan, waiting, Quiet())
                walls[workers] = time.perf_counter() - started
                assert summary.complete and len(summary.ran) == args.jobs, summary
                print(f"spread, {args.jobs} jobs of {args.wait:g} s on {workers} worker(s): "
                      f"{walls[workers]:.1f} s, jobs per node {summary.nodes_used}", flush=True)
            finally:
                for node in others:
                    swarm.docker("node", "update", "--availability", "active", node.name,
                                 host=lab.manager_url)
        print(f"speed-up of two workers over one: {walls[1] / walls[2]:.2f}x")
    finally:
        lab.close()


if __name__ == "__main__":
    main()
