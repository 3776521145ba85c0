"""Where a campaign's jobs run, as the scheduler (schedule.py) sees it: a ``Site`` has slots,
places ready jobs in them, and runs a job in a slot. This machine is a site with N slots
(local.py); a Swarm fleet is a site with one slot per board of the profile
(launcher/fleet/site.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from launcher.execution.cancel import Cancel
from launcher.runner import JobOutcome, JobRequest
from launcher.study.plan import Node
from launcher.target import Target

Slot = object  # this machine: a slot's number; a fleet: the board's Swarm node


@dataclass
class Running:
    node: Node
    slot: Slot
    future: Future[JobOutcome]


class Lost(str, Enum):
    """What a site makes of a job whose attempt ended ``lost``."""

    retry = "retry"  # run it again (elsewhere): its board went away
    give_up = "give up"  # lost too often: the job is failed, the rest goes on
    stop = "stop"  # the engine itself is gone: nothing more can run now


class Site(Protocol):
    target: Target  # the campaign's device: its store, image, and the id that keys its jobs
    training_image_id: str | None  # training placed on another profile: the id keying it

    def session(self) -> AbstractContextManager[object]:
        """Held while the plan runs (a fleet's network keeper)."""
        ...

    def target_for(self, node: Node) -> Target:
        """The target ``node`` runs with (a training lane's, for a placed train job)."""
        ...

    def sharing(self, node: Node) -> int:
        """How many jobs may run at once on the machine that runs ``node`` (recorded)."""
        ...

    def refuse(self, node: Node) -> str | None:
        """Why ``node`` cannot run on this site at all (it is failed with that reason)."""
        ...

    def place(self, ready: Sequence[Node], running: Sequence[Running]
              ) -> list[tuple[Node, Slot]]:
        """Which ready jobs start now, in which free slots; ``ready`` is in plan order."""
        ...

    def run(self, node: Node, slot: Slot, request: JobRequest, on_line: Callable[[str], None],
            cancel: Cancel) -> JobOutcome:
        """Run one job in ``slot`` (in a worker thread) and file it."""
        ...

    def lost(self, node: Node, slot: Slot, attempts: int) -> Lost:
        """``node``'s attempt in ``slot`` ended lost, its ``attempts``-th loss."""
        ...

    def idle(self, now: float, running: int) -> None:
        """Called every tick: raise UserError when the site can run nothing and never will
        (a fleet whose boards have all been gone too long)."""
        ...

    def slot_name(self, slot: Slot) -> str | None:
        """What the summary counts jobs under (a fleet: the board's hostname); None: not
        counted."""
        ...
