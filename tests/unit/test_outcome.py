import pytest

from launcher.contract.record import JobStatus
from launcher.outcome import (
    GUARD_GRACE_S,
    GUARD_KILL_AFTER_S,
    GUARD_WALL_TOLERANCE_S,
    StopCause,
    classify,
    guard_command,
    last_meaningful_line,
)


@pytest.mark.parametrize(
    ("exit_code", "oom", "cause", "problem", "expected"),
    [
        (0, False, StopCause.none, None, JobStatus.succeeded),
        (0, False, StopCause.none, "wrote no result.json", JobStatus.invalid_result),
        # OOMKilled can be set while the main process survived: a valid result still counts.
        (0, True, StopCause.none, None, JobStatus.succeeded),
        (137, True, StopCause.none, None, JobStatus.oom),
        # 137 without OOMKilled is a kill from outside, not an OOM.
        (137, False, StopCause.none, None, JobStatus.killed),
        (143, False, StopCause.none, None, JobStatus.killed),
        (1, False, StopCause.none, None, JobStatus.failed),
        (2, False, StopCause.none, None, JobStatus.failed),
        # What the launcher did itself explains the exit code best.
        (137, False, StopCause.deadline, None, JobStatus.timeout),
        (137, True, StopCause.deadline, None, JobStatus.timeout),
        (143, False, StopCause.cancel, None, JobStatus.canceled),
        (0, False, StopCause.cancel, None, JobStatus.canceled),
        (None, False, StopCause.engine_lost, None, JobStatus.lost),
    ],
)
def test_classify(exit_code, oom, cause, problem, expected):
    status, reason = classify(exit_code, oom, cause, problem, "", 60)
    assert status is expected
    assert (reason is None) == (expected is JobStatus.succeeded)


def test_failed_reason_is_the_jobs_error_line():
    log = "loading\nerror: model input '/inputs/model' is not a SavedModel\n"
    status, reason = classify(2, False, StopCause.none, None, log)
    assert status is JobStatus.failed
    assert reason == "exit 2: model input '/inputs/model' is not a SavedModel"


def test_failed_reason_falls_back_to_the_last_line_of_a_traceback():
    log = "Traceback (most recent call last):\n  File x\nValueError: bad shape\n\n"
    assert last_meaningful_line(log) == "ValueError: bad shape"
    assert last_meaningful_line("") == ""


def test_timeout_reason_names_the_deadline():
    _, reason = classify(137, False, StopCause.deadline, None, "", 1.5)
    assert reason is not None and "1.5 s deadline" in reason


def test_the_in_container_guard_is_a_timeout_and_says_so():
    status, reason = classify(124, False, StopCause.none, None, "", 60)
    assert status is JobStatus.timeout
    assert reason is not None and "in-container guard" in reason and "60 s deadline" in reason


@pytest.mark.parametrize("wall_s", [60 + GUARD_GRACE_S, 60 + GUARD_GRACE_S + 15,
                                    # the guard's time is rounded to whole seconds
                                    60 + GUARD_GRACE_S - 0.5,
                                    60 + GUARD_GRACE_S - GUARD_WALL_TOLERANCE_S])
def test_exit_124_at_the_guards_time_is_the_guards_timeout(wall_s):
    status, reason = classify(124, False, StopCause.none, None, "", 60, wall_s=wall_s)
    assert status is JobStatus.timeout
    assert reason is not None and "in-container guard" in reason


@pytest.mark.parametrize("wall_s", [0.0, 3.2, 60.0, 60 + GUARD_GRACE_S - GUARD_WALL_TOLERANCE_S
                                    - 0.1])
def test_a_jobs_own_exit_124_before_the_guards_time_is_a_failure(wall_s):
    log = "training\nerror: the job's own reason to exit 124\n"
    status, reason = classify(124, False, StopCause.none, None, log, 60, wall_s=wall_s)
    assert status is JobStatus.failed
    assert reason == "exit 124: the job's own reason to exit 124"


def test_exit_124_without_a_wall_time_is_taken_for_the_guards():
    status, _ = classify(124, False, StopCause.none, None, "", 60, wall_s=None)
    assert status is JobStatus.timeout


def test_the_guard_wraps_the_job_past_the_launchers_deadline():
    command = guard_command(60)
    assert command[:3] == ["timeout", f"--kill-after={GUARD_KILL_AFTER_S}",
                           f"{60 + GUARD_GRACE_S:.0f}"]
    assert command[3:] == ["python3", "-m", "jobs"]


@pytest.mark.parametrize(("signal_name", "fragment"), [
    ("SIGINT", "Ctrl-C"), ("SIGTERM", "received SIGTERM"), ("SIGHUP", "received SIGHUP")])
def test_a_cancel_names_the_signal(signal_name, fragment):
    status, reason = classify(143, False, StopCause.cancel, None, "", 60, signal_name)
    assert status is JobStatus.canceled and reason is not None and fragment in reason
