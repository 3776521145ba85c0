"""Before the first job of a fleet run: one short job on every node of the profile.

Each writes a token into the shared store, as the job user, through the same bind mount at
the same path that jobs use, and the launcher reads it back: a node without the store's
export mounted there, or one that cannot pull the image (rejected), is named in one line.
All nodes run theirs at once; it also leaves the image pulled on every node, so no job's
timings include a pull.

On a Jetson profile the probe also reports the node's L4T release (its
/etc/nv_tegra_release, mounted read-only) and whether a GPU device reached the container:
Swarm has no runtime field, so only a node whose engine runs ``nvidia`` by default gives its
jobs the GPU.
"""

from __future__ import annotations

import contextlib
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from launcher.device.jetson import L4tRelease, parse_l4t_release
from launcher.docker_client import ContainerRequest, Mount
from launcher.docker_swarm import NodeInfo, ServiceRequest, SwarmEngine, TaskState
from launcher.execution.container import container_user, session_labels
from launcher.fleet import tasks

PROBE_DIR = ".fleet-preflight"
L4T_FILE = "/etc/nv_tegra_release"
PROBE_L4T = "/probe/nv_tegra_release"
# The nvidia runtime gives a Jetson container the GPU's device nodes; without it none are there.
GPU_DEVICE = "/dev/nvhost-ctrl"
PROBE = (f'{{ echo "token=$TOKEN"; if [ -e {GPU_DEVICE} ]; then echo gpu=yes; '
         f'else echo gpu=no; fi; echo "l4t=$(head -n 1 {PROBE_L4T} 2>/dev/null)"; }} '
         '> "$TARGET"')


@dataclass(frozen=True)
class Report:
    """What a node's probe wrote."""

    token: str | None
    gpu: bool
    l4t: L4tRelease | None


def parse_report(text: str | None) -> Report:
    fields = dict(line.partition("=")[::2] for line in (text or "").splitlines())
    return Report(token=fields.get("token") or None, gpu=fields.get("gpu") == "yes",
                  l4t=parse_l4t_release(fields.get("l4t")))


def probe_request(image: str, node: NodeInfo, folder: Path, token: str,
                  jetson: bool = False) -> ServiceRequest:
    target = folder / node.id
    mounts = [Mount(str(folder), str(folder), read_only=False)]
    if jetson:
        mounts.append(Mount(L4T_FILE, PROBE_L4T, read_only=True))
    return ServiceRequest(
        container=ContainerRequest(
            image=image, entrypoint=["sh", "-c", PROBE], command=[],
            name=f"edgecompress-preflight-{node.id[:12]}-{token[:6]}",
            mounts=tuple(mounts),
            labels=session_labels("job", job="preflight"),
            environment={"TOKEN": token, "TARGET": str(target)}, user=container_user(),
            working_dir="/", pids_limit=64, mem_limit=64 * 1024**2),
        node_id=node.id)


def verdict(node: NodeInfo, task: TaskState | None, phase: tasks.Phase, wrote: str | None,
            token: str, store: Path, image: str, l4t: str | None = None) -> str | None:
    """None when the node passed, else one line saying what to fix. ``l4t``: the release a
    Jetson profile's image needs (e.g. R32.7.1), None for other profiles."""
    error = task.error if task is not None else ""
    missing = phase is tasks.Phase.rejected and "bind source path does not exist" in error
    if missing and L4T_FILE in error:
        return (f"{node.hostname}: has no {L4T_FILE}: it is not a Jetson with L4T {l4t}, "
                "yet it carries this Jetson profile's label")
    if missing:
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
    report = parse_report(wrote)
    if report.token != token:
        how = (f"its job ended {task.state}, exit {task.exit_code}"
               + (f" ({task.error})" if task.error else "")) if task else "its job ended"
        return (f"{node.hostname}: {how}, and the launcher did not read back what it should "
                f"have written into the store at {store}: mount the store's NFS export at the "
                "same path on every node, writable by uid 1000 (docs/fleet.md)")
    if l4t is None:
        return None
    needed = l4t.split(".")[0]
    if report.l4t is None or report.l4t.line != needed:
        return (f"{node.hostname}: L4T {report.l4t or 'unknown'}, but this profile's image runs "
                f"only on {needed} (L4T {l4t}): label the node with its own profile")
    if not report.gpu:
        return (f'{node.hostname}: no GPU in its containers: Swarm cannot choose '
                f'runtime=nvidia, so set "default-runtime": "nvidia" in '
                "/etc/docker/daemon.json there and restart docker (docs/fleet.md)")
    return None


def run(engine: SwarmEngine, nodes: Sequence[NodeInfo], image: str, store: Path,
        timeout_s: float = 600.0, l4t: str | None = None) -> list[str]:
    """Problems, one line per node that failed; empty when every node passed."""
    folder = store.resolve() / PROBE_DIR / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True)
    folder.chmod(0o777)  # the job user (uid 1000) writes here; nothing else is in it
    token = uuid.uuid4().hex
    services = {node.id: engine.create_service(probe_request(image, node, folder, token,
                                                             jetson=l4t is not None))
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
            problem = verdict(node, task, phase, wrote, token, store, image, l4t)
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
        return path.read_text()
    except OSError:
        return None
