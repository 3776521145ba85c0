"""A job as a Swarm service on one node: the runner's Backend for fleets.

The service runs once (one replica, restart 'none'; docker_client.SERVICE_MODE says why not
'replicated-job') with a constraint on the node's id, with the local run's hardening (user,
read-only root, cap_drop ALL, init, memory and pids limits) and, for a job that needs no
network, an internal overlay network (Swarm refuses 'none'). Swarm jobs have no timeout: the
launcher waits against its own deadline, watching the task and the node (a dead node's task
stays 'running'), and removes the service in ``finally``; ``gc`` sweeps what a killed
launcher left.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path

from launcher.backend import LINE_MAX, WATCH_S, Ended, Watch
from launcher.device.power import PowerSampler, Sampling
from launcher.docker_client import ContainerRequest
from launcher.docker_swarm import NodeInfo, ServiceRequest, SwarmEngine, TaskState
from launcher.errors import EngineError
from launcher.execution.container import container_user, session_labels
from launcher.fleet import tasks
from launcher.fleet.power import CompanionSampler
from launcher.joblog import JobLog
from launcher.outcome import StopCause

# How often the task and its node are read: each read is one call to the manager. Often at
# first, where a short job ends and its board waits for the next, then every POLL_S.
FIRST_POLL_S = 0.1
POLL_S = 0.5
# Swarm reports no OOMKilled flag; what a reader of the status should know about a kill.
NO_OOM_FLAG = ("Swarm reports no OOMKilled flag, so an out-of-memory kill cannot be told from "
               "another SIGKILL")


class SwarmBackend:
    """Run one job on ``node``. ``image`` is the registry-qualified name every node pulls
    (the same image id as the request's)."""

    def __init__(self, engine: SwarmEngine, node: NodeInfo, image: str, network: str | None
                 ) -> None:
        self.engine, self.node, self.image, self.network = engine, node, image, network
        self.last_task: TaskState | None = None

    def power_sampler(self, sampling: Sampling, log_path: Path) -> PowerSampler:
        """tegrastats on the job's board, as a companion service (launcher/fleet/power.py)."""
        return CompanionSampler(self.engine, self.node, self.image, sampling, log_path,
                                session_labels("power"), container_user(), self.network)

    def execute(self, request: ContainerRequest, watch: Watch) -> Ended:
        service = ServiceRequest(
            container=dataclasses.replace(request, image=self.image), node_id=self.node.id,
            network=self.network if request.network_disabled else None)
        service_id = self.engine.create_service(service)
        try:
            cause, task = self._wait(service_id, watch)
            self.last_task = task
            if cause in (StopCause.node_lost, StopCause.engine_lost):
                # The node (or the manager) cannot give the logs now; the attempt is recorded
                # as lost and runs again elsewhere.
                return Ended(cause, None, detail=self._lost_detail(cause))
            if task is not None and tasks.phase(task, self.node) is tasks.Phase.rejected:
                return Ended(StopCause.rejected, None,
                             detail=f"{self.node.hostname} rejected it: {task.error}")
            _copy_logs(self.engine, service_id, watch)
            error_tail = _error_tail(self.engine, service_id)
            code = tasks.exit_code(task) if task is not None else None
            note = NO_OOM_FLAG if code is not None and code > 128 else ""
            return Ended(cause, code, oom_killed=False, error_tail=error_tail, note=note)
        finally:
            with contextlib.suppress(Exception):
                self.engine.remove_service(service_id)

    def _lost_detail(self, cause: StopCause) -> str:
        if cause is StopCause.node_lost:
            return (f"{self.node.hostname} ({self.node.id[:12]}) is no longer ready; the "
                    "service was removed")
        return "lost the fleet's manager"

    def _wait(self, service_id: str, watch: Watch) -> tuple[StopCause, TaskState | None]:
        next_watch = time.monotonic() + WATCH_S
        task: TaskState | None = None
        poll_s = FIRST_POLL_S
        try:
            while True:
                if watch.cancel.requested:
                    return StopCause.cancel, task
                if time.monotonic() >= watch.deadline:
                    return StopCause.deadline, task
                if watch.over_limit is not None and time.monotonic() >= next_watch:
                    next_watch = time.monotonic() + WATCH_S
                    if watch.over_limit():
                        return StopCause.output_limit, task
                task = tasks.latest(self.engine.service_tasks(service_id))
                node = next((n for n in self.engine.nodes() if n.id == self.node.id), None)
                phase = tasks.phase(task, node)
                if phase in (tasks.Phase.ended, tasks.Phase.rejected):
                    return StopCause.none, task
                if phase is tasks.Phase.node_lost:
                    return StopCause.node_lost, task
                time.sleep(poll_s)
                poll_s = min(POLL_S, poll_s * 1.5)
        except EngineError:
            return StopCause.engine_lost, task


def _copy_logs(engine: SwarmEngine, service_id: str, watch: Watch) -> None:
    """The task's output, read through the manager once it ended, into the kept log (capped)
    and to ``on_line``."""
    watch.log.close()
    fresh = JobLog(watch.log_path, watch.log_bytes)
    pending = b""
    try:
        for chunk in engine.service_logs(service_id):
            fresh.write(chunk)
            if watch.on_line is None:
                continue
            *lines, pending = (pending + chunk).split(b"\n")
            pending = pending[-LINE_MAX:]
            for line in lines:
                watch.on_line(line.decode("utf-8", "replace"))
    except Exception:  # noqa: BLE001 - a node gone since: keep what came
        pass
    finally:
        fresh.close()


def _error_tail(engine: SwarmEngine, service_id: str, cap_bytes: int = 16 * 1024) -> str:
    kept = bytearray()
    with contextlib.suppress(Exception):
        for chunk in engine.service_logs(service_id, stdout=False, stderr=True):
            kept += chunk
            del kept[:max(0, len(kept) - cap_bytes)]
    return bytes(kept).decode("utf-8", "replace")
