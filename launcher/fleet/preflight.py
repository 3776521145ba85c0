"""Before the first job of a fleet run: one short job on every node of the profile.

Each writes a token into the shared store, as the job user, through the same bind mount at
the same path that jobs use, and the launcher reads it back: a node without the store's
export mounted there, or one that cannot pull the image (rejected), is named in one line.
All nodes run theirs at once; it also leaves the image pulled on every node, so no job's
timings include a pull.
"""

from __future__ import annotations

import contextlib
import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from launcher.docker_client import (
    ContainerRequest,
    Mount,
    NodeInfo,
    ServiceRequest,
    SwarmEngine,
    TaskState,
    label,
)
from launcher.fleet import tasks
from launcher.runner import SESSION_ID, container_user, launcher_owner

PROBE_DIR = ".fleet-preflight"


def probe_request(image: str, node: NodeInfo, folder: Path, token: str) -> ServiceRequest:
    target = folder / node.id
    return ServiceRequest(
        container=ContainerRequest(
            image=image, entrypoint=["sh", "-c", 'echo "$TOKEN" > "$TARGET"'], command=[],
            name=f"edgecompress-preflight-{node.id[:12]}-{token[:6]}",
            mounts=(Mount(str(folder), str(folder), read_only=False),),
            labels={label("session"): SESSION_ID, label("kind"): "job",
                    label("job"): "preflight", label("owner"): str(launcher_owner())},
            environment={"TOKEN": token, "TARGET": str(target)}, user=container_user(),
            working_dir="/", pids_limit=64, mem_limit=64 * 1024**2),
        node_id=node.id)


def verdict(node: NodeInfo, task: TaskState | None, phase: tasks.Phase, wrote: str | None,
            token: str, store: Path, image: str) -> str | None:
    """None when the node passed, else one line saying what to fix."""
    error = task.error if task is not None else ""
    if phase is tasks.Phase.rejected and "bind source path does not exist" in error:
        return (f"{node.hostname}: the store {store} is not there: mount the store's NFS "
                "export at the same path on every node (docs/fleet.md)")
    if phase is tasks.Phase.rejected:
        return (f"{node.hostname}: cannot start {image} ({error}): check that the node "
                "reaches the fleet's registry (an http registry needs insecure-registries in "
                "its /etc/docker/daemon.json)")
    if phase is tasks.Phase.node_lost:
        return f"{node.hostname}: went down during the preflight"
    if phase is not tasks.Phase.ended:
        return f"{node.hostname}: the preflight job did not finish (last state: " + (
            f"{task.state} {task.error}".strip() if task else "none") + ")"
    if wrote != token:
        how = (f"its job ended {task.state}, exit {task.exit_code}"
               + (f" ({task.error})" if task.error else "")) if task else "its job ended"
        return (f"{node.hostname}: {how}, and the launcher did not read back what it should "
                f"have written into the store at {store}: mount the store's NFS export at the "
                "same path on every node, writable by uid 1000 (docs/fleet.md)")
    return None


def run(engine: SwarmEngine, nodes: Sequence[NodeInfo], image: str, store: Path,
        timeout_s: float = 600.0) -> list[str]:
    """Problems, one line per node that failed; empty when every node passed."""
    folder = store.resolve() / PROBE_DIR / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True)
    folder.chmod(0o777)  # the job user (uid 1000) writes here; nothing else is in it
    token = uuid.uuid4().hex
    services = {node.id: engine.create_service(probe_request(image, node, folder, token))
                for node in nodes}
    try:
        results: dict[str, tuple[TaskState | None, tasks.Phase]] = {}
        deadline = time.monotonic() + timeout_s
        while len(results) < len(nodes) and time.monotonic() < deadline:
            live = {n.id: n for n in engine.nodes()}
            for node in nodes:
                if node.id in results:
                    continue
                task = tasks.latest(engine.service_tasks(services[node.id]))
                phase = tasks.phase(task, live.get(node.id))
                if phase not in (tasks.Phase.starting, tasks.Phase.running):
                    results[node.id] = (task, phase)
            time.sleep(0.3)
        problems = []
        for node in nodes:
            task, phase = results.get(node.id, (None, tasks.Phase.starting))
            wrote = _read(folder / node.id)
            problem = verdict(node, task, phase, wrote, token, store, image)
            if problem is not None:
                problems.append(problem)
        return problems
    finally:
        for service in services.values():
            with contextlib.suppress(Exception):
                engine.remove_service(service)
        shutil.rmtree(folder, ignore_errors=True)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
