"""Write the report: Markdown (figures as PNG files beside it), one self-contained HTML file
(figures embedded as base64), and one CSV per table with every device's rows.

    <out>/report.md  <out>/report.html  <out>/csv/<table>.csv  <out>/figures/*.png
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import io
import math
from dataclasses import dataclass
from pathlib import Path

from launcher.errors import UserError
from launcher.files import write_text_atomic
from launcher.inert import inert, inert_line
from launcher.report.cells import Value
from launcher.report.figures import Drawn, draw_all
from launcher.report.recommend import report_goal
from launcher.report.results import NUMBER_LIMIT, Loaded, load
from launcher.report.table import Table
from launcher.report.tables import DeviceReport, device_reports
from launcher.store import Store

OPENING = "recommendation"  # the table the report opens with, every device's (tables.py)


@dataclass(frozen=True)
class Written:
    markdown: Path
    html: Path
    csvs: list[Path]
    figures: list[Path]
    devices: int
    results: int


def format_value(value: Value, digits: int | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) > NUMBER_LIMIT:
            return "n/a"  # a result out of range (launcher/report/results.py in_range)
        return f"{value:.{digits if digits is not None else 4}f}"
    if isinstance(value, int) and abs(value) > NUMBER_LIMIT:
        return "n/a"
    return str(value)


def md_text(text: str) -> str:
    """Text from results (names, environment, values) as literal Markdown: no table cell
    break (pipes, newlines), no HTML, no link, image or emphasis, no control character."""
    text = html.escape(inert_line(text), quote=False)
    return "".join("\\" + char if char in MARKDOWN_SPECIAL else char for char in text)


MARKDOWN_SPECIAL = set("\\`*_[]()!|#")


def csv_value(value: Value) -> Value:
    """A cell as CSV: numbers as they are, n/a for out-of-range ones, and text that a
    spreadsheet would run as a formula (= + - @, tab, carriage return) quoted with '."""
    if value is None:
        return ""
    if isinstance(value, float | int) and not isinstance(value, bool) and (
            (isinstance(value, float) and not math.isfinite(value))
            or abs(value) > NUMBER_LIMIT):
        return "n/a"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def environment_rows(report: DeviceReport, loaded: Loaded) -> list[tuple[str, str]]:
    """The exact software and hardware, as the device's results recorded it (every distinct
    value, should jobs of one device disagree)."""
    seen: dict[str, list[str]] = {}
    for item in loaded.measured:
        if item.device != report.device:
            continue
        for name, value in item.result.environment.model_dump().items():
            text = ", ".join(value) if isinstance(value, list) else str(value)
            if value in (None, [], "") or text in seen.get(name, []):
                continue
            seen.setdefault(name, []).append(text)
    return [(name, " | ".join(values)) for name, values in seen.items()]


def _header(loaded: Loaded, store: Store) -> list[str]:
    when = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    lines = [f"Generated {when} from {len(loaded.measured)} validated results in "
             f"`{store.root}`, campaigns: {', '.join(loaded.campaigns) or 'none'}."]
    if loaded.missing:
        lines.append(f"{loaded.missing} job(s) of these campaigns have no valid result yet "
                     "(not done, failed or canceled): see `edgecompress status`.")
    return lines


def markdown_table(table: Table) -> str:
    def cell(text: str) -> str:
        return md_text(text)

    lines = ["| " + " | ".join(cell(c.name) for c in table.columns) + " |",
             "|" + "---|" * len(table.columns)]
    for row in table.rows:
        lines.append("| " + " | ".join(cell(format_value(v, c.digits))
                                       for v, c in zip(row, table.columns, strict=True)) + " |")
    return "\n".join(lines)


def render_markdown(reports: list[DeviceReport], loaded: Loaded, store: Store,
                    figures: dict[str, list[Drawn]], out: Path) -> str:
    parts = ["# edgecompress report", "", *_header(loaded, store), ""]
    # The report opens with its answer: per device and model, the method to ship.
    parts += ["## Recommendation", ""]
    for report in reports:
        for table in report.tables:
            if table.key == OPENING:
                parts += [f"### {table.title} ({md_text(report.device.profile)}: "
                          f"{md_text(report.device.label)})", ""]
                parts += [markdown_table(table) if table.rows else "_no results yet_", ""]
                parts += [f"_{table.note}_", ""] if table.note else []
    for report in reports:
        parts += [f"## {md_text(report.device.profile)}: {md_text(report.device.label)}", "",
                  "| environment | |", "|---|---|"]
        parts += [f"| {md_text(name)} | {md_text(value)} |"
                  for name, value in environment_rows(report, loaded)]
        parts.append("")
        for table in report.tables:
            if table.key == OPENING:
                continue
            parts += [f"### {table.title}", ""]
            parts += [markdown_table(table) if table.rows else "_no results yet_", ""]
            if table.note:
                parts += [f"_{table.note}_", ""]
        for drawn in figures.get(report.device.slug, []):
            parts += [f"![{drawn.title}]({drawn.path.relative_to(out).as_posix()})", ""]
            if drawn.caption:
                parts += [f"_{drawn.caption}_", ""]
    # The whole page, not only the cells: notes and titles quote results too (backends).
    return inert("\n".join(parts))


STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
td.num{text-align:right}.note{color:#555;font-size:12px}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}"""


NUMERIC = " class='num'"  # numbers right-aligned, text left


def html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c.name)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(
            f"<td{NUMERIC if isinstance(v, int | float) else ''}>"
            f"{html.escape(format_value(v, c.digits))}</td>"
            for v, c in zip(row, table.columns, strict=True)) + "</tr>"
        for row in table.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(reports: list[DeviceReport], loaded: Loaded, store: Store,
                figures: dict[str, list[Drawn]]) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>edgecompress report</title><style>{STYLE}</style></head><body>",
             "<h1>edgecompress report</h1>"]
    parts += [f"<p>{html.escape(line)}</p>" for line in _header(loaded, store)]
    parts.append("<h2>Recommendation</h2>")
    for report in reports:
        for table in report.tables:
            if table.key == OPENING:
                parts.append(f"<h3>{html.escape(table.title)} "
                             f"({html.escape(report.device.profile)}: "
                             f"{html.escape(report.device.label)})</h3>")
                parts.append(html_table(table) if table.rows
                             else "<p><em>no results yet</em></p>")
                if table.note:
                    parts.append(f"<p class='note'>{html.escape(table.note)}</p>")
    for report in reports:
        parts.append(f"<h2>{html.escape(report.device.profile)}: "
                     f"{html.escape(report.device.label)}</h2><table>")
        parts += [f"<tr><th>{html.escape(n)}</th><td>{html.escape(v)}</td></tr>"
                  for n, v in environment_rows(report, loaded)]
        parts.append("</table>")
        for table in report.tables:
            if table.key == OPENING:
                continue
            parts.append(f"<h3>{html.escape(table.title)}</h3>")
            parts.append(html_table(table) if table.rows else "<p><em>no results yet</em></p>")
            if table.note:
                parts.append(f"<p class='note'>{html.escape(table.note)}</p>")
        for drawn in figures.get(report.device.slug, []):
            data = base64.b64encode(drawn.path.read_bytes()).decode("ascii")
            caption = (f"<figcaption class='note'>{html.escape(drawn.caption)}</figcaption>"
                       if drawn.caption else "")
            parts.append(f"<figure><img alt='{html.escape(drawn.title)}' "
                         f"src='data:image/png;base64,{data}'>{caption}</figure>")
    parts.append("</body></html>")
    return inert("\n".join(parts))  # as render_markdown: no control character anywhere


def render_csvs(reports: list[DeviceReport]) -> dict[str, str]:
    """table key -> CSV text: every device's rows, full precision, empty for no value."""
    by_key: dict[str, tuple[Table, list[list[Value]]]] = {}
    for report in reports:
        for table in report.tables:
            _, rows = by_key.setdefault(table.key, (table, []))
            rows.extend([report.device.profile, report.device.label, *row]
                        for row in table.rows)
    texts = {}
    for key, (table, rows) in by_key.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["profile", "device", *(c.name for c in table.columns)])
        writer.writerows([[csv_value(v) for v in row] for row in rows])
        texts[key] = inert(buffer.getvalue())
    return texts


def write_report(store: Store, out: Path, campaigns: list[str] | None = None) -> Written:
    loaded = load(store, campaigns)
    if not loaded.campaigns:
        which = f" named {', '.join(campaigns)}" if campaigns else ""
        raise UserError(f"no campaign{which} in {store.root}: run one with "
                        "'edgecompress campaign run quick' (or pass --store)")
    goal, goal_note = report_goal(loaded.goals.get(name) for name in loaded.campaigns)
    reports = device_reports(loaded.measured, goal, goal_note)
    out.mkdir(parents=True, exist_ok=True)
    figures = {r.device.slug: draw_all(r, out / "figures") for r in reports}
    markdown = out / "report.md"
    write_text_atomic(markdown, render_markdown(reports, loaded, store, figures, out) + "\n")
    page = out / "report.html"
    write_text_atomic(page, render_html(reports, loaded, store, figures) + "\n")
    csvs = []
    (out / "csv").mkdir(exist_ok=True)
    for key, text in render_csvs(reports).items():
        path = out / "csv" / f"{key}.csv"
        write_text_atomic(path, text)
        csvs.append(path)
    drawn = [item.path for items in figures.values() for item in items]
    return Written(markdown, page, csvs, drawn, len(reports), len(loaded.measured))
