"""tegrastats parsing and energy arithmetic, on lines real boards printed (see
tests/data/jetson/SOURCES.md)."""

from datetime import datetime

import pytest

from launcher.device.tegrastats import (
    TegrastatsError,
    average_power_mw,
    parse_line,
    parse_log,
)
from tests.paths import JETSON


def log(name):
    return (JETSON / name).read_text()


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


def test_nano_temperatures_and_clocks():
    (sample,) = parse_log(log("nano/tegrastats-jp461.log"))
    assert sample.temperatures_c == {"PLL": 37.0, "CPU": 40.0, "PMIC": 50.0, "GPU": 40.0,
                                     "AO": 45.0, "thermal": 40.0}
    assert sample.cpu_mhz == (1224, 1224, 1224, 1224)
    assert (sample.gpu_mhz, sample.emc_mhz) == (76, 1600)
    assert sample.clocks_mhz == {"CPU0": 1224, "CPU1": 1224, "CPU2": 1224, "CPU3": 1224,
                                 "GR3D": 76, "EMC": 1600}


def test_fractional_temperatures_and_the_idle_nanos_clocks():
    first = parse_log(log("nano/tegrastats-idle.log"))[0]
    assert first.temperatures_c["CPU"] == 27.5
    assert first.temperatures_c["thermal"] == 28.25
    assert (first.gpu_mhz, first.emc_mhz, first.cpu_mhz) == (153, 204, (102,) * 4)


def test_the_no_frequency_format_has_no_gpu_or_memory_clock():
    (sample,) = parse_log(log("nano/tegrastats-no-freq.log"))
    assert (sample.gpu_mhz, sample.emc_mhz) == (None, None)  # "EMC_FREQ 0% GR3D_FREQ 0%"
    assert sample.cpu_mhz == (102, 102, 102, 102)  # the cores still print theirs
    assert sample.temperatures_c == {"PLL": 39.0, "CPU": 40.5, "PMIC": 100.0, "GPU": 41.0,
                                     "AO": 46.0, "thermal": 41.0}


def test_xavier_nx_jetpack_5_gpu_clock_in_brackets_and_aux_zone():
    (sample,) = parse_log(log("xavier-nx/tegrastats-jp512.log"))
    assert sample.gpu_mhz == 114  # "GR3D_FREQ 0%@[114]"
    assert sample.emc_mhz == 204
    assert sample.cpu_mhz == (1397, 1192, 1190, 1190, 1190, 1190)
    assert sample.temperatures_c == {"AUX": 45.0, "CPU": 46.5, "thermal": 45.6, "AO": 45.0,
                                     "GPU": 45.5, "PMIC": 50.0}


def test_xavier_nx_jetpack_4_temperatures_and_clocks():
    (sample,) = parse_log(log("xavier-nx/tegrastats-jp411.log"))
    assert sample.temperatures_c["thermal"] == 31.35
    assert sample.temperatures_c["AUX"] == 30.0
    assert (sample.gpu_mhz, sample.emc_mhz) == (1109, 1600)
    assert sample.cpu_mhz == (1420,) * 6


def test_cores_off_have_no_clock_and_a_zone_without_reading_is_left_out():
    sample = parse_line("RAM 2198/3956MB (lfb 5x2MB) CPU [12%@1479,2%@1479,off,off] "
                        "EMC_FREQ 0%@1600 GR3D_FREQ 3%@[305,0] CV0@-256C GPU@41.5C "
                        "VDD_IN 4736mW/4736mW")
    assert sample.cpu_mhz == (1479, 1479, None, None)
    assert sample.clocks_mhz == {"CPU0": 1479, "CPU1": 1479, "GR3D": 305, "EMC": 1600}
    assert sample.temperatures_c == {"GPU": 41.5}
