"""Which job goes to which node. Pure: the ready queue, the nodes, what is busy, what failed.

A node takes jobs of its profile only (its label ``edgecompress.profile``) and one job at a
time, so a job's latency and compression time are measured on an otherwise idle board. The
launcher keeps the queue in the campaign's order (upstream jobs first) and fills free nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from launcher.docker_swarm import NodeInfo

PROFILE_LABEL = "edgecompress.profile"
# A job whose node went down runs again on another node of its profile, this many times in
# all: a fleet whose boards keep dying should stop the job, not loop.
MAX_ATTEMPTS = 3


def profile_of(node: NodeInfo) -> str | None:
    return node.labels.get(PROFILE_LABEL)


def usable(node: NodeInfo, profile: str) -> bool:
    return (profile_of(node) == profile and node.state == "ready"
            and node.availability == "active")


def eligible(nodes: Iterable[NodeInfo], profile: str) -> list[NodeInfo]:
    """The nodes that may take this profile's jobs now, in a stable order."""
    return sorted((n for n in nodes if usable(n, profile)), key=lambda n: (n.hostname, n.id))


def unmatched(nodes: Sequence[NodeInfo], profile: str) -> str | None:
    """One line when no node can ever take this profile's jobs, before anything starts."""
    labelled = [n for n in nodes if profile_of(n) == profile]
    if not labelled:
        seen = sorted({p for p in (profile_of(n) for n in nodes) if p})
        return (f"no node of the fleet carries the label {PROFILE_LABEL}={profile} (labels "
                f"seen: {', '.join(seen) or 'none'}): label a board with 'docker node update "
                f"--label-add {PROFILE_LABEL}={profile} NODE' on the manager")
    if not eligible(nodes, profile):
        states = ", ".join(f"{n.hostname} {n.state}/{n.availability}" for n in labelled)
        return (f"no node labelled {PROFILE_LABEL}={profile} is ready and active ({states}): "
                "start or 'docker node update --availability active' one")
    return None


@dataclass(frozen=True)
class Assignment:
    job: str
    node: NodeInfo


def assign(queue: Sequence[str], nodes: Sequence[NodeInfo], busy: Iterable[str],
           avoid: Mapping[str, frozenset[str]] | None = None) -> list[Assignment]:
    """Fill free nodes from the head of the queue. ``busy``: node ids running a job;
    ``avoid``: per job, the nodes that lost it (a board that died and came back at once
    should not get the same job again while another is free)."""
    taken = set(busy)
    avoid = avoid or {}
    placed: list[Assignment] = []
    for job in queue:
        free = [n for n in nodes if n.id not in taken]
        if not free:
            break
        bad = avoid.get(job, frozenset())
        if all(n.id in bad for n in nodes):
            bad = frozenset()  # no other node of the profile: the one that came back will do
        choice = next((n for n in free if n.id not in bad), None)
        if choice is None:
            continue  # only nodes that lost it are free: wait for another
        placed.append(Assignment(job, choice))
        taken.add(choice.id)
    return placed


def retry(attempts: int, max_attempts: int = MAX_ATTEMPTS) -> bool:
    """After ``attempts`` runs of a job lost with their node: may it run again?"""
    return attempts < max_attempts
