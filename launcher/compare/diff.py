"""Two sides compared pair by pair: accuracy, latency, size, energy, the speed-up bucket, the
differences in settings, the gate. Pure: rows in (launcher/compare/sides.py reads them), the
document out (launcher/output/diff.py). docs/diff.md explains the statistics.

- Accuracy: each copy's top-1 on each side; B's mean minus A's in points, with Welch's t-test
  (two-sided p, the difference's 95 % interval) and the copies counted.
- Latency: B's median per image over A's. Where both sides kept every timed image (the
  benchmark's per-image side file), the medians are over every image of the kept runs and the
  interval is a percentile bootstrap drawing whole runs on each side
  (launcher/compare/image_bootstrap.py); else the medians are over each run's mean per image
  (``latency_ms_per_image_all_runs``) and, where both sides hold at least two kept runs, the
  interval is a percentile bootstrap of the ratio of medians over those runs; else, where each
  side recorded a mean, standard deviation and two or more runs, a log-ratio interval from
  those (``log_ratio_interval``); else none. All seeded: reproducible. ``basis`` says which.
- Size and gzip size of the model benchmarked, energy per inference where both sampled power:
  B / A, one exact measurement each.
"""

from __future__ import annotations

import math
import statistics
from typing import Literal

import numpy as np

from launcher.compare import stats
from launcher.compare.gate import crossed, fails_on_unpaired
from launcher.compare.image_bootstrap import bootstrap_ratio_over_images
from launcher.compare.pairing import pair_rows
from launcher.compare.rows import Benchmarked, Row
from launcher.compare.settings import NOT_RECORDED, UNTOLD, differences, throttling
from launcher.compare.sides import Side
from launcher.output.diff import (
    AccuracyChange,
    DiffDocument,
    LatencyChange,
    Pair,
    RatioChange,
    RowRef,
    SideSummary,
    Statistics,
    Threshold,
    Unpaired,
)
from launcher.report.cells import method_order, model_order

LATENCY_SAMPLES = "latency_ms_per_image_all_runs"
Basis = Literal["images", "runs", "summary", "none"]
# Qualcomm AI Hub's scorecard buckets its speed-ups at these factors.
BUCKETS = (1.1, 1.2, 1.5, 2.0, 5.0, 10.0)
THROTTLING_NOTE = (
    "Throttling is not recorded: neither a benchmark's metrics nor its power record hold "
    "clocks or temperatures, so a throttled run cannot be told from a slow one. Pin the "
    "clocks (jetson_clocks), cool the board between runs, and compare runs of one session.")
# Where both sides' power records hold the thermal summary, a throttled run is a named
# difference (launcher/compare/settings.py); these say what the rest could not show.
THROTTLING_UNRECORDED = (
    "{count} pair(s) with a side whose throttling is not recorded (no power sampler, or a "
    "record from before the thermal summary): " + THROTTLING_NOTE)
THROTTLING_UNTOLD = (
    "{count} pair(s) with a side whose throttling cannot be told (clocks not pinned, or "
    "tegrastats printed no clock): a throttled run there cannot be told from a slow one; pin "
    "the clocks (jetson_clocks).")


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def bucket(ratio: float) -> str:
    """B / A latency as a speed-up bucket: "1.2-1.5x faster", "10x+ slower", "within 1.1x"."""
    speedup = 1.0 / ratio if ratio > 0 else math.inf
    factor = max(speedup, 1.0 / speedup) if speedup > 0 else math.inf
    below = [edge for edge in BUCKETS if factor >= edge]
    if not below:
        return f"within {BUCKETS[0]:g}x"
    direction = "faster" if speedup > 1 else "slower"
    low = below[-1]
    above = [edge for edge in BUCKETS if edge > low]
    return f"{low:g}-{above[0]:g}x {direction}" if above else f"{low:g}x+ {direction}"


def kept_runs(measured: Benchmarked) -> list[float]:
    """The kept runs' per-image means, where the result holds them (and they agree with its
    own count of kept runs); [] otherwise."""
    result = measured.result
    values = result.samples.get(LATENCY_SAMPLES, [])[result.spec.warmup_runs:]
    if len(values) != result.metrics.latency_runs_kept or not all(
            math.isfinite(v) and v > 0 for v in values):
        return []
    return list(values)


def _summary(measured: Benchmarked) -> stats.Summary | None:
    metrics = measured.result.metrics
    values = (metrics.latency_ms_median, metrics.latency_ms_mean, metrics.latency_ms_std)
    if not all(math.isfinite(v) for v in values):
        return None
    return stats.Summary(*values, n=metrics.latency_runs_kept)


def latency_change(a: Benchmarked, b: Benchmarked) -> LatencyChange | None:
    if a.images is not None and b.images is not None:
        return _latency_over_images(a, b, a.images, b.images)
    runs_a, runs_b = kept_runs(a), kept_runs(b)
    median_a = statistics.median(runs_a) if runs_a else finite(a.result.metrics.latency_ms_median)
    median_b = statistics.median(runs_b) if runs_b else finite(b.result.metrics.latency_ms_median)
    if not median_a or median_b is None:
        return None
    interval: tuple[float, float] | None = None
    basis: Basis
    if len(runs_a) >= 2 and len(runs_b) >= 2:
        basis = "runs"
        interval = stats.bootstrap_ratio_of_medians(runs_a, runs_b)
    else:
        summary_a, summary_b = _summary(a), _summary(b)
        if summary_a is not None and summary_b is not None:
            interval = stats.log_ratio_interval(summary_a, summary_b)
        basis = "summary" if interval is not None else "none"
    return _change(a, b, median_a, median_b, interval, basis)


def _latency_over_images(a: Benchmarked, b: Benchmarked, images_a: np.ndarray,
                         images_b: np.ndarray) -> LatencyChange | None:
    median_a, median_b = float(np.median(images_a)), float(np.median(images_b))
    interval: tuple[float, float] | None = None
    basis: Basis = "none"
    if min(images_a.shape[0], images_b.shape[0]) >= 2:
        interval = bootstrap_ratio_over_images(images_a, images_b, stats.CONFIDENCE,
                                               stats.BOOTSTRAP_RESAMPLES, stats.BOOTSTRAP_SEED)
        basis = "images"
    return _change(a, b, median_a, median_b, interval, basis)


def _change(a: Benchmarked, b: Benchmarked, median_a: float, median_b: float,
            interval: tuple[float, float] | None, basis: Basis) -> LatencyChange | None:
    if not median_a:
        return None
    ratio = median_b / median_a
    if not math.isfinite(ratio):  # runs of 1e-300 ms: no measurement, a broken result
        return None
    if interval is not None and not all(math.isfinite(v) for v in interval):
        interval, basis = None, "none"
    low, high = interval if interval is not None else (None, None)
    return LatencyChange(
        a_median_ms=median_a, b_median_ms=median_b, ratio=ratio, ci_low=low, ci_high=high,
        basis=basis, runs_a=a.result.metrics.latency_runs_kept,
        runs_b=b.result.metrics.latency_runs_kept,
        significant=low is not None and high is not None and (low > 1 or high < 1),
        bucket=bucket(ratio))


def accuracy_change(a: Row, b: Row) -> AccuracyChange | None:
    values_a = [100 * v for _, v in sorted(a.accuracy.items())]
    values_b = [100 * v for _, v in sorted(b.accuracy.items())]
    if not values_a and not values_b:
        return None
    mean_a = statistics.fmean(values_a) if values_a else None
    mean_b = statistics.fmean(values_b) if values_b else None
    test = stats.welch(values_a, values_b)
    p = test.p if test is not None else None
    return AccuracyChange(
        a_pct=mean_a, b_pct=mean_b, n_a=len(values_a), n_b=len(values_b),
        difference_pts=None if mean_a is None or mean_b is None else mean_b - mean_a,
        ci_low_pts=test.low if test else None, ci_high_pts=test.high if test else None,
        df=test.df if test else None, p=p, significant=p is not None and p < stats.ALPHA)


def ratio(a: float | None, b: float | None) -> RatioChange | None:
    a, b = finite(a), finite(b)
    if not a or b is None or not math.isfinite(b / a):
        return None
    return RatioChange(a=a, b=b, ratio=b / a)


def energy(measured: Benchmarked) -> float | None:
    power = measured.record.power
    return power.energy_per_inference_mj if power is not None else None


def row_ref(row: Row) -> RowRef:
    return RowRef(profile=row.profile, device=row.device, campaigns=list(row.campaigns),
                  network=row.network, folder=row.measured.folder,
                  copy_label=row.measured.copy, copies=len(row.accuracy))


def compare_pair(a: Row, b: Row, thresholds: list[Threshold]) -> Pair:
    metrics_a, metrics_b = a.measured.result.metrics, b.measured.result.metrics
    pair = Pair(
        model=a.model, method=a.method, a=row_ref(a), b=row_ref(b),
        accuracy=accuracy_change(a, b), latency=latency_change(a.measured, b.measured),
        size=ratio(metrics_a.bytes, metrics_b.bytes),
        gzip_size=ratio(metrics_a.gzip_bytes, metrics_b.gzip_bytes),
        energy=ratio(energy(a.measured), energy(b.measured)),
        differences=differences(a, b), gate=[])
    return pair.model_copy(update={"gate": crossed(pair, thresholds)})


def _order(row: Row) -> tuple[object, ...]:
    return (model_order(row.model), method_order(row.method), row.profile, row.device,
            row.measured.folder)


def side_summary(side: Side) -> SideSummary:
    selection = side.selection
    return SideSummary(selection=selection.text, store=str(selection.store),
                       campaign=selection.campaign, profile=selection.profile,
                       campaigns=list(side.campaigns), rows=len(side.rows))


def notes(pairs: list[Pair]) -> list[str]:
    found = []
    unnamed = sum(1 for p in pairs if p.a.network is None and p.b.network is None)
    if unnamed:
        found.append(f"{unnamed} pair(s) matched by name alone: neither side recorded the "
                     "network's fingerprint (results from before fingerprints).")
    fallback = [p for p in pairs
                if p.latency is not None and p.latency.basis not in ("images", "runs")]
    if fallback:
        found.append(f"{len(fallback)} latency interval(s) not from both sides' runs: "
                     "'summary' is a log-ratio interval from mean, std and run count; 'none' "
                     "has a side with a single run and cannot be significant.")
    by_runs = [p for p in pairs if p.latency is not None and p.latency.basis == "runs"]
    if by_runs:
        found.append(f"{len(by_runs)} latency median(s) over run means, not images: a side "
                     "kept no per-image latencies (a result from before them, or a store "
                     "copied without its artifacts).")
    invalid = sum(1 for p in pairs if any(d.invalidates for d in p.differences))
    if invalid:
        found.append(f"{invalid} pair(s) differ in a setting that invalidates the comparison: "
                     "see their differences.")
    return found


def throttling_notes(rows: list[tuple[Row, Row]]) -> list[str]:
    """The throttling the pairs' differences cannot name, from each side's record."""
    seen = [(throttling(a), throttling(b)) for a, b in rows]
    unrecorded = sum(1 for a, b in seen if NOT_RECORDED in (a, b))
    untold = sum(1 for a, b in seen if NOT_RECORDED not in (a, b) and UNTOLD in (a, b))
    return ([THROTTLING_UNRECORDED.format(count=unrecorded)] if unrecorded else []) + (
        [THROTTLING_UNTOLD.format(count=untold)] if untold else [])


def compare(a: Side, b: Side, thresholds: list[Threshold]) -> DiffDocument:
    pairing = pair_rows(sorted(a.rows, key=_order), sorted(b.rows, key=_order))
    pairs = [compare_pair(row_a, row_b, thresholds) for row_a, row_b in pairing.pairs]
    unpaired = [Unpaired(side="a", model=row.model, method=row.method, row=row_ref(row),
                         reason=reason) for row, reason in pairing.unpaired_a]
    unpaired += [Unpaired(side="b", model=row.model, method=row.method, row=row_ref(row),
                          reason=reason) for row, reason in pairing.unpaired_b]
    failed = any(p.gate for p in pairs) or bool(unpaired and fails_on_unpaired(thresholds))
    return DiffDocument(
        a=side_summary(a), b=side_summary(b), pairs=pairs, unpaired=unpaired,
        notes=notes(pairs) + throttling_notes(pairing.pairs),
        statistics=Statistics(confidence=stats.CONFIDENCE, alpha=stats.ALPHA,
                              bootstrap_resamples=stats.BOOTSTRAP_RESAMPLES,
                              bootstrap_seed=stats.BOOTSTRAP_SEED),
        fail_on=thresholds, failed=failed)
