"""Per-image latency statistics (launcher/report/latency_stats.py), the side file's
validation (launcher/latency_samples.py, launcher/store.py) and the job's thread helpers."""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from jobs import benchmark, threads
from launcher.contract.vocabulary import LATENCY_SAMPLES_ARTIFACT, LATENCY_SAMPLES_FILE
from launcher.report.latency_stats import (
    bootstrap_over_runs,
    early_stopping_estimate,
    early_stopping_overlatency,
    latency_stats,
)
from launcher.store import load_result
from launcher.untrusted import Untrusted
from tests.unit.test_untrusted import recorded_job

# --- statistics -------------------------------------------------------------------------------


def runs_of(seed: int = 1, runs: int = 10, images: int = 1000) -> np.ndarray:
    return np.random.default_rng(seed).gamma(5.0, 1.0, (runs, images))


def test_percentiles_and_mean_are_numpys_over_every_image():
    table = runs_of()
    stats = latency_stats(table.tolist())
    flat = table.ravel()
    assert stats.images == 10_000 and stats.runs == 10
    assert stats.mean == pytest.approx(flat.mean())
    assert stats.mean == pytest.approx(table.mean(axis=1).mean())  # the paper's figure
    for got, q in ((stats.p50, 50), (stats.p90, 90), (stats.p99, 99)):
        assert got == pytest.approx(np.percentile(flat, q))


def test_the_bootstrap_resamples_whole_runs_with_a_fixed_seed():
    table = runs_of()
    assert bootstrap_over_runs(table, 90) == bootstrap_over_runs(table, 90)
    assert bootstrap_over_runs(table, None, seed=1) != bootstrap_over_runs(table, None, seed=2)
    # Over runs: runs that differ only by a constant shift each give an interval as wide as
    # the spread of their means, however many images each holds.
    shifted = np.ones((10, 500)) + np.arange(10)[:, None]
    low, high = bootstrap_over_runs(shifted, None)
    assert 2.5 < low < 5.5 < high < 8.5
    # Identical runs: nothing varies between runs, so nothing to be unsure about.
    same = np.tile(runs_of(runs=1), (10, 1))
    low, high = bootstrap_over_runs(same, None)
    assert low == pytest.approx(high) == pytest.approx(same.mean())


def test_the_bootstrap_mean_interval_matches_a_direct_resampling():
    table = runs_of(runs=6, images=50)
    rng = np.random.default_rng(7)
    picks = rng.integers(0, 6, size=(200, 6))
    direct = np.percentile([table[p].mean() for p in picks], [2.5, 97.5])
    assert bootstrap_over_runs(table, None, resamples=200, seed=7) == pytest.approx(
        tuple(direct))


def _binomial_cdf(k: int, n: int, q: float) -> float:
    """P(X <= k), X ~ Binomial(n, q), summed term by term."""
    return sum(math.comb(n, x) * q ** x * (1 - q) ** (n - x) for x in range(k + 1))


def _loadgen_min_passing(t: int, p: float, c: float, n_max: int) -> int:
    """LoadGen's find_min_passing: the least h with P(at most t overlatency queries among
    h + t) < 1 - c, by binary search (the probability falls as h grows)."""
    low, high = 0, n_max + 1
    while low < high:
        h = (low + high) // 2
        if _binomial_cdf(t, h + t, 1 - p) < 1 - c:
            high = h
        else:
            low = h + 1
    return low


def _loadgen_overlatency(n: int, p: float, c: float = 0.99) -> int | None:
    """PerformanceSummary::EarlyStopping (single stream) step by step."""
    h_min = _loadgen_min_passing(1, p, c, n)
    if n < h_min + 1:
        return None
    t = 1
    for i in range(2, n + 1):
        if n < _loadgen_min_passing(i, p, c, n) + i:
            t = i - 1
            break
    return t


@pytest.mark.parametrize("n, p", [
    (63, 0.90), (64, 0.90), (65, 0.90), (100, 0.90), (150, 0.90), (500, 0.90), (1000, 0.90),
    (661, 0.99), (662, 0.99), (700, 0.99), (1000, 0.99),
])
def test_early_stopping_matches_loadgens_procedure_computed_directly(n, p):
    assert early_stopping_overlatency(n, p) == _loadgen_overlatency(n, p)


def test_early_stopping_needs_loadgens_minimum_queries():
    # LoadGen: 64 queries for a p90 at 99 % confidence, 662 for a p99.
    assert early_stopping_overlatency(63, 0.90) is None
    assert early_stopping_overlatency(64, 0.90) == 1
    assert early_stopping_overlatency(661, 0.99) is None
    assert early_stopping_overlatency(662, 0.99) == 1


def test_the_early_stopping_estimate_is_the_t_th_largest_and_above_the_percentile():
    values = list(range(1, 1001))  # 1..1000 ms
    t = early_stopping_overlatency(1000, 0.90)
    assert t is not None and early_stopping_estimate(values, 0.90) == 1001 - t
    assert early_stopping_estimate(values, 0.90) >= np.percentile(values, 90)
    assert early_stopping_estimate(values[:50], 0.90) is None


def test_too_few_images_for_a_p99_claim_is_flagged():
    assert not latency_stats(runs_of(runs=3, images=50).tolist()).p99_claim_ok
    stats = latency_stats(runs_of(runs=10, images=1000).tolist())
    assert stats.p99_claim_ok and stats.early_stopping_p99 is not None
    assert stats.early_stopping_p99 >= stats.p99


# --- the side file ----------------------------------------------------------------------------


RUNS, IMAGES = 3, 4


@pytest.fixture
def bench_out(tmp_path) -> tuple[Path, dict]:
    """A recorded benchmark's out/, made to carry a latency file of 3 kept runs x 4 images."""
    folder = recorded_job("benchmark")
    out = tmp_path / "out"
    shutil.copytree(folder / "out", out)
    result = json.loads((out / "result.json").read_text())
    result["metrics"].update(latency_runs_kept=RUNS, latency_images=IMAGES,
                             latency_samples_format="float32-le")
    result["artifacts"] = [a for a in result["artifacts"]] + [
        {"name": LATENCY_SAMPLES_ARTIFACT, "kind": "file", "path": LATENCY_SAMPLES_FILE,
         "bytes": RUNS * IMAGES * 4}]
    (out / "result.json").write_text(json.dumps(result))
    write_values(out, [1.5] * (RUNS * IMAGES))
    for artifact in result["artifacts"]:
        if not (out / artifact["path"]).exists():
            (out / artifact["path"]).write_bytes(b"TFL3")
    return out, json.loads((folder / "spec.json").read_text())


def write_values(out: Path, values: list[float]) -> None:
    (out / LATENCY_SAMPLES_FILE).write_bytes(struct.pack(f"<{len(values)}f", *values))


def test_a_valid_latency_file_loads_and_reads_back(bench_out):
    out, spec = bench_out
    result, problem = load_result(out, spec)
    assert problem is None and result is not None


@pytest.mark.parametrize("values, fragment", [
    ([1.5] * (RUNS * IMAGES - 1), "expected 48"),
    ([1.5] * (RUNS * IMAGES + 1), "over the 48-byte cap"),
    ([1.5] * (RUNS * IMAGES - 1) + [math.nan], "not a finite positive"),
    ([math.inf] + [1.5] * (RUNS * IMAGES - 1), "not a finite positive"),
    ([0.0] + [1.5] * (RUNS * IMAGES - 1), "not a finite positive"),
    ([-1.0] + [1.5] * (RUNS * IMAGES - 1), "not a finite positive"),
])
def test_a_bad_latency_file_makes_the_result_invalid(bench_out, values, fragment):
    out, spec = bench_out
    write_values(out, values)
    result, problem = load_result(out, spec)
    assert result is None and problem is not None and fragment in problem


def test_a_latency_file_that_is_a_link_is_refused(bench_out, tmp_path):
    out, spec = bench_out
    target = tmp_path / "elsewhere.f32"
    target.write_bytes(struct.pack(f"<{RUNS * IMAGES}f", *([1.5] * (RUNS * IMAGES))))
    (out / LATENCY_SAMPLES_FILE).unlink()
    os.symlink(target, out / LATENCY_SAMPLES_FILE)
    result, problem = load_result(out, spec)
    assert result is None and problem is not None and "symbolic link" in problem


def test_a_missing_latency_file_is_refused_only_when_artifacts_are_required(bench_out):
    out, spec = bench_out
    (out / LATENCY_SAMPLES_FILE).unlink()
    assert load_result(out, spec)[0] is None
    assert load_result(out, spec, artifacts_required=False)[0] is not None


def test_a_result_naming_a_format_without_the_artifact_does_not_validate(bench_out):
    out, spec = bench_out
    result = json.loads((out / "result.json").read_text())
    result["artifacts"] = [a for a in result["artifacts"]
                           if a["name"] != LATENCY_SAMPLES_ARTIFACT]
    (out / "result.json").write_text(json.dumps(result))
    problem = load_result(out, spec)[1]
    assert problem is not None and LATENCY_SAMPLES_ARTIFACT in problem


def test_the_jobs_writer_and_the_launchers_reader_agree(tmp_path):
    from launcher.latency_samples import decode

    runs = [[1.25, 2.5, 3.75], [4.0, 5.0, 6.0]]
    benchmark.write_samples(str(tmp_path / "f"), runs)
    assert decode((tmp_path / "f").read_bytes(), 2, 3) == runs
    with pytest.raises(Untrusted):
        decode((tmp_path / "f").read_bytes(), 3, 3)


# --- threads (jobs/threads.py) ----------------------------------------------------------------


@pytest.mark.parametrize("cpu_max, quota, period, expected", [
    ("max 100000", None, None, None),
    ("200000 100000", None, None, 2),
    ("150000 100000", None, None, 2),
    (None, "-1", "100000", None),
    (None, "300000", "100000", 3),
    (None, None, None, None),
    ("garbage", None, None, None),
])
def test_a_cgroup_quota_in_whole_cpus(cpu_max, quota, period, expected):
    assert threads.quota_cpus(cpu_max, quota, period) == expected


def test_threads_come_from_the_spec_or_the_containers_cpus():
    assert threads.resolve({"threads": 3}) == (3, "spec")
    count, source = threads.resolve({"threads": None})
    assert source == "container_cpus" and 1 <= count <= (os.cpu_count() or 1)


def test_xnnpack_is_true_where_tflite_says_so_else_unknown():
    line = "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
    assert threads.xnnpack_applied(line, []) is True
    assert threads.xnnpack_applied("", ["CONV_2D", "DELEGATE"]) is True
    assert threads.xnnpack_applied("", ["CONV_2D"]) is None


def test_the_stderr_capture_sees_what_fd_2_receives():
    with threads.StderrCapture() as log:
        os.write(2, b"from C++\n")
    assert log.text == "from C++\n"


# --- the report's tables ----------------------------------------------------------------------


def test_the_report_shows_per_image_statistics_and_the_cold_start():
    from launcher.contract.results import BenchmarkMetrics
    from launcher.report.cells import Cell
    from launcher.report.latency_tables import cold_start_table, per_image_latency_table

    metrics = BenchmarkMetrics(
        format="tflite", backend="tflite-cpu", threads=4, threads_source="container_cpus",
        tf_intra_op_threads=4, tf_inter_op_threads=1, xnnpack=True, input_dtype="float32",
        latency_images=1000, latency_runs_kept=10, latency_ms_mean=5.0,
        latency_ms_median=5.0, latency_ms_p90=6.0, latency_ms_std=0.1, latency_ms_min=4.0,
        latency_ms_max=7.0, latency_samples_format="float32-le", cold_load_s=0.01,
        cold_allocate_s=0.02, cold_first_inference_ms=30.0, warmup_ms_mean=6.0, bytes=10,
        gzip_bytes=9)
    from launcher.contract.record import PowerMeasurement, ThermalSummary

    throttled = PowerMeasurement(source="tegrastats", interval_ms=100, samples=40,
                                 thermal=ThermalSummary(samples=40, throttled=True,
                                                        throttled_runs=[3]))
    cell = Cell("MobileNetV3Small", "fp16", benchmarks={1: metrics},
                latency_stats={1: latency_stats(runs_of().tolist())}, power={1: throttled})
    cells = {("MobileNetV3Small", "fp16"): cell}
    (row,) = per_image_latency_table(cells).rows
    assert row[3] == "4 (container's CPUs) TF intra 4 inter 1" and row[5] == 10_000
    assert row[-3] == ""  # enough images for a p99 claim
    assert row[-2] == "yes: kept run 3"  # the report flags the throttled run
    assert row[-1] == ""  # no duration target missed, no cooldown capped
    (cold,) = cold_start_table(cells).rows
    assert cold[5:10] == ("yes", 0.01, 0.02, 30.0, 6.0)
