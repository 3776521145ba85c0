"""The paper's ranking of compression methods (Section 3.5), recomputed from our numbers with
its four criteria. Pure: cells in, tables out."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from launcher.report.cells import (
    FAMILIES,
    METRIC_FUNCTIONS,
    Cells,
    family_of,
    latency_backend,
    method_order,
    model_order,
)
from launcher.report.paper import METRICS, PAPER_FAMILY_RANK
from launcher.report.table import Column, Table

# The paper's four criteria (Section 3.5) and which way is better. Compression time is the
# total (load + compression + save) where every timed cell recorded it, else the compression
# proper (``compression_criterion``).
CRITERIA: tuple[tuple[str, bool], ...] = (
    ("accuracy_drop_pts", False),
    ("latency_speedup_pct", True),
    ("size_reduction_x", True),
    ("compression_s", False),
)


def compression_criterion(cells: Cells) -> str:
    """``compression_s`` (the total) when every cell with a timed compression has its total,
    else ``compression_proper_s``: one store's results are ranked on one kind of time."""
    timed = [c for c in cells.values() if c.compression_s]
    complete = all(len(c.compression_total_s) == len(c.compression_s) for c in timed)
    return "compression_s" if timed and complete else "compression_proper_s"


def criteria(cells: Cells) -> tuple[tuple[str, bool], ...]:
    time = compression_criterion(cells)
    return tuple((time if name == "compression_s" else name, higher)
                 for name, higher in CRITERIA)


def average_ranks(values: dict[str, float], higher_is_better: bool) -> dict[str, float]:
    """1 = best; ties share the mean of their ranks. A value out of range (NaN: results.in_range)
    takes no rank: it cannot be compared."""
    values = {name: value for name, value in values.items() if math.isfinite(value)}
    ordered_names = sorted(values, key=lambda k: -values[k] if higher_is_better else values[k])
    ranks: dict[str, float] = {}
    index = 0
    while index < len(ordered_names):
        tied = [n for n in ordered_names[index:]
                if math.isclose(values[n], values[ordered_names[index]], rel_tol=1e-12)]
        shared = index + 1 + (len(tied) - 1) / 2
        for name in tied:
            ranks[name] = shared
        index += len(tied)
    return ranks


def _group_metric(cells: Cells, name: str, model: str, members: Sequence[str]) -> float | None:
    values = [v for m in members if (v := METRIC_FUNCTIONS[name](cells, model, m)) is not None
              and math.isfinite(v)]
    return statistics.fmean(values) if values else None


def rank(cells: Cells, groups: dict[str, Sequence[str]],
         by: tuple[tuple[str, bool], ...] = CRITERIA
         ) -> list[tuple[str, float, dict[str, float]]]:
    """(group, mean rank, criterion -> mean value over models), best first. Groups are ranked
    within each model on each criterion, then the ranks are averaged: a method is judged
    against the others on the same model, so DenseNet's minutes do not drown MobileNet's."""
    models = sorted({m for m, _ in cells}, key=model_order)
    ranks: dict[str, list[float]] = {g: [] for g in groups}
    means: dict[str, dict[str, list[float]]] = {g: {} for g in groups}
    for name, higher in by:
        for model in models:
            values = {g: v for g, members in groups.items()
                      if (v := _group_metric(cells, name, model, members)) is not None}
            for g, v in values.items():
                means[g].setdefault(name, []).append(v)
            if len(values) > 1:
                for g, r in average_ranks(values, higher).items():
                    ranks[g].append(r)
    scored = [(g, statistics.fmean(r), {k: statistics.fmean(v) for k, v in means[g].items()})
              for g, r in ranks.items() if r]
    return sorted(scored, key=lambda item: (item[1], item[0]))


def backends(cells: Cells, methods: Sequence[str]) -> str:
    """What ran the latencies a speed-up compares: "tflite-cpu vs base tf-cpu"."""
    models = sorted({m for m, _ in cells}, key=model_order)

    def names(of: Sequence[str]) -> str:
        found = sorted({b for model in models for m in of
                        if (b := latency_backend(cells, model, m)) is not None})
        return "/".join(found) or "–"

    return f"{names(methods)} vs base {names(('base',))}"


def ranking_tables(cells: Cells) -> tuple[Table, Table]:
    methods = sorted({m for _, m in cells if family_of(m)}, key=method_order)
    used = criteria(cells)
    columns = tuple(Column(METRICS[name], 2) for name, _ in used)
    by_method = rank(cells, {m: (m,) for m in methods}, used)
    method_rows = tuple(
        (position, m, score, backends(cells, (m,)), *(values.get(name) for name, _ in used))
        for position, (m, score, values) in enumerate(by_method, 1))
    families = {f: tuple(m for m in methods if family_of(m) == f) for f in FAMILIES}
    by_family = rank(cells, {f: ms for f, ms in families.items() if ms}, used)
    family_rows = tuple(
        (position, f, PAPER_FAMILY_RANK.get(f), score, ", ".join(families[f]),
         backends(cells, families[f]), *(values.get(name) for name, _ in used))
        for position, (f, score, values) in enumerate(by_family, 1))
    time = ("the total (load + compression + save)" if used[-1][0] == "compression_s" else
            "the compression alone (these results do not record load and save times)")
    note = ("The paper's criteria: accuracy drop, latency speed-up, size reduction and "
            f"compression time, here {time}. Ranked within each model on each criterion "
            "(1 = best), ranks averaged; the criterion columns are means over models. The "
            "speed-ups compare the backends named: on an x86 twin everything runs on its CPU, "
            "in the paper the base ran on the Jetson's GPU and TFLite on its CPU.")
    backend = Column("latency backend")
    return (
        Table("ranking_methods", "Ranking of methods", (
            Column("rank"), Column("method"), Column("mean rank", 2), backend, *columns),
            method_rows, note),
        Table("ranking_families", "Ranking of method families (the paper's ranking)", (
            Column("rank"), Column("family"), Column("paper's rank"), Column("mean rank", 2),
            Column("methods"), backend, *columns), family_rows,
            note + " Paper: distillation first, quantization second, pruning last."),
    )
