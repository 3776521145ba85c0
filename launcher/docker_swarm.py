"""The Docker SDK's Swarm side, for fleets (launcher/fleet): services, their tasks and logs,
nodes and networks, through a manager's engine. Thin like docker_client, which it extends:
plain data and one-line errors out, no policy."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
import docker.types
import requests

from launcher.docker_client import ContainerRequest, Engine, label_filter
from launcher.errors import EngineError


@dataclass(frozen=True)
class ServiceRequest:
    """One job as a Swarm service: the container it would be locally, pinned to one node;
    or, with ``node_label`` (name, value) instead of a node, one task on every node with that
    label (a global service)."""

    container: ContainerRequest
    node_id: str | None
    network: str | None = None  # the internal overlay of offline jobs; None: the default
    node_label: tuple[str, str] | None = None


@dataclass(frozen=True)
class TaskState:
    state: str  # Swarm's task state: new, pending, ..., running, complete, failed, rejected
    desired: str
    exit_code: int | None
    error: str
    node_id: str


@dataclass(frozen=True)
class NodeInfo:
    id: str
    hostname: str
    role: str  # manager | worker
    state: str  # ready | down | unknown | disconnected
    availability: str  # active | pause | drain
    labels: Mapping[str, str]
    address: str
    memory_bytes: int = 0


def _task_state(task: Mapping[str, Any]) -> TaskState:
    status = task.get("Status") or {}
    container = status.get("ContainerStatus") or {}
    code = container.get("ExitCode")
    return TaskState(state=str(status.get("State", "")),
                     desired=str(task.get("DesiredState", "")),
                     exit_code=None if code is None else int(code),
                     error=str(status.get("Err") or ""), node_id=str(task.get("NodeID") or ""))


def _node_info(node: Mapping[str, Any]) -> NodeInfo:
    spec = node.get("Spec") or {}
    status = node.get("Status") or {}
    return NodeInfo(id=str(node["ID"]),
                    hostname=str((node.get("Description") or {}).get("Hostname", "")),
                    role=str(spec.get("Role", "")), state=str(status.get("State", "")),
                    availability=str(spec.get("Availability", "")),
                    labels=dict(spec.get("Labels") or {}), address=str(status.get("Addr", "")),
                    memory_bytes=int(((node.get("Description") or {}).get("Resources") or {})
                                     .get("MemoryBytes") or 0))


# A one-shot service: 1 replica with restart 'none' (the task runs once, and its container is
# removed with the service). Not 'replicated-job': the engine (20.10) keeps a removed job's
# tasks and their exited containers on the workers forever (moby/moby#42789, #44312; seen
# here too), so a campaign of 420 jobs would leave 420 containers on its boards.
SERVICE_MODE = "replicated"


class SwarmEngine(Engine):
    """A Swarm manager's engine: services, tasks and nodes besides what any engine does."""

    def swarm_active(self) -> bool:
        swarm = self.info().get("Swarm") or {}
        return bool(swarm.get("ControlAvailable")) and swarm.get("LocalNodeState") == "active"

    def nodes(self) -> list[NodeInfo]:
        try:
            return [_node_info(node) for node in self._api.nodes()]
        except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
            raise EngineError(f"cannot list the fleet's nodes: {error}") from None

    def ensure_network(self, name: str, labels: Mapping[str, str]) -> str:
        """An ``--internal`` overlay network: Swarm refuses 'none', and an internal network
        has no route out."""
        found = self._api.networks(names=[name])
        for network in found:
            if network.get("Name") == name:
                return str(network["Id"])
        created = self._api.create_network(name, driver="overlay", internal=True,
                                           labels=dict(labels), check_duplicate=True)
        return str(created["Id"])

    def remove_network(self, name: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self._api.remove_network(name)

    def networks(self, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        return list(self._api.networks(filters=label_filter(labels)))

    def create_service(self, request: ServiceRequest) -> str:
        job = request.container
        mounts = [docker.types.Mount(m.target, m.source, type="bind", read_only=m.read_only)
                  for m in job.mounts]
        if job.read_only_root:
            mounts.append(docker.types.Mount("/tmp", None, type="tmpfs",
                                             tmpfs_size=job.tmp_bytes))
        spec = docker.types.ContainerSpec(
            job.image, command=job.entrypoint, args=job.command,
            env=[f"{k}={v}" for k, v in job.environment.items()], workdir=job.working_dir,
            user=job.user, labels=dict(job.labels), mounts=mounts,
            groups=list(job.group_add) or None, read_only=job.read_only_root, init=True,
            cap_drop=["ALL"],
            # Swarm has no memory-swap setting: the node's swap policy applies.
            stop_grace_period=3 * 10**9)
        resources = docker.types.Resources(mem_limit=job.mem_limit)
        if job.pids_limit:
            # The SDK's Resources has no pids argument; the engine's API (1.41) has the field.
            resources.setdefault("Limits", {})["Pids"] = job.pids_limit
        if request.node_id is not None:
            constraint = f"node.id=={request.node_id}"
            mode = docker.types.ServiceMode(SERVICE_MODE, replicas=1)
        else:
            assert request.node_label is not None, "a service needs a node or a node label"
            name, value = request.node_label
            constraint = f"node.labels.{name}=={value}"
            mode = docker.types.ServiceMode("global")
        template = docker.types.TaskTemplate(
            spec, resources=resources,
            restart_policy=docker.types.RestartPolicy(condition="none"),
            placement=docker.types.Placement(constraints=[constraint]),
            networks=[docker.types.NetworkAttachmentConfig(request.network)]
            if request.network else None,
            log_driver=docker.types.DriverConfig("json-file", {
                "max-size": str(max(4 * job.log_bytes, 64 * 1024**2)), "max-file": "2"})
            if job.log_bytes else None)
        try:
            created = self._api.create_service(template, name=job.name,
                                               labels=dict(job.labels), mode=mode)
        except docker.errors.APIError as error:
            raise EngineError(f"cannot create the job's service: {error.explanation}") from None
        except requests.exceptions.RequestException as error:
            raise EngineError(f"lost the fleet's manager: {error}") from None
        return str(created["ID"])

    def service_tasks(self, service_id: str) -> list[TaskState]:
        try:
            return [_task_state(t) for t in self._api.tasks(filters={"service": service_id})]
        except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
            raise EngineError(f"lost the fleet's manager: {error}") from None

    def service_logs(self, service_id: str, stdout: bool = True, stderr: bool = True
                     ) -> Iterator[bytes]:
        """What the service's task wrote, read back through the manager from its node."""
        return iter(self._api.service_logs(service_id, stdout=stdout, stderr=stderr,
                                           follow=False, is_tty=False))

    def remove_service(self, service_id: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self._api.remove_service(service_id)

    def services(self, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        return list(self._api.services(filters=label_filter(labels)))


