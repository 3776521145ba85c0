"""A job's log.txt: written as the output comes, so a launcher that dies mid-job still leaves
it, and capped, so a job printing without end cannot fill the disk or the launcher's memory.
The first half of the budget is written through; past it only the last half is kept (in
memory) and appended when the job ends, after one line saying how much was dropped."""

from __future__ import annotations

import threading
from pathlib import Path


class JobLog:
    def __init__(self, path: Path, cap_bytes: int) -> None:
        self._file = open(path, "ab")  # noqa: SIM115 - closed by close()
        self._head_left = cap_bytes // 2
        self._tail_cap = cap_bytes - cap_bytes // 2
        self._tail = bytearray()
        self._dropped = 0
        self._lock = threading.Lock()
        self._closed = False

    def write(self, chunk: bytes) -> None:
        with self._lock:
            if self._closed:
                return
            if self._head_left > 0:
                head = chunk[:self._head_left]
                self._file.write(head)
                self._file.flush()
                self._head_left -= len(head)
                chunk = chunk[len(head):]
            if chunk:
                self._tail += chunk
                excess = len(self._tail) - self._tail_cap
                if excess > 0:
                    self._dropped += excess
                    del self._tail[:excess]

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._dropped:
                self._file.write(f"\n[edgecompress: {self._dropped:,} bytes of this log were "
                                 "dropped here: the log keeps its first and last "
                                 f"{self._tail_cap:,} bytes]\n".encode())
            self._file.write(bytes(self._tail))
            self._file.close()
