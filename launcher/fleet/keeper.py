"""The jobs' internal network held up on every board for the length of a fleet run.

Swarm builds an overlay network's sandbox on a node when the first container there joins it
and tears it down when the last one leaves. With one job at a time per board, that is a
teardown and a rebuild around every job: measured on the lab swarm, a trivial service on the
network took 1.0-1.1 s from create to removal, 0.5 s off it, and 0.7 s on it while another
container of the node stayed joined (docs/benchmarks.md, "Fleet"). The keeper is that other
container: a global service of one idle ``sleep`` per board of the profile, on the network,
with a job's hardening and a few MB of memory. It takes no CPU, so the one-job-per-board rule
that keeps timings clean still holds.

It carries the session's labels with kind ``keeper``: a launcher removes it on the way out,
and ``gc --fleet`` sweeps the keeper of a killed one (launcher/fleet/cleanup.py).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence

from launcher.docker_client import ContainerRequest
from launcher.docker_swarm import ServiceRequest, SwarmEngine
from launcher.execution.container import container_user, session_labels
from launcher.fleet.node_placement import PROFILE_LABEL

KIND = "keeper"
MEMORY_BYTES = 16 * 1024**2


def keeper_request(image: str, profile: str, network: str) -> ServiceRequest:
    container = ContainerRequest(
        image=image, entrypoint=["sleep", "infinity"], command=[],
        name=f"edgecompress-keeper-{uuid.uuid4().hex[:12]}", mounts=(),
        labels=session_labels(KIND),
        user=container_user(), mem_limit=MEMORY_BYTES, pids_limit=64,
        tmp_bytes=1024**2, log_bytes=1024**2)
    return ServiceRequest(container, None, network, node_label=(PROFILE_LABEL, profile))


@contextlib.contextmanager
def network_kept(engine: SwarmEngine, lanes: Sequence[tuple[str, str]],
                 network: str | None) -> Iterator[None]:
    """For the ``with`` block: a keeper on every board of each (profile, image) lane."""
    if network is None:
        yield
        return
    services: list[str] = []
    try:
        for profile, image in lanes:
            services.append(engine.create_service(keeper_request(image, profile, network)))
        yield
    finally:
        for service in services:
            with contextlib.suppress(Exception):  # the manager gone: gc sweeps it
                engine.remove_service(service)
