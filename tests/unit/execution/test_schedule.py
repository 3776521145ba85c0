"""The scheduler (launcher/execution/schedule.py) over a fake site, without Docker: the order of
dependent jobs and the reuse of done ones, a failure and what waits behind it, cancel, jobs lost
with their board (run again, given up, or stopping the run), N slots with benchmarks alone,
and a site that has had no node for too long. Also the pure rules of this machine's site
(launcher/execution/local.py): ``place``, ``fit_parallel``, ``share_memory``,
``default_parallel``.

Each fake job goes through the real ``run_job`` with a backend that writes the result its spec
asks for (tests/unit/fleet/test_fleet.py's ``Reported``), so the store holds real job folders
and the Resolver judges them as it judges a real run's.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from launcher.backend import Ended, Watch
from launcher.contract.record import JobStatus
from launcher.device.power import PowerSampler, Sampling
from launcher.device.profiles import get_profile
from launcher.docker_client import ContainerRequest
from launcher.docker_swarm import NodeInfo
from launcher.errors import UserError
from launcher.execution.cancel import Cancel
from launcher.execution.local import (
    MIN_MEMORY_MB,
    LocalSite,
    default_parallel,
    fit_parallel,
    place,
    share_memory,
)
from launcher.execution.schedule import Summary, run_plan
from launcher.execution.site import Lost, Running, Site, Slot
from launcher.fleet import node_placement
from launcher.fleet.site import Fleet, FleetSite
from launcher.limits import DEFAULT_HOST_SHARE, Limits, MiB
from launcher.outcome import StopCause
from launcher.runner import JobOutcome, JobRequest, run_job
from launcher.store import Store
from launcher.study.campaign import load_campaign, with_overrides
from launcher.study.manifest import load_manifest, manifest_path
from launcher.study.plan import Node, Plan
from launcher.study.resolve import Resolver, State
from launcher.target import Target
from stand_ins import job_image
from stand_ins.job_image import make_model_node

PROFILE = "x86-tf2.12"
IMAGE_ID = "sha256:" + "1" * 64
GiB = 1024 * MiB
# The stand-in benchmark's recorded result was validated with these (job_image.py): a spec of
# the same settings takes it as its own.
BENCHMARK_PARAMS = {"input_size": 32, "latency_images": 1, "latency_runs": 2,
                    "warmup_runs": 1, "tfds_mock_examples": 10}


# --- plans, fake jobs, fake sites -------------------------------------------------------------

def benchmark_of(subject: Node) -> Node:
    """A benchmark of ``subject``'s model: it waits for ``subject`` and reads its artifact."""
    return Node(id=f"benchmark/{subject.id}", job="benchmark", params=BENCHMARK_PARAMS,
                inputs=(("model", subject.id),), model=subject.model, method=subject.method,
                copy=1, role="benchmark")


def plan_of(sizes: Sequence[int], benchmarks: bool = True) -> Plan:
    """make_model at each size, each followed by its benchmark (plan order: upstream first).
    The paper's dataset is tfds: no image folder is written into the store."""
    config = with_overrides(load_campaign("paper"), models=["MobileNetV3Small"],
                            methods=["fp16"], copies=1)
    nodes: list[Node] = []
    for size in sizes:
        model = make_model_node(size)
        assert isinstance(model, Node)
        nodes += [model, benchmark_of(model)] if benchmarks else [model]
    return Plan(config, tuple(nodes))


def target_in(root: Path) -> Target:
    return Target(store=Store(root), profile=PROFILE, image="edgecompress/jobs:x86-tf2.12",
                  image_id=IMAGE_ID)


@functools.cache
def recorded(job: str) -> str:
    return (job_image.recorded_make_model() if job == "make_model"
            else job_image.recorded_benchmark())


class FakeBackend:
    """What a container would have done, by ``action``: ``ok`` leaves a valid result after
    ``hold_s`` (stopping early when canceled, as a real job's backend does), ``fail`` exits 1
    with nothing written, ``hold`` runs until the run is canceled, ``lost`` reports its board
    gone."""

    def __init__(self, action: str, hold_s: float) -> None:
        self.action, self.hold_s = action, hold_s

    def power_sampler(self, sampling: Sampling, log_path: Path) -> PowerSampler:
        raise AssertionError("no benchmark here samples power")

    def execute(self, request: ContainerRequest, watch: Watch) -> Ended:
        mounts = {m.target: Path(m.source) for m in request.mounts}
        out = next(path for target, path in mounts.items() if target.endswith("out"))
        spec_json = next(path for target, path in mounts.items()
                         if target.endswith("spec.json")).read_text()
        if watch.on_line is not None:
            watch.on_line(f"{self.action} {json.loads(spec_json)['job']}")
        if self.action == "lost":
            return Ended(StopCause.node_lost, None, detail="b1 is down")
        if self.action == "fail":
            return Ended(StopCause.none, 1, error_tail="error: the fake job failed\n")
        if self.action == "hold":
            if watch.cancel.wait(10):
                return Ended(StopCause.cancel, None)
            return Ended(StopCause.none, 1, error_tail="error: held 10 s, never canceled\n")
        assert self.action == "ok", self.action
        if watch.cancel.wait(self.hold_s):
            return Ended(StopCause.cancel, None)
        spec = json.loads(spec_json)
        document = json.loads(recorded(spec["job"]))
        document["spec"] = spec
        for artifact in document["artifacts"]:
            (out / artifact["path"]).mkdir()
            # Each model's own bytes: the benchmarks of two models must not share a key.
            (out / artifact["path"] / "saved_model.pb").write_text(spec_json)
        (out / "result.json").write_text(json.dumps(document))
        return Ended(StopCause.none, 0)


class Jobs:
    """The fake jobs of a run: what each node's attempts do (``script``: node id -> actions of
    its attempts in turn, ``ok`` after them), and what they saw while they ran."""

    def __init__(self, store: Store, script: dict[str, list[str]] | None = None,
                 hold_s: float = 0.0) -> None:
        self.store, self.script, self.hold_s = store, script or {}, hold_s
        self.changed = threading.Condition()
        self.attempts: Counter[str] = Counter()
        self.running: set[str] = set()
        self.beside: list[tuple[str, frozenset[str]]] = []  # each start: what ran then
        self.order: list[tuple[str, str]] = []  # ("start" or "end", node id)
        self.requests: dict[str, JobRequest] = {}

    def run(self, node: Node, request: JobRequest, on_line: Callable[[str], None],
            cancel: Cancel) -> JobOutcome:
        with self.changed:
            attempt = self.attempts[node.id]
            self.attempts[node.id] += 1
            self.running.add(node.id)
            self.beside.append((node.id, frozenset(self.running)))
            self.order.append(("start", node.id))
            self.requests[node.id] = request
            self.changed.notify_all()
        actions = self.script.get(node.id, [])
        action = actions[attempt] if attempt < len(actions) else "ok"
        try:
            return run_job(FakeBackend(action, self.hold_s), self.store, request, on_line,
                           cancel)
        finally:
            with self.changed:
                self.running.discard(node.id)
                self.order.append(("end", node.id))

    def wait_running(self, count: int, timeout: float = 10) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.running) >= count, timeout)

    def started(self) -> list[str]:
        return [node_id for what, node_id in self.order if what == "start"]

    def index(self, what: str, node_id: str, attempt: int = 1) -> int:
        """Where the ``attempt``-th ``what`` of ``node_id`` is in the order."""
        found = [i for i, entry in enumerate(self.order) if entry == (what, node_id)]
        return found[attempt - 1]


class FakeSite(LocalSite):
    """This machine's site (its placing, sharing and refusing rules, as they are) whose jobs
    run on a fake backend; what it makes of a lost job is ``verdict(attempts)``."""

    def __init__(self, target: Target, jobs: Jobs, slots: int = 1,
                 verdict: Callable[[int], Lost] = lambda attempts: Lost.stop) -> None:
        super().__init__(None, target, slots)  # type: ignore[arg-type]  # run() needs no engine
        self.jobs, self.verdict = jobs, verdict
        self.losses: list[tuple[str, int]] = []

    def run(self, node: Node, slot: Slot, request: JobRequest, on_line: Callable[[str], None],
            cancel: Cancel) -> JobOutcome:
        return self.jobs.run(node, request, on_line, cancel)

    def lost(self, node: Node, slot: Slot, attempts: int) -> Lost:
        self.losses.append((node.id, attempts))
        return self.verdict(attempts)

    def slot_name(self, slot: Slot) -> str | None:
        return f"slot{slot}"


class Recorder:
    """The scheduler's events, in the order they came."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.log: list[tuple[object, ...]] = []
        self.lines: list[tuple[str, str]] = []
        self.begun: list[State] = []

    def begin(self, plan: Plan, assessments: list) -> None:
        self.begun = [a.state for a in assessments]

    def started(self, node: Node) -> None:
        with self.lock:
            self.log.append(("started", node.id))

    def line(self, node: Node, text: str) -> None:
        with self.lock:
            self.lines.append((node.id, text))

    def finished(self, node: Node, assessment, ran: bool) -> None:
        with self.lock:
            self.log.append(("finished", node.id, assessment.state, ran))


# Far above what any run here takes (well under a second): past it the scheduler is stuck.
RUN_BOUND_S = 20.0


def run(plan: Plan, site: Site, events: Recorder | None = None, **options: Any) -> Summary:
    """``run_plan`` in a thread of its own, bounded: a scheduler that never returns fails its
    test instead of hanging the suite (asked to stop through its Cancel, if it still listens).
    What it raises is raised here."""
    cancel = options.setdefault("cancel", Cancel())
    ended: dict[str, Any] = {}

    def go() -> None:
        try:
            ended["summary"] = run_plan(plan, site, events or Recorder(), **options)
        except BaseException as error:  # handed to the test's thread, raised there
            ended["error"] = error

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    thread.join(RUN_BOUND_S)
    if thread.is_alive():
        cancel.set()
        pytest.fail(f"run_plan did not return within {RUN_BOUND_S:g} s")
    if "error" in ended:
        raise ended["error"]
    return ended["summary"]


def ids(assessments) -> list[str]:
    return [a.node.id for a in assessments]


def statuses(summary: Summary) -> list[JobStatus]:
    return [outcome.record.status for outcome in summary.ran]


def state_of(plan: Plan, target: Target, node_id: str) -> State:
    """What a fresh look at the store says of ``node_id`` (upstream assessed first)."""
    resolver = Resolver(plan, target.store, target.image_id, None)
    return {a.node.id: a.state for a in resolver.assess_all()}[node_id]


# --- 1. order and reuse -----------------------------------------------------------------------

def test_one_slot_keeps_plan_order_and_a_downstream_job_reads_its_upstreams_model(tmp_path):
    target = target_in(tmp_path)
    plan = plan_of([32, 33])
    jobs, events = Jobs(target.store), Recorder()
    summary = run(plan, FakeSite(target, jobs), events)

    assert summary.complete, summary
    assert jobs.started() == [node.id for node in plan.nodes]
    assert statuses(summary) == [JobStatus.succeeded] * 4
    assert summary.most_running == 1 and summary.reused == 0
    assert summary.nodes_used == {"slot0": 4}
    filed = {outcome.folder for outcome in summary.ran}
    for model in ("make_model/32", "make_model/33"):
        bench = f"benchmark/{model}"
        # Started only once its upstream had ended and been judged done.
        assert jobs.index("start", bench) > jobs.index("end", model)
        assert events.log.index(("started", bench)) > events.log.index(
            ("finished", model, State.done, True))
        # Its model input is the upstream's filed artifact, mounted from the store.
        upstream = target.store.job_folder("make_model", jobs.requests[model].key)
        assert upstream in filed
        assert jobs.requests[bench].inputs["model"] == upstream / "out" / "saved_model"
    assert ("make_model/32", "ok make_model") in events.lines, "the job's lines reach events"

    # A second run finds everything done by its key: nothing runs.
    again_jobs, again_events = Jobs(target.store), Recorder()
    again = run(plan, FakeSite(target, again_jobs), again_events)
    assert again.complete and again.reused == 4 and again.ran == []
    assert again_jobs.order == [] and again_events.begun == [State.done] * 4
    manifest = load_manifest(manifest_path(target.store.root, plan.config.name, PROFILE))
    assert manifest is not None
    assert {node_id: entry.folder for node_id, entry in manifest.nodes.items()} == {
        node.id: target.store.job_folder(node.job, jobs.requests[node.id].key).name
        for node in plan.nodes}


# --- 2. failure -------------------------------------------------------------------------------

def test_a_failed_job_blocks_its_dependents_and_is_retried_only_when_asked(tmp_path):
    target = target_in(tmp_path)
    plan = plan_of([32, 33])
    jobs = Jobs(target.store, {"make_model/32": ["fail"]})
    summary = run(plan, FakeSite(target, jobs), Recorder())

    assert ids(summary.failed) == ["make_model/32"]
    assert summary.failed[0].state is State.failed and "exit 1" in summary.failed[0].reason
    assert ids(summary.waiting) == ["benchmark/make_model/32"]
    assert summary.canceled is None and not summary.complete
    # The other model and its benchmark went on regardless.
    assert jobs.started() == ["make_model/32", "make_model/33", "benchmark/make_model/33"]

    # Without --retry-failed the failure stands: it is reported, not run.
    again_jobs = Jobs(target.store)
    again = run(plan, FakeSite(target, again_jobs), Recorder())
    assert again_jobs.order == [] and again.ran == []
    assert ids(again.failed) == ["make_model/32"] and again.failed[0].state is State.failed
    assert ids(again.waiting) == ["benchmark/make_model/32"]
    assert again.reused == 2

    # With it, the job runs again (its failed attempt kept aside) and its benchmark follows.
    retry_jobs = Jobs(target.store)
    retried = run(plan, FakeSite(target, retry_jobs), Recorder(), retry_failed=True)
    assert retried.complete, retried
    assert retry_jobs.started() == ["make_model/32", "benchmark/make_model/32"]
    assert retried.reused == 2
    failed_folder = retried.ran[0].folder
    earlier = json.loads((failed_folder / "attempts" / "1" / "status.json").read_text())
    assert earlier["status"] == "failed"


# --- 3. cancel --------------------------------------------------------------------------------

def test_cancel_stops_the_running_jobs_starts_nothing_more_and_a_rerun_resumes(tmp_path):
    target = target_in(tmp_path)
    plan = plan_of([32, 33, 34])
    jobs = Jobs(target.store, {"make_model/32": ["hold"], "make_model/33": ["hold"]})
    cancel = Cancel()

    def stop_when_both_run() -> None:
        # What a SIGTERM does through CtrlC: set the one Cancel every running job holds.
        jobs.wait_running(2)
        cancel.set("SIGTERM")

    stopper = threading.Thread(target=stop_when_both_run)
    stopper.start()
    summary = run(plan, FakeSite(target, jobs, slots=2), Recorder(), cancel=cancel)
    stopper.join()

    assert sorted(jobs.started()) == ["make_model/32", "make_model/33"], "nothing more started"
    assert statuses(summary) == [JobStatus.canceled] * 2
    assert all("SIGTERM" in (o.record.reason or "") for o in summary.ran)
    assert summary.canceled is not None and summary.canceled.state is State.interrupted
    assert not summary.complete and summary.failed == [] and summary.waiting == []
    assert state_of(plan, target, "make_model/33") is State.interrupted

    again_jobs = Jobs(target.store)
    again = run(plan, FakeSite(target, again_jobs, slots=2), Recorder())
    assert again.complete, again
    assert sorted(again_jobs.started()) == sorted(node.id for node in plan.nodes)
    canceled = json.loads((again.ran[0].folder / "attempts" / "1" / "status.json").read_text())
    assert canceled["status"] == "canceled"


def test_cancel_while_no_job_runs_is_no_complete_run(tmp_path):
    """Ctrl-C while the jobs wait for a slot (a fleet with no board ready; no slot here) stops
    the run with no canceled job to say so: the summary must not call it complete, or
    'campaign run' prints 'complete' and exits 0 with jobs never run."""
    target = target_in(tmp_path)
    plan = plan_of([32])
    jobs, cancel = Jobs(target.store), Cancel()
    timer = threading.Timer(0.1, cancel.set, args=("SIGINT",))
    timer.start()
    summary = run(plan, FakeSite(target, jobs, slots=0), Recorder(), cancel=cancel)
    timer.join()

    assert jobs.order == [] and summary.ran == []
    assert summary.canceled is not None and summary.canceled.node.id == "make_model/32"
    assert not summary.complete


# --- 4. lost jobs -----------------------------------------------------------------------------

def retry_once(attempts: int) -> Lost:
    """A fleet's rule with two attempts (node_placement.retry)."""
    return Lost.retry if attempts < 2 else Lost.give_up


def test_a_job_lost_with_its_board_runs_again(tmp_path):
    target = target_in(tmp_path)
    plan = plan_of([32])
    jobs = Jobs(target.store, {"make_model/32": ["lost"]})
    site = FakeSite(target, jobs, verdict=retry_once)
    summary = run(plan, site, Recorder())

    assert summary.complete, summary
    assert summary.lost_attempts == 1 and site.losses == [("make_model/32", 1)]
    assert statuses(summary) == [JobStatus.lost, JobStatus.succeeded, JobStatus.succeeded]
    assert jobs.started() == ["make_model/32", "make_model/32", "benchmark/make_model/32"]
    # Its benchmark waited for the attempt that made the model, not the lost one.
    assert jobs.index("start", "benchmark/make_model/32") > jobs.index("end", "make_model/32", 2)
    lost = json.loads((summary.ran[0].folder / "attempts" / "1" / "status.json").read_text())
    assert lost["status"] == "lost"


def test_a_job_lost_too_often_is_failed_and_the_rest_goes_on(tmp_path):
    target = target_in(tmp_path)
    plan = plan_of([32, 33])
    jobs = Jobs(target.store, {"make_model/32": ["lost", "lost"]})
    site = FakeSite(target, jobs, verdict=retry_once)
    summary = run(plan, site, Recorder())

    assert ids(summary.failed) == ["make_model/32"]
    reason = summary.failed[0].reason
    assert reason.startswith("lost its node 2 times: the node running the job went down"), reason
    assert ids(summary.waiting) == ["benchmark/make_model/32"]
    assert summary.canceled is None
    # Only the attempt run again counts: the summary prints "lost with their node and run
    # again" (the fleet executor before counted the one given up on too).
    assert summary.lost_attempts == 1
    assert site.losses == [("make_model/32", 1), ("make_model/32", 2)]
    assert jobs.attempts == Counter({"make_model/32": 2, "make_model/33": 1,
                                     "benchmark/make_model/33": 1})


def test_a_lost_engine_stops_the_run_and_cancels_what_runs_beside_it(tmp_path):
    target = target_in(tmp_path)
    plan = plan_of([32, 33, 34], benchmarks=False)
    jobs = Jobs(target.store, {"make_model/32": ["lost"], "make_model/33": ["hold"]})
    cancel = Cancel()
    site = FakeSite(target, jobs, slots=2)  # this machine's rule: Lost.stop
    summary = run(plan, site, Recorder(), cancel=cancel)

    assert cancel.requested
    assert summary.canceled is not None and summary.canceled.node.id == "make_model/32"
    assert summary.lost_attempts == 0 and summary.failed == []
    assert sorted(statuses(summary)) == sorted([JobStatus.lost, JobStatus.canceled])
    assert sorted(jobs.started()) == ["make_model/32", "make_model/33"], "34 never started"


# --- 5. slots ---------------------------------------------------------------------------------

def test_two_slots_run_independent_jobs_at_once_and_a_benchmark_alone(tmp_path):
    target = target_in(tmp_path)
    plan = plan_of([32, 33, 34])
    # Long enough that two jobs placed together are seen running together.
    jobs = Jobs(target.store, hold_s=0.2)
    summary = run(plan, FakeSite(target, jobs, slots=2), Recorder())

    assert summary.complete, summary
    assert summary.most_running == 2
    assert any(len(beside) == 2 for _, beside in jobs.beside), jobs.beside
    for node_id, beside in jobs.beside:
        if any(other.startswith("benchmark/") for other in beside):
            assert beside == {node_id}, f"{node_id} started beside {sorted(beside)}"
    for size in (32, 33, 34):
        model = f"make_model/{size}"
        assert jobs.index("start", f"benchmark/{model}") > jobs.index("end", model)
    # With more than one slot every other job goes first: the benchmarks come last.
    last_model = max(jobs.index("end", f"make_model/{size}") for size in (32, 33, 34))
    first_benchmark = min(jobs.index("start", f"benchmark/make_model/{size}")
                          for size in (32, 33, 34))
    assert first_benchmark > last_model
    assert sum(summary.nodes_used.values()) == 6 and set(summary.nodes_used) <= {
        "slot0", "slot1"}
    # Each record keeps how many jobs could run beside it: what the report's compression
    # times are judged by.
    parallel = {outcome.record.job: outcome.record.parallel for outcome in summary.ran}
    assert parallel == {"make_model": 2, "benchmark": 1}, parallel


# --- 6. this machine's pure rules -------------------------------------------------------------

def running(node: Node, slot: int) -> Running:
    return Running(node, slot, Future())


def test_place_fills_free_slots_and_keeps_a_benchmark_alone():
    a, b, c = (make_model_node(size) for size in (32, 33, 34))
    bench_a, bench_b = benchmark_of(a), benchmark_of(b)  # type: ignore[arg-type]
    assert place([a, b, c], [], 2) == [(a, 0), (b, 1)]
    assert place([b, c], [running(a, 0)], 2) == [(b, 1)]
    assert place([b], [running(a, 0), running(c, 1)], 2) == []
    # Nothing starts beside a timing benchmark, free slots or not.
    assert place([a], [running(bench_a, 1)], 4) == []
    # With several slots other jobs go first and a benchmark waits until it can run alone.
    assert place([bench_a, a], [], 2) == [(a, 0)]
    assert place([bench_a], [running(a, 0)], 2) == []
    assert place([bench_a, bench_b], [], 2) == [(bench_a, 0)]
    # One slot keeps the plan's order.
    assert place([bench_a, a], [], 1) == [(bench_a, 0)]
    assert place([a, bench_a], [], 1) == [(a, 0)]


def test_fit_parallel_lowers_to_what_fits_the_host_with_one_line():
    assert fit_parallel(4, None, 16 * GiB) == (4, None)
    assert fit_parallel(4, 0, 16 * GiB) == (4, None)
    assert fit_parallel(4, 4 * GiB, 16 * GiB) == (4, None)
    slots, why = fit_parallel(4, 6 * GiB, 16 * GiB)
    assert slots == 2 and why is not None and "\n" not in why
    assert why.startswith("--parallel 4 lowered to 2") and "6.0 GiB" in why and "16.0 GiB" in why
    assert "--memory-mb" in why
    assert fit_parallel(3, 32 * GiB, 16 * GiB)[0] == 1, "never below one slot"


def test_share_memory_splits_the_hosts_default_between_slots():
    x86, xavier = get_profile(PROFILE), get_profile("xavier")
    host = 16 * GiB
    shared = share_memory(Limits(), x86, 4, host)
    assert shared.memory_mb == int(host * DEFAULT_HOST_SHARE) // 4 // MiB
    # One slot, a limit the user set, or a profile's own: left as they are.
    assert share_memory(Limits(), x86, 1, host).memory_mb is None
    assert share_memory(Limits(memory_mb=1000), x86, 4, host).memory_mb == 1000
    assert xavier.memory_mb is not None
    assert share_memory(Limits(), xavier, 4, host).memory_mb is None
    assert share_memory(Limits(), x86, 64, 256 * MiB).memory_mb == MIN_MEMORY_MB


def test_default_parallel_is_one_on_a_jetson_and_a_job_per_two_cores_elsewhere():
    assert default_parallel(True, 8) == 1
    assert default_parallel(False, 16) == 8
    assert default_parallel(False, 3) == 1
    assert default_parallel(False, 1) == 1


# --- 7. a site that can run nothing ------------------------------------------------------------

class Swarm:
    """What FleetSite asks of its engine here: the nodes, as the test sets them."""

    def __init__(self, nodes: list[NodeInfo]) -> None:
        self.listed = nodes

    def nodes(self) -> list[NodeInfo]:
        return list(self.listed)


def board(state: str) -> NodeInfo:
    return NodeInfo(id="id-b1", hostname="b1", role="worker", state=state,
                    availability="active", labels={node_placement.PROFILE_LABEL: PROFILE},
                    address="10.0.0.1")


class BoardGoesDown(FleetSite):
    """The fleet's own placement and idle rule; its one board goes down after its first job,
    and jobs run as the fake ones."""

    def __init__(self, swarm: Swarm, target: Target, jobs: Jobs) -> None:
        super().__init__(Fleet(swarm, "reg:5000/edgecompress/jobs", None),  # type: ignore[arg-type]
                         target)
        self.swarm, self.jobs = swarm, jobs

    def session(self) -> contextlib.AbstractContextManager[object]:
        return contextlib.nullcontext()  # no network keeper: there is no engine

    def run(self, node: Node, slot: Slot, request: JobRequest, on_line: Callable[[str], None],
            cancel: Cancel) -> JobOutcome:
        try:
            return self.jobs.run(node, request, on_line, cancel)
        finally:
            self.swarm.listed = [board("down")]


def test_a_site_with_no_node_for_too_long_stops_the_run_with_the_manifest_written(tmp_path):
    target = target_in(tmp_path)
    plan = plan_of([32, 33], benchmarks=False)
    swarm, jobs = Swarm([board("ready")]), Jobs(target.store)
    ticks = iter(range(0, 10**6, 250))  # each look at the clock 250 s later: no waiting here

    with pytest.raises(UserError, match="has been ready for 600 s"):
        run(plan, BoardGoesDown(swarm, target, jobs), Recorder(),
                 clock=lambda: float(next(ticks)))

    assert jobs.started() == ["make_model/32"]
    done = target.store.job_folder("make_model", jobs.requests["make_model/32"].key)
    manifest = load_manifest(manifest_path(target.store.root, plan.config.name, PROFILE))
    assert manifest is not None and manifest.nodes["make_model/32"].folder == done.name
    # The manifest names 33's folder (its key is known once assessed), but nothing is
    # half-made: the one job folder is the filed job; 33's was never created.
    assert "make_model/33" in manifest.nodes
    assert [p.name for p in (tmp_path / "jobs").iterdir()] == [done.name]
    assert (done / "status.json").exists()

    # The board back: the run resumes where it stopped.
    swarm.listed = [board("ready")]
    again_jobs = Jobs(target.store)
    again = run(plan, FakeSite(target, again_jobs), Recorder())
    assert again.complete and again.reused == 1 and again_jobs.started() == ["make_model/33"]
