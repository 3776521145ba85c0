"""Who owns a job container: the host, the launcher's pid and that process's start time.

Every job container carries its launcher's owner label, so ``gc`` removes only containers
whose launcher is gone (a pid alone is not enough: pids are reused, so the start time, in
clock ticks since boot from /proc/PID/stat, must match too) and never another live
launcher's job. A container owned by another host is not this host's to judge.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from launcher.docker_client import label


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    started: int  # /proc/PID/stat field 22, clock ticks since boot

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.started}"


def parse_owner(text: str | None) -> Owner | None:
    try:
        host, pid, started = (text or "").rsplit(":", 2)
        return Owner(host, int(pid), int(started))
    except ValueError:
        return None


def process_start(pid: int, proc: Path = Path("/proc")) -> int | None:
    """A process's start time, or None when there is no such process."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat[stat.rfind(")") + 2:].split()
    return int(fields[19])  # field 22 overall; fields[0] is field 3


def this_owner(pid: int, proc: Path = Path("/proc")) -> Owner:
    return Owner(socket.gethostname(), pid, process_start(pid, proc) or 0)


def orphaned(owner: Owner | None, host: str, proc: Path = Path("/proc")) -> bool | None:
    """True when the owning launcher is gone, False while it runs, None when this host
    cannot tell (another host's container, or no owner recorded)."""
    if owner is None or owner.host != host:
        return None
    return process_start(owner.pid, proc) != owner.started


def should_remove(labels: dict[str, str], state: str, host: str, everything: bool) -> bool:
    owner = parse_owner(labels.get(label("owner")))
    gone = orphaned(owner, host)
    if gone is not None:
        return gone
    if owner is None and state != "running":
        return True  # a container of a launcher from before owners were recorded, ended
    return everything
