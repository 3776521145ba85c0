"""The diff document as text: the cells of its tables (shared by the rich table in
launcher/views.py and the Markdown here) and the Markdown page. Pure; every text from a store
goes through ``md_text`` in Markdown and through the inert console in the table."""

from __future__ import annotations

from launcher.output.diff import DiffDocument, Pair, SideSummary, Unpaired
from launcher.report.render import md_text

PAIR_COLUMNS = ("model", "method", "accuracy %", "Δ accuracy", "latency ms", "latency B/A",
                "bucket", "size B/A", "energy B/A", "differences", "gate")
UNPAIRED_COLUMNS = ("side", "model", "method", "device", "campaigns", "reason")
NONE = "–"


def _g(value: float | None, digits: int = 4) -> str:
    return NONE if value is None else f"{value:.{digits}g}"


def accuracy_cells(pair: Pair) -> tuple[str, str]:
    change = pair.accuracy
    if change is None:
        return NONE, NONE
    values = f"{_g(change.a_pct)} → {_g(change.b_pct)}"
    if change.difference_pts is None:
        return values, f"n {change.n_a}/{change.n_b}"
    test = f"p {change.p:.2g}" if change.p is not None else "no test"
    mark = " *" if change.significant else ""
    return values, (f"{change.difference_pts:+.2f} pts{mark} ({test}, n "
                    f"{change.n_a}/{change.n_b})")


def latency_cells(pair: Pair) -> tuple[str, str, str]:
    change = pair.latency
    if change is None:
        return NONE, NONE, NONE
    values = f"{change.a_median_ms:.4g} → {change.b_median_ms:.4g}"
    interval = (f" [{change.ci_low:.2f}, {change.ci_high:.2f}] {change.basis}"
                if change.ci_low is not None and change.ci_high is not None
                else " (no interval)")
    mark = " *" if change.significant else ""
    return values, f"{change.ratio:.2f}x{mark}{interval}", change.bucket


def pair_cells(pair: Pair) -> list[str]:
    accuracy, delta = accuracy_cells(pair)
    latency, ratio, bucket = latency_cells(pair)
    size = NONE if pair.size is None else f"{pair.size.ratio:.2f}x"
    if pair.gzip_size is not None:
        size += f" (gzip {pair.gzip_size.ratio:.2f}x)"
    energy = NONE if pair.energy is None else f"{pair.energy.ratio:.2f}x"
    differences = "; ".join(f"{'!' if d.invalidates else ''}{d.setting}: {d.a} → {d.b}"
                            for d in pair.differences)
    return [pair.model, pair.method, accuracy, delta, latency, ratio, bucket, size, energy,
            differences, "; ".join(pair.gate)]


def unpaired_cells(item: Unpaired) -> list[str]:
    return [item.side.upper(), item.model, item.method, item.row.device,
            ", ".join(item.row.campaigns), item.reason]


def side_line(name: str, side: SideSummary) -> str:
    return (f"{name}: {side.selection} ({side.rows} rows; campaigns "
            f"{', '.join(side.campaigns) or 'none'})")


def why_lines(document: DiffDocument) -> list[str]:
    """Each setting some pair differs in, once, with why it matters."""
    seen: dict[str, str] = {}
    for pair in document.pairs:
        for difference in pair.differences:
            seen.setdefault(difference.setting, ("invalidates: " if difference.invalidates
                                                 else "") + difference.why)
    return [f"{setting}: {why}" for setting, why in seen.items()]


def gate_line(document: DiffDocument) -> str | None:
    if not document.fail_on:
        return None
    given = ",".join(t.metric if t.limit is None else f"{t.metric}:{t.limit:g}"
                     for t in document.fail_on)
    crossed = sum(1 for p in document.pairs if p.gate)
    if not document.failed:
        return f"--fail-on {given}: passed"
    unpaired = f", {len(document.unpaired)} unpaired row(s)" if document.unpaired and any(
        t.metric == "unpaired" for t in document.fail_on) else ""
    return f"--fail-on {given}: FAILED ({crossed} pair(s) cross a threshold{unpaired})"


def statistics_line(document: DiffDocument) -> str:
    s = document.statistics
    return (f"* marks a significant change: accuracy by Welch's t-test (p < {s.alpha:g}); "
            f"latency when the {s.confidence:.0%} interval of B/A excludes 1 (bootstrap of the "
            f"kept runs, {s.bootstrap_resamples} resamples, seed {s.bootstrap_seed}). "
            "! marks a difference that invalidates the comparison.")


def _md_table(columns: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(md_text(c) for c in columns) + " |",
             "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(md_text(cell) for cell in row) + " |" for row in rows]
    return lines


def markdown(document: DiffDocument) -> str:
    lines = ["# edgecompress diff", "", f"- {md_text(side_line('A', document.a))}",
             f"- {md_text(side_line('B', document.b))}", ""]
    if document.pairs:
        lines += _md_table(PAIR_COLUMNS, [pair_cells(p) for p in document.pairs])
    else:
        lines.append("No row of A pairs with a row of B.")
    if document.unpaired:
        lines += ["", "## Unpaired rows", ""]
        lines += _md_table(UNPAIRED_COLUMNS, [unpaired_cells(u) for u in document.unpaired])
    whys = why_lines(document)
    if whys:
        lines += ["", "## Differences", ""] + [f"- {md_text(line)}" for line in whys]
    lines += ["", "## Notes", ""] + [f"- {md_text(note)}" for note in document.notes]
    lines += ["", md_text(statistics_line(document))]
    gate = gate_line(document)
    if gate:
        lines += ["", f"**{md_text(gate)}**"]
    return "\n".join(lines) + "\n"
