"""Fleet runs on a real Docker Swarm of docker-in-docker nodes (stand_ins/swarm.py), side
by side in one run:

  dispatch  the same trivial job of the TensorFlow-free stand-in image
            (stand_ins/job_image.py), one at a time: as a Swarm service on a worker
            (with the network keeper a campaign runs, launcher/fleet/keeper.py) against a
            local container on this host (RunRecord.wall_s, create to removal); the fleet's
            cost per job is the difference of the medians (target <= 1 s)
  spread    a campaign of --jobs stand-in jobs that each wait --wait seconds, on one worker
            against two: how well the launcher keeps the boards busy, not the boards
  campaign  the quick campaign with --copies trained copies, real TensorFlow in the real job
            image of --profile (built beforehand: 'edgecompress build'), pushed to the lab's
            registry, on one worker against two, each worker pinned to a CPU of its own
            (cpuset): the campaign's speed-up (target >= 1.6x). --copies 0 skips it.

    .venv/bin/python -m bench.fleet [--dispatch 10] [--jobs 8] [--wait 5] [--copies 4]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from launcher.contract.record import JobStatus
from launcher.device.profiles import get_profile
from launcher.docker_client import Engine
from launcher.docker_swarm import SwarmEngine
from launcher.execution.schedule import Silent, run_plan
from launcher.fleet.backend import SwarmBackend
from launcher.fleet.connect import prepare
from launcher.fleet.images import remote
from launcher.fleet.keeper import network_kept
from launcher.fleet.node_placement import eligible
from launcher.fleet.site import FleetSite
from launcher.runner import JobOutcome, JobRequest, run_job
from launcher.store import Store, load_result
from launcher.study.campaign import load_campaign, with_overrides
from launcher.study.plan import Plan, expand, resolve_spec
from launcher.target import image_id_of
from stand_ins import job_image, swarm
from stand_ins.job_image import make_model_node

PROFILE = "x86-tf2.12"
BASE = os.environ.get("EDGECOMPRESS_BASE_X86_TF2_12", "edgecompress/base:bookworm")



def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dispatch", type=int, default=10, help="jobs timed each way")
    parser.add_argument("--jobs", type=int, default=8, help="jobs of the spread campaign")
    parser.add_argument("--wait", type=float, default=5.0, help="seconds each of them waits")
    parser.add_argument("--copies", type=int, default=4,
                        help="trained copies of the quick campaign (0: no campaign)")
    parser.add_argument("--profile", default=PROFILE, help="the real job image's profile")
    args = parser.parse_args()
    if args.copies:  # before the swarm: one line if the image is not built
        profile = get_profile(args.profile)
        real_id = image_id_of(Engine.connect(), profile)
    stand_in = job_image.build(BASE)
    lab = swarm.start(workers=2, profile=PROFILE)
    try:
        engine = SwarmEngine.connect(base_url=lab.manager_url)
        local = Engine.connect()
        fleet, target = prepare(engine, local, job_image.TAG + ":latest", stand_in,
                                get_profile(PROFILE),
                                lab.store / "results", lab.registry, lab.push_registry,
                                lambda line: None)
        lab.pushed.append(remote(lab.push_registry, job_image.TAG + ":latest"))
        worker = eligible(engine.nodes(), PROFILE)[0]
        on_fleet, here = [], []
        with network_kept(engine, [(PROFILE, fleet.image)], fleet.network):
            time.sleep(5)  # the keeper up before the first job, as in a running campaign
            for index in range(args.dispatch):
                spec = resolve_spec(make_model_node(100 + index), {})
                request = JobRequest(spec=spec, image=job_image.TAG, image_id=stand_in,
                                     deadline_s=120, limits=target.limits)
                swarm_run = run_job(SwarmBackend(engine, worker, fleet.image, fleet.network),
                                    Store(lab.store / "dispatch"), request)
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
            with only(lab, workers):
                sizes = range(200 + 100 * workers, 200 + 100 * workers + args.jobs)
                plan = Plan(config, tuple(make_model_node(size) for size in sizes))
                started = time.perf_counter()
                summary = run_plan(plan, FleetSite(fleet, waiting), Silent())
                walls[workers] = time.perf_counter() - started
                assert summary.complete and len(summary.ran) == args.jobs, summary
                print(f"spread, {args.jobs} jobs of {args.wait:g} s on {workers} worker(s): "
                      f"{walls[workers]:.1f} s, jobs per node {summary.nodes_used}", flush=True)
        print(f"speed-up of two workers over one: {walls[1] / walls[2]:.2f}x", flush=True)
    finally:
        lab.close()
    if args.copies:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            print("campaign: one CPU on this host, the workers share it", flush=True)
        # A swarm of its own: each worker a board of one CPU.
        pinned_lab = swarm.start(workers=2, profile=profile.name, worker_cpus=[
            str(cpu) for cpu in cpus[:2]] if len(cpus) >= 2 else None)
        try:
            campaign(pinned_lab, SwarmEngine.connect(base_url=pinned_lab.manager_url),
                     Engine.connect(), profile.name, profile.image, real_id, args.copies)
        finally:
            pinned_lab.close()


@contextlib.contextmanager
def only(lab: swarm.LabSwarm, workers: int) -> Iterator[None]:
    """The first ``workers`` workers take jobs; the others are drained for the block (boards
    taken out of the lab)."""
    others = lab.workers[workers:]
    for node in others:
        swarm.docker("node", "update", "--availability", "drain", node.name,
                     host=lab.manager_url)
    try:
        yield
    finally:
        for node in others:
            swarm.docker("node", "update", "--availability", "active", node.name,
                         host=lab.manager_url)


def campaign(lab: swarm.LabSwarm, engine: SwarmEngine, local: Engine, profile: str,
             image: str, image_id: str, copies: int) -> None:
    """The quick campaign in the real job image on one worker, then on two; every result
    checked as a local run's."""
    lab.pushed.append(remote(lab.push_registry, image))
    started = time.perf_counter()
    # Pushing the image and pulling it on every worker (the preflight) is the fleet's
    # one-off cost, outside the campaigns' wall times.
    fleet, target = prepare(engine, local, image, image_id, get_profile(profile),
                            lab.store / "campaign-1",
                            lab.registry, lab.push_registry, lambda line: None)
    print(f"campaign: image pushed and pulled on {len(lab.workers)} workers in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    config = with_overrides(load_campaign("quick"), copies=copies)
    walls = {}
    for workers in (1, 2):
        with only(lab, workers):
            store = Store(lab.store / f"campaign-{workers}")
            started = time.perf_counter()
            summary = run_plan(expand(config),
                               FleetSite(fleet, dataclasses.replace(target, store=store)), Silent())
            walls[workers] = time.perf_counter() - started
        checked = valid_results(summary.ran)
        assert summary.complete and checked == len(summary.ran), (summary, checked)
        print(f"campaign, quick with {copies} copies on {workers} worker(s): "
              f"{walls[workers]:.0f} s, {checked} valid results, jobs per node "
              f"{summary.nodes_used}", flush=True)
    print(f"campaign speed-up of two workers over one: {walls[1] / walls[2]:.2f}x", flush=True)


def valid_results(ran: list[JobOutcome]) -> int:
    """How many jobs succeeded with a result that passes the local run's validation."""
    valid = 0
    for outcome in ran:
        spec = json.loads((outcome.folder / "spec.json").read_text())
        result, problem = load_result(outcome.folder / "out", spec)
        valid += outcome.record.status is JobStatus.succeeded and result is not None \
            and problem is None
    return valid


if __name__ == "__main__":
    main()
