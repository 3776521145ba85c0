"""One ready queue over a site: a campaign's plan run against the results store.

The main thread keeps the queue and the manifest; each running job has a worker thread that
blocks in run_job. Each tick: settle the jobs that ended, assess what is not settled (done ones
are reused, failed ones left unless retried, jobs whose inputs all exist are ready, in plan
order), and let the site place ready jobs in its free slots (launcher/execution/site.py).
A job lost with its board runs again where the site says; a canceled job, or a lost engine,
stops the run. The first Ctrl-C (or SIGTERM, SIGHUP) sets the one Cancel every running job
holds: each is stopped and recorded canceled, nothing more starts, and a re-run resumes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

from launcher.contract.record import JobStatus
from launcher.execution.cancel import Cancel, CtrlC
from launcher.execution.site import Lost, Running, Site
from launcher.runner import JobOutcome
from launcher.study.manifest import Manifest, load_manifest, manifest_path, write_manifest
from launcher.study.plan import Node, Plan
from launcher.study.resolve import (
    Assessment,
    Resolver,
    State,
    WeightsLookup,
    dataset_folder,
    manifest_entry,
    no_weights,
)
from launcher.target import request_for

# How often the queue looks at finished jobs and free slots when nothing ends sooner.
TICK_S = 0.3
# Worker threads: a bound, not a target (a site's slots decide how many jobs run).
MAX_WORKERS = 64


class Events(Protocol):
    """What the scheduler tells whoever shows progress. ``started`` and ``line`` may come for
    several jobs at once; ``line`` comes from the job's log thread."""

    def begin(self, plan: Plan, assessments: list[Assessment]) -> None: ...
    def started(self, node: Node) -> None: ...
    def line(self, node: Node, text: str) -> None: ...
    def finished(self, node: Node, assessment: Assessment, ran: bool) -> None: ...


class Silent:
    """Events that show nothing: for callers of the API that want no progress, the tests and
    the benchmarks that run a plan in process."""

    def begin(self, plan: Plan, assessments: list[Assessment]) -> None:
        pass

    def started(self, node: Node) -> None:
        pass

    def line(self, node: Node, text: str) -> None:
        pass

    def finished(self, node: Node, assessment: Assessment, ran: bool) -> None:
        pass


@dataclass
class Summary:
    ran: list[JobOutcome] = field(default_factory=list)  # containers started this run
    reused: int = 0
    failed: list[Assessment] = field(default_factory=list)  # this run or left from before
    waiting: list[Assessment] = field(default_factory=list)  # blocked behind a failed job
    canceled: Assessment | None = None
    wall_s: float = 0.0
    nodes_used: dict[str, int] = field(default_factory=dict)  # a fleet's board -> its jobs
    lost_attempts: int = 0  # attempts lost with their board and run again
    most_running: int = 0  # the most jobs that ran at once

    @property
    def complete(self) -> bool:
        return not (self.failed or self.waiting or self.canceled)


@dataclass
class _Queue:
    """What is not settled yet, in plan order (upstream first), and what it learned."""

    pending: list[Node]
    running: dict[str, Running] = field(default_factory=dict)  # node id -> its job
    attempts: dict[str, int] = field(default_factory=dict)  # node id -> attempts lost
    forced: set[str] = field(default_factory=set)  # done, artifact gone: run over it


def run_plan(plan: Plan, site: Site, events: Events, retry_failed: bool = False,
             deadline_s: float | None = None, clock: Callable[[], float] = time.monotonic,
             weights: WeightsLookup = no_weights, cancel: Cancel | None = None) -> Summary:
    """Run what is not done of ``plan`` on ``site``; ``cancel`` (default: a fresh one, set by
    Ctrl-C) stops it."""
    started = clock()
    summary = Summary()
    target = site.target
    resolver = Resolver(plan, target.store, target.image_id, dataset_folder(plan, target.store),
                        site.training_image_id, weights)
    # Nodes of earlier runs under this name stay: a campaign run model by model (--models)
    # keeps every model's results in the report; a node run again points at its new folder.
    earlier = load_manifest(manifest_path(target.store.root, plan.config.name, target.profile))
    manifest = Manifest(name=plan.config.name, profile=target.profile, image=target.image,
                        image_id=target.image_id, config=plan.config,
                        nodes=dict(earlier.nodes) if earlier else {})
    # A first pass (digests are cached, loads are cheap) tells progress what is left and how
    # long finished jobs took.
    events.begin(plan, resolver.assess_all())
    queue = _Queue(pending=list(plan.nodes))
    pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="edgecompress-job")
    changed = True
    ready: list[Node] = []
    stop = cancel or Cancel()
    try:
        with CtrlC(stop), site.session():
            while True:
                for node_id, job in list(queue.running.items()):
                    if job.future.done():
                        del queue.running[node_id]
                        changed = True
                        _settle(job, job.future.result(), site, resolver, manifest, summary,
                                events, queue, stop)
                if changed and not stop.requested:
                    changed = False
                    ready = _ready(queue, resolver, manifest, summary, events, site,
                                   retry_failed)
                if stop.requested:
                    ready = []
                if not queue.running and not ready:
                    break
                for node, slot in site.place(ready, list(queue.running.values())):
                    ready.remove(node)
                    queue.pending.remove(node)
                    queue.running[node.id] = _dispatch(pool, site, resolver, node, slot,
                                                       events, deadline_s,
                                                       node.id in queue.forced, stop)
                summary.most_running = max(summary.most_running, len(queue.running))
                site.idle(clock(), len(queue.running))
                if queue.running:  # woken as soon as a job ends: its slot is free for the next
                    wait([job.future for job in queue.running.values()], timeout=TICK_S,
                         return_when=FIRST_COMPLETED)
                else:
                    stop.wait(TICK_S)
            if stop.requested and summary.canceled is None and queue.pending:
                # Stopped while no job ran (a fleet waiting for a board, or between two jobs):
                # no canceled job says so, yet what is left never ran: not a complete run.
                summary.canceled = resolver.assess(queue.pending[0])
    finally:
        if queue.running:  # a KeyboardInterrupt or an error on the way out: each job stops
            stop.set()
        pool.shutdown(wait=True)
        write_manifest(target.store.root, manifest)
        summary.wall_s = clock() - started
    return summary


def _ready(queue: _Queue, resolver: Resolver, manifest: Manifest, summary: Summary,
           events: Events, site: Site, retry_failed: bool) -> list[Node]:
    """Assess what is not settled: done ones are reused, failed ones left (unless retried),
    and the jobs whose inputs all exist are ready, in plan order."""
    ready: list[Node] = []
    for node in list(queue.pending):
        if node.id in queue.running:
            continue
        assessment = resolver.assess(node)
        if assessment.folder is not None:
            manifest.nodes[node.id] = manifest_entry(node, assessment.folder)
        if assessment.state is State.done:
            summary.reused += 1
            queue.pending.remove(node)
            continue
        if assessment.state is State.waiting:
            continue  # an upstream is still running or queued
        refused = site.refuse(node)
        if assessment.state is State.failed and not retry_failed or refused is not None:
            if refused is not None:
                assessment = Assessment(node, State.failed, refused, assessment.folder,
                                        assessment.record)
            summary.failed.append(assessment)
            queue.pending.remove(node)
            events.finished(node, assessment, ran=False)
            continue
        if assessment.force:
            queue.forced.add(node.id)
        ready.append(node)
    if not ready and not queue.running:
        # Nothing can run: what still waits is behind a failed job.
        for node in list(queue.pending):
            assessment = resolver.assess(node)
            summary.waiting.append(assessment)
            events.finished(node, assessment, ran=False)
            queue.pending.remove(node)
    return ready


def _dispatch(pool: ThreadPoolExecutor, site: Site, resolver: Resolver, node: Node,
              slot: object, events: Events, deadline_s: float | None, force: bool,
              cancel: Cancel) -> Running:
    inputs = resolver.inputs(node)
    assert inputs is not None  # assessed ready: every upstream is done
    spec = resolver.spec(node, inputs)
    request = dataclasses.replace(
        request_for(site.target_for(node), spec, inputs, deadline_s, force),
        parallel=site.sharing(node))
    events.started(node)

    def on_line(text: str) -> None:
        events.line(node, text)

    future = pool.submit(site.run, node, slot, request, on_line, cancel)
    return Running(node, slot, future)


def _settle(job: Running, outcome: JobOutcome, site: Site, resolver: Resolver,
            manifest: Manifest, summary: Summary, events: Events, queue: _Queue,
            cancel: Cancel) -> None:
    node = job.node
    summary.ran.append(outcome)
    name = site.slot_name(job.slot)
    if name is not None:
        summary.nodes_used[name] = summary.nodes_used.get(name, 0) + 1
    manifest.nodes[node.id] = manifest_entry(node, outcome.folder)
    write_manifest(site.target.store.root, manifest)
    after = resolver.assess(node)
    events.finished(node, after, ran=True)
    status = outcome.record.status
    if status is JobStatus.lost and not cancel.requested:
        queue.attempts[node.id] = queue.attempts.get(node.id, 0) + 1
        verdict = site.lost(node, job.slot, queue.attempts[node.id])
        if verdict is Lost.retry:
            summary.lost_attempts += 1
            queue.pending.insert(0, node)  # first in the queue: it was placed before the rest
            return
        if verdict is Lost.give_up:  # not counted: the summary counts attempts run again
            summary.failed.append(Assessment(
                node, State.failed, f"lost its node {queue.attempts[node.id]} times: "
                f"{outcome.record.reason}", after.folder, after.record))
            return
    if status in (JobStatus.canceled, JobStatus.lost):
        # Ctrl-C, or the engine went away: nothing more can run now; a re-run resumes.
        summary.canceled = summary.canceled or after
        cancel.set()
        return
    if after.state is not State.done:
        summary.failed.append(after)
