"""Container ownership: gc removes only what a gone launcher left, judged from /proc."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from launcher.docker_client import label
from launcher.owner import Owner, orphaned, parse_owner, process_start, should_remove, this_owner

HOST = socket.gethostname()


def test_an_owner_round_trips_through_its_label():
    owner = this_owner(os.getpid())
    assert owner.started and owner.started == process_start(os.getpid())
    assert parse_owner(str(owner)) == owner
    assert parse_owner("host-with:colons:12:34") == Owner("host-with:colons", 12, 34)
    assert parse_owner("garbage") is None and parse_owner(None) is None


def test_a_live_launcher_is_not_orphaned_and_a_dead_one_is():
    assert orphaned(this_owner(os.getpid()), HOST) is False
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    owner = this_owner(child.pid)
    child.wait()
    assert orphaned(owner, HOST) is True


def test_a_reused_pid_is_not_its_old_owner():
    me = this_owner(os.getpid())
    assert orphaned(Owner(HOST, me.pid, me.started + 1), HOST) is True


def test_another_hosts_container_is_not_ours_to_judge():
    assert orphaned(Owner("elsewhere", 1, 1), HOST) is None


def test_process_start_reads_field_22_after_a_command_with_spaces(tmp_path):
    (tmp_path / "42").mkdir()
    fields = ["S"] + [str(n) for n in range(4, 23)] + ["99"] * 10
    (tmp_path / "42" / "stat").write_text("42 (a (weird) name) " + " ".join(fields))
    assert process_start(42, tmp_path) == 22
    assert process_start(43, tmp_path) is None


def test_gc_decisions():
    live = {label("owner"): str(this_owner(os.getpid()))}
    foreign = {label("owner"): "elsewhere:1:1"}
    assert should_remove(live, "running", HOST, everything=True) is False
    assert should_remove(foreign, "running", HOST, everything=False) is False
    assert should_remove(foreign, "running", HOST, everything=True) is True
    assert should_remove({}, "exited", HOST, everything=False) is True
    assert should_remove({}, "running", HOST, everything=False) is False
