"""Events that show nothing: the scheduler's listener (launcher/execution/schedule.py Events)
for tests, their subprocess drivers and the benchmarks that run a plan in process."""

from __future__ import annotations

from launcher.execution.schedule import Events
from launcher.study.plan import Node, Plan
from launcher.study.resolve import Assessment


class Quiet(Events):
    def begin(self, plan: Plan, assessments: list[Assessment]) -> None:
        pass

    def started(self, node: Node) -> None:
        pass

    def line(self, node: Node, text: str) -> None:
        pass

    def finished(self, node: Node, assessment: Assessment, ran: bool) -> None:
        pass
