"""One writer per store: ``run``, ``campaign run`` and ``merge`` hold ``STORE/.lock``.

Two launchers on one store would run every job twice, disturb each other's latencies, and
file over each other's results. The lock is ``flock`` on ``STORE/.lock``: the kernel drops it
when the holding process ends, however it ends (kill -9 included), so there is no stale lock
to clean up. The holder writes who it is into the file (host, pid, command, since) for the
one line a second launcher prints; that text is only a message, never the lock itself.

Readers (``results``, ``status``, ``report``, ``plan``) take no lock: every file a writer
changes is replaced by an atomic rename (launcher/files.py), so they see a file whole or not
at all. On NFS (a fleet's shared store) Linux clients turn flock into a POSIX lock the
server arbitrates (NFSv4, or NFSv3 with lockd): it holds across machines there too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from launcher.errors import UserError, storage_error

LOCK_NAME = ".lock"
MAX_HOLDER_BYTES = 4096


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    command: str
    since: str

    def describe(self) -> str:
        return f"{self.command!r} (pid {self.pid} on {self.host}, since {self.since})"


def this_holder(command: str) -> Holder:
    return Holder(socket.gethostname(), os.getpid(), command,
                  dt.datetime.now().astimezone().isoformat(timespec="seconds"))


def parse_holder(text: str) -> Holder | None:
    """The holder a lock file names, or None (empty: the holder has not written it yet)."""
    try:
        data = json.loads(text)
        return Holder(str(data["host"]), int(data["pid"]), str(data["command"]),
                      str(data["since"]))
    except (ValueError, KeyError, TypeError):
        return None


def held_message(store: Path, holder: Holder | None) -> str:
    who = holder.describe() if holder else "another launcher"
    return (f"the store {store} is in use by {who}: wait for it to finish, add --wait to "
            "queue behind it, or choose another --store")


@contextlib.contextmanager
def store_lock(store: Path, command: str, wait: bool = False,
               on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the store's lock for the block. Without ``wait`` a held lock is a UserError
    naming its holder; with it, ``on_wait`` is told once and the call blocks until free."""
    try:
        store.mkdir(parents=True, exist_ok=True)
        fd = os.open(store / LOCK_NAME, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
                     | os.O_NOFOLLOW, 0o644)
    except OSError as error:
        raise storage_error(error, store / LOCK_NAME) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise storage_error(error, store / LOCK_NAME) from None
            holder = parse_holder(os.pread(fd, MAX_HOLDER_BYTES, 0).decode("utf-8", "replace"))
            if not wait:
                raise UserError(held_message(store, holder)) from None
            if on_wait is not None:
                who = holder.describe() if holder else "another launcher"
                on_wait(f"waiting for {who} to release the store {store}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        me = json.dumps(this_holder(command).__dict__).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, me, 0)
        yield
    finally:
        os.close(fd)  # releases the lock; the holder text stays until the next holder's


def command_line() -> str:
    """What the holder was asked, as the user typed it (for the message)."""
    name = Path(sys.argv[0]).name if sys.argv else "edgecompress"
    return " ".join([name if name != "__main__.py" else "edgecompress", *sys.argv[1:]])[:300]
