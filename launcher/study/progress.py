"""Campaign progress with rich: jobs done of total, each running job and its last log line,
elapsed time, and an estimate of what remains from the durations measured so far.

``estimate_remaining`` is pure; ``CampaignProgress`` is the display (the executor's Events).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from launcher.console import escape
from launcher.inert import inert
from launcher.study.plan import Node, Plan
from launcher.study.resolve import Assessment, State


def estimate_remaining(todo: Iterable[Node], measured: Iterable[tuple[Node, float]]
                       ) -> float | None:
    """Seconds left: each job to do is expected to take the mean of the finished jobs most
    like it, the same job on the same model, else the same job, else any job. None while
    nothing has been measured."""
    by_kind: dict[tuple[str, str], list[float]] = {}
    by_job: dict[str, list[float]] = {}
    every: list[float] = []
    for node, seconds in measured:
        by_kind.setdefault((node.job, node.model), []).append(seconds)
        by_job.setdefault(node.job, []).append(seconds)
        every.append(seconds)
    if not every:
        return None
    overall = statistics.fmean(every)
    total = 0.0
    for node in todo:
        same = by_kind.get((node.job, node.model)) or by_job.get(node.job)
        total += statistics.fmean(same) if same else overall
    return total


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


class CampaignProgress:
    """The executor's Events, drawn with rich. Each job that ran gets a line of its own, so
    a non-interactive log (CI, a file) still tells what happened."""

    def __init__(self, console: Console, verbose: bool = False) -> None:
        self.console, self.verbose = console, verbose
        self.progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("[dim]~{task.fields[remaining]} left"), console=console)
        self.campaign = self.progress.add_task("campaign", total=None, remaining="?")
        self.running: dict[str, TaskID] = {}  # node id -> its line, while it runs
        self.todo: dict[str, Node] = {}
        self.measured: list[tuple[Node, float]] = []

    def __enter__(self) -> CampaignProgress:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.progress.stop()

    # --- Events ---------------------------------------------------------------------------

    def begin(self, plan: Plan, assessments: list[Assessment]) -> None:
        done = 0
        for item in assessments:
            if item.state is State.done:
                done += 1
                if item.record is not None:
                    self.measured.append((item.node, item.record.wall_s))
            else:
                self.todo[item.node.id] = item.node
        self.progress.update(self.campaign, description=plan.config.name,
                             total=len(plan.nodes), completed=done)
        self._update_estimate()

    def started(self, node: Node) -> None:
        self.running[node.id] = self.progress.add_task(
            f"{escape(node.id)}: starting", total=None, remaining="?")

    def line(self, node: Node, text: str) -> None:
        text = text.strip()
        if self.verbose:
            # Inert here too: the console handed in need not be the launcher's InertConsole.
            prefix = f"{node.id}: " if len(self.running) > 1 else ""
            self.console.print(inert(prefix + text), style="dim", soft_wrap=True,
                               markup=False)
        task = self.running.get(node.id)
        if text and task is not None:
            # Called from the job's log-streaming thread; rich's progress takes its own lock.
            self.progress.update(task, description=f"{escape(node.id)}: {escape(text[:90])}")

    def finished(self, node: Node, assessment: Assessment, ran: bool) -> None:
        self.todo.pop(node.id, None)
        task = self.running.pop(node.id, None)
        if task is not None:
            self.progress.remove_task(task)
        if ran and assessment.record is not None:
            self.measured.append((node, assessment.record.wall_s))
        self.progress.advance(self.campaign)
        self._update_estimate()
        self.console.print(self._describe(node, assessment, ran), soft_wrap=True)

    # ---------------------------------------------------------------------------------------

    def _update_estimate(self) -> None:
        remaining = estimate_remaining(self.todo.values(), self.measured)
        self.progress.update(self.campaign, remaining=format_duration(remaining))

    @staticmethod
    def _describe(node: Node, assessment: Assessment, ran: bool) -> str:
        record = assessment.record
        wall = f" {record.wall_s:.1f} s" if record is not None and ran else ""
        if assessment.state is State.done:
            return f"[green]done[/] {node.id}{wall}"
        if assessment.state is State.interrupted:
            return f"[yellow]interrupted[/] {node.id}{wall}: {escape(assessment.reason)}"
        if assessment.state is State.waiting:
            return f"[dim]waiting[/] {node.id}: {escape(assessment.reason)}"
        # The reason is job text (a log line, a result's complaint): data, never markup or
        # terminal control.
        return f"[red]{assessment.state.value}[/] {node.id}{wall}: {escape(assessment.reason)}"
