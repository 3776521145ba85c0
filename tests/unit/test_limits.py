"""Job limits: the profile's defaults, the campaign's and the command line's over them; the
log kept as head and tail."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from launcher.device.profiles import get_profile
from launcher.joblog import JobLog
from launcher.limits import Limits, MiB, host_memory_bytes, resolve, save_apart
from launcher.study.campaign import parse_config
from launcher.target import job_limits

GiB = 1024**3


def test_a_nano_job_fits_the_board_and_may_swap(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:        4059712 kB\nSwapTotal: 4194300 kB\n")
    resolved = job_limits(get_profile("nano"), Limits(), meminfo)
    assert resolved.memory_bytes == 3584 * MiB < 4059712 * 1024
    assert resolved.memory_swap_bytes == (3584 + 4096) * MiB
    assert resolved.pids == 4096 and resolved.tmp_bytes == GiB
    assert resolved.log_bytes == 16 * MiB and resolved.out_bytes == 4096 * MiB


def test_a_workstation_job_gets_most_of_the_host_and_no_swap(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\n")
    resolved = job_limits(get_profile("x86-tf2.12"), Limits(), meminfo)
    assert resolved.memory_bytes == int(24000000 * 1024 * 0.9) // MiB * MiB
    assert resolved.memory_swap_bytes == resolved.memory_bytes


def test_the_command_line_over_the_campaign_over_the_profile(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 8000000 kB\n")
    config = parse_config('name = "x"\nmodels = ["MobileNetV3Small"]\nmethods = ["fp16"]\n'
                          "[limits]\nmemory_mb = 2048\npids = 512\n", "x.toml")
    chosen = Limits(pids=256).over(config.limits)
    resolved = job_limits(get_profile("nano"), chosen, meminfo)
    assert (resolved.memory_bytes, resolved.pids) == (2048 * MiB, 256)
    assert resolved.memory_swap_bytes == (2048 + 4096) * MiB  # the profile's swap stays


def test_bad_limits_are_refused():
    with pytest.raises(ValidationError):
        Limits(memory_mb=1)
    with pytest.raises(ValidationError):
        Limits(cpus=2)  # type: ignore[call-arg]


def test_meminfo_parsing():
    assert host_memory_bytes("MemFree: 1 kB\nMemTotal: 2 kB\n") == 2048
    with pytest.raises(ValueError):
        host_memory_bytes("")
    assert resolve(Limits(), 10 * GiB).memory_bytes == 9 * GiB


def test_small_memory_limits_write_the_savedmodel_apart():
    """A Nano's job (3.5 GB) writes its SavedModel in a fresh process; a Xavier's (7 GB) and a
    workstation's write it in the job's own; no limits at all: in the job's own."""
    def limited(profile: str) -> bool:
        return save_apart(resolve(Limits(memory_mb=get_profile(profile).memory_mb), 64 * GiB))

    assert limited("nano") and not limited("xavier")
    assert not save_apart(resolve(Limits(), 32 * GiB)) and not save_apart(None)


def test_a_capped_log_keeps_its_head_and_tail(tmp_path):
    log = JobLog(tmp_path / "log.txt", cap_bytes=20)
    for number in range(100):
        log.write(f"{number:03d}\n".encode())
    log.close()
    text = (tmp_path / "log.txt").read_text()
    assert text.startswith("000\n001\n00\n[edgecompress: ")
    assert text.endswith("bytes]\n7\n098\n099\n")
    assert "380 bytes of this log were dropped" in text
    log.write(b"after close is ignored")
    assert "after close" not in (tmp_path / "log.txt").read_text()


def test_a_short_log_is_kept_whole(tmp_path):
    log = JobLog(tmp_path / "log.txt", cap_bytes=1000)
    log.write(b"hello\n")
    log.write(b"world\n")
    log.close()
    assert (tmp_path / "log.txt").read_text() == "hello\nworld\n"
