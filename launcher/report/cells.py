"""Cells: every measurement of one model x method on one device, and the metrics read from
them (accuracy, latency, size, compression time). Pure: measurements in, numbers out. The
tables (launcher/report/tables.py) and the paper comparison read these.

Copy 1 of a SavedModel may be benchmarked twice, timed by ``call`` and by ``predict``
(``[benchmark] latency_methods``, launcher/study/plan.py). A cell keeps both
(``Cell.timed``) and reads one of them as the model's latency (``Cell.first``): the call-timed
one, the model's own time, wherever it exists; the predict-timed one only where nothing else
timed it. Everything that reads ``first`` (the latency table's own rows, speed-ups, the
trade-off and its Pareto front, the ranking, the recommendation, the figures, energy) so reads
one benchmark per model, the same one everywhere; only the comparison with the paper reads the
predict-timed one (``timed_cells``), never a call-timed one.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from launcher.contract.record import PowerMeasurement
from launcher.contract.results import (
    BenchmarkMetrics,
    BenchmarkResult,
    DistillResult,
    Fingerprint,
    PruneMetrics,
    PruneResult,
    QuantizeResult,
    TrainResult,
)
from launcher.contract.vocabulary import PAPER_ARCHITECTURES
from launcher.report.latency_stats import LatencyStats
from launcher.report.paper import (
    METRICS,
)
from launcher.report.results import Device, Measured
from launcher.study.methods import is_chain, split_chain

Value = str | int | float | None
# How copy 1's latency was timed (BenchmarkMetrics.latency_method); UNRECORDED: a result
# from before the field existed (a SavedModel's runs then waited once per run, not per image).
CALL, PREDICT, UNRECORDED = "call", "predict", "unrecorded"
MB = 1e6  # the paper's MB: 10^6 bytes
FAMILIES = {"quantization": ("fp16", "int8"), "pruning": ("prune",), "distillation": ("distill",)}
CHAINED = "chained"  # prune50+int8, distill+fp16...: launcher/study/methods.py


def method_order(method: str) -> tuple[int, int, str]:
    """base, fp16, int8, prune by sparsity, distill, the chains (by their first link, then
    their last: prune50+fp16, prune50+int8, prune75+int8, distill+int8), scratch, then
    anything else."""
    fixed = {"base": 0, "fp16": 1, "int8": 2, "distill": 4, "scratch": 6}
    if method in fixed:
        return fixed[method], 0, method
    if (links := split_chain(method)) is not None:
        first, last = method_order(links[0]), method_order(links[1])
        return 5, 1000 * first[0] + 10 * first[1] + last[0], method
    found = re.fullmatch(r"prune(\d+)", method)
    return (3, int(found.group(1)), method) if found else (7, 0, method)


def model_order(model: str) -> tuple[int, str]:
    paper = PAPER_ARCHITECTURES
    return (paper.index(model) if model in paper else len(paper), model)


def family_of(method: str) -> str | None:
    """The paper's family of a method; ``chained`` for a chain (prune50+int8), which is in
    none of the paper's three and is ranked, drawn and recommended beside them, never held
    against the paper's family ranking or its values (launcher/report/beside.py)."""
    if is_chain(method):
        return CHAINED
    for family, prefixes in FAMILIES.items():
        if any(method.startswith(prefix) for prefix in prefixes):
            return family
    return None


# --- cells: one model x method on one device ------------------------------------------------


@dataclass
class Cell:
    model: str
    method: str
    accuracy: dict[int, float] = field(default_factory=dict)  # copy -> top-1 (fraction)
    benchmarks: dict[int, BenchmarkMetrics] = field(default_factory=dict)  # by copy
    compression_s: list[float] = field(default_factory=list)  # the compression proper
    # Per timed run, where the result records it (results from before these fields: empty):
    load_s: list[float] = field(default_factory=list)
    save_s: list[float] = field(default_factory=list)
    compression_total_s: list[float] = field(default_factory=list)  # load + compression + save
    # Per timed run: how many jobs the launcher let run at once beside it (1: alone)
    compression_parallel: list[int] = field(default_factory=list)
    # (achieved sparsity of the pruned layers, sparsity of the whole model) per pruning run
    sparsity: list[tuple[float, float]] = field(default_factory=list)
    # job -> (peak RSS, container cgroup peak) of each run that recorded them
    memory: dict[str, list[tuple[int | None, int | None]]] = field(default_factory=dict)
    power: dict[int, PowerMeasurement] = field(default_factory=dict)  # by copy, where sampled
    # The networks its jobs built (Fingerprint, launcher/contract/results.py), by sha256: a
    # base's from its train jobs, distill's and scratch's from their students. Empty: not recorded.
    networks: dict[str, Fingerprint] = field(default_factory=dict)
    prunes: list[PruneMetrics] = field(default_factory=list)  # each pruning run's own record
    # By copy: statistics over every timed image, where the benchmark kept them.
    latency_stats: dict[int, LatencyStats] = field(default_factory=dict)
    # Copy 1's benchmarks by how each was timed (CALL, PREDICT, UNRECORDED): two where the
    # campaign timed a SavedModel both ways; ``benchmarks[1]`` is the one ``own_timing`` picks.
    timed: dict[str, BenchmarkMetrics] = field(default_factory=dict)

    @property
    def first(self) -> BenchmarkMetrics | None:
        """Copy 1's benchmark: the one latency is measured on (the paper's rule)."""
        return self.benchmarks.get(1)

    @property
    def timings(self) -> dict[str, BenchmarkMetrics]:
        """Copy 1's benchmarks by how each was timed (``timed``; a cell made without it: its
        copy-1 benchmark, by its own timing)."""
        if self.timed or self.first is None:
            return self.timed
        return {timing_of(self.first): self.first}

    @property
    def sized(self) -> BenchmarkMetrics | None:
        """Any copy's benchmark for size: copies of one configuration are the same size."""
        return self.first or (self.benchmarks[min(self.benchmarks)] if self.benchmarks
                               else None)


Cells = dict[tuple[str, str], Cell]


@dataclass(frozen=True)
class CompressionTime:
    proper: float  # the compression alone: conversion_s, prune_s, distill_s
    load: float | None = None  # reading the input model (and data)
    save: float | None = None  # writing the compressed model
    total: float | None = None  # load + compression + save, as the job recorded it


def _seconds(metrics: object, name: str) -> float | None:
    """An optional timing field, read defensively: results written before the schema had it
    (and schemas before it existed) simply lack it."""
    value = getattr(metrics, name, None)
    return float(value) if isinstance(value, int | float) else None


def compression_time(item: Measured,
                     saved_model_load_s: float | None = None) -> CompressionTime | None:
    """``saved_model_load_s``: the trained model's SavedModel load, timed once in its train
    job, for a job that loaded the model's .h5 copy instead."""
    result = item.result
    if isinstance(result, QuantizeResult):
        proper = result.metrics.conversion_s
    elif isinstance(result, PruneResult):
        proper = result.metrics.prune_s
    elif isinstance(result, DistillResult):
        proper = result.metrics.distill_s
    else:
        return None
    # A user's own .h5 file is the model itself, not a handoff copy: its load is the load.
    handoff = any(getattr(result.spec, field, None) is not None
                  for field in ("model_h5", "teacher_h5"))
    return read_compression_time(result.metrics, proper, saved_model_load_s, handoff)


def read_compression_time(metrics: object, proper: float,
                          saved_model_load_s: float | None = None,
                          handoff: bool = True) -> CompressionTime:
    """The compression proper with load, save and total where the metrics hold them, as the
    paper counts them: from the SavedModel. A job that loaded the .h5 copy has its model's
    load replaced by the SavedModel's (``saved_model_load_s``); unknown, load and total are
    None rather than a figure that would flatter it."""
    load, save = _seconds(metrics, "load_s"), _seconds(metrics, "save_s")
    total = _seconds(metrics, "compression_total_s")
    if handoff and getattr(metrics, "input_format", None) == "h5":
        handoff_load = _seconds(metrics, "input_load_s")
        if load is None or handoff_load is None or saved_model_load_s is None:
            return CompressionTime(proper, None, save, None)
        load = load - handoff_load + saved_model_load_s
        total = None if save is None else load + proper + save
    return CompressionTime(proper, load, save, total)


def timing_of(metrics: object) -> str:
    """How a benchmark was timed, read defensively (results before the field lack it)."""
    value = getattr(metrics, "latency_method", None)
    return value if isinstance(value, str) else UNRECORDED


def own_timing(new: object, held: object | None) -> bool:
    """Whether benchmark ``new`` is the model's own latency rather than ``held`` (the one a
    cell holds for that copy, if any): a predict-timed one never replaces one that is not;
    otherwise the later found replaces the earlier, as before there were two timings."""
    return held is None or timing_of(new) != PREDICT or timing_of(held) == PREDICT


def build_cells(measured: Iterable[Measured]) -> dict[Device, Cells]:
    measured = list(measured)
    loads = saved_model_loads(measured)
    devices: dict[Device, Cells] = {}
    for item in measured:
        cells = devices.setdefault(item.device, {})
        cell = cells.setdefault((item.model, item.method), Cell(item.model, item.method))
        resources = item.result.resources
        if resources.peak_rss_bytes is not None or resources.cgroup_peak_bytes is not None:
            cell.memory.setdefault(item.result.job, []).append(
                (resources.peak_rss_bytes, resources.cgroup_peak_bytes))
        if isinstance(item.result, BenchmarkResult):
            metrics = item.result.metrics
            if item.copy == 1:
                cell.timed[timing_of(metrics)] = metrics
            # Two benchmarks of one copy (timed both ways): one is the copy's, its latency
            # statistics and power with it; the other stays in ``timed`` alone.
            own = own_timing(metrics, cell.benchmarks.get(item.copy))
            if own:
                cell.benchmarks[item.copy] = metrics
                cell.latency_stats.pop(item.copy, None)
                cell.power.pop(item.copy, None)
                if item.latency is not None:
                    cell.latency_stats[item.copy] = item.latency
                if item.record.power is not None:
                    cell.power[item.copy] = item.record.power
            # One accuracy per copy, whichever benchmark measured it (a predict benchmark
            # planned beside a call one measures none).
            if metrics.top1_accuracy is not None and (own or item.copy not in cell.accuracy):
                cell.accuracy[item.copy] = metrics.top1_accuracy
        elif (fingerprint := getattr(item.result.metrics, "fingerprint", None)) is not None:
            cell.networks[fingerprint.sha256] = fingerprint
        if item.role == "compress":
            timed = compression_time(item, loads.get((item.device, item.model, item.copy)))
            if timed is not None:
                add_compression_time(cell, timed)
                cell.compression_parallel.append(item.record.parallel)
            if isinstance(item.result, PruneResult):
                cell.prunes.append(item.result.metrics)
                cell.sparsity.append((item.result.metrics.achieved_sparsity,
                                      item.result.metrics.overall_sparsity))
    return dict(sorted(devices.items()))


def saved_model_loads(measured: Iterable[Measured]) -> dict[tuple[Device, str, int], float]:
    """(device, model, copy) -> the SavedModel load its train job timed: what the jobs that
    compress that copy from its .h5 copy stand in for it."""
    loads: dict[tuple[Device, str, int], float] = {}
    for item in measured:
        if isinstance(item.result, TrainResult) and item.method == "base":
            seconds = item.result.metrics.saved_model_load_s
            if seconds is not None:
                loads[(item.device, item.model, item.copy)] = seconds
    return loads


def add_compression_time(cell: Cell, timed: CompressionTime) -> None:
    cell.compression_s.append(timed.proper)
    for values, value in ((cell.load_s, timed.load), (cell.save_s, timed.save),
                          (cell.compression_total_s, timed.total)):
        if value is not None:
            values.append(value)


def timed_cells(cells: Cells, timing: str) -> Cells:
    """The cells with copy 1's latency as timed by ``timing`` alone (PREDICT; CALL takes an
    unrecorded one too, as the model's own time): a cell not timed so has no copy-1
    benchmark here, so every latency metric read from it (and every speed-up against it) is
    None. What the comparison with the paper reads (launcher/report/beside.py)."""
    view: Cells = {}
    for key, cell in cells.items():
        timings = (timing,) if timing != CALL else (CALL, UNRECORDED)
        found = cell.timings
        own = cell.first
        metrics = (own if own is not None and timing_of(own) in timings
                   else next((found[t] for t in timings if t in found), None))
        benchmarks = {c: b for c, b in cell.benchmarks.items() if c != 1}
        if metrics is not None:
            benchmarks[1] = metrics
        view[key] = replace(cell, benchmarks=benchmarks)
    return view


def ordered(cells: Cells) -> list[Cell]:
    return sorted(cells.values(), key=lambda c: (model_order(c.model), method_order(c.method)))


def mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (n - 1); std is None for fewer than two values."""
    if not values:
        return None, None
    if not all(math.isfinite(v) for v in values):
        return math.nan, math.nan  # an out-of-range result (results.in_range): "n/a"
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


# --- per-cell metrics (also what the paper comparison reads) ---------------------------------


def accuracy_pct(cells: Cells, model: str, method: str) -> float | None:
    cell = cells.get((model, method))
    mean, _ = mean_std(list(cell.accuracy.values())) if cell else (None, None)
    return None if mean is None else 100 * mean


def accuracy_drop_pts(cells: Cells, model: str, method: str) -> float | None:
    base, ours = accuracy_pct(cells, model, "base"), accuracy_pct(cells, model, method)
    return None if base is None or ours is None else base - ours


def latency_ms(cells: Cells, model: str, method: str) -> float | None:
    cell = cells.get((model, method))
    return cell.first.latency_ms_mean if cell and cell.first else None


def latency_speedup_pct(cells: Cells, model: str, method: str) -> float | None:
    base, ours = latency_ms(cells, model, "base"), latency_ms(cells, model, method)
    if base is None or ours is None or base == 0:
        return None
    return 100 * (base - ours) / base


def size_bytes(cells: Cells, model: str, method: str, gzip: bool = False) -> int | None:
    cell = cells.get((model, method))
    sized = cell.sized if cell else None
    if sized is None:
        return None
    return sized.gzip_bytes if gzip else sized.bytes


def size_mb(cells: Cells, model: str, method: str) -> float | None:
    size = size_bytes(cells, model, method)
    return None if size is None else size / MB


def latency_backend(cells: Cells, model: str, method: str) -> str | None:
    cell = cells.get((model, method))
    return cell.first.backend if cell and cell.first else None


def size_reduction_x(cells: Cells, model: str, method: str) -> float | None:
    base, ours = size_bytes(cells, model, "base"), size_bytes(cells, model, method)
    return None if base is None or not ours else base / ours


def gzip_size_reduction_x(cells: Cells, model: str, method: str) -> float | None:
    """gzip of the base against gzip of the method, as TensorFlow's pruning guide measures."""
    base = size_bytes(cells, model, "base", gzip=True)
    ours = size_bytes(cells, model, method, gzip=True)
    return None if base is None or not ours else base / ours


def saved_model_gzip_reduction_x(cells: Cells, model: str, method: str) -> float | None:
    """The base as stored (SavedModel folder) against the method's gzip: the other reading of
    the paper's "After gzip, the 25% sparse models are 1.68x small-er than the base"."""
    base = size_bytes(cells, model, "base")
    ours = size_bytes(cells, model, method, gzip=True)
    return None if base is None or not ours else base / ours


def compression_s(cells: Cells, model: str, method: str) -> float | None:
    """The mean total (load + compression + save) over the runs that recorded it; None for
    results without it: those are not held against the paper's times."""
    cell = cells.get((model, method))
    return mean_std(cell.compression_total_s)[0] if cell else None


def compression_proper_s(cells: Cells, model: str, method: str) -> float | None:
    cell = cells.get((model, method))
    return mean_std(cell.compression_s)[0] if cell else None


METRIC_FUNCTIONS: dict[str, Callable[[Cells, str, str], float | None]] = {
    "accuracy_pct": accuracy_pct,
    "accuracy_drop_pts": accuracy_drop_pts,
    "latency_ms": latency_ms,
    "latency_speedup_pct": latency_speedup_pct,
    "size_mb": size_mb,
    "size_reduction_x": size_reduction_x,
    "gzip_size_reduction_x": gzip_size_reduction_x,
    "saved_model_gzip_reduction_x": saved_model_gzip_reduction_x,
    "compression_s": compression_s,
    "compression_proper_s": compression_proper_s,
}
assert set(METRIC_FUNCTIONS) == set(METRICS)


def metric(cells: Cells, name: str, model: str | None, method: str) -> float | None:
    """One metric of a cell; ``model=None`` is the mean over the models that have it."""
    function = METRIC_FUNCTIONS[name]
    if model is not None:
        return function(cells, model, method)
    values = [v for m in sorted({m for m, _ in cells}) if (v := function(cells, m, method))
              is not None]
    return statistics.fmean(values) if values else None


