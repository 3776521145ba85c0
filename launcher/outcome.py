"""How a finished container is judged. Pure: inspect data in, one named status out."""

from __future__ import annotations

from enum import Enum

from launcher.contract.record import JobStatus
from launcher.contract.vocabulary import ERROR_PREFIX

# The in-container guard: every job runs under coreutils' timeout, set GUARD_GRACE_S past the
# launcher's own deadline, so a job whose launcher died (kill -9, a lost host session) still
# ends near its deadline. timeout exits 124 when its TERM ended the job and 137 when the
# KILL after GUARD_KILL_AFTER_S did.
GUARD_GRACE_S = 30.0
GUARD_KILL_AFTER_S = 15
GUARD_EXIT_CODES = (124,)
# A job may exit 124 itself: the exit is the guard's only when the container ran until the
# guard's time (deadline + grace), within this much (the guard's time is rounded to whole
# seconds, and the launcher's clock starts before the container's).
GUARD_WALL_TOLERANCE_S = 2.0


def guard_command(deadline_s: float) -> list[str]:
    """The entry point of a job container: python3 -m jobs under the guard."""
    return ["timeout", f"--kill-after={GUARD_KILL_AFTER_S}", f"{deadline_s + GUARD_GRACE_S:.0f}",
            "python3", "-m", "jobs"]


class StopCause(str, Enum):
    """Why the launcher itself ended a container, if it did."""

    none = "none"
    deadline = "deadline"
    cancel = "cancel"
    engine_lost = "engine_lost"
    output_limit = "output_limit"
    # A fleet's: the node running the job went down (Swarm keeps its task 'running'), or the
    # node refused to start it (an image it cannot pull: 'rejected', with exit code 0).
    node_lost = "node_lost"
    rejected = "rejected"


def classify(
    exit_code: int | None,
    oom_killed: bool,
    stop_cause: StopCause,
    result_problem: str | None,
    log_tail: str = "",
    deadline_s: float = 0.0,
    cancel_signal: str = "SIGINT",
    detail: str = "",
    *,
    wall_s: float | None = None,
) -> tuple[JobStatus, str | None]:
    """``result_problem`` is None when result.json exists and validates, else what is wrong.

    The order matters: what the launcher did itself (cancel, deadline) explains a kill better
    than the exit code; OOM is read from State.OOMKilled, never guessed from exit 137; a zero
    exit is only a success when the result validates. ``detail`` is what the backend knows of
    a node lost or a rejected task.

    ``wall_s``: how long the container ran, as the launcher timed it (from before it started).
    Exit 124 is the in-container guard's timeout only when that reached the guard's time
    (``guard_reached``); before it, 124 is the job's own exit, a failure like any other. None
    (not known) takes 124 for the guard's, as every exit 124 was before the wall time was
    passed: a caller that timed the container passes it.
    """
    if stop_cause is StopCause.cancel:
        if cancel_signal == "SIGINT":
            return JobStatus.canceled, "canceled by the user (Ctrl-C)"
        return JobStatus.canceled, f"canceled: the launcher received {cancel_signal}"
    if stop_cause is StopCause.deadline:
        return JobStatus.timeout, f"still running after its {deadline_s:g} s deadline; killed"
    if stop_cause is StopCause.output_limit:
        return JobStatus.output_limit, "wrote more into out/ than its limit allows; stopped"
    if stop_cause is StopCause.engine_lost:
        return JobStatus.lost, ("lost the Docker engine while the job ran: start the engine "
                                "and run again")
    if stop_cause is StopCause.node_lost:
        return JobStatus.lost, f"the node running the job went down{_colon(detail)}"
    if stop_cause is StopCause.rejected:
        # Checked before the exit code: Swarm reports a rejected task with exit code 0.
        return JobStatus.failed, f"the node could not start the job{_colon(detail)}"
    if exit_code == 0:
        if result_problem is None:
            return JobStatus.succeeded, None
        return JobStatus.invalid_result, result_problem
    if oom_killed:
        return JobStatus.oom, "out of memory: the kernel killed the job (State.OOMKilled)"
    if exit_code in GUARD_EXIT_CODES and (wall_s is None or guard_reached(wall_s, deadline_s)):
        return JobStatus.timeout, (f"stopped by the in-container guard {GUARD_GRACE_S:g} s "
                                   f"after its {deadline_s:g} s deadline (exit {exit_code}): "
                                   "its launcher was gone or late")
    if exit_code is not None and exit_code > 128:
        return JobStatus.killed, f"killed by signal {exit_code - 128} (exit {exit_code})"
    reason = last_meaningful_line(log_tail) or "no output"
    return JobStatus.failed, f"exit {exit_code}: {reason}"


def guard_reached(wall_s: float, deadline_s: float) -> bool:
    """Had the container run long enough for the in-container guard to end it?"""
    return wall_s >= deadline_s + GUARD_GRACE_S - GUARD_WALL_TOLERANCE_S


def _colon(detail: str) -> str:
    return f": {detail}" if detail else ""


def last_meaningful_line(log: str) -> str:
    """The line that explains a failure: the job's own ERROR_PREFIX line if it printed one,
    else the last non-empty line (a traceback ends with the exception)."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(ERROR_PREFIX):
            return line[len(ERROR_PREFIX):]
    return lines[-1] if lines else ""
