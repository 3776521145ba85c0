"""A Docker Swarm fleet as a site (launcher/execution/site.py): one slot per ready board of the
profile, each job a service on its board through the same runner as a local run.

A job whose board went down is recorded as a lost attempt and runs again on another board, at
most node_placement.MAX_ATTEMPTS times. Training placed on another profile runs in its own
lane: its boards, its image. The run stops, resumable, when no board of the profile has been
ready for ``no_node_s``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from launcher.docker_swarm import NodeInfo, SwarmEngine
from launcher.errors import UserError
from launcher.execution.cancel import Cancel
from launcher.execution.site import Lost, Running, Slot
from launcher.fleet import node_placement
from launcher.fleet.backend import SwarmBackend
from launcher.fleet.keeper import network_kept
from launcher.runner import JobOutcome, JobRequest, run_job
from launcher.study.plan import Node
from launcher.target import Target

# How long jobs may wait with no node of the profile ready before the run stops (a board
# rebooting comes back well within it).
NO_NODE_S = 600.0


@dataclass(frozen=True)
class Lane:
    """Training placed on another profile (launcher/study/training_placement.py): its nodes,
    the registry-qualified name of its image, the target its train and scratch jobs run on."""

    image: str
    target: Target


@dataclass(frozen=True)
class Fleet:
    """A connected swarm and what its jobs need: the registry-qualified image and the
    internal network of offline jobs; ``training``: where train and scratch jobs go when the
    campaign places them on another profile's nodes."""

    engine: SwarmEngine
    image: str  # what every node pulls; same image id as target.image_id
    network: str | None
    training: Lane | None = None

    def lane_of(self, node: Node, target: Target) -> tuple[str, Target]:
        """(image, target) of the nodes that run ``node``."""
        if node.role == "train" and self.training is not None:
            return self.training.image, self.training.target
        return self.image, target


class FleetSite:
    """``fleet``'s boards of ``target``'s profile (and of its training lane's)."""

    def __init__(self, fleet: Fleet, target: Target,
                 max_attempts: int = node_placement.MAX_ATTEMPTS, no_node_s: float = NO_NODE_S
                 ) -> None:
        self.fleet, self.target = fleet, target
        self.max_attempts, self.no_node_s = max_attempts, no_node_s
        self.training_image_id = fleet.training.target.image_id if fleet.training else None
        self.profiles = [target.profile] + (
            [fleet.training.target.profile] if fleet.training else [])
        self.avoid: dict[str, frozenset[str]] = {}  # job -> boards it was lost on
        self.seen_nodes = True
        self.no_node_since: float | None = None
        for profile in self.profiles:
            line = node_placement.unmatched(fleet.engine.nodes(), profile)
            if line is not None:
                raise UserError(line)  # before anything starts: no folder, no service

    def session(self) -> AbstractContextManager[object]:
        lanes = [(self.target.profile, self.fleet.image)] + (
            [(self.fleet.training.target.profile, self.fleet.training.image)]
            if self.fleet.training else [])
        return network_kept(self.fleet.engine, lanes, self.fleet.network)

    def target_for(self, node: Node) -> Target:
        return self.fleet.lane_of(node, self.target)[1]

    def sharing(self, node: Node) -> int:
        return 1  # one job per board

    def refuse(self, node: Node) -> str | None:
        return None

    def place(self, ready: Sequence[Node], running: Sequence[Running]
              ) -> list[tuple[Node, Slot]]:
        swarm_nodes = self.fleet.engine.nodes()
        busy = {job.slot.id for job in running if isinstance(job.slot, NodeInfo)}
        by_id = {node.id: node for node in ready}
        chosen: list[tuple[Node, Slot]] = []
        self.seen_nodes = False
        for profile in self.profiles:  # each lane's jobs on its own profile's nodes
            lane = node_placement.eligible(swarm_nodes, profile)
            self.seen_nodes = self.seen_nodes or bool(lane)
            queue = [n.id for n in ready if self.target_for(n).profile == profile]
            for placed in node_placement.assign(queue, lane, busy, self.avoid):
                busy.add(placed.node.id)
                chosen.append((by_id[placed.job], placed.node))
        return chosen

    def run(self, node: Node, slot: Slot, request: JobRequest, on_line: Callable[[str], None],
            cancel: Cancel) -> JobOutcome:
        assert isinstance(slot, NodeInfo)
        image = self.fleet.lane_of(node, self.target)[0]
        backend = SwarmBackend(self.fleet.engine, slot, image, self.fleet.network)
        return run_job(backend, self.target.store, request, on_line, cancel)

    def lost(self, node: Node, slot: Slot, attempts: int) -> Lost:
        if isinstance(slot, NodeInfo):
            self.avoid[node.id] = self.avoid.get(node.id, frozenset()) | {slot.id}
        return Lost.retry if node_placement.retry(attempts, self.max_attempts) else Lost.give_up

    def idle(self, now: float, running: int) -> None:
        if self.seen_nodes or running:
            self.no_node_since = None
        elif self.no_node_since is None:
            self.no_node_since = now
        elif now - self.no_node_since > self.no_node_s:
            # Every board of the profile has been gone that long: stop, resumable.
            raise UserError(f"no node labelled {node_placement.PROFILE_LABEL}="
                            f"{' or '.join(self.profiles)} has been ready for "
                            f"{self.no_node_s:g} s; bring one back and run the same command "
                            "again")

    def slot_name(self, slot: Slot) -> str | None:
        return slot.hostname if isinstance(slot, NodeInfo) else None
