"""What ``edgecompress fleet status`` shows: each node, its profile, the job it runs, its
health. Pure rows from node and service data; the command reads them from the manager."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from launcher.docker_swarm import NodeInfo
from launcher.fleet.node_placement import profile_of


@dataclass(frozen=True)
class NodeRow:
    hostname: str
    role: str
    profile: str
    job: str
    health: str


def health(node: NodeInfo) -> str:
    if node.state != "ready":
        return f"{node.state}: no jobs go there until it is ready again"
    if node.availability != "active":
        return f"{node.availability}: takes no jobs"
    if profile_of(node) is None:
        return "no edgecompress.profile label: takes no jobs"
    return "ok"


def rows(nodes: Sequence[NodeInfo], jobs: Mapping[str, str]) -> list[NodeRow]:
    """``jobs``: node id -> what its running job service is (job name and key)."""
    return [NodeRow(node.hostname, node.role, profile_of(node) or "-", jobs.get(node.id, "-"),
                    health(node))
            for node in sorted(nodes, key=lambda n: (n.role != "manager", n.hostname))]
