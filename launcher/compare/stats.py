"""The statistics ``edgecompress diff`` uses, with the standard library alone: scipy is not a
dependency of the launcher (it only arrives with scikit-learn, and a board's launcher should not
need it for a t-test). Pure.

- Student's t distribution: its CDF through the regularized incomplete beta function, which is
  evaluated by its continued fraction (modified Lentz, as in Numerical Recipes' ``betacf``);
  its quantile by bisection on the CDF.
- Welch's t-test for a difference of means with unequal variances (accuracy over copies).
- A confidence interval for a ratio of medians: a percentile bootstrap with a fixed seed (the
  same samples always give the same interval), or, where only each side's mean, standard
  deviation and count are known, a Welch interval on the log scale (the delta method).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE  # a p-value under it is significant
BOOTSTRAP_RESAMPLES = 2000
# Fixed: a diff of the same stores must print the same intervals (and gate the same way).
BOOTSTRAP_SEED = 20240517

_EPS = 1e-15
_TINY = 1e-300
_MAX_TERMS = 500


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b), by the modified Lentz method."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_TERMS + 1):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                          -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function, for a, b > 0 and 0 <= x <= 1."""
    if not (a > 0 and b > 0) or not 0.0 <= x <= 1.0:
        raise ValueError(f"regularized_beta({a}, {b}, {x}): needs a, b > 0 and 0 <= x <= 1")
    if x in (0.0, 1.0):
        return x
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    # The fraction converges fast for x < (a + 1) / (a + b + 2); beyond, use the symmetry
    # I_x(a, b) = 1 - I_(1-x)(b, a).
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom (df > 0, not integer
    necessarily: Welch's are not)."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, not {df}")
    if math.isinf(t):
        return 0.0
    return regularized_beta(df / 2.0, 0.5, df / (df + t * t))


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = t_two_sided_p(t, df) / 2.0
    return 1.0 - tail if t > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p, by bisection on the CDF (which is monotonic)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"a quantile needs 0 < p < 1, not {p}")
    if p == 0.5:
        return 0.0
    low, high = -1.0, 1.0
    while t_cdf(low, df) > p:
        low *= 2.0
    while t_cdf(high, df) < p:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * max(1.0, abs(middle)):
            break
    return (low + high) / 2.0


@dataclass(frozen=True)
class Welch:
    """Welch's test of mean(b) - mean(a). ``p`` is None where it cannot be told: both sides
    without spread and different means (a t of infinity says nothing about copies)."""

    difference: float
    t: float | None
    df: float | None
    p: float | None
    low: float | None  # the difference's confidence interval
    high: float | None


def welch(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE
          ) -> Welch | None:
    """None when either side has fewer than two values (no variance to test with)."""
    if len(a) < 2 or len(b) < 2:
        return None
    mean_a, mean_b = statistics.fmean(a), statistics.fmean(b)
    difference = mean_b - mean_a
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    se2 = va + vb
    if se2 == 0.0:
        same = difference == 0.0
        return Welch(difference, 0.0 if same else None, None, 1.0 if same else None,
                     difference if same else None, difference if same else None)
    se = math.sqrt(se2)
    df = se2 ** 2 / ((va ** 2 / (len(a) - 1) if va else 0.0)
                     + (vb ** 2 / (len(b) - 1) if vb else 0.0))
    t = difference / se
    margin = t_quantile(0.5 + confidence / 2.0, df) * se
    return Welch(difference, t, df, t_two_sided_p(t, df), difference - margin,
                 difference + margin)


def bootstrap_ratio_of_medians(a: Sequence[float], b: Sequence[float],
                               confidence: float = CONFIDENCE,
                               resamples: int = BOOTSTRAP_RESAMPLES,
                               seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """The percentile bootstrap interval of median(b) / median(a): each side resampled with
    replacement on its own, ``resamples`` times, from a generator seeded with ``seed`` (so the
    interval is reproducible). Both sides must be non-empty and positive."""
    rng = random.Random(seed)
    median = statistics.median
    ratios = sorted(median(rng.choices(b, k=len(b))) / median(rng.choices(a, k=len(a)))
                    for _ in range(resamples))
    tail = (1.0 - confidence) / 2.0
    low = ratios[int(math.floor(tail * (resamples - 1)))]
    high = ratios[int(math.ceil((1.0 - tail) * (resamples - 1)))]
    return low, high


@dataclass(frozen=True)
class Summary:
    """What a benchmark records of its kept runs when the runs themselves are not at hand."""

    median: float
    mean: float
    std: float
    n: int


def log_ratio_interval(a: Summary, b: Summary, confidence: float = CONFIDENCE
                       ) -> tuple[float, float] | None:
    """An interval for median(b) / median(a) from each side's mean, standard deviation and
    count: on the log scale the standard error of log(mean) is std / (mean * sqrt(n)) (the
    delta method); the two combine as in Welch's test (Welch-Satterthwaite degrees of
    freedom), centred on the log of the medians' ratio. None without a spread on either side
    or with fewer than two runs."""
    if min(a.n, b.n) < 2 or min(a.mean, b.mean, a.median, b.median) <= 0:
        return None
    va = (a.std / (a.mean * math.sqrt(a.n))) ** 2
    vb = (b.std / (b.mean * math.sqrt(b.n))) ** 2
    if va + vb == 0.0:
        return None
    df = (va + vb) ** 2 / ((va ** 2 / (a.n - 1) if va else 0.0)
                           + (vb ** 2 / (b.n - 1) if vb else 0.0))
    centre = math.log(b.median / a.median)
    margin = t_quantile(0.5 + confidence / 2.0, df) * math.sqrt(va + vb)
    return math.exp(centre - margin), math.exp(centre + margin)
