"""Power sampling: lining tegrastats samples up with a benchmark's timed runs (pure), and the
sampler reading a real process through a pseudo-terminal."""

from __future__ import annotations

import json
import math
import random
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import stand_ins
from launcher.contract.results import JOB_RESULT
from launcher.contract.specs import BenchmarkSpec
from launcher.device.power import (
    IDLE_SAMPLES,
    MAX_WINDOWS,
    PowerSampler,
    Sampling,
    check_sampler,
    format_line,
    inside_windows,
    measure,
    parse_log,
    sampling_for,
)
from launcher.device.tegrastats import Sample, parse_line
from launcher.errors import UserError
from tests.paths import JETSON, RECORDED

NANO_LINE = (JETSON / "nano" / "tegrastats-jp461.log").read_text().splitlines()[0]
TEGRASTATS = Sampling(("tegrastats", "--interval", "1000"), 1000)
BENCHMARK_RESULT = (RECORDED / "jobs"
                    / "benchmark-e2e576bcda63d1a5" / "out" / "result.json")
XAVIER_LINE = (JETSON / "xavier-nx" / "tegrastats-jp512.log").read_text().splitlines()[0]


def at_power(line: str, rail: str, milliwatts: int) -> Sample:
    sample = parse_line(line)
    return replace(sample, rails_mw={**sample.rails_mw, rail: milliwatts})


def test_sampling_is_the_devices_tegrastats_on_a_jetson_only() -> None:
    assert sampling_for(True, {}) == Sampling(("tegrastats", "--interval", "100"), 100)
    assert sampling_for(False, {}) is None


def test_sampling_command_and_interval_come_from_the_environment() -> None:
    env = {"EDGECOMPRESS_TEGRASTATS": "sudo /usr/bin/tegrastats",
           "EDGECOMPRESS_POWER_INTERVAL_MS": "50"}
    sampling = sampling_for(False, env)
    assert sampling is not None
    assert sampling.command == ("sudo", "/usr/bin/tegrastats", "--interval", "50")
    assert sampling.source == "sudo /usr/bin/tegrastats --interval 50"
    assert sampling_for(True, {"EDGECOMPRESS_TEGRASTATS": "off"}) is None


@pytest.mark.parametrize("raw", ["fast", "0", "5", "60000"])
def test_a_bad_interval_is_one_clear_error(raw: str) -> None:
    with pytest.raises(UserError, match="EDGECOMPRESS_POWER_INTERVAL_MS"):
        sampling_for(True, {"EDGECOMPRESS_POWER_INTERVAL_MS": raw})


def test_the_power_log_round_trips_and_skips_what_is_not_tegrastats() -> None:
    text = (format_line(100.25, NANO_LINE) + "101.0 tegrastats: permission denied\n"
            + format_line(101.5, XAVIER_LINE) + "\n")
    samples = parse_log(text)
    assert [stamp for stamp, _ in samples] == [100.25, 101.5]
    assert [sample.power_mw for _, sample in samples] == [1750, 2763]


def test_only_the_kept_runs_count_and_energy_is_power_times_latency() -> None:
    # Three runs of 10 images, the first a warm-up at a higher draw than the kept two.
    started, ended = [0.0, 10.0, 20.0], [8.0, 18.0, 28.0]
    samples = [(t / 2, at_power(XAVIER_LINE, "VDD_IN", 9000 if t / 2 < 9 else 6000))
               for t in range(0, 60)]
    measured = measure(samples, started, ended, warmup_runs=1, images_per_run=10,
                       sampling=Sampling(("tegrastats", "--interval", "500"), 500))
    assert measured.rail == "VDD_IN"
    assert measured.samples == 2 * 17  # 10.0..18.0 and 20.0..28.0 every 0.5 s
    assert measured.average_power_mw == pytest.approx(6000)
    assert measured.timed_s == pytest.approx(16.0)
    # 0.8 s per image at 6 W: 4.8 J = 4800 mJ per inference.
    assert measured.energy_per_inference_mj == pytest.approx(4800)
    assert measured.reason is None


def test_idle_power_is_what_the_board_drew_before_the_job() -> None:
    # Idle at 2 W until the job starts at t=5; the kept run (10..20 s, 100 images) at 5 W.
    samples = [(float(t), at_power(XAVIER_LINE, "VDD_IN", 2000 if t < 5 else 5000))
               for t in range(0, 21)]
    measured = measure(samples, [6.0, 10.0], [9.0, 20.0], 1, 100, TEGRASTATS, job_started=5.0)
    assert measured.idle_samples == 5 and measured.idle_power_mw == pytest.approx(2000)
    assert measured.average_power_mw == pytest.approx(5000)
    # 0.1 s per image: 500 mJ in all, 300 mJ of it above the idle draw.
    assert measured.energy_per_inference_mj == pytest.approx(500)
    assert measured.energy_above_idle_per_inference_mj == pytest.approx(300)
    without = measure(samples, [6.0, 10.0], [9.0, 20.0], 1, 100, TEGRASTATS)
    assert without.idle_power_mw is None and without.energy_above_idle_per_inference_mj is None


def test_the_nano_input_rail_is_measured_too() -> None:
    samples = [(float(t), at_power(NANO_LINE, "POM_5V_IN", 4000 + 100 * t)) for t in range(10)]
    measured = measure(samples, [0.0, 2.0], [1.5, 8.0], 1, 1000, TEGRASTATS)
    assert measured.rail == "POM_5V_IN"
    assert measured.average_power_mw == pytest.approx(4500)  # the samples at 2..8 s


def test_too_short_a_window_says_what_to_change() -> None:
    samples = [(float(t), parse_line(XAVIER_LINE)) for t in range(10)]
    measured = measure(samples, [0.0, 3.1], [3.0, 3.9], 1, 100, TEGRASTATS)
    assert measured.average_power_mw is None and measured.energy_per_inference_mj is None
    assert measured.reason is not None
    assert "latency_images" in measured.reason and "INTERVAL_MS" in measured.reason


def test_samples_without_an_input_rail_give_a_reason() -> None:
    bare = parse_line("RAM 724/3965MB (lfb 81x4MB) CPU [1%@102,0%@102] GR3D_FREQ 0%@153")
    measured = measure([(float(t), bare) for t in range(10)], [0.0, 1.0], [0.5, 9.0], 1, 10,
                       TEGRASTATS)
    assert measured.reason is not None and "no input rail" in measured.reason


def reference_inside(samples: list[tuple[float, Sample]],
                     windows: list[tuple[float, float]]) -> list[Sample]:
    """The selection as it was before bisection (O(samples x windows)): the reference."""
    return [sample for stamp, sample in samples
            if any(start <= stamp <= end for start, end in windows)]


def test_lining_up_by_bisection_selects_what_the_scan_did() -> None:
    """Unsorted stamps, repeated stamps, stamps on a window's edge, overlapping and nested
    windows, windows that end before they start, NaN stamps and bounds: the same samples in
    the same order, and the same measurement to the last bit."""
    rng = random.Random(19)
    for _ in range(50):
        stamps = [round(rng.uniform(0, 100), 1) for _ in range(rng.randint(0, 300))]
        stamps += rng.sample(stamps, min(5, len(stamps))) + [math.nan]
        rng.shuffle(stamps)
        samples = [(stamp, at_power(XAVIER_LINE, "VDD_IN", rng.randint(1000, 9000)))
                   for stamp in stamps]
        windows = []
        for _ in range(rng.randint(0, 40)):
            start = round(rng.uniform(-5, 105), 1)
            windows.append((start, round(start + rng.uniform(-3, 12), 1)))
        # A window of one instant on a sample, and windows with a NaN bound.
        windows += [(stamps[0], stamps[0]), (math.nan, 50.0), (50.0, math.nan)]
        rng.shuffle(windows)
        expected = reference_inside(samples, windows)
        assert inside_windows(samples, windows) == expected
        # measure, on the windows a job can record (finite, none reversed).
        runs = [(a, b) for a, b in windows if a <= b]
        started, ended = [0.0] + [a for a, _ in runs], [0.0] + [b for _, b in runs]
        measured = measure(samples, started, ended, 1, 10, TEGRASTATS)
        powered = [sample.power_mw for sample in reference_inside(samples, runs)
                   if sample.power_mw is not None]
        assert measured.samples == len(powered)
        if len(powered) >= 3:
            assert measured.average_power_mw == sum(powered) / len(powered)


def test_a_hundred_thousand_windows_line_up() -> None:
    """600 samples 1 s apart, 100,000 windows: each of the first 300 s's samples has
    its own windows around it (some of them repeated), the rest none."""
    samples = [(float(t), at_power(XAVIER_LINE, "VDD_IN", 1000 + t)) for t in range(600)]
    windows = [(t % 300 - 0.25, t % 300 + 0.25) for t in range(100_000)]
    inside = inside_windows(samples, windows)
    assert [sample.power_mw for sample in inside] == [1000 + t for t in range(300)]


def test_more_windows_than_a_spec_allows_are_not_measured() -> None:
    # The cap is the most runs a benchmark's spec can ask for: no real record is refused.
    limit = next(item.le for item in BenchmarkSpec.model_fields["latency_runs"].metadata
                 if hasattr(item, "le"))
    assert limit == MAX_WINDOWS
    samples = [(t / 10, at_power(XAVIER_LINE, "VDD_IN", 5000)) for t in range(6000)]
    at_cap = [t * 0.06 for t in range(MAX_WINDOWS)]
    measured = measure(samples, at_cap, [t + 0.05 for t in at_cap], 1, 10, TEGRASTATS)
    assert measured.average_power_mw == pytest.approx(5000) and measured.reason is None
    beyond = [t * 0.006 for t in range(100_000)]
    refused = measure(samples, beyond, [t + 0.005 for t in beyond], 1, 10, TEGRASTATS)
    assert refused.average_power_mw is None and refused.samples == 0
    assert refused.reason is not None and "100,000 latency runs" in refused.reason
    assert f"{MAX_WINDOWS:,}" in refused.reason


def test_no_kept_run_is_not_measured() -> None:
    measured = measure([], [], [], 1, 10, TEGRASTATS)
    assert measured.average_power_mw is None and measured.reason


def test_the_sampler_stamps_lines_as_they_come(tmp_path: Path) -> None:
    """The stand-in, like tegrastats, block-buffers a pipe: lines only arrive one by one, while
    it runs, because the sampler gives it a terminal."""
    log = tmp_path / "power.log"
    command = (sys.executable, str(stand_ins.TEGRASTATS), "--replay",
               str(JETSON / "xavier-nx" / "tegrastats-jp512.log"), "--interval", "50")
    with PowerSampler(Sampling(command, 50), log) as sampler:
        # Entering waits for the idle baseline: the job starts after those samples.
        seen_on_entry = sampler.lines
    assert seen_on_entry >= IDLE_SAMPLES
    assert sampler.error is None
    samples = parse_log(log.read_text())
    assert len(samples) >= IDLE_SAMPLES
    stamps = [stamp for stamp, _ in samples]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert {sample.input_rail for _, sample in samples} == {"VDD_IN"}


def test_a_sampler_that_cannot_start_is_recorded_not_raised(tmp_path: Path) -> None:
    log = tmp_path / "power.log"
    sampling = Sampling(("/nonexistent/tegrastats", "--interval", "100"), 100)
    with PowerSampler(sampling, log) as sampler:
        pass
    assert sampler.error is not None and "/nonexistent/tegrastats" in sampler.error
    assert log.read_text().startswith("# cannot start")
    # A benchmark measured without samples says why: the sampler's own error.
    result = JOB_RESULT.validate_python(json.loads(BENCHMARK_RESULT.read_text()))
    measured = sampler.measure(result)
    assert measured is not None and measured.average_power_mw is None
    assert measured.reason == sampler.error


def test_preflight_says_whether_power_can_be_sampled() -> None:
    tegrastats = sampling_for(True, {})
    found = {"tegrastats": "/usr/bin/tegrastats"}
    assert check_sampler(tegrastats, lambda name: found.get(name)).state == "ok"
    missing = check_sampler(tegrastats, lambda name: None)
    assert missing.state == "warn" and "tegrastats not found" in missing.detail
    assert check_sampler(None).state == "warn"


def test_energy_per_inference_is_power_times_the_reported_latency():
    """A window also holds what the job does between timed images; given the job's latency,
    energy per inference is the power times that, not the window's share per image."""
    samples = [(t / 10, at_power(XAVIER_LINE, "VDD_IN", 5000)) for t in range(100)]
    by_window = measure(samples, [0.0, 2.0], [1.9, 6.0], 1, 100, TEGRASTATS)
    by_latency = measure(samples, [0.0, 2.0], [1.9, 6.0], 1, 100, TEGRASTATS, latency_s=0.03)
    assert by_latency.timed_s == by_window.timed_s == pytest.approx(4.0)
    # The window: 40 ms per image at 5 W; the job's latency: 30 ms at 5 W.
    assert by_window.energy_per_inference_mj == pytest.approx(200)
    assert by_latency.energy_per_inference_mj == pytest.approx(150)
