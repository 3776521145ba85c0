"""A job request as the container that runs it: mounts, user, GPU groups, the labels by which
the launcher finds what it started, the limits. ``container_request`` is pure (the caller
gives the uid and prepares the folders); the same ContainerRequest runs on this engine or as a
Swarm service (launcher/fleet/backend.py).
"""

from __future__ import annotations

import functools
import grp
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from launcher.contract.vocabulary import (
    CONTAINER_INPUTS_DIR,
    CONTAINER_OUT_DIR,
    CONTAINER_SPEC_PATH,
    ENV_IMAGE_ID,
    ENV_SAVE_APART,
)
from launcher.docker_client import ContainerRequest, Mount, label
from launcher.limits import save_apart
from launcher.outcome import guard_command
from launcher.owner import Owner, this_owner

if TYPE_CHECKING:
    from launcher.runner import JobRequest

# Jobs run as this user when the launcher runs as root: never root inside the container.
UNPRIVILEGED_UID = 1000
SESSION_ID = uuid.uuid4().hex[:12]
# On a Jetson the GPU's device nodes (/dev/nvhost-*, /dev/nvmap) belong to the video group;
# a container user outside it sees no CUDA device (NVIDIA/nvidia-docker#1449).
GPU_GROUPS = ("video", "render")


@functools.cache
def launcher_owner() -> Owner:
    return this_owner(os.getpid())


def session_labels(kind: str, **more: str) -> dict[str, str]:
    """The labels by which gc and the next run tell what this launcher started: its session,
    the kind of thing (job, power, keeper), its owner (host and pid), and ``more``."""
    return {label("session"): SESSION_ID, label("kind"): kind,
            label("owner"): str(launcher_owner()),
            **{label(name): value for name, value in more.items()}}


def container_user(uid: int | None = None, gid: int | None = None) -> str:
    uid = os.getuid() if uid is None else uid
    gid = os.getgid() if gid is None else gid
    return f"{UNPRIVILEGED_UID}:{UNPRIVILEGED_UID}" if uid == 0 else f"{uid}:{gid}"


def gpu_groups(runtime: str | None,
               lookup: Callable[[str], int | None] | None = None) -> tuple[str, ...]:
    """The host's gids of the GPU device groups, for containers of the nvidia runtime."""
    if runtime != "nvidia":
        return ()
    find = lookup or _host_gid
    return tuple(str(gid) for gid in (find(name) for name in GPU_GROUPS) if gid is not None)


def _host_gid(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def container_request(request: JobRequest, folder: Path, user: str,
                      groups: tuple[str, ...], labels: dict[str, str], suffix: str
                      ) -> ContainerRequest:
    """The container of ``request`` whose job folder is ``folder`` (spec.json and out/ made,
    the caches' host folders made): the spec, the inputs and the read caches read-only, out/
    and the caches writable, no network unless the job downloads, the request's limits."""
    key = request.key
    mounts = [
        Mount(str((folder / "spec.json").resolve()), CONTAINER_SPEC_PATH, read_only=True),
        Mount(str((folder / "out").resolve()), CONTAINER_OUT_DIR, read_only=False),
    ]
    mounts += [Mount(str(path.resolve()), f"{CONTAINER_INPUTS_DIR}/{name}", read_only=True)
               for name, path in sorted(request.inputs.items())]
    mounts += [Mount(str(host.resolve()), target, read_only=False)
               for target, host in sorted(request.caches.items())]
    mounts += [Mount(str(host.resolve()), target, read_only=True)
               for target, host in sorted(request.read_caches.items())]
    limits = request.limits
    return ContainerRequest(
        image=request.image_id,
        entrypoint=guard_command(request.deadline_s),
        command=["--spec", CONTAINER_SPEC_PATH, "--out", CONTAINER_OUT_DIR],
        name=f"edgecompress-{request.job}-{key[:12]}-{suffix}",
        mounts=tuple(mounts),
        labels=labels,
        environment={**request.environment, ENV_IMAGE_ID: request.image_id,
                     **({ENV_SAVE_APART: "1"} if save_apart(limits) else {})},
        user=user,
        group_add=groups,
        runtime=request.runtime,
        network_disabled=not request.network,
        mem_limit=limits.memory_bytes if limits else None,
        memswap_limit=limits.memory_swap_bytes if limits else None,
        pids_limit=limits.pids if limits else None,
        tmp_bytes=limits.tmp_bytes if limits else None,
        log_bytes=limits.log_bytes if limits else None,
    )
