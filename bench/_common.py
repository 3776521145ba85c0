"""Shared by the benchmarks: time commands side by side and summarise; run jobs in a profile's
image the way ``edgecompress run`` does."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from launcher import api
from launcher.contract.envelope import ResultBase
from launcher.contract.specs import AnySpec, InputRef
from launcher.docker_client import Engine
from launcher.errors import UserError
from launcher.files import tree_digest
from launcher.limits import Limits
from launcher.runner import JobOutcome
from launcher.study.digits import write_digits_folder
from launcher.target import Target

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


def bench_session(profile_name: str, store_prefix: str, memory_mb: int | None = None
                  ) -> api.Session:
    """A session of the API on the profile's image, into a fresh temporary store: the same
    connect (image, device preflight) as ``edgecompress run``. ``memory_mb``: each job's
    memory limit instead of the profile's."""
    try:
        return api.open_session(profile_name, Path(tempfile.mkdtemp(prefix=store_prefix)),
                                limits=Limits(memory_mb=memory_mb) if memory_mb else None,
                                warn=lambda line: print(line, file=sys.stderr),
                                holder="a benchmark under bench/")
    except UserError as error:
        raise SystemExit(f"error: {error}") from None


def bench_target(profile_name: str, store_prefix: str) -> tuple[Engine, Target]:
    """The engine and Target of a fresh session, for benchmarks that make their own
    requests (a power sampler of their own, a container of their own)."""
    session = bench_session(profile_name, store_prefix)
    return session.engine, session.target


def job_runner(profile_name: str, store_prefix: str, memory_mb: int | None = None,
               failures_ok: bool = False) -> Runner:
    """Run job specs through an API session (``bench_session``); returns
    run(spec, inputs) -> JobOutcome, failing loudly when a job does not succeed (unless
    ``failures_ok``)."""
    session = bench_session(profile_name, store_prefix, memory_mb)

    def run(spec: AnySpec, inputs: Mapping[str, Path] | None = None) -> JobOutcome:
        outcome = session.run(spec, inputs, timeout_s=4 * 3600)
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
