"""The report's tables, from validated results. Pure: measurements in, tables out.

Per device (grouped by what the results' environment says), per model x method:
- accuracy: top-1 on the test split, mean and sample std over the trained copies;
- latency: the paper's mean of the kept runs on copy 1, and the distribution (median, p90,
  std, min, max), with the backend that ran it;
- size: every format the benchmark measured (SavedModel or .tflite) and its gzip;
- compression time: mean and std over the timed compressions;
then the paper's ranking of methods recomputed from these numbers with its four criteria, and
every figure the paper published for the same cell, beside ours with the ratio.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from launcher.report.cells import (
    FAMILIES,
    MB,
    METRIC_FUNCTIONS,
    Cells,
    Value,
    accuracy_drop_pts,
    build_cells,
    family_of,
    gzip_size_reduction_x,
    latency_speedup_pct,
    mean_std,
    method_order,
    metric,
    model_order,
    ordered,
    size_reduction_x,
)
from launcher.report.paper import (
    METRICS,
    PAPER_DEVICE_NAMES,
    PAPER_DEVICE_OF_PROFILE,
    PAPER_FAMILY_RANK,
    PAPER_VALUES,
)
from launcher.report.results import Device, Measured

# --- tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    digits: int | None = None  # decimals shown in Markdown/HTML; CSV keeps full precision


@dataclass(frozen=True)
class Table:
    key: str  # file stem of its CSV
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]
    note: str = ""

    def column(self, name: str) -> list[Value]:
        index = [c.name for c in self.columns].index(name)
        return [row[index] for row in self.rows]


def _pct(value: float | None) -> float | None:
    return None if value is None else 100 * value


def accuracy_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        if not cell.accuracy:
            continue
        mean, std = mean_std([cell.accuracy[c] for c in sorted(cell.accuracy)])
        rows.append((cell.model, cell.method, len(cell.accuracy), _pct(mean), _pct(std),
                     accuracy_drop_pts(cells, cell.model, cell.method)
                     if cell.method != "base" else None,
                     " ".join(f"{100 * cell.accuracy[c]:.2f}" for c in sorted(cell.accuracy))))
    return Table("accuracy", "Top-1 accuracy over the trained copies", (
        Column("model"), Column("method"), Column("copies"), Column("mean %", 2),
        Column("std %", 2), Column("drop vs base (points)", 2), Column("per copy %")),
        tuple(rows), "std: sample standard deviation over copies (n - 1); the paper shows the "
        "mean only.")


def latency_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        first = cell.first
        if first is None:
            continue
        rows.append((cell.model, cell.method, first.format, first.backend, first.threads,
                     first.latency_runs_kept, first.latency_images, first.latency_ms_mean,
                     first.latency_ms_median, first.latency_ms_p90, first.latency_ms_std,
                     first.latency_ms_min, first.latency_ms_max,
                     latency_speedup_pct(cells, cell.model, cell.method)
                     if cell.method != "base" else None))
    return Table("latency", "Latency per image on copy 1 (ms)", (
        Column("model"), Column("method"), Column("format"), Column("backend"),
        Column("threads"), Column("runs kept"), Column("images"), Column("mean", 3),
        Column("median", 3), Column("p90", 3), Column("std", 3), Column("min", 3),
        Column("max", 3), Column("speed-up vs base %", 1)), tuple(rows),
        "The paper's latency: total time x 1000 / images per run, the first run(s) discarded, "
        "the mean of the rest; median and p90 over the same kept runs.")


def size_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        sized = cell.sized
        if sized is None:
            continue
        nonzero = (sized.nonzero_parameters / sized.parameters
                   if sized.parameters and sized.nonzero_parameters is not None else None)
        rows.append((cell.model, cell.method, sized.format, sized.bytes, sized.bytes / MB,
                     sized.gzip_bytes / MB,
                     size_reduction_x(cells, cell.model, cell.method)
                     if cell.method != "base" else None,
                     gzip_size_reduction_x(cells, cell.model, cell.method)
                     if cell.method != "base" else None,
                     _pct(nonzero)))
    return Table("size", "Model size in every format measured", (
        Column("model"), Column("method"), Column("format"), Column("bytes"),
        Column("MB", 2), Column("gzip MB", 2), Column("reduction vs base x", 2),
        Column("gzip reduction vs base x", 2), Column("nonzero weights %", 1)), tuple(rows),
        "MB = 10^6 bytes; a SavedModel's size is its folder's; reductions divide the base's "
        "size by the method's (gzip by gzip).")


def compression_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        if not cell.compression_s:
            continue
        mean, std = mean_std(cell.compression_s)
        rows.append((cell.model, cell.method, len(cell.compression_s), mean, std,
                     min(cell.compression_s), max(cell.compression_s)))
    return Table("compression_time", "Compression time over the timed runs (s)", (
        Column("model"), Column("method"), Column("runs"), Column("mean", 2), Column("std", 2),
        Column("min", 2), Column("max", 2)), tuple(rows),
        "Measured inside the job around the compression itself (TFLite conversion with its "
        "calibration, pruning's fine-tuning, distillation's training); container start and "
        "imports are not included.")


def energy_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        power, first = cell.power.get(1), cell.first
        if power is None or first is None:
            continue
        rows.append((cell.model, cell.method, power.rail, power.samples,
                     _watts(power.idle_power_mw), _watts(power.average_power_mw),
                     first.latency_ms_mean, power.energy_per_inference_mj,
                     power.energy_above_idle_per_inference_mj, power.reason or ""))
    return Table("energy", "Power and energy per inference on copy 1", (
        Column("model"), Column("method"), Column("rail"), Column("samples"),
        Column("idle W", 2), Column("average W", 2), Column("latency ms", 3),
        Column("mJ per inference", 3), Column("mJ above idle", 3),
        Column("not measured because")), tuple(rows),
        "What the paper did not measure: the module's input power (tegrastats on the host) "
        "averaged over the kept latency runs; energy per inference = average power x "
        "latency, which includes the board's idle draw; above idle = (average - idle) x "
        "latency, idle being the draw sampled just before the job's container started.")


def _watts(milliwatts: float | None) -> float | None:
    return None if milliwatts is None else milliwatts / 1000


def memory_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        for job in sorted(cell.memory):
            runs = cell.memory[job]
            rss = [r for r, _ in runs if r is not None]
            cgroup = [c for _, c in runs if c is not None]
            rows.append((cell.model, cell.method, job, len(runs),
                         max(rss) / MB if rss else None, max(cgroup) / MB if cgroup else None))
    return Table("memory", "Peak memory per job (MB, the largest over runs)", (
        Column("model"), Column("method"), Column("job"), Column("runs"),
        Column("peak RSS MB", 0), Column("container peak MB", 0)), tuple(rows),
        "The job process's peak resident set, and the container cgroup's peak where the "
        "engine reports it. What the paper does not report, and what decides whether a job "
        "fits a 4 GB Jetson Nano.")


# --- the paper's ranking, from our numbers -------------------------------------------------

# The paper's four criteria (Section 3.5) and which way is better.
CRITERIA: tuple[tuple[str, bool], ...] = (
    ("accuracy_drop_pts", False),
    ("latency_speedup_pct", True),
    ("size_reduction_x", True),
    ("compression_s", False),
)


def average_ranks(values: dict[str, float], higher_is_better: bool) -> dict[str, float]:
    """1 = best; ties share the mean of their ranks."""
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
    values = [v for m in members if (v := METRIC_FUNCTIONS[name](cells, model, m)) is not None]
    return statistics.fmean(values) if values else None


def rank(cells: Cells, groups: dict[str, Sequence[str]]) -> list[tuple[str, float, dict[str,
                                                                                        float]]]:
    """(group, mean rank, criterion -> mean value over models), best first. Groups are ranked
    within each model on each criterion, then the ranks are averaged: a method is judged
    against the others on the same model, so DenseNet's minutes do not drown MobileNet's."""
    models = sorted({m for m, _ in cells}, key=model_order)
    ranks: dict[str, list[float]] = {g: [] for g in groups}
    means: dict[str, dict[str, list[float]]] = {g: {} for g in groups}
    for name, higher in CRITERIA:
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


def ranking_tables(cells: Cells) -> tuple[Table, Table]:
    methods = sorted({m for _, m in cells if family_of(m)}, key=method_order)
    columns = tuple(Column(METRICS[name], 2) for name, _ in CRITERIA)
    by_method = rank(cells, {m: (m,) for m in methods})
    method_rows = tuple(
        (position, m, score, *(values.get(name) for name, _ in CRITERIA))
        for position, (m, score, values) in enumerate(by_method, 1))
    families = {f: tuple(m for m in methods if family_of(m) == f) for f in FAMILIES}
    by_family = rank(cells, {f: ms for f, ms in families.items() if ms})
    family_rows = tuple(
        (position, f, PAPER_FAMILY_RANK.get(f), score, ", ".join(families[f]),
         *(values.get(name) for name, _ in CRITERIA))
        for position, (f, score, values) in enumerate(by_family, 1))
    note = ("The paper's criteria: accuracy drop, latency speed-up, size reduction and "
            "compression time. Ranked within each model on each criterion (1 = best), ranks "
            "averaged; the criterion columns are means over models.")
    return (
        Table("ranking_methods", "Ranking of methods", (
            Column("rank"), Column("method"), Column("mean rank", 2), *columns),
            method_rows, note),
        Table("ranking_families", "Ranking of method families (the paper's ranking)", (
            Column("rank"), Column("family"), Column("paper's rank"), Column("mean rank", 2),
            Column("methods"), *columns), family_rows,
            note + " Paper: distillation first, quantization second, pruning last."),
    )


# --- beside the paper --------------------------------------------------------------------


def paper_table(device: Device, cells: Cells) -> Table:
    paper_device = PAPER_DEVICE_OF_PROFILE.get(device.profile)
    rows = []
    for value in PAPER_VALUES:
        if value.device is not None and value.device != paper_device:
            continue
        ours = metric(cells, value.metric, value.model, value.method)
        if ours is None:
            continue
        ratio = ours / value.value if value.value else None
        where = PAPER_DEVICE_NAMES[value.device] if value.device else "device not stated"
        rows.append((value.source, value.model or "mean over models", value.method,
                     METRICS[value.metric], where, value.value, ours, ratio,
                     value.sentence + (f" [{value.note}]" if value.note else "")))
    twin = (f" This device stands for the {PAPER_DEVICE_NAMES[paper_device]}"
            f"{'' if device.profile == paper_device else ' (its x86 twin)'}."
            if paper_device else "")
    return Table("paper", "Beside the paper's published figures", (
        Column("source"), Column("model"), Column("method"), Column("metric"),
        Column("paper's device"), Column("paper", 2), Column("ours", 2),
        Column("ours / paper", 2), Column("the paper's sentence")), tuple(rows),
        "Only the cells the paper's text gives a number for (see launcher/paper.py)." + twin)


@dataclass(frozen=True)
class DeviceReport:
    device: Device
    cells: Cells
    tables: tuple[Table, ...]


def device_reports(measured: Iterable[Measured]) -> list[DeviceReport]:
    reports = []
    for device, cells in build_cells(measured).items():
        # The energy table only where something sampled power (a Jetson): elsewhere it
        # would be empty by design, not "no results yet".
        energy = energy_table(cells)
        tables = (accuracy_table(cells), latency_table(cells), size_table(cells),
                  *((energy,) if energy.rows else ()),
                  compression_table(cells), memory_table(cells), *ranking_tables(cells),
                  paper_table(device, cells))
        reports.append(DeviceReport(device, cells, tables))
    return reports
