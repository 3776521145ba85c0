"""Run a campaign's plan over a fleet: the ready queue of its dependency graph, one job per
free node of the profile, each job through the same runner as a local run.

The main thread keeps the queue and the manifest; each running job has a thread of its own
that blocks in run_job. A job whose node went down is recorded as a lost attempt and runs
again on another node, at most node_placement.MAX_ATTEMPTS times. The first Ctrl-C (or SIGTERM)
stops every running job (recorded canceled) and dispatches nothing more; a re-run resumes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from launcher.backend import CtrlC
from launcher.contract.record import JobStatus
from launcher.docker_swarm import NodeInfo, SwarmEngine
from launcher.errors import UserError
from launcher.fleet import node_placement
from launcher.fleet.backend import SwarmBackend
from launcher.fleet.keeper import network_kept
from launcher.runner import JobOutcome, run_job
from launcher.study.execute import (
    Assessment,
    Events,
    Resolver,
    State,
    Summary,
    WeightsLookup,
    dataset_folder,
    manifest_entry,
    no_weights,
)
from launcher.study.manifest import Manifest, load_manifest, manifest_path, write_manifest
from launcher.study.plan import Node, Plan
from launcher.target import Target, request_for

# How often the queue looks at finished jobs and free nodes.
TICK_S = 0.3
# How long jobs may wait with no node of the profile ready before the run stops (a board
# rebooting comes back well within it).
NO_NODE_S = 600.0


@dataclass(frozen=True)
class Lane:
    """Training placed on another profile (launcher/study/training_placement.py): its nodes, the
    registry-qualified name of its image, the target its train and scratch jobs run on."""

    image: str
    target: Target


@dataclass(frozen=True)
class Fleet:
    """A connected swarm and what its jobs need: the registry-qualified image and the
    internal network of offline jobs; ``training``: where train and scratch jobs go when the
    campaign places them on another profile's nodes."""

    engine: SwarmEngine
    image: str  # what every node pulls; same image id as target.image_id
    network: str | None
    training: Lane | None = None

    def lane_of(self, node: Node, target: Target) -> tuple[str, Target]:
        """(image, target) of the nodes that run ``node``."""
        if node.role == "train" and self.training is not None:
            return self.training.image, self.training.target
        return self.image, target


@dataclass
class _Running:
    node: Node
    host: NodeInfo
    future: Future[JobOutcome]


@dataclass
class FleetSummary(Summary):
    nodes_used: dict[str, int] = field(default_factory=dict)  # hostname -> jobs it ran
    lost_attempts: int = 0


def run_fleet_plan(fleet: Fleet, plan: Plan, target: Target, events: Events,
                   retry_failed: bool = False, deadline_s: float | None = None,
                   max_attempts: int = node_placement.MAX_ATTEMPTS, no_node_s: float = NO_NODE_S,
                   clock: Callable[[], float] = time.monotonic,
                   weights: WeightsLookup = no_weights) -> FleetSummary:
    started = clock()
    summary = FleetSummary()
    profiles = [target.profile] + ([fleet.training.target.profile] if fleet.training else [])
    for profile in profiles:
        line = node_placement.unmatched(fleet.engine.nodes(), profile)
        if line is not None:
            raise UserError(line)  # before anything starts: no folder, no service
    resolver = Resolver(plan, target.store, target.image_id, dataset_folder(plan, target.store),
                        fleet.training.target.image_id if fleet.training else None, weights)
    earlier = load_manifest(manifest_path(target.store.root, plan.config.name, target.profile))
    manifest = Manifest(name=plan.config.name, profile=target.profile, image=target.image,
                        image_id=target.image_id, config=plan.config,
                        nodes=dict(earlier.nodes) if earlier else {})
    events.begin(plan, resolver.assess_all())

    cancel = threading.Event()
    running: dict[str, _Running] = {}  # plan node id -> its job
    attempts: dict[str, int] = {}
    avoid: dict[str, frozenset[str]] = {}
    forced: set[str] = set()
    pending = list(plan.nodes)  # not yet settled, in the plan's order (upstream first)
    ready: list[Node] = []
    changed = True
    no_node_since: float | None = None
    pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="edgecompress-fleet")
    lanes = [(target.profile, fleet.image)] + (
        [(fleet.training.target.profile, fleet.training.image)] if fleet.training else [])
    try:
        with CtrlC() as ctrl_c, network_kept(fleet.engine, lanes, fleet.network):
            while True:
                if ctrl_c.requested:
                    cancel.set()
                for node_id, job in list(running.items()):
                    if not job.future.done():
                        continue
                    del running[node_id]
                    changed = True
                    outcome = job.future.result()
                    _settle(job, outcome, resolver, manifest, target, summary, events, pending,
                            attempts, avoid, max_attempts, cancel)
                if changed and not cancel.is_set():
                    changed = False
                    ready = _ready(pending, resolver, manifest, summary, events, running,
                                   retry_failed, forced)
                if cancel.is_set():
                    ready = []
                if not running and not ready:
                    break
                swarm_nodes = fleet.engine.nodes()
                busy = {job.host.id for job in running.values()}
                by_id = {node.id: node for node in ready}
                nodes = []
                for profile in profiles:  # each lane's jobs on its own profile's nodes
                    lane = node_placement.eligible(swarm_nodes, profile)
                    nodes += lane
                    queue = [n.id for n in ready
                             if fleet.lane_of(n, target)[1].profile == profile]
                    for chosen in node_placement.assign(queue, lane, busy, avoid):
                        node = by_id[chosen.job]
                        ready.remove(node)
                        pending.remove(node)
                        busy.add(chosen.node.id)
                        running[node.id] = _dispatch(pool, fleet, resolver, node, chosen.node,
                                                     target, events, deadline_s,
                                                     node.id in forced, cancel)
                if nodes or running:
                    no_node_since = None
                elif no_node_since is None:
                    no_node_since = clock()
                elif clock() - no_node_since > no_node_s:
                    # Every board of the profile has been gone that long: stop, resumable.
                    raise UserError(f"no node labelled {node_placement.PROFILE_LABEL}="
                                    f"{' or '.join(profiles)} has been ready for "
                                    f"{no_node_s:g} s; "
                                    "bring one back and run the same command again")
                if running:  # woken as soon as a job ends: its board is free for the next
                    wait([job.future for job in running.values()], timeout=TICK_S,
                         return_when=FIRST_COMPLETED)
                else:
                    time.sleep(TICK_S)
    finally:
        cancel.set()  # a KeyboardInterrupt on the way out: every job thread stops its service
        pool.shutdown(wait=True)
        write_manifest(target.store.root, manifest)
        summary.wall_s = clock() - started
    return summary


def _ready(pending: list[Node], resolver: Resolver, manifest: Manifest, summary: Summary,
           events: Events, running: dict[str, _Running], retry_failed: bool,
           forced: set[str]) -> list[Node]:
    """Assess what is not settled: done ones are reused, failed ones left (unless retried),
    and the jobs whose inputs all exist are ready, in plan order."""
    ready: list[Node] = []
    for node in list(pending):
        if node.id in running:
            continue
        assessment = resolver.assess(node)
        if assessment.folder is not None:
            manifest.nodes[node.id] = manifest_entry(node, assessment.folder)
        if assessment.state is State.done:
            summary.reused += 1
            pending.remove(node)
            continue
        if assessment.state is State.waiting:
            continue  # an upstream is still running or queued
        if assessment.state is State.failed and not retry_failed:
            summary.failed.append(assessment)
            pending.remove(node)
            events.finished(node, assessment, ran=False)
            continue
        if assessment.force:
            forced.add(node.id)
        ready.append(node)
    if not ready and not running:
        # Nothing can run: what still waits is behind a failed job.
        for node in list(pending):
            assessment = resolver.assess(node)
            summary.waiting.append(assessment)
            events.finished(node, assessment, ran=False)
            pending.remove(node)
    return ready


def _dispatch(pool: ThreadPoolExecutor, fleet: Fleet, resolver: Resolver, node: Node,
              host: NodeInfo, target: Target, events: Events, deadline_s: float | None,
              force: bool, cancel: threading.Event) -> _Running:
    inputs = resolver.inputs(node)
    assert inputs is not None  # assessed ready: every upstream is done
    spec = resolver.spec(node, inputs)
    image, node_target = fleet.lane_of(node, target)
    request = request_for(node_target, spec, inputs, deadline_s, force)
    backend = SwarmBackend(fleet.engine, host, image, fleet.network, cancel)
    events.started(node)
    future = pool.submit(run_job, fleet.engine, target.store, request, events.line, backend)
    return _Running(node, host, future)


def _settle(job: _Running, outcome: JobOutcome, resolver: Resolver, manifest: Manifest,
            target: Target, summary: FleetSummary, events: Events, pending: list[Node],
            attempts: dict[str, int], avoid: dict[str, frozenset[str]], max_attempts: int,
            cancel: threading.Event) -> None:
    node = job.node
    summary.ran.append(outcome)
    summary.nodes_used[job.host.hostname] = summary.nodes_used.get(job.host.hostname, 0) + 1
    manifest.nodes[node.id] = manifest_entry(node, outcome.folder)
    write_manifest(target.store.root, manifest)
    after = resolver.assess(node)
    status = outcome.record.status
    if status is JobStatus.lost and not cancel.is_set():
        summary.lost_attempts += 1
        attempts[node.id] = attempts.get(node.id, 0) + 1
        avoid[node.id] = avoid.get(node.id, frozenset()) | {job.host.id}
        if node_placement.retry(attempts[node.id], max_attempts):
            events.finished(node, after, ran=True)
            pending.insert(0, node)  # first in the queue: it was dispatched before the rest
            return
        summary.failed.append(Assessment(node, State.failed, f"lost its node "
                                         f"{attempts[node.id]} times: {outcome.record.reason}",
                                         after.folder, after.record))
        events.finished(node, after, ran=True)
        return
    events.finished(node, after, ran=True)
    if status in (JobStatus.canceled, JobStatus.lost):
        summary.canceled = after
        return
    if after.state is not State.done:
        summary.failed.append(after)
