"""Jetson preflight on samples real boards printed (tests/data/jetson/SOURCES.md)."""

import json
import shutil
from pathlib import Path

import pytest

from launcher.device.checks import raise_on_failure
from launcher.device.jetson import (
    PowerMode,
    clocks_pinned,
    jetpack_of,
    parse_device_model,
    parse_l4t_release,
    parse_nvpmodel,
)
from launcher.device.preflight import (
    GiB,
    HostFacts,
    HostPaths,
    check_board,
    check_disk,
    check_l4t,
    check_power_mode,
    check_runtime,
    check_swap,
    device_environment,
    gather,
    preflight,
)
from launcher.device.profiles import get_profile
from launcher.errors import UserError
from tests.paths import JETSON

NANO, XAVIER = get_profile("nano"), get_profile("xavier")


def text(name):
    return (JETSON / name).read_text()


def docker_info():
    return json.loads(text("docker-info-l4t-r32.json"))


def cpufreq(root, cores, low, high):
    """A sysfs cpufreq tree (kHz); the Nano's cores run 102 MHz to 1479 MHz, as its tegrastats
    lines show (CPU [1%@102,...] idle, 1479 at full speed)."""
    for core in range(cores):
        folder = root / f"cpu{core}" / "cpufreq"
        folder.mkdir(parents=True)
        (folder / "scaling_min_freq").write_text(f"{low}\n")
        (folder / "scaling_max_freq").write_text(f"{high}\n")
    (root / "cpufreq").mkdir(exist_ok=True)  # the policy folder is not a core
    return root


def host(board, tmp_path):
    """The recorded files of one board laid out where gather() is told to look."""
    paths = HostPaths(tegra_release=tmp_path / "nv_tegra_release",
                      device_model=tmp_path / "model", meminfo=tmp_path / "meminfo",
                      cpus=tmp_path / "cpu")
    shutil.copy(JETSON / board / "nv_tegra_release", paths.tegra_release)
    shutil.copy(JETSON / board / "device-tree-model", paths.device_model)
    if (JETSON / board / "meminfo").exists():
        shutil.copy(JETSON / board / "meminfo", paths.meminfo)
    return paths


def by_name(checks):
    return {check.name: check for check in checks}


def test_l4t_releases_of_both_boards():
    nano = parse_l4t_release(text("nano/nv_tegra_release"))
    xavier = parse_l4t_release(text("xavier-nx/nv_tegra_release"))
    assert (str(nano), nano.line, nano.board) == ("R32.7.1", "R32", "t210ref")
    assert (str(xavier), xavier.line, xavier.board) == ("R35.2.1", "R35", "t186ref")
    assert parse_l4t_release("") is None and parse_l4t_release(None) is None


def test_board_model_loses_its_nul_byte():
    assert parse_device_model((JETSON / "nano/device-tree-model").read_bytes()) == \
        "NVIDIA Jetson Nano Developer Kit"
    assert parse_device_model(text("xavier-nx/device-tree-model")) == \
        "NVIDIA Jetson Xavier NX Developer Kit"
    assert check_board("NVIDIA Jetson Nano Developer Kit").state == "ok"
    assert check_board("NVIDIA Jetson Orin Nano Developer Kit").state == "warn"


def test_matching_l4t_lines_pass():
    assert check_l4t(NANO, parse_l4t_release(text("nano/nv_tegra_release"))).state == "ok"
    assert check_l4t(XAVIER, parse_l4t_release(text("xavier-nx/nv_tegra_release"))).state == "ok"
    later_r35 = parse_l4t_release("# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref")
    assert check_l4t(XAVIER, later_r35).state == "ok"


@pytest.mark.parametrize(("profile", "board", "instead"),
                         [("nano", "xavier-nx", "xavier"), ("xavier", "nano", "nano")])
def test_l4t_mismatch_is_refused_in_one_line(profile, board, instead):
    check = check_l4t(get_profile(profile), parse_l4t_release(text(f"{board}/nv_tegra_release")))
    assert check.state == "fail"
    assert "\n" not in check.detail
    assert "this host runs L4T R3" in check.detail and f"use profile {instead}," in check.detail
    with pytest.raises(UserError, match="L4T: this host runs"):
        raise_on_failure([check])


def test_an_older_r32_is_refused_for_the_nano_image():
    r32_5 = parse_l4t_release("# R32 (release), REVISION: 5.1, GCID: 26202423, BOARD: t186ref, "
                              "EABI: aarch64, DATE: Fri Feb 19 16:50:29 UTC 2021")
    check = check_l4t(NANO, r32_5)
    assert check.state == "fail" and "needs R32.7" in check.detail


def test_not_a_jetson():
    check = check_l4t(NANO, parse_l4t_release(None))
    assert check.state == "fail" and "not a Jetson" in check.detail


def test_nvidia_runtime_registered_or_missing():
    info = docker_info()
    assert check_runtime(info).state == "ok"
    # The same engine with the nvidia runtime unregistered (daemon.json without it).
    del info["Runtimes"]["nvidia"]
    missing = check_runtime(info)
    assert missing.state == "fail"
    assert "nvidia-container" in missing.detail and "restart docker" in missing.detail
    assert check_runtime(None).state == "fail"


def test_swap_on_a_nano():
    model = "NVIDIA Jetson Nano Developer Kit"
    meminfo = text("nano/meminfo")
    # The stock image's 2 GB of zram on 4 GB of memory: enough to start, short for training.
    zram = check_swap(model, meminfo)
    assert zram.state == "warn" and "1.9 GiB swap" in zram.detail and "swapfile" in zram.detail
    # The same board with zram turned off (SwapTotal 0, as /proc/meminfo then says).
    none = check_swap(model, meminfo.replace("SwapTotal:       2029616 kB",
                                             "SwapTotal:             0 kB"))
    assert none.state == "fail" and "sudo mkswap" in none.detail
    # zram plus a 4 GB swapfile.
    more = check_swap(model, meminfo.replace("SwapTotal:       2029616 kB",
                                             "SwapTotal:       6223920 kB"))
    assert more.state == "ok"
    assert check_swap(model, None).state == "warn"


def test_low_disk():
    assert check_disk(Path("/data"), 1 * GiB).state == "fail"
    assert check_disk(Path("/data"), 5 * GiB).state == "warn"
    assert check_disk(Path("/data"), 50 * GiB).state == "ok"
    assert check_disk(Path("/data"), None).state == "warn"


def test_power_modes():
    nano, xavier = "NVIDIA Jetson Nano Developer Kit", "NVIDIA Jetson Xavier NX Developer Kit"
    maxn = parse_nvpmodel(text("nano/nvpmodel-q.txt"))
    assert maxn == PowerMode("MAXN", 0)
    assert check_power_mode(nano, maxn).state == "ok"
    five_watt = check_power_mode(nano, parse_nvpmodel(text("nano/nvpmodel-q-5w.txt")))
    assert five_watt.state == "warn"
    assert "sudo nvpmodel -m 0" in five_watt.detail and "jetson_clocks" in five_watt.detail
    fifteen = parse_nvpmodel(text("xavier-nx/nvpmodel-q.txt"))
    assert fifteen == PowerMode("MODE_15W_6CORE", 2)
    assert "sudo nvpmodel -m 8" in check_power_mode(xavier, fifteen).detail
    # The fan line and NVPM chatter of `nvpmodel -q --verbose` come before the mode.
    assert parse_nvpmodel(text("xavier-nx/nvpmodel-q-verbose.txt")) == fifteen
    twenty = parse_nvpmodel("NV Power Mode: MODE_20W_6CORE\n8\n")  # the same format, mode 8
    assert check_power_mode(xavier, twenty).state == "ok"
    assert check_power_mode(nano, None).state == "warn"


def test_gather_reads_only_the_paths_it_is_given(tmp_path):
    facts = gather(host("nano", tmp_path), store=tmp_path / "results",
                   docker_info=docker_info(), nvpmodel=text("nano/nvpmodel-q.txt"))
    assert facts.device_model.startswith("NVIDIA Jetson Nano")
    assert facts.free_disk_bytes and facts.free_disk_bytes > 0
    checks = by_name(preflight(NANO, facts, tmp_path))
    assert [c.name for c in checks.values()] == [
        "L4T", "board", "docker runtime", "swap", "disk", "power mode", "clocks"]
    assert checks["L4T"].state == "ok" and checks["power mode"].state == "ok"
    assert checks["swap"].state == "warn"
    assert all("\n" not in check.detail for check in checks.values())


def test_the_nano_image_on_the_xavier_is_refused(tmp_path):
    facts = gather(host("xavier-nx", tmp_path), store=tmp_path, docker_info=docker_info())
    checks = preflight(NANO, facts, tmp_path)
    with pytest.raises(UserError, match="R35.2.1 but profile nano is built for R32.7.1"):
        raise_on_failure(checks)


def test_missing_files_are_facts_not_errors(tmp_path):
    facts = gather(HostPaths(tmp_path / "a", tmp_path / "b", tmp_path / "c", tmp_path / "d"),
                   store=tmp_path)
    assert facts == HostFacts(free_disk_bytes=facts.free_disk_bytes)
    assert by_name(preflight(XAVIER, facts, tmp_path))["L4T"].state == "fail"
    # The x86 twins run anywhere: only the disk is checked.
    assert [c.name for c in preflight(get_profile("x86-tf2.7"), facts, tmp_path)] == ["disk"]


def test_jetpack_is_named_from_the_hosts_l4t_release():
    assert jetpack_of(parse_l4t_release(text("nano/nv_tegra_release"))) == "4.6.1"
    assert jetpack_of(parse_l4t_release(text("xavier-nx/nv_tegra_release"))) == "5.1"
    assert jetpack_of(parse_l4t_release("# R99 (release), REVISION: 1.0")) is None
    assert jetpack_of(None) is None


def test_jetson_clocks_is_told_by_the_cpu_frequency_limits(tmp_path):
    idle = gather(HostPaths(cpus=cpufreq(tmp_path / "idle", 4, 102000, 1479000)),
                  store=tmp_path)
    pinned = gather(HostPaths(cpus=cpufreq(tmp_path / "pinned", 4, 1479000, 1479000)),
                    store=tmp_path)
    assert idle.cpu_freq_bounds == ((102000, 1479000),) * 4
    assert clocks_pinned(idle.cpu_freq_bounds) is False
    assert clocks_pinned(pinned.cpu_freq_bounds) is True
    assert clocks_pinned(()) is None
    assert by_name(preflight(NANO, idle, tmp_path))["clocks"].state == "warn"
    assert "jetson_clocks" in by_name(preflight(NANO, idle, tmp_path))["clocks"].detail
    assert by_name(preflight(NANO, pinned, tmp_path))["clocks"].state == "ok"


def test_the_device_environment_the_jobs_record(tmp_path):
    paths = host("nano", tmp_path)
    cpufreq(paths.cpus, 4, 1479000, 1479000)
    facts = gather(paths, store=tmp_path, nvpmodel=text("nano/nvpmodel-q.txt"))
    assert device_environment(facts) == {"EDGECOMPRESS_POWER_MODE": "MAXN (0)",
                                         "EDGECOMPRESS_JETPACK": "4.6.1",
                                         "EDGECOMPRESS_JETSON_CLOCKS": "1"}
    assert device_environment(HostFacts()) == {}
