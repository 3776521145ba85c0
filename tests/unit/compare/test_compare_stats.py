"""diff's statistics (launcher/compare/stats.py) against known values: closed forms of the t
distribution, and values scipy 1.17 gives (scipy.stats.t, scipy.special.betainc,
scipy.stats.ttest_ind(equal_var=False)), hard-coded so the test needs no scipy."""

import math

import numpy as np
import pytest

from launcher.compare.image_bootstrap import PooledRuns, bootstrap_ratio_over_images
from launcher.compare.stats import (
    Summary,
    bootstrap_ratio_of_medians,
    log_ratio_interval,
    regularized_beta,
    t_cdf,
    t_quantile,
    t_two_sided_p,
    welch,
)


@pytest.mark.parametrize(("a", "b", "x", "expected"), [
    (2.5, 0.5, 0.3, 0.018927124071945658),
    (10, 3, 0.9, 0.889130022255),
    (0.5, 0.5, 0.5, 0.5),
    (1, 1, 0.37, 0.37),  # the uniform distribution
    (2, 3, 0.0, 0.0),
    (2, 3, 1.0, 1.0),
])
def test_regularized_incomplete_beta(a, b, x, expected):
    assert regularized_beta(a, b, x) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("t", [-30.0, -2.5, -0.4, 0.0, 0.7, 1.0, 3.3, 50.0])
def test_t_cdf_closed_forms(t):
    # df 1 is Cauchy's; df 2 has 1/2 + t / (2 sqrt(2 + t^2)).
    assert t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-13)
    assert t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-13)


@pytest.mark.parametrize(("t", "df", "p", "rel"), [
    (2.0, 10, 0.07338803477074037, 1e-12),
    (3.5, 2.5, 0.052345546960320344, 1e-12),
    (8.0, 30, 6.265822475700759e-09, 1e-12),
    # Towards the normal distribution (lgamma's differences lose a few digits there).
    (1.959963984540054, 1e7, 0.05000002772951259, 1e-8),
])
def test_two_sided_p_values(t, df, p, rel):
    assert t_two_sided_p(t, df) == pytest.approx(p, rel=rel)
    assert t_two_sided_p(-t, df) == pytest.approx(p, rel=rel)


def test_t_cdf_of_a_fractional_df():
    assert t_cdf(-0.3, 0.7) == pytest.approx(0.4146175931856675, rel=1e-12)


@pytest.mark.parametrize(("p", "df", "t"), [
    (0.975, 4, 2.7764451051977934),
    (0.975, 24.9, 2.0599580324598343),
    (0.025, 4, -2.7764451051977934),
    (0.5, 3, 0.0),
    (0.995, 1, 63.65674116287399),
])
def test_t_quantile(p, df, t):
    assert t_quantile(p, df) == pytest.approx(t, rel=1e-9, abs=1e-12)


def test_welch_against_a_published_example():
    """Wikipedia's first Welch example (equal sizes, unequal variances); scipy gives
    t = -2.455356398286006, df = 24.988529290231416, p = 0.021378001462866992."""
    a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
          21.4]
    a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
          24.4]
    found = welch(a2, a1)  # mean(a1) - mean(a2)
    assert found is not None
    assert found.t == pytest.approx(-2.455356398286006, rel=1e-12)
    assert found.df == pytest.approx(24.988529290231416, rel=1e-12)
    assert found.p == pytest.approx(0.021378001462866992, rel=1e-9)
    assert found.difference == pytest.approx(-2.1666666666666, rel=1e-9)
    assert found.low < found.difference < found.high < 0  # p < 0.05: 0 outside the interval


def test_welch_needs_two_values_a_side_and_a_spread():
    assert welch([0.9], [0.8, 0.85]) is None
    same = welch([0.9, 0.9], [0.9, 0.9])
    assert same is not None and same.p == 1.0 and same.difference == 0.0
    apart = welch([0.9, 0.9], [0.8, 0.8])
    assert apart is not None and apart.p is None  # no spread: cannot be told


def test_bootstrap_is_reproducible_and_brackets_the_ratio():
    a = [6.40, 6.45, 6.50, 6.42, 6.48]
    b = [v * 1.3 for v in a]
    low, high = bootstrap_ratio_of_medians(a, b)
    assert (low, high) == bootstrap_ratio_of_medians(a, b), "a fixed seed"
    assert 1.2 < low <= 1.3 <= high < 1.4
    wide = bootstrap_ratio_of_medians([3.0, 9.0, 5.0, 12.0, 4.0], [6.0, 4.0, 13.0, 8.0, 5.5])
    assert wide[0] < 1 < wide[1]


def test_log_ratio_interval_from_summaries():
    a, b = Summary(10.0, 10.0, 0.5, 10), Summary(13.0, 13.0, 0.6, 10)
    low, high = log_ratio_interval(a, b)
    assert 1.2 < low < 1.3 < high < 1.4
    assert log_ratio_interval(Summary(10, 10, 0, 1), b) is None  # one run: no spread known
    assert log_ratio_interval(Summary(10, 10, 0, 5), Summary(13, 13, 0, 5)) is None


@pytest.mark.parametrize("runs, images", [(1, 1), (2, 3), (3, 4), (5, 7)])
def test_a_resampled_pooled_median_is_numpys_median_of_the_pooled_runs(runs, images):
    rng = np.random.default_rng(runs * 10 + images)
    table = rng.lognormal(size=(runs, images))
    pooled = PooledRuns(table)
    draws = rng.integers(0, runs, size=(50, runs))
    expected = [np.median(table[draw].ravel()) for draw in draws]
    assert pooled.resampled_medians(draws) == pytest.approx(expected)
    assert pooled.median() == pytest.approx(np.median(table))


def test_the_image_interval_is_reproducible_and_holds_its_point():
    rng = np.random.default_rng(7)
    a = rng.lognormal(0, 0.1, size=(6, 200))
    b = 1.2 * rng.lognormal(0, 0.1, size=(6, 200))
    first = bootstrap_ratio_over_images(a, b, 0.95, 500, 1)
    assert first == bootstrap_ratio_over_images(a, b, 0.95, 500, 1)
    assert first[0] < np.median(b) / np.median(a) < first[1]
