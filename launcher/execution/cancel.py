"""One way to stop what runs: a ``Cancel`` every running job watches, and ``CtrlC``, which sets
it from the signals a user or a service manager sends.

Signals are delivered to the main thread only, so a job waiting in another thread (a campaign
running several at once, a fleet's boards) cannot see a handler's flag of its own: the main
thread's handler sets the one Cancel they all hold.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

# Handled like Ctrl-C: a terminal closing (SIGHUP) or a service manager stopping the launcher
# (SIGTERM) must stop the running job and record it canceled, not leave it running.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Cancel:
    """Set once; every job that holds it stops (recorded canceled) and nothing more starts."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name = ""  # the signal that set it, for the record's reason

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def set(self, signal_name: str = "") -> None:
        if not self._event.is_set():
            self.signal_name = signal_name
        self._event.set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)


class CtrlC:
    """The first SIGINT, SIGTERM or SIGHUP sets ``cancel`` (the run then ends as canceled,
    everything finished before it kept); a second one raises KeyboardInterrupt at once.
    Installed only in the main thread (signals are delivered there)."""

    def __init__(self, cancel: Cancel | None = None) -> None:
        self.cancel = cancel or Cancel()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Cancel:
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self.cancel

    def __exit__(self, *exc: object) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, previous)

    def _handle(self, signum: int, frame: object) -> None:
        if self.cancel.requested:
            raise KeyboardInterrupt
        self.cancel.set(signal.Signals(signum).name)
