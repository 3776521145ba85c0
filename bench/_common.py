"""Shared by the benchmarks: time commands side by side and summarise."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Sequence


def timed(command: Sequence[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def summary(samples: list[float]) -> str:
    return (f"median {statistics.median(samples):.3f} s, mean {statistics.mean(samples):.3f} s, "
            f"min {min(samples):.3f} s, max {max(samples):.3f} s (n={len(samples)})")


def bench_target(profile_name: str, store_prefix: str):  # type: ignore[no-untyped-def]
    """The engine and a Target on the profile's image, with a fresh temporary store: the
    same connect (image, device preflight) as ``edgecompress run``."""
    import sys
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from launcher.errors import UserError
    from launcher.target import connect

    try:
        return connect(profile_name, Path(tempfile.mkdtemp(prefix=store_prefix)),
                       warn=lambda line: print(line, file=sys.stderr))
    except UserError as error:
        raise SystemExit(f"error: {error}") from None


def job_runner(profile_name: str, store_prefix: str,  # type: ignore[no-untyped-def]
               memory_mb: int | None = None, failures_ok: bool = False):
    """Run job specs in the profile's image, in a fresh temporary store; returns
    run(spec, inputs) -> JobOutcome, failing loudly when a job does not succeed (unless
    ``failures_ok``). ``memory_mb``: each job's memory limit instead of the profile's."""
    import dataclasses
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from launcher.device.profiles import get_profile
    from launcher.limits import Limits
    from launcher.runner import run_job
    from launcher.target import job_limits, request_for

    engine, target = bench_target(profile_name, store_prefix)
    if memory_mb is not None:
        target = dataclasses.replace(target, limits=job_limits(
            get_profile(profile_name), Limits(memory_mb=memory_mb)))

    def run(spec, inputs=None):  # type: ignore[no-untyped-def]
        outcome = run_job(engine, target.store, request_for(target, spec, inputs or {},
                                                            timeout_s=4 * 3600))
        if outcome.result is None and not failures_ok:
            raise SystemExit(f"{spec.job} ended {outcome.record.status.value}: "
                             f"{outcome.record.reason} (log: {outcome.folder}/log.txt)")
        return outcome

    return run


def artifact(outcome):  # type: ignore[no-untyped-def]
    return outcome.folder / "out" / outcome.result.artifacts[0].path


def digits_input(size: int, per_class: int):  # type: ignore[no-untyped-def]
    """A digits image folder readable by the job user, and its InputRef."""
    import tempfile
    from pathlib import Path

    from launcher.contract.specs import InputRef
    from launcher.files import tree_digest
    from launcher.study.digits import write_digits_folder

    folder = Path(tempfile.mkdtemp(prefix="bench-digits-"))
    folder.chmod(0o755)
    digits = write_digits_folder(folder, size=size, per_class=per_class)
    return digits, InputRef(path="/inputs/images", sha256=tree_digest(digits))
