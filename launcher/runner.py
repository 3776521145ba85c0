"""Run one job as one container and file what it leaves behind.

create -> start -> wait against our own deadline -> inspect -> classify -> validate -> file,
with the container removed in ``finally`` whatever happened (repo2docker's pattern).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import grp
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from launcher.device.power import POWER_LOG, PowerSampler, Sampling
from launcher.docker_client import ContainerRequest, Engine, Mount, label
from launcher.errors import EngineError, UserError
from launcher.files import first_unreadable_by_others
from launcher.joblog import JobLog
from launcher.keys import canonical_json, job_key
from launcher.limits import Resolved
from launcher.outcome import StopCause, classify, guard_command
from launcher.owner import Owner, this_owner
from launcher.schema import (
    CONTAINER_INPUTS_DIR,
    CONTAINER_OUT_DIR,
    CONTAINER_SPEC_PATH,
    ENV_IMAGE_ID,
    AnySpec,
    JobResult,
    JobStatus,
    RunRecord,
)
from launcher.store import RESULT_NAME, Store, load_result
from launcher.untrusted import disk_usage, give_back

# Jobs run as this user when the launcher runs as root: never root inside the container.
UNPRIVILEGED_UID = 1000
SESSION_ID = uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class JobRequest:
    spec: AnySpec
    image: str
    image_id: str
    inputs: Mapping[str, Path] = field(default_factory=dict)  # name -> host path, mounted ro
    deadline_s: float = 3600.0
    runtime: str | None = None
    # Memory, pids, /tmp, the log kept and out/'s size (launcher/limits.py); None: unlimited,
    # for tests that build requests by hand (request_for always sets them).
    limits: Resolved | None = None
    force: bool = False
    network: bool = False  # only for jobs that download (tfds); everything else runs offline
    caches: Mapping[str, Path] = field(default_factory=dict)  # container path -> host, rw
    environment: Mapping[str, str] = field(default_factory=dict)  # e.g. the device power mode
    # Benchmark jobs: the host command that samples the device's power while the job runs
    # (launcher/power.py); None on machines without one.
    power: Sampling | None = None

    @property
    def job(self) -> str:
        return self.spec.job

    @property
    def key(self) -> str:
        return job_key(self.spec, self.image_id)


@dataclass(frozen=True)
class JobOutcome:
    folder: Path
    record: RunRecord
    result: JobResult | None
    reused: bool = False


@functools.cache
def launcher_owner() -> Owner:
    return this_owner(os.getpid())


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def container_user() -> str:
    uid = os.getuid()
    return f"{UNPRIVILEGED_UID}:{UNPRIVILEGED_UID}" if uid == 0 else f"{uid}:{os.getgid()}"


# On a Jetson the GPU's device nodes (/dev/nvhost-*, /dev/nvmap) belong to the video group;
# a container user outside it sees no CUDA device (NVIDIA/nvidia-docker#1449).
GPU_GROUPS = ("video", "render")


def gpu_groups(runtime: str | None,
               lookup: Callable[[str], int | None] | None = None) -> tuple[str, ...]:
    """The host's gids of the GPU device groups, for containers of the nvidia runtime."""
    if runtime != "nvidia":
        return ()
    find = lookup or _host_gid
    return tuple(str(gid) for gid in (find(name) for name in GPU_GROUPS) if gid is not None)


def _host_gid(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def run_job(engine: Engine, store: Store, request: JobRequest,
            on_line: Callable[[str], None] | None = None,
            backend: Backend | None = None) -> JobOutcome:
    """``backend`` starts the container and waits for it (default: on ``engine``, here);
    everything else (the spec, the mounts, judging and filing) is the same wherever it ran."""
    key = request.key
    folder = store.job_folder(request.job, key)
    if not request.force:
        stored = store.load(folder)
        if stored.result is not None and stored.record is not None:
            return JobOutcome(folder, stored.record, stored.result, reused=True)
    for name, path in request.inputs.items():
        if not path.exists():
            raise UserError(f"input {name} {path} does not exist: check the path")
        if os.getuid() == 0:
            blocked = first_unreadable_by_others(path)
            if blocked is not None:
                raise UserError(
                    f"input {name}: {blocked} is not readable by the job's unprivileged user "
                    f"(uid {UNPRIVILEGED_UID}): chmod -R a+rX {path}, or run the launcher as "
                    "a user in the docker group")

    spec_json = canonical_json(request.spec)
    store.prepare(folder, spec_json + "\n")
    out_dir = folder / "out"
    if os.getuid() == 0:
        os.chown(out_dir, UNPRIVILEGED_UID, UNPRIVILEGED_UID)

    mounts = [
        Mount(str((folder / "spec.json").resolve()), CONTAINER_SPEC_PATH, read_only=True),
        Mount(str(out_dir.resolve()), CONTAINER_OUT_DIR, read_only=False),
    ]
    mounts += [Mount(str(path.resolve()), f"{CONTAINER_INPUTS_DIR}/{name}",
                     read_only=True)
               for name, path in sorted(request.inputs.items())]
    for target, host in sorted(request.caches.items()):
        host.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            os.chown(host, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
        mounts.append(Mount(str(host.resolve()), target, read_only=False))
    limits = request.limits
    container_request = ContainerRequest(
        image=request.image_id,
        entrypoint=guard_command(request.deadline_s),
        command=["--spec", CONTAINER_SPEC_PATH, "--out", CONTAINER_OUT_DIR],
        name=f"edgecompress-{request.job}-{key[:12]}-{uuid.uuid4().hex[:6]}",
        mounts=tuple(mounts),
        labels={
            label("session"): SESSION_ID,
            label("kind"): "job",
            label("job"): request.job,
            label("key"): key,
            label("owner"): str(launcher_owner()),
        },
        environment={**request.environment, ENV_IMAGE_ID: request.image_id},
        user=container_user(),
        group_add=gpu_groups(request.runtime),
        runtime=request.runtime,
        network_disabled=not request.network,
        mem_limit=limits.memory_bytes if limits else None,
        memswap_limit=limits.memory_swap_bytes if limits else None,
        pids_limit=limits.pids if limits else None,
        tmp_bytes=limits.tmp_bytes if limits else None,
        log_bytes=limits.log_bytes if limits else None,
    )

    started_at, t0 = _now(), time.monotonic()
    log_bytes = limits.log_bytes if limits else DEFAULT_LOG_BYTES
    log = JobLog(folder / "log.txt", log_bytes)
    backend = backend or LocalBackend(engine)
    sampler = (backend.power_sampler(request.power, folder / POWER_LOG)
               if request.power is not None and request.job == "benchmark" else None)
    with CtrlC() as ctrl_c, (sampler or contextlib.nullcontext()):
        watch = Watch(deadline=t0 + request.deadline_s, ctrl_c=ctrl_c,
                      over_limit=_out_watch(out_dir, limits.out_bytes) if limits else None,
                      log=log, log_path=folder / "log.txt", log_bytes=log_bytes,
                      on_line=on_line)
        try:
            ended = backend.execute(container_request, watch)
        finally:
            log.close()
    cause, exit_code, oom_killed = ended.cause, ended.exit_code, ended.oom_killed

    if os.getuid() == 0:
        # Back to root before anything reads it: uid 1000 on the host may be anybody.
        give_back(out_dir, 0, 0)
    log_text = _log_tail(folder / "log.txt")

    result: JobResult | None = None
    problem: str | None = None
    if exit_code == 0 and cause is StopCause.none:
        result, problem = load_result(out_dir, json.loads(spec_json))
    # stderr last: a job's own 'error:' line or a traceback's last line is found there first.
    status, reason = classify(exit_code, oom_killed, cause, problem,
                              log_text[-4000:] + "\n" + ended.error_tail,
                              request.deadline_s, ctrl_c.signal_name or "SIGINT", ended.detail)
    if status is not JobStatus.succeeded:
        _set_aside_result(out_dir)
        if ended.note and reason:
            reason = f"{reason}; {ended.note}"
    record = RunRecord(
        key=key, job=request.job, status=status, reason=reason, exit_code=exit_code,
        oom_killed=oom_killed, image=request.image, image_id=request.image_id,
        started_at=started_at, finished_at=_now(), wall_s=time.monotonic() - t0,
        deadline_s=request.deadline_s,
        inputs={name: str(path.resolve()) for name, path in request.inputs.items()},
        power=sampler.measure(result) if sampler and status is JobStatus.succeeded else None,
    )
    store.write_record(folder, record)
    return JobOutcome(folder, record, result if status is JobStatus.succeeded else None)


@dataclass(frozen=True)
class Watch:
    """What a backend watches while its job runs; run_job owns all of it."""

    deadline: float  # time.monotonic() by which the job must have ended
    ctrl_c: CtrlC
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
    log in ``watch.log``, stop it on Ctrl-C, and leave nothing behind. One module each:
    this engine (LocalBackend), a Swarm node (launcher/fleet/backend.py)."""

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
            cause = _wait(engine, container_id, watch.deadline, watch.ctrl_c, watch.over_limit)
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


def _set_aside_result(out_dir: Path) -> None:
    """A result that is not a success must never be read as one."""
    result = out_dir / RESULT_NAME
    if os.path.lexists(result):  # a link or a FIFO too: rename it, never open it
        os.replace(result, out_dir / "result.rejected.json")


# Handled like Ctrl-C: a terminal closing (SIGHUP) or a service manager stopping the launcher
# (SIGTERM) must stop the running job and record it canceled, not leave it running.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class CtrlC:
    """The first SIGINT, SIGTERM or SIGHUP asks the running job to stop (the run then ends as
    canceled, everything finished before it kept); a second one raises KeyboardInterrupt at
    once. Installed only in the main thread (signals are delivered there)."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name = ""
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> CtrlC:
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, previous)

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.signal_name = signal.Signals(signum).name


# How often the wait loop looks at the deadline and Ctrl-C; exits are seen at once anyway.
WAIT_SLICE_S = 0.5
# How often it measures out/ against its limit, and how long the log may take to drain.
WATCH_S = 2.0
LOG_DRAIN_S = 30.0
LINE_MAX = 64 * 1024
# How long a signal-killed job's engine must keep answering for the kill to count as the job's
# own fate rather than a dockerd shutting down.
ENGINE_SETTLE_S = 3.0
DEFAULT_LOG_BYTES = 16 * 1024**2


def _out_watch(out_dir: Path, cap_bytes: int) -> Callable[[], bool]:
    return lambda: disk_usage(out_dir) > cap_bytes


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
    tmp = path.with_name(path.name + ".tmp")
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


def _log_tail(path: Path, size: int = 4000) -> str:
    """The end of the kept log: where a failure explains itself."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _wait(engine: Engine, container_id: str, deadline: float, ctrl_c: CtrlC,
          over_limit: Callable[[], bool] | None = None) -> StopCause:
    """Wait for exit against our own deadline (the SDK's timeout only bounds one HTTP call),
    looking at out/'s size every WATCH_S."""
    next_watch = time.monotonic() + WATCH_S
    try:
        while True:
            if ctrl_c.requested:
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
                return StopCause.cancel if ctrl_c.requested else StopCause.none
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
