"""The module that talks to the Docker SDK (with docker_swarm.py, its Swarm side for fleets).
Thin: it turns SDK objects and exceptions into plain data and one-line errors, and holds no
policy (what to run, how to judge it)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import docker
import docker.errors
import docker.types
import requests

from launcher.errors import EngineError, UserError

LABEL_PREFIX = "io.edgecompress"


def label(name: str) -> str:
    return f"{LABEL_PREFIX}.{name}"


def label_filter(labels: Mapping[str, str]) -> dict[str, list[str]]:
    """The engine's filter for objects carrying ``labels`` (an empty value: the label at all)."""
    return {"label": [f"{k}={v}" if v else k for k, v in labels.items()]}


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class ContainerRequest:
    """Everything a job container is created with. Least privilege by default."""

    image: str
    command: list[str]
    name: str
    mounts: tuple[Mount, ...]
    labels: Mapping[str, str]
    environment: Mapping[str, str] = field(default_factory=dict)
    user: str | None = None
    runtime: str | None = None
    network_disabled: bool = True
    read_only_root: bool = True
    mem_limit: int | None = None  # bytes
    memswap_limit: int | None = None  # memory + swap, bytes; None: the same as mem_limit
    pids_limit: int | None = None
    tmp_bytes: int | None = None  # size of the RAM-backed /tmp; None: the engine's default
    log_bytes: int | None = None  # what the engine itself keeps of the container's output
    working_dir: str = "/job"
    group_add: tuple[str, ...] = ()  # supplementary groups of the container's user (gids)
    entrypoint: list[str] | None = None  # None: the image's


@dataclass(frozen=True)
class ContainerState:
    status: str
    running: bool
    exit_code: int | None
    oom_killed: bool
    error: str


class RegistryError(Exception):
    """The registry refused or could not be reached; the caller words the advice."""


def _engine_down(error: Exception) -> EngineError:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    text = str(error)
    if "Permission denied" in text or isinstance(error, PermissionError):
        return EngineError(
            f"permission denied on the Docker socket ({host}): add your user to the docker "
            "group (sudo usermod -aG docker $USER, then log in again) or run as root"
        )
    return EngineError(
        f"cannot reach the Docker engine at {host}: start it (systemctl start docker, or "
        "dockerd &) or point DOCKER_HOST at a running engine"
    )


EngineT = TypeVar("EngineT", bound="Engine")


class Engine:
    """A connected Docker engine."""

    def __init__(self, client: docker.DockerClient) -> None:
        self._client = client
        self._api = client.api

    def close(self) -> None:
        """Close the connection pool (a session's end)."""
        self._client.close()

    @classmethod
    def connect(cls: type[EngineT], timeout: int = 60, base_url: str | None = None,
                answer_s: float | None = None) -> EngineT:
        """The engine of DOCKER_HOST, or the one at ``base_url`` (a fleet's manager).
        ``answer_s``: how long the engine has to answer the first requests (its API version,
        a ping); the calls after them have ``timeout``."""
        first = answer_s or timeout
        try:
            client = (docker.DockerClient(base_url=base_url, timeout=first) if base_url
                      else docker.from_env(timeout=first))
            client.ping()
        except (docker.errors.DockerException, requests.exceptions.RequestException,
                OSError) as error:
            if base_url and _is_timeout(error):
                raise EngineError(f"the fleet's manager at {base_url} did not answer within "
                                  f"{first:g} s: check that the URL is its Docker engine's "
                                  "API (tcp://HOST:2375, not another service) and that the "
                                  "engine is not hung") from None
            if base_url:
                raise EngineError(f"cannot reach the fleet's manager at {base_url}: check the "
                                  "URL (tcp://HOST:2375) and that its engine listens "
                                  "there") from None
            raise _engine_down(error) from None
        client.api.timeout = timeout
        return cls(client)

    # --- engine ---------------------------------------------------------------------------

    def alive(self) -> bool:
        """Does the engine still answer? (No exception: the caller is deciding what a
        failure means.)"""
        try:
            return bool(self._api.ping())
        except (docker.errors.DockerException, requests.exceptions.RequestException, OSError):
            return False

    def info(self) -> dict[str, Any]:
        try:
            return dict(self._api.info())
        except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
            raise _engine_down(error) from None

    # --- images ---------------------------------------------------------------------------

    def image_id(self, ref: str) -> str | None:
        try:
            return str(self._api.inspect_image(ref)["Id"])
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as error:
            if error.status_code == 404:
                return None
            raise EngineError(f"cannot inspect image {ref}: {error.explanation}") from None

    def image_labels(self, ref: str) -> dict[str, str]:
        return dict(self._api.inspect_image(ref)["Config"].get("Labels") or {})

    def tag(self, image_id: str, ref: str) -> None:
        repository, _, tag = ref.rpartition(":")
        self._api.tag(image_id, repository, tag)

    def build(self, context_dir: str, tag: str, buildargs: Mapping[str, str],
              labels: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        """Stream the classic builder's events (``stream`` lines, ``aux`` with the id, or
        ``error``). The caller renders them and decides what an error means."""
        try:
            yield from self._api.build(
                path=context_dir, tag=tag, buildargs=dict(buildargs), labels=dict(labels),
                rm=True, forcerm=True, decode=True, pull=False,
            )
        except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
            raise _engine_down(error) from None

    def remove_image(self, ref: str) -> None:
        self._api.remove_image(ref, force=True)

    def image_tags(self, ref: str) -> list[str]:
        return list(self._api.inspect_image(ref).get("RepoTags") or [])

    def repo_digests(self, ref: str) -> list[str]:
        return list(self._api.inspect_image(ref).get("RepoDigests") or [])

    def push(self, ref: str) -> Iterator[dict[str, Any]]:
        """Stream a push's events; a failure arrives as an event with ``error``."""
        repository, _, tag = ref.rpartition(":")
        try:
            yield from self._api.push(repository, tag=tag, stream=True, decode=True)
        except requests.exceptions.RequestException as error:
            raise _engine_down(error) from None

    def pull(self, ref: str) -> Iterator[dict[str, Any]]:
        """Stream a pull's events. The engine answers a missing tag or an unreachable registry
        with an APIError (or an ``error`` event): both reach the caller as RegistryError."""
        repository, _, tag = ref.rpartition(":")
        try:
            yield from self._api.pull(repository, tag=tag, stream=True, decode=True)
        except docker.errors.APIError as error:
            raise RegistryError(str(error.explanation or error)) from None
        except requests.exceptions.RequestException as error:
            raise _engine_down(error) from None

    # --- containers -----------------------------------------------------------------------

    def create(self, request: ContainerRequest) -> str:
        host_config = self._api.create_host_config(
            binds={m.source: {"bind": m.target, "mode": "ro" if m.read_only else "rw"}
                   for m in request.mounts},
            privileged=False,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            read_only=request.read_only_root,
            tmpfs={"/tmp": "rw,exec,nosuid,nodev" + (
                f",size={request.tmp_bytes}" if request.tmp_bytes else "")}
            if request.read_only_root else None,
            network_mode="none" if request.network_disabled else "bridge",
            runtime=request.runtime,
            mem_limit=request.mem_limit,
            # Swap (where the profile allows none) would turn an out-of-memory job into a crawl
            # instead of a clear 'oom'.
            memswap_limit=request.memswap_limit or request.mem_limit,
            pids_limit=request.pids_limit,
            # The engine's own copy, bounded on disk; roomier than what the launcher keeps,
            # since a reader following a rotating log can miss lines at the rotation.
            log_config=docker.types.LogConfig(type="json-file", config={
                "max-size": str(max(4 * request.log_bytes, 64 * 1024**2)), "max-file": "2"})
            if request.log_bytes else None,
            init=True,
            group_add=list(request.group_add) or None,
        )
        try:
            created = self._api.create_container(
                image=request.image, command=request.command, name=request.name,
                entrypoint=request.entrypoint,
                labels=dict(request.labels), environment=dict(request.environment),
                user=request.user, working_dir=request.working_dir, host_config=host_config,
                volumes=[m.target for m in request.mounts], detach=True,
            )
        except docker.errors.ImageNotFound:
            raise UserError(
                f"image {request.image} is missing: build it with 'edgecompress build'"
            ) from None
        except docker.errors.APIError as error:
            raise EngineError(f"cannot create the job container: {error.explanation}") from None
        except requests.exceptions.RequestException as error:
            raise _engine_down(error) from None
        return str(created["Id"])

    def start(self, container_id: str) -> None:
        self._api.start(container_id)

    def wait(self, container_id: str, timeout: float) -> bool:
        """Block until the container exits or ``timeout`` seconds pass; True if it exited.
        The SDK's own timeout is an HTTP read timeout, so it only bounds one call."""
        try:
            self._api.wait(container_id, timeout=max(timeout, 0.01))
            return True
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as error:
            if isinstance(error, requests.exceptions.ConnectionError) and not _is_timeout(error):
                raise _engine_down(error) from None
            return False

    def state(self, container_id: str) -> ContainerState:
        state = self._api.inspect_container(container_id)["State"]
        return ContainerState(
            status=str(state.get("Status", "")),
            running=bool(state.get("Running")),
            exit_code=None if state.get("Running") else int(state.get("ExitCode", -1)),
            oom_killed=bool(state.get("OOMKilled")),
            error=str(state.get("Error") or ""),
        )

    def kill(self, container_id: str) -> None:
        with contextlib.suppress(docker.errors.APIError):  # already gone: what we wanted
            self._api.kill(container_id)

    def stop(self, container_id: str, grace_s: int = 5) -> None:
        with contextlib.suppress(docker.errors.APIError):
            self._api.stop(container_id, timeout=grace_s)

    def stream_logs(self, container_id: str, follow: bool = True) -> Iterator[bytes]:
        """The container's output in chunks: as it comes (``follow``), or all there is."""
        return iter(self._api.logs(container_id, stream=True, follow=follow,
                                   stdout=True, stderr=True))

    def error_tail(self, container_id: str, cap_bytes: int = 16 * 1024) -> bytes:
        """The end of what the container wrote to stderr alone, capped: the merged log does not
        keep the order between stdout and stderr, so a job's last words can land above a
        flood of stdout written before them. (No ``tail=``: the engine counts it over both
        streams before it filters one out.)"""
        kept = bytearray()
        try:
            for chunk in self._api.logs(container_id, stream=True, follow=False, stdout=False,
                                        stderr=True):
                kept += chunk
                del kept[:max(0, len(kept) - cap_bytes)]
        except (docker.errors.DockerException, requests.exceptions.RequestException, OSError):
            pass  # a reason to show, not a result: the merged log still gives one
        return bytes(kept)

    def logs(self, container_id: str) -> bytes:
        return bytes(self._api.logs(container_id, stdout=True, stderr=True))

    def remove_container(self, container_id: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self._api.remove_container(container_id, force=True, v=True)

    def containers(self, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        return list(self._api.containers(all=True, filters=label_filter(labels)))



def _is_timeout(error: Exception) -> bool:
    return "timed out" in str(error).lower() or "timeout" in str(error).lower()
