"""Issue 22 (parts 2 and 6): the benchmark's runs by count and duration (min_duration_s), the
cooldown between runs (cooldown_c), what the result records of them, and the keys of the jobs
that use neither. Real values, real files, no mocks; the job's side runs on the host
(jobs/ imports TensorFlow only inside functions)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from jobs import benchmark
from launcher.contract.results import BenchmarkMetrics, BenchmarkResult
from launcher.contract.specs import BenchmarkSpec, InputRef
from launcher.contract.vocabulary import (
    LATENCY_SAMPLES_ARTIFACT,
    LATENCY_SAMPLES_FILE,
    MAX_LATENCY_RUNS,
)
from launcher.keys import job_key
from launcher.latency_samples import read_samples
from launcher.report.latency_tables import runs_cell
from launcher.study.campaign import parse_config
from launcher.study.plan import expand

IMAGE_ID = "sha256:" + "1" * 64
MODEL = InputRef(path="/inputs/model", sha256="a" * 64)


# --- the stop rule --------------------------------------------------------------------------


def test_runs_stop_when_count_and_duration_are_both_met():
    # The paper's rule alone (min_duration_s 0): exactly the runs asked for.
    assert [benchmark.more_runs(done, 0.0, 11, 0.0) for done in (0, 10, 11, 12)] == [
        True, True, False, False]
    # Both: the count first, then the duration.
    assert benchmark.more_runs(5, 100.0, 11, 60.0)  # long enough, too few runs
    assert benchmark.more_runs(11, 59.9, 11, 60.0)  # enough runs, too short
    assert not benchmark.more_runs(11, 60.0, 11, 60.0)
    assert not benchmark.more_runs(40, 61.0, 11, 60.0)


def test_the_cap_ends_the_runs_whatever_the_duration():
    assert not benchmark.more_runs(MAX_LATENCY_RUNS, 0.0, 11, 3600.0)
    assert benchmark.more_runs(MAX_LATENCY_RUNS - 1, 0.0, 11, 3600.0)
    assert not benchmark.more_runs(20, 0.0, 11, 60.0, cap=20)


class SleepingRunner:
    """Each image takes ``sleep_s``: a model whose runs have a known length."""

    method = "call"

    def __init__(self, sleep_s: float) -> None:
        self.sleep_s = sleep_s

    def prepare(self, image):
        return image

    def predict(self, image):
        time.sleep(self.sleep_s)
        return image

    def fetch(self, output):
        return output


def test_runs_go_on_until_the_kept_runs_last_min_duration() -> None:
    each_image: list[list[float]] = []
    calls: list[float] = []
    per_image_ms, started, ended = benchmark.latency_runs(
        SleepingRunner(0.005), ["a", "b"], runs=2, each_image=each_image, warmup=1,
        min_duration_s=0.06, before_run=lambda: calls.append(time.time()))
    # About 10 ms a run: 1 warm-up and some 6 kept runs, more than the 2 asked for.
    assert len(per_image_ms) > 3
    kept_s = benchmark.kept_seconds(each_image, 1)
    assert kept_s >= 0.06
    # The last run was needed: without it the kept runs were short of the duration.
    assert kept_s - sum(each_image[-1]) / 1000.0 < 0.06
    assert len(each_image) == len(started) == len(ended) == len(calls) == len(per_image_ms)
    # The cooldown hook runs before each run's wall-clock start, outside its window.
    assert all(call <= start for call, start in zip(calls, started, strict=True))


def test_without_min_duration_the_runs_are_the_papers_count() -> None:
    each_image: list[list[float]] = []
    per_image_ms, _, _ = benchmark.latency_runs(SleepingRunner(0.001), ["a"], runs=3,
                                                each_image=each_image, warmup=1)
    assert len(per_image_ms) == len(each_image) == 3


# --- thermal zones --------------------------------------------------------------------------


def test_a_zone_reading_is_millidegrees_or_nothing():
    assert benchmark.zone_celsius("45000\n") == 45.0
    assert benchmark.zone_celsius("-5500") == -5.5
    assert benchmark.zone_celsius("") is None
    assert benchmark.zone_celsius("45.5") is None
    assert benchmark.zone_celsius("N/A\n") is None


def zones(root: Path, readings: dict[str, str | bytes | None]) -> Path:
    """thermal_zoneN/temp files; None: a zone without a readable temp (a folder in its place)."""
    for name, value in readings.items():
        (root / name).mkdir(parents=True)
        if value is None:
            (root / name / "temp").mkdir()  # reading it fails (IsADirectoryError)
        elif isinstance(value, bytes):
            (root / name / "temp").write_bytes(value)
        else:
            (root / name / "temp").write_text(value)
    return root


def test_the_hottest_zone_skips_what_cannot_be_read(tmp_path):
    root = zones(tmp_path, {"thermal_zone0": "41000\n", "thermal_zone1": "63500\n",
                            "thermal_zone2": "garbage", "thermal_zone3": None,
                            "thermal_zone4": b"\xff\xfe9\x00", "cooling_device0": "99000"})
    (root / "thermal_zone5").mkdir()  # no temp file at all
    assert benchmark.hottest_zone(str(root)) == 63.5
    # A Nano's PMIC-Die reads a constant 100 C; a zone without a sensor -256 C: neither is the
    # board's heat.
    zones(root, {"thermal_zone6": "100000\n", "thermal_zone7": "-256000\n"})
    (root / "thermal_zone6" / "type").write_text("PMIC-Die\n")
    assert benchmark.hottest_zone(str(root)) == 63.5
    (root / "thermal_zone6" / "type").write_text("GPU-therm\n")
    assert benchmark.hottest_zone(str(root)) == 100.0


def test_no_readable_zone_is_none(tmp_path):
    assert benchmark.hottest_zone(str(tmp_path / "absent")) is None
    assert benchmark.hottest_zone(str(tmp_path)) is None
    root = zones(tmp_path / "bad", {"thermal_zone0": "hot", "thermal_zone1": None})
    assert benchmark.hottest_zone(str(root)) is None


def test_a_hot_zone_waits_until_the_cap(tmp_path):
    root = str(zones(tmp_path, {"thermal_zone0": "80000", "thermal_zone1": "30000"}))
    waited, hottest, cap_hit = benchmark.cool_down(root, 50.0, 0.3, step_s=0.05)
    assert cap_hit and hottest == 80.0
    assert 0.3 <= waited < 1.0


def test_a_cool_zone_does_not_wait(tmp_path):
    root = str(zones(tmp_path, {"thermal_zone0": "49999"}))
    waited, hottest, cap_hit = benchmark.cool_down(root, 50.0, 5.0)
    assert (hottest, cap_hit) == (49.999, False) and waited < 0.1
    assert benchmark.cool_down(str(tmp_path / "absent"), 50.0, 5.0)[1:] == (None, False)


def test_the_cooldown_records_each_run_and_its_totals(tmp_path):
    hot = str(zones(tmp_path / "hot", {"thermal_zone0": "70000"}))
    cooldown = benchmark.Cooldown(60.0, 0.1, hot)
    cooldown()
    cooldown()
    metrics = cooldown.metrics()
    assert metrics["cooldown"] == "cap hit" and metrics["cooldown_caps_hit"] == 2
    assert metrics["cooldown_wait_s"] == pytest.approx(sum(cooldown.waits))
    assert cooldown.samples()["cooldown_start_c"] == [70.0, 70.0]

    none = benchmark.Cooldown(60.0, 0.1, str(tmp_path / "absent"))
    none()
    assert none.metrics() == {"cooldown": "no thermal zones", "cooldown_wait_s": 0.0,
                              "cooldown_caps_hit": 0}
    assert none.samples() == {}
    off = benchmark.Cooldown(None, 300.0, hot)
    off()
    assert off.metrics()["cooldown"] is None and off.samples() == {}


# --- the spec, its key, the result ----------------------------------------------------------


def test_a_benchmark_using_neither_option_keeps_its_key():
    """The key this spec had before min_duration_s and cooldown_c existed (computed then)."""
    spec = BenchmarkSpec(model=MODEL, input_size=32, latency_images=50, latency_runs=4,
                         warmup_runs=1)
    before = "50d42d9438aec8aadf9f074d480da100265e8b9642e83a116c3e802beb2b2e3b"
    assert job_key(spec, IMAGE_ID) == before
    written = spec.model_dump(mode="json")  # a spec.json today: the new fields at defaults
    assert written["min_duration_s"] == 0 and written["cooldown_c"] is None
    assert job_key(written, IMAGE_ID) == before
    old = {k: v for k, v in written.items()
           if k not in ("min_duration_s", "cooldown_c", "cooldown_timeout_s")}
    assert job_key(old, IMAGE_ID) == before
    for change in ({"min_duration_s": 60.0}, {"cooldown_c": 50.0},
                   {"cooldown_c": 50.0, "cooldown_timeout_s": 10.0}):
        assert job_key(spec.model_copy(update=change), IMAGE_ID) != before


@pytest.mark.parametrize("values, fragment", [
    ({"min_duration_s": -1}, "min_duration_s"),
    ({"min_duration_s": 3601}, "min_duration_s"),
    ({"cooldown_c": 0}, "cooldown_c"),
    ({"cooldown_timeout_s": 0}, "cooldown_timeout_s"),
])
def test_out_of_range_options_are_refused(values, fragment):
    with pytest.raises(ValidationError, match=fragment):
        BenchmarkSpec(model=MODEL, **values)


def result(tmp_path: Path, runs_run: int, kept: int, images: int = 3) -> dict:
    """A benchmark result (as a job writes it) whose spec asked for 3 runs, 1 warm-up."""
    table = [[1.0 + run] * images for run in range(kept)]
    benchmark.write_samples(str(tmp_path / LATENCY_SAMPLES_FILE), table)
    per_run = [5.0] + [row[0] for row in table]
    metrics = {"format": "tflite", "backend": "tflite-cpu", "input_dtype": "float32",
               "latency_images": images, "latency_samples_format": "float32-le",
               "bytes": 10, "gzip_bytes": 9, "latency_runs_run": runs_run,
               "latency_kept_s": sum(map(sum, table)) / 1000, "min_duration_s": 0.01,
               "duration_met": True, **benchmark.summarise(per_run, 1)}
    spec = BenchmarkSpec(model=MODEL, latency_images=images, latency_runs=3, warmup_runs=1,
                         min_duration_s=0.01).model_dump(mode="json")
    return {"schema_version": 1, "job": "benchmark", "spec": spec, "metrics": metrics,
            "samples": {"latency_ms_per_image_all_runs": per_run},
            "timings": {"started_at": "2026-01-01T00:00:00Z", "imports_s": 1.0,
                        "job_s": 1.0, "total_s": 2.0},
            "environment": {"python": "3.11", "tensorflow": "2.12.0", "machine": "x86_64",
                            "cpu_count": 2, "gpus": [], "image_id": IMAGE_ID},
            "artifacts": [{"name": LATENCY_SAMPLES_ARTIFACT, "kind": "file",
                           "path": LATENCY_SAMPLES_FILE,
                           "bytes": (tmp_path / LATENCY_SAMPLES_FILE).stat().st_size}]}


def test_more_runs_than_latency_runs_validate_with_their_side_file(tmp_path):
    parsed = BenchmarkResult.model_validate(result(tmp_path, runs_run=8, kept=7))
    assert parsed.metrics.latency_runs_kept == 7
    samples = read_samples(tmp_path, parsed)
    assert samples is not None and len(samples) == 7 and samples[-1] == [7.0] * 3


def test_runs_run_must_be_warmup_plus_kept(tmp_path):
    data = result(tmp_path, runs_run=9, kept=7)
    with pytest.raises(ValidationError, match="latency_runs_run 9"):
        BenchmarkResult.model_validate(data)
    json.dumps(data)  # still plain JSON, as a job writes it


# --- campaigns and the report ---------------------------------------------------------------

CAMPAIGN = 'name = "mine"\nmodels = ["MobileNetV3Small"]\nmethods = ["fp16"]\ncopies = 2\n'


def test_campaign_benchmark_options_reach_copy_ones_benchmarks_only():
    config = parse_config(CAMPAIGN + "[benchmark]\nmin_duration_s = 60\ncooldown_c = 50\n"
                          "cooldown_timeout_s = 120\n", "mine.toml")
    plan = expand(config)
    params = {node.id: node.params for node in plan.nodes if node.job == "benchmark"}
    ones = [p for node_id, p in params.items() if node_id.endswith("copy1")]
    others = [p for node_id, p in params.items() if not node_id.endswith("copy1")]
    assert ones and others
    assert all((p["min_duration_s"], p["cooldown_c"], p["cooldown_timeout_s"])
               == (60, 50, 120) for p in ones)
    # Accuracy-only benchmarks time one image once: no duration, no cooldown.
    assert all("min_duration_s" not in p and "cooldown_c" not in p for p in others)


def test_the_report_says_when_a_duration_or_a_cooldown_fell_short():
    base = {"format": "tflite", "backend": "tflite-cpu", "input_dtype": "float32",
            "latency_images": 10, "latency_runs_kept": 10, "latency_ms_mean": 1.0,
            "latency_ms_median": 1.0, "latency_ms_p90": 1.0, "latency_ms_std": 0.0,
            "latency_ms_min": 1.0, "latency_ms_max": 1.0, "bytes": 1, "gzip_bytes": 1}
    assert runs_cell(BenchmarkMetrics(**base)) == ""  # recorded before the options
    fine = BenchmarkMetrics(**base, latency_runs_run=11, latency_kept_s=0.1, min_duration_s=0,
                            duration_met=True, cooldown="reached", cooldown_wait_s=3.0,
                            cooldown_caps_hit=0)
    assert runs_cell(fine) == ""
    short = BenchmarkMetrics(**base, latency_runs_run=10_000, latency_kept_s=41.23,
                             min_duration_s=60, duration_met=False, cooldown="cap hit",
                             cooldown_wait_s=600.0, cooldown_caps_hit=2)
    assert runs_cell(short) == ("duration not met: 41.2 of 60 s in 10000 runs; "
                                "cooldown cap hit in 2 runs")
    assert runs_cell(BenchmarkMetrics(**base, cooldown="no thermal zones")) == (
        "cooldown: no thermal zones")
