"""The fleet's pure logic: what a Swarm task's state means, placement, retries, the status
rows, the preflight's verdicts, and the runner's judging of what a backend reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from launcher import settings
from launcher.backend import Ended, Watch
from launcher.contract.record import JobStatus
from launcher.contract.specs import MakeModelSpec
from launcher.docker_client import ContainerRequest
from launcher.docker_swarm import NodeInfo, TaskState
from launcher.errors import UserError
from launcher.fleet import node_placement, preflight, status, tasks
from launcher.fleet.images import pinned, remote
from launcher.outcome import StopCause, classify
from launcher.runner import JobRequest, run_job
from launcher.store import Store
from stand_ins import job_image
from tests.paths import ROOT

PROFILE = "xavier"


def node(name: str, state: str = "ready", availability: str = "active",
         profile: str | None = PROFILE, role: str = "worker") -> NodeInfo:
    labels = {node_placement.PROFILE_LABEL: profile} if profile else {}
    return NodeInfo(id=f"id-{name}", hostname=name, role=role, state=state,
                    availability=availability, labels=labels, address="10.0.0.1")


def task(state: str, exit_code: int | None = None, error: str = "",
         desired: str = "running") -> TaskState:
    return TaskState(state=state, desired=desired, exit_code=exit_code, error=error,
                     node_id="id-a")


# --- tasks ------------------------------------------------------------------------------------

def test_a_rejected_task_never_ran_whatever_its_exit_code():
    rejected = task("rejected", exit_code=0, error="No such image: r/x:1")
    assert tasks.phase(rejected, node("a")) is tasks.Phase.rejected


def test_a_running_task_on_a_node_that_went_down_is_lost():
    assert tasks.phase(task("running"), node("a", state="down")) is tasks.Phase.node_lost
    assert tasks.phase(task("running"), node("a", state="unknown")) is tasks.Phase.node_lost
    assert tasks.phase(task("running"), None) is tasks.Phase.node_lost, "removed from the swarm"
    assert tasks.phase(task("orphaned"), node("a")) is tasks.Phase.node_lost


def test_an_ended_task_stands_even_if_its_node_is_gone_since():
    assert tasks.phase(task("complete"), node("a", state="down")) is tasks.Phase.ended
    assert tasks.phase(task("failed", 3), node("a")) is tasks.Phase.ended


@pytest.mark.parametrize("state", ["new", "pending", "assigned", "preparing", "starting"])
def test_before_the_container_runs_it_is_starting(state):
    assert tasks.phase(task(state), node("a")) is tasks.Phase.starting
    assert tasks.phase(None, node("a")) is tasks.Phase.starting


def test_exit_codes():
    assert tasks.exit_code(task("complete")) == 0
    assert tasks.exit_code(task("failed", 137)) == 137
    assert tasks.exit_code(task("shutdown")) is None


def test_the_task_still_meant_to_run_is_the_jobs():
    old = task("failed", 1, desired="shutdown")
    new = task("running")
    assert tasks.latest([new, old]) is new
    assert tasks.latest([old]) is old
    assert tasks.latest([]) is None


# --- placement --------------------------------------------------------------------------------

def test_only_ready_active_nodes_of_the_profile_take_its_jobs():
    nodes = [node("c"), node("a"), node("down", state="down"),
             node("drained", availability="drain"), node("nano", profile="nano"),
             node("bare", profile=None)]
    assert [n.hostname for n in node_placement.eligible(nodes, PROFILE)] == ["a", "c"]


def test_no_node_of_the_profile_is_one_line_naming_the_label():
    line = node_placement.unmatched([node("a", profile="nano")], PROFILE)
    assert line is not None and "\n" not in line
    assert f"{node_placement.PROFILE_LABEL}={PROFILE}" in line and "nano" in line
    assert "--label-add" in line


def test_labelled_nodes_all_down_is_its_own_line():
    line = node_placement.unmatched([node("a", state="down")], PROFILE)
    assert line is not None and "a down/active" in line
    assert node_placement.unmatched([node("a"), node("b", state="down")], PROFILE) is None


def test_one_job_per_node_from_the_head_of_the_queue():
    nodes = [node("a"), node("b")]
    placed = node_placement.assign(["j1", "j2", "j3"], nodes, busy=[])
    assert [(p.job, p.node.hostname) for p in placed] == [("j1", "a"), ("j2", "b")]
    placed = node_placement.assign(["j3"], nodes, busy=["id-a"])
    assert [(p.job, p.node.hostname) for p in placed] == [("j3", "b")]
    assert node_placement.assign(["j4"], nodes, busy=["id-a", "id-b"]) == []


def test_a_job_lost_with_a_node_goes_to_another_while_one_exists():
    nodes = [node("a"), node("b")]
    avoid = {"j1": frozenset({"id-a"})}
    placed = node_placement.assign(["j1", "j2"], nodes, busy=[], avoid=avoid)
    assert [(p.job, p.node.hostname) for p in placed] == [("j1", "b"), ("j2", "a")]
    # Only the node that lost it is free: j1 waits for b, j2 takes a.
    placed = node_placement.assign(["j1", "j2"], nodes, busy=["id-b"], avoid=avoid)
    assert [(p.job, p.node.hostname) for p in placed] == [("j2", "a")]
    # The only node of the profile: it takes the job again rather than never.
    placed = node_placement.assign(["j1"], [node("a")], busy=[], avoid=avoid)
    assert [(p.job, p.node.hostname) for p in placed] == [("j1", "a")]


def test_attempts_are_bounded():
    assert node_placement.retry(1) and node_placement.retry(node_placement.MAX_ATTEMPTS - 1)
    assert not node_placement.retry(node_placement.MAX_ATTEMPTS)


# --- status, preflight, images, settings ------------------------------------------------------

def test_status_rows_say_why_a_node_takes_no_jobs():
    nodes = [node("w"), node("m", role="manager", availability="drain", profile=None),
             node("d", state="down")]
    rows = status.rows(nodes, {"id-w": "train 1234"})
    assert [r.hostname for r in rows] == ["m", "d", "w"]
    by = {r.hostname: r for r in rows}
    assert by["w"].job == "train 1234" and by["w"].health == "ok"
    assert by["m"].health.startswith("drain") and by["m"].profile == "-"
    assert by["d"].health.startswith("down")


def test_preflight_verdicts_are_one_line_each(tmp_path):
    a = node("a")
    store = Path("/srv/edgecompress")
    ok = preflight.verdict(a, task("complete"), tasks.Phase.ended, "token=t\n", "t", store,
                           "r/i:1")
    assert ok is None
    unmounted = preflight.verdict(
        a, task("rejected", 0, "invalid mount config: bind source path does not exist: /srv"),
        tasks.Phase.rejected, None, "t", store, "r/i:1")
    assert unmounted and "is not there" in unmounted and "\n" not in unmounted
    no_pull = preflight.verdict(a, task("rejected", 0, "No such image: r/i:1"),
                                tasks.Phase.rejected, None, "t", store, "r/i:1")
    assert no_pull and "cannot start r/i:1" in no_pull and "insecure-registries" in no_pull
    unwritable = preflight.verdict(a, task("failed", 2, "task: non-zero exit (2)"),
                                   tasks.Phase.ended, None, "t", store, "r/i:1")
    assert unwritable and "exit 2" in unwritable and "uid 1000" in unwritable


NANO_RELEASE = "# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64"


def test_on_a_jetson_profile_the_preflight_checks_l4t_and_the_default_runtime():
    a, store, image = node("a"), Path("/srv/edgecompress"), "r/i:1"
    done = task("complete")

    def judge(report: str) -> str | None:
        return preflight.verdict(a, done, tasks.Phase.ended, report, "t", store, image,
                                 "R32.7.1")

    assert judge(f"token=t\ngpu=yes\nl4t={NANO_RELEASE}\n") is None
    no_gpu = judge(f"token=t\ngpu=no\nl4t={NANO_RELEASE}\n")
    assert no_gpu and '"default-runtime": "nvidia"' in no_gpu and "\n" not in no_gpu
    xavier = judge("token=t\ngpu=yes\nl4t=# R35 (release), REVISION: 2.1, GCID: 1\n")
    assert xavier and "L4T R35.2.1" in xavier and "R32" in xavier
    not_jetson = preflight.verdict(
        a, task("rejected", 0, "invalid mount config for type \"bind\": bind source path does "
                "not exist: /etc/nv_tegra_release"), tasks.Phase.rejected, None, "t", store,
        image, "R32.7.1")
    assert not_jetson and "not a Jetson" in not_jetson
    report = preflight.parse_report(f"token=t\ngpu=yes\nl4t={NANO_RELEASE}\n")
    assert report.token == "t" and report.gpu and str(report.l4t) == "R32.7.1"


def test_jobs_name_the_image_in_the_fleets_registry():
    assert remote("10.0.0.2:5000", "edgecompress/jobs:x86") == "10.0.0.2:5000/edgecompress/jobs:x86"
    assert remote("reg:5000/", "127.0.0.1:41/edgecompress/jobs:x") == "reg:5000/edgecompress/jobs:x"
    name, digest = "reg:5000/edgecompress/jobs:x", "sha256:" + "ab" * 32
    assert pinned(name, digest) == f"{name}@{digest}"
    assert pinned(name, None) == name


def test_the_fleet_setting():
    assert settings.fleet({}) is None
    assert settings.fleet({"EDGECOMPRESS_FLEET": "tcp://10.0.0.2:2375"}) == "tcp://10.0.0.2:2375"
    with pytest.raises(UserError, match="EDGECOMPRESS_FLEET"):
        settings.fleet({"EDGECOMPRESS_FLEET": "10.0.0.2"})
    assert settings.fleet_push({"EDGECOMPRESS_FLEET_PUSH": "127.0.0.1:5000/"}) == "127.0.0.1:5000"


# --- judging what a backend reports -----------------------------------------------------------

def test_a_lost_node_and_a_rejected_task_are_named():
    assert classify(None, False, StopCause.node_lost, None, detail="b1 is down") == (
        JobStatus.lost, "the node running the job went down: b1 is down")
    status_, reason = classify(0, False, StopCause.rejected, None, detail="No such image")
    assert status_ is JobStatus.failed and reason and "No such image" in reason


class Reported:
    """A backend that reports what a Swarm task would have, after leaving a valid result in
    out/ (what a task that really ran would do): the runner's judging alone is under test."""

    def __init__(self, ended: Ended) -> None:
        self.ended = ended

    def execute(self, request: ContainerRequest, watch: Watch) -> Ended:
        out = Path(next(m.source for m in request.mounts if m.target.endswith("out")))
        spec = json.loads(Path(next(m.source for m in request.mounts
                                    if m.target.endswith("spec.json"))).read_text())
        document = json.loads(job_image.recorded_make_model())
        document["spec"] = spec
        (out / "saved_model").mkdir()
        (out / "saved_model" / "saved_model.pb").write_bytes(b"x")
        (out / "result.json").write_text(json.dumps(document))
        return self.ended


@pytest.mark.parametrize(("ended", "expected"), [
    (Ended(StopCause.none, 0), JobStatus.succeeded),
    (Ended(StopCause.rejected, 0, detail="No such image"), JobStatus.failed),
    (Ended(StopCause.node_lost, None, detail="b1 down"), JobStatus.lost),
    (Ended(StopCause.none, 137, note="Swarm reports no OOMKilled flag"), JobStatus.killed),
])
def test_the_runner_judges_a_backends_report_as_a_local_run(tmp_path, ended, expected):
    spec = MakeModelSpec(architecture="MobileNetV3Small", input_size=32, num_classes=10)
    outcome = run_job(Reported(ended), Store(tmp_path), JobRequest(
        spec=spec, image="i", image_id="sha256:" + "0" * 64, deadline_s=60))
    assert outcome.record.status is expected, outcome.record
    if expected is not JobStatus.succeeded:
        assert outcome.result is None
        assert not (outcome.folder / "out" / "result.json").exists(), "set aside"
    if ended.note:
        assert ended.note in (outcome.record.reason or "")


def test_fleet_commands_without_a_fleet_are_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "EDGECOMPRESS_FLEET"}
    done = subprocess.run([sys.executable, "-m", "launcher", "fleet", "status"],
                          capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "--fleet" in done.stderr
    done = subprocess.run([sys.executable, "-m", "launcher", "fleet", "status", "--fleet",
                           "10.0.0.2"], capture_output=True, text=True, env=env, timeout=60,
                          cwd=tmp_path)
    assert done.returncode == 2 and "tcp://" in done.stderr, done.stderr


@pytest.mark.parametrize("target", ["nano", "xavier", "x86"])
def test_make_targets_take_a_fleet(target):
    root = ROOT
    dry = subprocess.run(["make", "-n", target, "FLEET=tcp://10.0.0.2:2375",
                          "REGISTRY=10.0.0.2:5000"], capture_output=True, text=True, cwd=root)
    assert dry.returncode == 0, dry.stderr
    line = next(x for x in dry.stdout.splitlines() if "campaign run paper" in x)
    assert '--fleet "tcp://10.0.0.2:2375" --registry "10.0.0.2:5000"' in line
    alone = subprocess.run(["make", "-n", target], capture_output=True, text=True, cwd=root,
                           env={k: v for k, v in os.environ.items()
                                if k not in ("EDGECOMPRESS_FLEET", "FLEET")})
    assert "--fleet" not in alone.stdout
