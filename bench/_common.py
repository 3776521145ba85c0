"""Shared by the benchmarks: time commands side by side and summarise; run jobs in a profile's
image the way ``edgecompress run`` does."""

from __future__ import annotations

import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from launcher.contract.envelope import ResultBase
from launcher.contract.specs import AnySpec, InputRef
from launcher.device.profiles import get_profile
from launcher.docker_client import Engine
from launcher.errors import UserError
from launcher.files import tree_digest
from launcher.limits import Limits
from launcher.runner import JobOutcome, run_job
from launcher.study.digits import write_digits_folder
from launcher.target import Target, connect, job_limits, request_for

Result = TypeVar("Result", bound=ResultBase)


class Runner(Protocol):
    """What job_runner returns: one job run, its outcome."""

    def __call__(self, spec: AnySpec, inputs: Mapping[str, Path] | None = None) -> JobOutcome:
        ...


def timed(command: Sequence[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def summary(samples: list[float]) -> str:
    return (f"median {statistics.median(samples):.3f} s, mean {statistics.mean(samples):.3f} s, "
            f"min {min(samples):.3f} s, max {max(samples):.3f} s (n={len(samples)})")


def bench_target(profile_name: str, store_prefix: str) -> tuple[Engine, Target]:
    """The engine and a Target on the profile's image, with a fresh temporary store: the
    same connect (image, device preflight) as ``edgecompress run``."""
    try:
        return connect(profile_name, Path(tempfile.mkdtemp(prefix=store_prefix)),
                       warn=lambda line: print(line, file=sys.stderr))
    except UserError as error:
        raise SystemExit(f"error: {error}") from None


def job_runner(profile_name: str, store_prefix: str, memory_mb: int | None = None,
               failures_ok: bool = False) -> Runner:
    """Run job specs in the profile's image, in a fresh temporary store; returns
    run(spec, inputs) -> JobOutcome, failing loudly when a job does not succeed (unless
    ``failures_ok``). ``memory_mb``: each job's memory limit instead of the profile's."""
    engine, target = bench_target(profile_name, store_prefix)
    if memory_mb is not None:
        target = dataclasses.replace(target, limits=job_limits(
            get_profile(profile_name), Limits(memory_mb=memory_mb)))

    def run(spec: AnySpec, inputs: Mapping[str, Path] | None = None) -> JobOutcome:
        outcome = run_job(engine, target.store, request_for(target, spec, inputs or {},
                                                            timeout_s=4 * 3600))
        if outcome.result is None and not failures_ok:
            raise SystemExit(f"{spec.job} ended {outcome.record.status.value}: "
                             f"{outcome.record.reason} (log: {outcome.folder}/log.txt)")
        return outcome

    return run


def artifact(outcome: JobOutcome) -> Path:
    """The first artifact a succeeded job wrote."""
    assert outcome.result is not None, f"{outcome.folder}: no result"
    return outcome.folder / "out" / outcome.result.artifacts[0].path


def result_of(outcome: JobOutcome, kind: type[Result]) -> Result:
    """The outcome's result as the kind its job answers (a MakeModelResult for a
    MakeModelSpec...): its metrics then have their own fields."""
    if not isinstance(outcome.result, kind):
        raise SystemExit(f"{outcome.folder}: no {kind.__name__} "
                         f"(status {outcome.record.status.value})")
    return outcome.result


def digits_input(size: int, per_class: int) -> tuple[Path, InputRef]:
    """A digits image folder readable by the job user, and its InputRef."""
    folder = Path(tempfile.mkdtemp(prefix="bench-digits-"))
    folder.chmod(0o755)
    digits = write_digits_folder(folder, size=size, per_class=per_class)
    return digits, InputRef(path="/inputs/images", sha256=tree_digest(digits))
