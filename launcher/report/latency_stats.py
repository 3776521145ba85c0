"""Statistics over every timed image of a benchmark's kept runs. Pure: latencies in, numbers
out (numpy for the arithmetic; no I/O).

The paper's figure stays the mean of the run means (``latency_ms_mean``); with equal images
per run it is also the mean over images, so ``mean`` here equals it up to float32 rounding.
What the per-image samples add: percentiles over images (a p90 over 10 run means is not the
p90 of an image's latency), confidence intervals, and MLPerf's early-stopping p90.

Confidence intervals are bootstrapped over runs, not images: images within a run are not
independent (caches warm up together, clocks and thermal state drift across a run, a
background task slows a stretch of consecutive images), so resampling images would treat
10,000 correlated values as independent and give intervals far too narrow. A resample draws
whole runs with replacement, keeping each run's internal dependence; with 10 runs the interval
shows how much the figure moves from run to run. Fixed seed: the same samples give the same
interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20240422
CI_LEVEL = 0.95
EARLY_STOPPING_CONFIDENCE = 0.99


@dataclass(frozen=True)
class LatencyStats:
    images: int  # every timed image of the kept runs
    runs: int
    mean: float
    p50: float
    p90: float
    p99: float
    mean_ci: tuple[float, float]
    p90_ci: tuple[float, float]
    early_stopping_p90: float | None  # None: too few images for the bound
    early_stopping_p99: float | None
    p99_claim_ok: bool  # enough images for an early-stopping p99 at 99 % confidence


def percentile(values: np.ndarray, q: float) -> float:
    """numpy's default (linear interpolation between closest ranks), q in [0, 100]."""
    return float(np.percentile(values, q))


def bootstrap_over_runs(runs: np.ndarray, q: float | None, resamples: int = BOOTSTRAP_RESAMPLES,
                        seed: int = BOOTSTRAP_SEED, level: float = CI_LEVEL
                        ) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean (q None) or the q-th percentile of every
    image, drawing whole runs (rows of ``runs``) with replacement."""
    rng = np.random.default_rng(seed)
    count = runs.shape[0]
    picks = rng.integers(0, count, size=(resamples, count))
    if q is None:
        means = runs.mean(axis=1)
        estimates = means[picks].mean(axis=1)
    else:
        estimates = np.array([np.percentile(runs[pick].ravel(), q) for pick in picks])
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(estimates, [tail, 100 - tail])
    return float(low), float(high)


def early_stopping_overlatency(queries: int, percentile_fraction: float,
                               confidence: float = EARLY_STOPPING_CONFIDENCE) -> int | None:
    """MLPerf LoadGen's single-stream early stopping (mlcommons/inference,
    loadgen/early_stopping.cc and PerformanceSummary::EarlyStopping in results.cc), with its
    tolerance d = 0: how many of the slowest queries, t, the estimate may set aside.

    LoadGen counts a query over the reported latency as an "overlatency" query; with the
    true percentile p, each is one with probability 1 - p, so the number X of them among n
    queries is Binomial(n, 1 - p). For t overlatency queries it finds h(t), the fewest other
    queries with P(X <= t | h + t queries) < 1 - confidence (a regularized incomplete beta,
    by binary search), and keeps the largest t >= 1 with h(t) + t <= n; the estimate is then
    the t-th largest latency. As P(X <= t | n queries) falls with n, h(t) + t <= n is the
    same as P(X <= t | n) < 1 - confidence, so this sums the binomial probabilities directly
    (in logs: p^n underflows at n = 10,000). None when even t = 1 fails: LoadGen's "Need to
    process at least h(1) + 1 queries"."""
    if queries < 1:
        return None
    over = 1.0 - percentile_fraction
    log_p, log_over = math.log(percentile_fraction), math.log(over)
    log_n = math.lgamma(queries + 1)
    cumulative = 0.0
    found = None
    for t in range(queries + 1):
        cumulative += math.exp(log_n - math.lgamma(t + 1) - math.lgamma(queries - t + 1)
                               + t * log_over + (queries - t) * log_p)
        if cumulative >= 1.0 - confidence:
            break
        found = t
    return found if found is not None and found >= 1 else None


def early_stopping_estimate(values: Sequence[float] | np.ndarray, percentile_fraction: float,
                            confidence: float = EARLY_STOPPING_CONFIDENCE) -> float | None:
    """LoadGen's early-stopping percentile estimate: the t-th largest latency
    (``early_stopping_overlatency``), or None for too few queries."""
    ordered = np.sort(np.asarray(values, dtype=np.float64).ravel())
    t = early_stopping_overlatency(len(ordered), percentile_fraction, confidence)
    return None if t is None else float(ordered[len(ordered) - t])


def latency_stats(runs: Sequence[Sequence[float]]) -> LatencyStats:
    """Every statistic above from the kept runs' per-image latencies (runs x images)."""
    table = np.asarray(runs, dtype=np.float64)
    if table.ndim != 2 or table.size == 0:
        raise ValueError("latencies must be kept runs x images, not empty")
    flat = table.ravel()
    es99 = early_stopping_estimate(flat, 0.99)
    return LatencyStats(
        images=int(flat.size), runs=int(table.shape[0]), mean=float(flat.mean()),
        p50=percentile(flat, 50), p90=percentile(flat, 90), p99=percentile(flat, 99),
        mean_ci=bootstrap_over_runs(table, None), p90_ci=bootstrap_over_runs(table, 90),
        early_stopping_p90=early_stopping_estimate(flat, 0.90), early_stopping_p99=es99,
        p99_claim_ok=es99 is not None)
