"""The thermal summary of a benchmark's kept runs and the throttling rule
(launcher/device/thermal.py), on recorded tegrastats lines and made-up sequences."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from launcher.contract.record import PowerMeasurement
from launcher.device import thermal
from launcher.device.power import Sampling, measure, per_window
from launcher.device.tegrastats import Sample, parse_line
from tests.paths import JETSON

XAVIER_LINE = (JETSON / "xavier-nx" / "tegrastats-jp512.log").read_text().splitlines()[0]
NO_FREQ_LINE = (JETSON / "nano" / "tegrastats-no-freq.log").read_text().splitlines()[0]
SAMPLING = Sampling(("tegrastats", "--interval", "500"), 500)
PINNED_CPU = (1907,) * 6


def board(gpu_mhz: int = 1109, cpu_c: float = 60.0, line: str = XAVIER_LINE) -> Sample:
    """The Xavier NX line with jetson_clocks' clocks and a chosen CPU temperature."""
    sample = parse_line(line)
    return replace(sample, cpu_mhz=PINNED_CPU, gpu_mhz=gpu_mhz, emc_mhz=1866,
                   temperatures_c={**sample.temperatures_c, "CPU": cpu_c})


def three_runs(run_1_gpu: int = 1109) -> list[tuple[float, Sample]]:
    """Idle before t=0, a warm-up run 0..10 s, kept runs 10..20 and 20..30 s; samples every
    0.5 s. The first kept run heats to 80 C; the second's GPU clock is run_1_gpu."""
    samples = [(t / 2 - 3, board()) for t in range(6)]
    for t in range(0, 61):
        stamp = t / 2
        hot = 80.0 if 10 <= stamp <= 20 else 62.0
        gpu = run_1_gpu if 20 < stamp <= 30 else 1109
        samples.append((stamp, board(gpu, hot)))
    return samples


def measured(samples: list[tuple[float, Sample]], pinned: bool | None) -> PowerMeasurement:
    return measure(samples, [0.0, 10.0, 20.25], [10.0, 20.0, 30.0], warmup_runs=1,
                   images_per_run=10, sampling=SAMPLING, clocks_pinned=pinned)


def test_pinned_clocks_that_hold_are_not_throttling_and_runs_carry_their_maxima():
    power = measured(three_runs(), pinned=True)
    summary = power.thermal
    assert summary is not None
    assert summary.throttled is False
    assert summary.throttle_reason == ("every pinned clock (8) stayed at its maximum in all 2 "
                                       "kept run(s)")
    assert [run.max_c for run in summary.runs] == [80.0, 62.0]
    assert [run.hottest_zone for run in summary.runs] == ["CPU", "CPU"]
    assert [run.throttled for run in summary.runs] == [False, False]
    assert (summary.max_c, summary.hottest_zone) == (80.0, "CPU")
    assert summary.zones_max_c["PMIC"] == 50.0  # kept, never the hottest
    assert summary.clocks_mhz["GR3D"].model_dump() == {"min_mhz": 1109, "max_mhz": 1109,
                                                       "reference_mhz": 1109}
    assert summary.samples == 21 + 20


def test_pinned_clocks_and_one_runs_gpu_drops_is_a_throttled_run():
    summary = measured(three_runs(run_1_gpu=675), pinned=True).thermal
    assert summary is not None
    assert summary.throttled is True
    assert summary.throttled_runs == [1]
    assert [run.throttled for run in summary.runs] == [False, True]
    assert summary.runs[1].clocks_below_mhz == {"GR3D": 675}
    assert summary.clocks_mhz["GR3D"].model_dump() == {"min_mhz": 675, "max_mhz": 1109,
                                                       "reference_mhz": 1109}
    assert summary.throttle_reason == ("1 of 2 kept run(s) throttled, pinned clocks below "
                                       "their maximum: run 1: GR3D 675 < 1109 MHz")


def test_a_few_mhz_of_read_out_jitter_is_not_a_drop():
    runs = [[board(1109)], [replace(board(1105), cpu_mhz=(1906,) * 6)]]
    summary = thermal.summarise(runs, [s for run in runs for s in run], clocks_pinned=True)
    assert summary.throttled is False
    assert summary.clocks_mhz["GR3D"].min_mhz == 1105  # recorded all the same


def test_clocks_not_pinned_a_drop_is_not_evidence():
    summary = measured(three_runs(run_1_gpu=675), pinned=False).thermal
    assert summary is not None
    assert summary.throttled is None
    assert summary.throttle_reason == "clocks not pinned: throttling cannot be told from DVFS"
    assert [run.throttled for run in summary.runs] == [None, None]
    assert summary.runs[1].clocks_below_mhz == {"GR3D": 675}  # the fact, not a verdict
    assert summary.runs[0].max_c == 80.0


def test_pinning_not_recorded_cannot_tell():
    summary = measured(three_runs(run_1_gpu=675), pinned=None).thermal
    assert summary is not None and summary.throttled is None
    assert summary.throttle_reason == thermal.PINNING_UNKNOWN


def test_the_no_frequency_format_cannot_tell_without_clocks():
    sample = replace(parse_line(NO_FREQ_LINE), cpu_mhz=(None,) * 4)
    summary = thermal.summarise([[sample]], [sample], clocks_pinned=True)
    assert summary.throttled is None
    assert summary.throttle_reason == thermal.NO_CLOCKS
    assert (summary.max_c, summary.hottest_zone) == (46.0, "AO")  # not PMIC's 100


def test_a_drop_in_a_warm_up_run_is_not_a_kept_runs_throttling():
    samples = three_runs()
    samples = [(t, board(500) if 1 <= t <= 2 else s) for t, s in samples]
    summary = measured(samples, pinned=True).thermal
    assert summary is not None and summary.throttled is False


def test_many_throttled_runs_are_counted_past_the_named_ones():
    runs = [[board(1109)]] + [[board(600)] for _ in range(5)]
    summary = thermal.summarise(runs, [s for run in runs for s in run], clocks_pinned=True)
    assert summary.throttled_runs == [1, 2, 3, 4, 5]
    assert summary.throttle_reason is not None
    assert summary.throttle_reason.endswith("; and 2 more")


def test_ten_thousand_throttled_runs_fit_the_stores_read_limit():
    from dataclasses import replace as copy

    from launcher.untrusted import MAX_SMALL_JSON_BYTES

    low = copy(board(600, 99.875), cpu_mhz=(1000,) * 6, emc_mhz=1000)
    runs = [[low] for _ in range(10_000)]
    summary = thermal.summarise(runs, [board(), low], clocks_pinned=True)
    assert summary.kept_runs == 10_000 and len(summary.runs) == thermal.DETAILED_RUNS
    assert len(summary.throttled_runs) == 10_000
    assert len(summary.model_dump_json(indent=2)) < MAX_SMALL_JSON_BYTES / 4


def test_no_sample_inside_the_runs_says_so_and_the_power_is_unmeasured():
    power = measure([(100.0, board())], [0.0], [1.0], warmup_runs=0, images_per_run=10,
                    sampling=SAMPLING, clocks_pinned=True)
    assert power.average_power_mw is None
    assert power.thermal is not None and power.thermal.throttled is None
    assert power.thermal.throttle_reason == thermal.NO_SAMPLES


def test_window_energy_per_query_is_the_windows_energy_over_their_images():
    power = measured(three_runs(), pinned=True)
    assert power.average_power_mw == pytest.approx(2763)
    assert power.timed_s == pytest.approx(19.75)
    assert power.energy_per_query_window_mj == pytest.approx(2763 * 19.75 / 20)


def test_per_window_holds_each_windows_samples_overlaps_shared():
    samples = [(float(t), board(1000 + t)) for t in range(10)]
    held = per_window(samples, [(2.0, 4.0), (3.0, 3.0), (5.0, 1.0), (float("nan"), 2.0)])
    assert [[s.gpu_mhz for s in run] for run in held] == [[1002, 1003, 1004], [1003], [], []]


def test_a_record_without_the_thermal_summary_still_loads():
    old = {"source": "tegrastats --interval 100", "interval_ms": 100, "samples": 5,
           "average_power_mw": 5000.0, "energy_per_inference_mj": 10.0}
    power = PowerMeasurement.model_validate(old)
    assert power.thermal is None and power.energy_per_query_window_mj is None


def test_a_jobs_outcome_shows_the_hottest_zone_and_the_verdict(tmp_path: Path):
    import io

    from rich.console import Console

    from launcher.contract.record import JobStatus, RunRecord
    from launcher.runner import JobOutcome
    from launcher.views import outcome_table

    power = measured(three_runs(run_1_gpu=675), pinned=True)
    record = RunRecord(key="k", job="benchmark", status=JobStatus.succeeded, image="i",
                       image_id="sha256:0", started_at="t0", finished_at="t1", wall_s=1.0,
                       deadline_s=10.0, power=power)
    out = io.StringIO()
    Console(file=out, width=300).print(outcome_table(JobOutcome(tmp_path, record, None)))
    assert ("thermal  80 C (CPU), 1 of 2 kept run(s) throttled, pinned clocks below their "
            "maximum: run 1: GR3D 675 < 1109 MHz") in out.getvalue()
