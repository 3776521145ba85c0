"""tegrastats parsing and energy arithmetic, on lines real boards printed (see
tests/data/jetson/SOURCES.md)."""

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from launcher.tegrastats import (
    TegrastatsError,
    average_power_mw,
    energy,
    in_window,
    parse_line,
    parse_log,
    with_times,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "jetson"


def log(name):
    return (DATA / name).read_text()


def test_nano_jetpack_461_line():
    (sample,) = parse_log(log("nano/tegrastats-jp461.log"))
    assert sample.timestamp is None  # L4T R32 prints no time
    assert (sample.ram_used_mb, sample.ram_total_mb) == (1923, 3964)
    assert (sample.swap_used_mb, sample.swap_total_mb) == (191, 1982)
    assert sample.cpu_loads == (5, 4, 3, 6)
    assert sample.gpu_load == 0
    assert sample.rails_mw == {"POM_5V_IN": 1750, "POM_5V_GPU": 0, "POM_5V_CPU": 366}
    assert (sample.input_rail, sample.power_mw) == ("POM_5V_IN", 1750)


def test_nano_line_without_frequencies_and_cores_off():
    (sample,) = parse_log(log("nano/tegrastats-no-freq.log"))
    assert sample.gpu_load == 0
    assert sample.power_mw == 900
    assert sample.cpu_loads == (2, 1, 0, 0)
    off = parse_line("RAM 2198/3956MB (lfb 5x2MB) SWAP 0/1978MB (cached 0MB) "
                     "CPU [12%@1479,2%@1479,off,off] EMC_FREQ 0% GR3D_FREQ 0% PLL@23C "
                     "POM_5V_IN 2284/2284 POM_5V_GPU 0/0 POM_5V_CPU 329/329")
    assert off.cpu_loads == (12, 2, None, None)
    assert off.power_mw == 2284


def test_xavier_nx_jetpack_5_line_has_time_and_milliwatts():
    (sample,) = parse_log(log("xavier-nx/tegrastats-jp512.log"))
    assert sample.timestamp == datetime(2024, 7, 9, 13, 31, 31)
    assert (sample.ram_used_mb, sample.ram_total_mb) == (3168, 6851)
    assert sample.cpu_loads == (23, 17, 16, 13, 23, 10)
    assert sample.gpu_load == 0  # "GR3D_FREQ 0%@[114]"
    # The instantaneous readings, not tegrastats' running averages (2846, 670, 711).
    assert sample.rails_mw == {"VDD_IN": 2763, "VDD_CPU_GPU_CV": 650, "VDD_SOC": 650}
    assert sample.power_mw == 2763


def test_xavier_nx_jetpack_4_line_without_units():
    (sample,) = parse_log(log("xavier-nx/tegrastats-jp411.log"))
    assert sample.rails_mw == {"VDD_IN": 6140, "VDD_CPU_GPU_CV": 2706, "VDD_SOC": 1074}
    assert sample.cpu_loads[-1] == 96


def test_memory_fields_are_not_taken_for_rails():
    (sample,) = parse_log(log("nano/tegrastats-idle.log"))[:1]
    assert "RAM" not in sample.rails_mw and "IRAM" not in sample.rails_mw
    assert "SWAP" not in sample.rails_mw
    assert sample.swap_total_mb is None  # this 2019 image had no swap at all


def test_a_line_that_is_not_tegrastats_is_an_error():
    with pytest.raises(TegrastatsError, match="not a tegrastats line"):
        parse_line("NV Power Mode: MAXN")


def test_average_power_of_an_idle_nano():
    samples = parse_log(log("nano/tegrastats-idle.log"))
    assert len(samples) == 12
    assert average_power_mw(samples) == pytest.approx(877.0)


def test_energy_per_inference_arithmetic():
    # Twelve idle Nano samples at tegrastats' default 1 s interval, timed from 10:00:00.
    start = datetime(2024, 1, 1, 10, 0, 0)
    samples = with_times(parse_log(log("nano/tegrastats-idle.log")), start, 1.0)
    assert samples[-1].timestamp == start + timedelta(seconds=11)
    result = energy(samples, start + timedelta(seconds=2), start + timedelta(seconds=7), 1000)
    assert result.samples == 6  # 10:00:02 .. 10:00:07 inclusive
    assert result.duration_s == 5.0
    assert result.average_power_mw == pytest.approx(877.0)
    assert result.energy_mj == pytest.approx(877.0 * 5.0)  # 4.385 J
    assert result.per_inference_mj == pytest.approx(4.385)


def test_energy_uses_the_mean_of_unequal_readings():
    nano, xavier = (parse_log(log(name))[0] for name in
                    ("nano/tegrastats-jp461.log", "xavier-nx/tegrastats-jp512.log"))
    start = datetime(2024, 7, 9, 13, 31, 30)
    samples = with_times([nano, xavier], start, 0.5)
    result = energy(samples, start, start + timedelta(seconds=2), 4)
    assert result.average_power_mw == pytest.approx((1750 + 2763) / 2)
    assert result.per_inference_mj == pytest.approx((1750 + 2763) / 2 * 2 / 4)


def test_energy_refuses_what_it_cannot_measure():
    start = datetime(2024, 7, 9, 13, 31, 31)
    timed = parse_log(log("xavier-nx/tegrastats-jp512.log"))
    with pytest.raises(TegrastatsError, match="inferences must be positive"):
        energy(timed, start, start + timedelta(seconds=1), 0)
    with pytest.raises(TegrastatsError, match="must end after it starts"):
        energy(timed, start, start, 10)
    with pytest.raises(TegrastatsError, match="nothing to average"):
        energy(timed, start + timedelta(seconds=5), start + timedelta(seconds=9), 10)
    untimed = parse_log(log("nano/tegrastats-jp461.log"))
    with pytest.raises(TegrastatsError, match="use with_times"):
        in_window(untimed, start, start + timedelta(seconds=1))
