"""Where a job's container runs and how the launcher waits for it: the Backend seam (start it,
wait against the launcher's own deadline, keep its log, stop it when the run is canceled
(launcher/execution/cancel.py), leave nothing behind), and this engine's LocalBackend. A fleet's
backend is launcher/fleet/backend.py; run_job (launcher/runner.py) judges what they report.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from launcher.device.power import PowerSampler, Sampling
from launcher.docker_client import ContainerRequest, Engine
from launcher.errors import EngineError
from launcher.execution.cancel import Cancel
from launcher.files import unique_temp
from launcher.joblog import JobLog
from launcher.outcome import StopCause

# How often the wait loop looks at the deadline and Ctrl-C; exits are seen at once anyway.
WAIT_SLICE_S = 0.5
# How often it measures out/ against its limit, and how long the log may take to drain.
WATCH_S = 2.0
LOG_DRAIN_S = 30.0
LINE_MAX = 64 * 1024
# How long a signal-killed job's engine must keep answering for the kill to count as the job's
# own fate rather than a dockerd shutting down.
ENGINE_SETTLE_S = 3.0


@dataclass(frozen=True)
class Watch:
    """What a backend watches while its job runs; run_job owns all of it."""

    deadline: float  # time.monotonic() by which the job must have ended
    cancel: Cancel  # set: stop the job (Ctrl-C, or the run stopping)
    over_limit: Callable[[], bool] | None  # out/ grew past its cap
    log: JobLog  # where the output goes as it comes
    log_path: Path  # the kept log, to be replaced by the engine's whole copy at the end
    log_bytes: int
    on_line: Callable[[str], None] | None


@dataclass(frozen=True)
class Ended:
    """How a container ended, as its backend saw it; run_job judges it (outcome.classify)."""

    cause: StopCause
    exit_code: int | None
    oom_killed: bool = False
    error_tail: str = ""  # the end of its stderr alone
    detail: str = ""  # what the backend knows of a lost node or a rejected task
    note: str = ""  # added to a failure's reason: what this backend cannot tell


class Backend(Protocol):
    """Where a job's container runs: start it, wait for it against ``watch.deadline``, keep its
    log in ``watch.log``, stop it when ``watch.cancel`` is set, and leave nothing behind. One
    module each: this engine (LocalBackend), a Swarm node (launcher/fleet/backend.py)."""

    def execute(self, request: ContainerRequest, watch: Watch) -> Ended: ...

    def power_sampler(self, sampling: Sampling, log_path: Path) -> PowerSampler:
        """What samples the board's power around a benchmark, where the job runs: writes the
        stamped lines to ``log_path`` by the end of its ``with`` block."""
        ...


class LocalBackend:
    """The job's container on one Docker engine: create, start, follow its log, wait against
    our own deadline, inspect, remove in ``finally``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def power_sampler(self, sampling: Sampling, log_path: Path) -> PowerSampler:
        return PowerSampler(sampling, log_path)  # on this host: the board the job runs on

    def execute(self, request: ContainerRequest, watch: Watch) -> Ended:
        engine = self.engine
        cause = StopCause.none
        exit_code: int | None = None
        error_tail = ""
        oom_killed = False
        streamer: threading.Thread | None = None
        container_id = engine.create(request)
        try:
            engine.start(container_id)
            streamer = _stream(engine, container_id, watch.log, watch.on_line)
            cause = _wait(engine, container_id, watch.deadline, watch.cancel, watch.over_limit)
            try:
                state = engine.state(container_id)
                exit_code, oom_killed = state.exit_code, state.oom_killed
                if (cause is StopCause.none and not oom_killed and (exit_code or 0) > 128
                        and not _engine_stays(engine)):
                    # A stopping dockerd signals its containers before it goes: the job did
                    # not fail, its engine went away.
                    cause = StopCause.engine_lost
                streamer.join(timeout=LOG_DRAIN_S)
                watch.log.close()
                # A follower can miss the last lines of a container that just exited: the
                # log kept is read again, whole and capped, from the engine's copy.
                _reread_log(engine, container_id, watch.log_path, watch.log_bytes)
                error_tail = engine.error_tail(container_id).decode("utf-8", "replace")
            except EngineError:
                cause = StopCause.engine_lost
        finally:
            # The engine may be gone; 'edgecompress gc' sweeps leftovers by label.
            with contextlib.suppress(Exception):
                engine.remove_container(container_id)
            if streamer is not None:
                streamer.join(timeout=2)
            watch.log.close()
        return Ended(cause, exit_code, oom_killed, error_tail)


def _engine_stays(engine: Engine) -> bool:
    """After a job died of a signal nobody here sent: is the engine still there a moment
    later?"""
    settle = time.monotonic() + ENGINE_SETTLE_S
    while time.monotonic() < settle:
        if not engine.alive():
            return False
        time.sleep(0.25)
    return True


def _reread_log(engine: Engine, container_id: str, path: Path, cap_bytes: int) -> None:
    """Replace the streamed log with the engine's whole copy, capped; if the engine fails
    half-way, the streamed log stays and no temp file is left."""
    tmp = unique_temp(path)
    fresh = JobLog(tmp, cap_bytes)
    try:
        for chunk in engine.stream_logs(container_id, follow=False):
            fresh.write(chunk)
    except Exception:  # noqa: BLE001 - the engine went away: keep what was streamed
        fresh.close()
        tmp.unlink(missing_ok=True)
        return
    fresh.close()
    os.replace(tmp, path)


def _wait(engine: Engine, container_id: str, deadline: float, cancel: Cancel,
          over_limit: Callable[[], bool] | None = None) -> StopCause:
    """Wait for exit against our own deadline (the SDK's timeout only bounds one HTTP call),
    looking at out/'s size every WATCH_S."""
    next_watch = time.monotonic() + WATCH_S
    try:
        while True:
            if cancel.requested:
                engine.stop(container_id, grace_s=3)
                return StopCause.cancel
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                engine.kill(container_id)
                return StopCause.deadline
            if over_limit is not None and time.monotonic() >= next_watch:
                next_watch = time.monotonic() + WATCH_S
                if over_limit():
                    engine.kill(container_id)
                    return StopCause.output_limit
            if engine.wait(container_id, timeout=min(remaining, WAIT_SLICE_S)):
                return StopCause.cancel if cancel.requested else StopCause.none
    except EngineError:
        return StopCause.engine_lost


def _stream(engine: Engine, container_id: str, log: JobLog,
            on_line: Callable[[str], None] | None) -> threading.Thread:
    """Copy the container's output into the job's log as it comes (launcher/joblog.py) and
    hand each line to ``on_line``; the stream ends when the container does."""

    def pump() -> None:
        try:
            pending = b""
            for chunk in engine.stream_logs(container_id):
                log.write(chunk)
                if on_line is None:
                    continue
                *lines, pending = (pending + chunk).split(b"\n")
                pending = pending[-LINE_MAX:]  # a line without end must not grow unbounded
                for line in lines:
                    on_line(line.decode("utf-8", "replace"))
        except Exception:  # noqa: BLE001 - the container went away under us; nothing to add
            return

    thread = threading.Thread(target=pump, name="edgecompress-logs", daemon=True)
    thread.start()
    return thread
