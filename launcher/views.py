"""Every rich table the commands print. Job text (reasons, names, metrics) is data, never
markup or terminal control: it goes in through ``escape`` (inert, then markup-escaped), so a
job cannot style, break or drive what the launcher prints."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.table import Table

from launcher.compare import render as diff_text
from launcher.console import escape
from launcher.contract.record import JobStatus
from launcher.device.checks import Check
from launcher.output.diff import DiffDocument
from launcher.output.recommend import RecommendDocument
from launcher.runner import JobOutcome
from launcher.store import StoredJob
from launcher.study.resolve import Assessment, State

__all__ = ["escape", "outcome_table", "results_table", "status_tables", "checks_table",
           "counts_table", "format_value", "diff_tables", "recommend_tables"]

CHECK_STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}
STATE_STYLE = {State.done: "green", State.failed: "red", State.interrupted: "yellow"}


def format_value(value: Any) -> str:
    """A metric as the console shows it: 4 significant digits, thousands separated."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def outcome_table(outcome: JobOutcome) -> Table:
    record = outcome.record
    colour = "green" if record.status is JobStatus.succeeded else "red"
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("job", escape(record.job) + (" (already done: reused)" if outcome.reused
                                               else ""))
    table.add_row("status", f"[{colour}]{record.status.value}[/]")
    if record.reason:
        table.add_row("reason", escape(record.reason))
    table.add_row("wall", f"{record.wall_s:.2f} s")
    table.add_row("folder", escape(str(outcome.folder)))
    if outcome.result is not None:
        for name, value in outcome.result.metrics.model_dump().items():
            table.add_row(escape(name), escape(format_value(value)))
        table.add_row("imports", f"{outcome.result.timings.imports_s:.2f} s")
        for artifact in outcome.result.artifacts:
            table.add_row(escape(f"artifact {artifact.name}"),
                          escape(f"out/{artifact.path} ({artifact.bytes:,} bytes)"))
    else:
        table.add_row("log", escape(str(outcome.folder / "log.txt")))
    power = record.power
    if power is not None and power.average_power_mw is not None:
        table.add_row("power", escape(f"{power.average_power_mw / 1000:.2f} W on {power.rail} "
                                      f"({power.samples} samples)"))
        table.add_row("energy", f"{power.energy_per_inference_mj:.3g} mJ per inference")
        if power.idle_power_mw is not None:
            table.add_row("above idle", f"{power.energy_above_idle_per_inference_mj:.3g} mJ "
                          f"per inference (idle {power.idle_power_mw / 1000:.2f} W)")
    elif power is not None:
        table.add_row("power", escape(f"not measured: {power.reason}"))
    summary = power.thermal if power is not None else None
    if summary is not None:  # the reason is the verdict's one line, from the record: escaped
        hottest = (f"{summary.max_c:g} C ({summary.hottest_zone}), "
                   if summary.max_c is not None else "")
        table.add_row("thermal", escape(f"{hottest}{summary.throttle_reason or ''}"))
    return table


def results_table(title: str, stored: Iterable[StoredJob]) -> Table | None:
    """One row per job folder; None when the store holds none."""
    table = Table(title=escape(title))
    for column in ("job", "key", "status", "wall s", "detail"):
        table.add_column(column)
    count = 0
    for item in stored:
        count += 1
        record = item.record
        status = record.status.value if record else "to do"
        if record and record.status is JobStatus.succeeded and item.result is None:
            status = "invalid_result"
        detail = item.problem or (record.reason if record else "") or ""
        if item.result is not None:
            detail = ", ".join(f"{k}={format_value(v)}"
                               for k, v in item.result.metrics.model_dump().items())
            power = record.power if record else None
            if power is not None and power.energy_per_inference_mj is not None:
                detail += (f", power_w={format_value((power.average_power_mw or 0) / 1000)}"
                           f", energy_mj={format_value(power.energy_per_inference_mj)}")
        name = item.folder.name
        table.add_row(escape(name.split("-")[0] if record is None else record.job),
                      escape(name.rsplit("-", 1)[-1]), status,
                      f"{record.wall_s:.1f}" if record else "", escape(detail))
    return table if count else None


def counts_table(counts: Mapping[str, int], order: Iterable[str]) -> Table:
    table = Table()
    table.add_column("job")
    table.add_column("count", justify="right")
    for job in order:
        if job in counts:
            table.add_row(job, str(counts[job]))
    return table


def status_tables(title: str, assessments: list[Assessment], show_done: bool
                  ) -> list[Table]:
    """A count per job kind and state, then one row per job not done (or every job)."""
    by_job: dict[str, dict[State, int]] = {}
    for item in assessments:
        counts = by_job.setdefault(item.node.job, {})
        counts[item.state] = counts.get(item.state, 0) + 1
    states = list(State)
    summary = Table(title=escape(title))
    summary.add_column("job")
    for state in states:
        summary.add_column(state.value, justify="right")
    for job, counts in by_job.items():
        summary.add_row(escape(job), *(str(counts.get(state, 0)) for state in states))
    summary.add_row("[bold]all[/]", *(
        f"[bold]{sum(1 for a in assessments if a.state is state)}[/]" for state in states))
    shown = [a for a in assessments if show_done or a.state is not State.done]
    if not shown:
        return [summary]
    table = Table(show_edge=False)
    table.add_column("job", overflow="fold")
    table.add_column("state", no_wrap=True)
    table.add_column("detail", overflow="fold")
    table.add_column("wall s", justify="right", no_wrap=True)
    for item in shown:
        shown_state = item.state.value
        if item.state in STATE_STYLE:
            shown_state = f"[{STATE_STYLE[item.state]}]{shown_state}[/]"
        detail = item.reason
        if item.state is State.failed and item.folder is not None:
            detail += f" (log: {item.folder / 'log.txt'})"
        table.add_row(escape(item.node.id), shown_state, escape(detail),
                      f"{item.record.wall_s:.1f}" if item.record else "")
    return [summary, table]


def checks_table(title: str, checks: Iterable[Check]) -> Table:
    table = Table(title=title)
    for column in ("check", "state", "detail"):
        table.add_column(column)
    for check in checks:
        table.add_row(check.name, f"[{CHECK_STYLE[check.state]}]{check.state}[/]",
                      escape(check.detail))
    return table


def diff_tables(document: DiffDocument) -> list[Table | str]:
    """edgecompress diff: the pairs, the rows without a partner, what the differences mean,
    the notes and the gate (texts from launcher/compare/render.py, shared with Markdown)."""
    shown: list[Table | str] = [escape(diff_text.side_line("A", document.a)),
                                escape(diff_text.side_line("B", document.b))]
    pairs = Table(title="pairs", show_lines=False)
    for column in diff_text.PAIR_COLUMNS:
        pairs.add_column(column, overflow="fold")
    for pair in document.pairs:
        cells = [escape(cell) for cell in diff_text.pair_cells(pair)]
        cells[-1] = f"[red]{cells[-1]}[/]" if cells[-1] else ""
        pairs.add_row(*cells)
    shown.append(pairs if document.pairs else "no row of A pairs with a row of B")
    if document.unpaired:
        unpaired = Table(title="unpaired rows")
        for column in diff_text.UNPAIRED_COLUMNS:
            unpaired.add_column(column, overflow="fold")
        for item in document.unpaired:
            unpaired.add_row(*(escape(cell) for cell in diff_text.unpaired_cells(item)))
        shown.append(unpaired)
    shown += [escape(line) for line in diff_text.why_lines(document)]
    shown += [escape(note) for note in document.notes]
    shown.append(escape(diff_text.statistics_line(document)))
    gate = diff_text.gate_line(document)
    if gate:
        shown.append(f"[{'red' if document.failed else 'green'}]{escape(gate)}[/]")
    return shown


def recommend_tables(document: RecommendDocument) -> list[Table | str]:
    """edgecompress recommend: one row per model and device, then every candidate judged."""
    goal = document.goal
    shown: list[Table | str] = [escape(
        f"campaign {document.campaign} in {document.store}: the {goal.minimize} ({goal.unit}) "
        f"least within {goal.max_accuracy_drop_pts:g} points of top-1 ({goal.source})")]
    if not document.recommendations:
        return [*shown, "no model of this campaign has a base with an accuracy yet"]
    chosen = Table(title="recommendation")
    unit = "gzip MB" if goal.minimize == "size" else goal.unit

    def objective(value: float | None) -> str:
        if value is None:
            return "–"
        return format_value(value / 1e6 if goal.minimize == "size" else value)

    for column in ("model", "profile", "method", "drop pts", "judged drop pts", "rule",
                   f"{goal.minimize} {unit}", f"base {unit}", "note"):
        chosen.add_column(column, overflow="fold")
    candidates = Table(title="every candidate")
    for column in ("model", "profile", "method", "drop pts", "judged drop pts", "rule",
                   "copies (base, method)", "meets", f"{goal.minimize} {unit}"):
        candidates.add_column(column, overflow="fold")
    for item in document.recommendations:
        named = next((c for c in item.candidates if c.method in (item.method, item.closest)),
                     None)
        method = (f"[green]{escape(item.method)}[/]" if item.method else
                  f"[red]none[/] (closest: {escape(item.closest)})" if item.closest else
                  "[red]none[/]")
        chosen.add_row(escape(item.model), escape(item.profile), method,
                       *(format_value(v) if v is not None else "–" for v in (
                           named.drop_pts if named else None,
                           named.judged_drop_pts if named else None)),
                       escape(named.rule) if named else "–",
                       objective(named.objective if named else None),
                       objective(item.base_objective), escape(item.note))
        for c in item.candidates:
            candidates.add_row(escape(item.model), escape(item.profile), escape(c.method),
                               format_value(c.drop_pts), format_value(c.judged_drop_pts),
                               escape(c.rule), f"{c.base_copies}, {c.copies}",
                               "[green]yes[/]" if c.meets else "[red]no[/]",
                               objective(c.objective))
    devices = sorted({f"{r.profile}: {r.device}" for r in document.recommendations})
    return [*shown, chosen, candidates, escape(f"rule: {document.rule}"),
            *(escape(f"device {line}") for line in devices)]
