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


def job_runner(profile_name: str, store_prefix: str):  # type: ignore[no-untyped-def]
    """Run job specs in the profile's image, in a fresh temporary store; returns
    run(spec, inputs) -> JobOutcome, failing loudly when a job does not succeed."""
    import sys
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from launcher.device.profiles import get_profile
    from launcher.docker_client import Engine
    from launcher.runner import JobRequest, run_job
    from launcher.store import Store

    profile = get_profile(profile_name)
    engine = Engine.connect()
    image_id = engine.image_id(profile.image)
    if image_id is None:
        raise SystemExit(f"build the image first: edgecompress build {profile.name}")
    store = Store(Path(tempfile.mkdtemp(prefix=store_prefix)))

    def run(spec, inputs=None):  # type: ignore[no-untyped-def]
        outcome = run_job(engine, store, JobRequest(
            spec=spec, image=profile.image, image_id=image_id, inputs=inputs or {},
            deadline_s=4 * 3600))
        if outcome.result is None:
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

    from launcher.files import tree_digest
    from launcher.schema import InputRef
    from launcher.study.digits import write_digits_folder

    folder = Path(tempfile.mkdtemp(prefix="bench-digits-"))
    folder.chmod(0o755)
    digits = write_digits_folder(folder, size=size, per_class=per_class)
    return digits, InputRef(path="/inputs/images", sha256=tree_digest(digits))
