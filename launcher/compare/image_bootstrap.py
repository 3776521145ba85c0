"""The latency interval of ``edgecompress diff`` where both sides kept every timed image
(the benchmark's per-image side file, launcher/latency_samples.py). Pure (numpy arithmetic).

The statistic is the ratio of the medians over every image of the kept runs. Its interval is a
percentile bootstrap that draws whole runs with replacement on each side, as the report's
per-image intervals do (launcher/report/latency_stats.py says why: images within a run are not
independent, so resampling images would give intervals far too narrow).

A resample of runs is a multiset of runs; the median of its pooled images is a weighted median
of every image once sorted, each weighted by how often its run was drawn. With ``below[k, j]``,
how many of run j's images are among the k + 1 smallest (computed once), a resample drawing run
j c_j times holds sum_j c_j below[k, j] images up to the k-th: one matrix product gives that
count for a chunk of resamples at every k, and the median is where it crosses half. No
resample is pooled or sorted: the bench/diff.py paper-size stores (10 runs x 1000 images a
side, 2000 resamples) take about 0.1 s a pair on the 2-core build machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Table = Sequence[Sequence[float]] | np.ndarray  # kept runs x images, milliseconds

# Resamples at a time: each needs one count per image (10 runs x 10,000 images x 8 bytes =
# 800 kB), so a chunk of 64 stays near 50 MB.
CHUNK = 64


class PooledRuns:
    """One side's kept runs (runs x images), sorted once for weighted medians."""

    def __init__(self, runs: Table) -> None:
        table = np.asarray(runs, dtype=np.float64)
        if table.ndim != 2 or table.size == 0:
            raise ValueError("latencies must be kept runs x images, not empty")
        self.runs = table.shape[0]
        order = np.argsort(table.ravel(), kind="stable")
        self.values = table.ravel()[order]
        run_of = np.repeat(np.arange(self.runs), table.shape[1])[order]
        # below[k, j]: how many of run j's images are among the k + 1 smallest; float64 is
        # exact for these counts, and lets the product below go to BLAS
        self.below = np.cumsum(np.eye(self.runs)[run_of], axis=0)

    def median(self) -> float:
        return float(np.median(self.values))

    def resampled_medians(self, draws: np.ndarray) -> np.ndarray:
        """The pooled median of each resample, as numpy's: the mean of the two middle values
        for an even count. ``draws`` is resamples x runs of run indices."""
        medians = np.empty(draws.shape[0])
        for start in range(0, draws.shape[0], CHUNK):
            chunk = draws[start:start + CHUNK]
            counts = np.stack([np.bincount(row, minlength=self.runs) for row in chunk])
            # cumulative[i, k]: how many of resample i's images are <= values[k]
            cumulative = counts.astype(np.float64) @ self.below.T
            total = cumulative[:, -1:]
            # the value of 0-based rank r is the first whose cumulative count exceeds r
            lower = (cumulative <= (total - 1) // 2).sum(axis=1)
            upper = (cumulative <= total // 2).sum(axis=1)
            medians[start:start + len(chunk)] = (self.values[lower] + self.values[upper]) / 2
        return medians


def bootstrap_ratio_over_images(a: Table, b: Table,
                                confidence: float, resamples: int, seed: int
                                ) -> tuple[float, float]:
    """The percentile bootstrap interval of median(B's images) / median(A's images), each
    side's runs resampled with replacement on their own; seeded, so reproducible."""
    side_a, side_b = PooledRuns(a), PooledRuns(b)
    rng = np.random.default_rng(seed)
    draws_a = rng.integers(0, side_a.runs, size=(resamples, side_a.runs))
    draws_b = rng.integers(0, side_b.runs, size=(resamples, side_b.runs))
    ratios = side_b.resampled_medians(draws_b) / side_a.resampled_medians(draws_a)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(ratios, [tail, 100.0 - tail])
    return float(low), float(high)
