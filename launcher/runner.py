"""Run one job as one container and file what it leaves behind.

create -> start -> wait against our own deadline -> inspect -> classify -> validate -> file,
with the container removed in ``finally`` whatever happened (repo2docker's pattern).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from launcher.backend import Backend, Ended, LocalBackend, Watch
from launcher.contract.record import JobStatus, RunRecord
from launcher.contract.results import JobResult
from launcher.contract.specs import AnySpec
from launcher.device.power import POWER_LOG, Sampling
from launcher.docker_client import Engine
from launcher.errors import UserError
from launcher.execution.cancel import Cancel, CtrlC
from launcher.execution.container import (
    UNPRIVILEGED_UID,
    container_request,
    container_user,
    gpu_groups,
    session_labels,
)
from launcher.files import first_unreadable_by_others
from launcher.joblog import JobLog
from launcher.keys import canonical_json, job_key
from launcher.limits import Resolved
from launcher.outcome import StopCause, classify
from launcher.store import RESULT_NAME, Store, load_result
from launcher.untrusted import MAX_TREE_ENTRIES, MiB, Usage, disk_usage, give_back, read_json


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
    network: bool = False  # only for the job that downloads (prepare); the others run offline
    caches: Mapping[str, Path] = field(default_factory=dict)  # container path -> host, rw
    # container path -> host, read-only: a cache another job filled (the prepared tfds data)
    read_caches: Mapping[str, Path] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)  # e.g. the device power mode
    # Benchmark jobs: the host command that samples the device's power while the job runs
    # (launcher/device/power.py); None on machines without one.
    power: Sampling | None = None
    parallel: int = 1  # jobs the site lets run at once beside it (recorded, not keyed)

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


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def run_job(where: Engine | Backend, store: Store, request: JobRequest,
            on_line: Callable[[str], None] | None = None,
            cancel: Cancel | None = None) -> JobOutcome:
    """``where`` the container runs: this engine, or a Backend (a fleet's board, a test's
    report); everything else (the spec, the mounts, judging and filing) is the same wherever it
    ran. ``cancel``: what stops the job (a campaign's, shared by every job it runs); None: this
    job's own Ctrl-C."""
    key = request.key
    folder = store.job_folder(request.job, key)
    if not request.force:
        stored = store.load(folder)
        if stored.result is not None and stored.record is not None:
            return JobOutcome(folder, stored.record, stored.result, reused=True)
        adopted = _adopt(store, folder, request)
        if adopted is not None:
            return adopted
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

    for host in request.caches.values():
        host.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            os.chown(host, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
    limits = request.limits
    container = container_request(
        request, folder, container_user(), gpu_groups(request.runtime),
        session_labels("job", job=request.job, key=key), uuid.uuid4().hex[:6])

    started_at, t0 = _now(), time.monotonic()
    log_bytes = limits.log_bytes if limits else DEFAULT_LOG_BYTES
    log = JobLog(folder / "log.txt", log_bytes)
    backend = LocalBackend(where) if isinstance(where, Engine) else where
    sampler = (backend.power_sampler(request.power, folder / POWER_LOG)
               if request.power is not None and request.job == "benchmark" else None)
    stopping = contextlib.nullcontext(cancel) if cancel is not None else CtrlC()
    with stopping as stop, (sampler or contextlib.nullcontext()):
        watch = Watch(deadline=t0 + request.deadline_s, cancel=stop,
                      over_limit=_out_watch(out_dir, limits.out_bytes) if limits else None,
                      log=log, log_path=folder / "log.txt", log_bytes=log_bytes,
                      on_line=on_line)
        try:
            ended = backend.execute(container, watch)
        finally:
            log.close()
    # From here to the record nothing the job left may stop a status.json being filed: a
    # planted folder, a tree too deep to walk, a result that breaks a check. Otherwise the
    # job has no status, and every re-run runs it (and fails here) again.
    try:
        status, reason, result = _judge(request, out_dir, folder, spec_json, ended,
                                        stop.signal_name or "SIGINT", limits,
                                        time.monotonic() - t0)
    except Exception as error:  # noqa: BLE001 - whatever went wrong, it is named, not raised
        status, reason, result = (JobStatus.invalid_result,
                                  f"what the job left could not be checked: {_one_line(error)}",
                                  None)
    if status is not JobStatus.succeeded:
        try:
            _set_aside_result(out_dir)
        except OSError as error:  # the record below still says it is no success
            reason = f"{reason}; result.json could not be set aside: {_one_line(error)}"
    power = None
    if sampler and status is JobStatus.succeeded:
        try:
            power = sampler.measure(result)
        except Exception as error:  # noqa: BLE001 - a bad power log costs the power, not the run
            reason = f"power not measured: {_one_line(error)}"
    record = RunRecord(
        key=key, job=request.job, status=status, reason=reason, exit_code=ended.exit_code,
        oom_killed=ended.oom_killed, image=request.image, image_id=request.image_id,
        started_at=started_at, finished_at=_now(), wall_s=time.monotonic() - t0,
        deadline_s=request.deadline_s,
        inputs={name: str(path.resolve()) for name, path in request.inputs.items()},
        power=power, parallel=request.parallel,
    )
    store.write_record(folder, record)
    return JobOutcome(folder, record, result if status is JobStatus.succeeded else None)


def _judge(request: JobRequest, out_dir: Path, folder: Path, spec_json: str, ended: Ended,
           cancel_signal: str, limits: Resolved | None, wall_s: float,
           ) -> tuple[JobStatus, str | None, JobResult | None]:
    """The status of an ended container, its reason, and its valid result if it succeeded."""
    if os.getuid() == 0:
        # Back to root before anything reads it: uid 1000 on the host may be anybody.
        give_back(out_dir, 0, 0)
    log_text = _log_tail(folder / "log.txt")
    result: JobResult | None = None
    problem: str | None = None
    if ended.exit_code == 0 and ended.cause is StopCause.none:
        result, problem = load_result(out_dir, json.loads(spec_json))
    # stderr last: a job's own 'error:' line or a traceback's last line is found there first.
    status, reason = classify(ended.exit_code, ended.oom_killed, ended.cause, problem,
                              log_text[-4000:] + "\n" + ended.error_tail,
                              request.deadline_s, cancel_signal, ended.detail, wall_s=wall_s)
    if status is JobStatus.output_limit and limits is not None:
        reason = f"{reason}: {_out_overrun(disk_usage(out_dir), limits.out_bytes)}"
    if status is not JobStatus.succeeded and ended.note and reason:
        reason = f"{reason}; {ended.note}"
    return status, reason, result if status is JobStatus.succeeded else None


def _out_overrun(usage: Usage, cap_bytes: int) -> str:
    if not usage.complete or usage.entries > MAX_TREE_ENTRIES:
        return f"more than {MAX_TREE_ENTRIES:,} files and folders"
    return f"{usage.bytes / MiB:,.1f} MB, over its {cap_bytes / MiB:,.1f} MB cap"


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text[:200]}"


def _adopt(store: Store, folder: Path, request: JobRequest) -> JobOutcome | None:
    """A job whose container finished but whose launcher died before filing it (kill -9,
    a lost session) left out/result.json and no status.json: if that result validates
    against the folder's own spec and was made by this image, it is filed, not redone."""
    out_dir = folder / "out"
    if os.path.lexists(folder / "status.json") or not os.path.lexists(out_dir / RESULT_NAME):
        return None
    try:
        spec = read_json(folder / "spec.json")
        if spec != json.loads(canonical_json(request.spec)):
            return None
        if os.getuid() == 0:
            give_back(out_dir, 0, 0)
        result, problem = load_result(out_dir, spec)
    except Exception:  # noqa: BLE001 - anything odd: run the job again, as before
        return None
    if result is None or problem or result.environment.image_id != request.image_id:
        return None
    record = RunRecord(
        key=request.key, job=request.job, status=JobStatus.succeeded,
        reason="adopted: the job had finished, its launcher stopped before filing it",
        exit_code=0, image=request.image, image_id=request.image_id,
        started_at=result.timings.started_at, finished_at=_now(),
        wall_s=result.timings.total_s, deadline_s=request.deadline_s,
        inputs={name: str(path.resolve()) for name, path in request.inputs.items()},
    )
    store.write_record(folder, record)
    return JobOutcome(folder, record, result)


def _set_aside_result(out_dir: Path) -> None:
    """A result that is not a success must never be read as one. Under a fresh name: the
    job may have planted anything (a folder, a link) at result.rejected.json."""
    result = out_dir / RESULT_NAME
    if os.path.lexists(result):  # a link or a FIFO too: rename it, never open it
        target = out_dir / "result.rejected.json"
        if os.path.lexists(target):
            target = out_dir / f"result.rejected.{uuid.uuid4().hex[:8]}.json"
        os.rename(result, target)


DEFAULT_LOG_BYTES = 16 * 1024**2


def _out_watch(out_dir: Path, cap_bytes: int) -> Callable[[], bool]:
    def over() -> bool:
        usage = disk_usage(out_dir)
        return not usage.complete or usage.bytes > cap_bytes
    return over


def _log_tail(path: Path, size: int = 4000) -> str:
    """The end of the kept log: where a failure explains itself."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
