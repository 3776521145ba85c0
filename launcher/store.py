"""The results store: plain files, one folder per job, so it can be copied off a device.

    <root>/jobs/<job>-<key16>/
        spec.json      what the job was asked (written before the container starts)
        status.json    the launcher's RunRecord of the last attempt
        log.txt        the container's output of the last attempt
        out/           written by the job: result.json and its artifacts
        attempts/N/    earlier attempts' status, log and output, never deleted
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from launcher.contract.record import JobStatus, RunRecord
from launcher.contract.results import JOB_RESULT, BenchmarkResult, JobResult
from launcher.contract.specs import JOB_SPEC
from launcher.contract.vocabulary import RESULT_NAME as RESULT_NAME  # what a job writes in out/
from launcher.errors import describe_validation_error
from launcher.files import write_text_atomic
from launcher.latency_samples import read_samples, samples_path
from launcher.untrusted import (
    MAX_RESULT_BYTES,
    Untrusted,
    check_tree,
    inside_without_links,
    parse_json,
    read_json,
    read_regular_file,
)

# What one attempt leaves in its job folder.
ATTEMPT_PARTS = ("status.json", "log.txt", "out")


@dataclass(frozen=True)
class StoredJob:
    folder: Path
    record: RunRecord | None
    result: JobResult | None
    problem: str | None  # why the result is not usable, when it is not


def _as_model(spec: dict[str, object]) -> dict[str, object]:
    """A stored spec.json as today's spec model reads it: a field added since it was written
    takes its default on both sides of the comparison."""
    try:
        return JOB_SPEC.validate_python(spec).model_dump(mode="json")
    except ValidationError:
        return spec


def load_result(out_dir: Path, expected_spec: dict[str, object] | None = None,
                artifacts_required: bool = True) -> tuple[JobResult | None, str | None]:
    """Validate what a job left in out/: result.json read under the trust rules
    (launcher/untrusted.py), checked against the spec it was given, and every artifact it
    names a regular file or folder inside out/, with no link or special file anywhere in
    out/, and a benchmark's per-image latency file of the length its metrics give, every
    value finite and positive (launcher/latency_samples.py). A stored result may have lost
    its artifacts (a store copied without its models): without ``artifacts_required`` that is
    for the caller to see, not a refusal. Returns
    (result, None) or (None, what is wrong, in one line)."""
    try:
        data = read_regular_file(out_dir / RESULT_NAME, MAX_RESULT_BYTES)
        parse_json(data)  # depth, NaN and encoding checks before pydantic sees it
    except FileNotFoundError:
        return None, "the job exited 0 but wrote no result.json"
    except Untrusted as error:
        return None, f"result.json refused: {error}"
    try:
        result = JOB_RESULT.validate_json(data)
    except ValidationError as error:
        return None, "result.json does not validate: " + describe_validation_error(error)
    if expected_spec is not None and result.spec.model_dump(mode="json") != _as_model(
            expected_spec):
        return None, "result.json echoes a different spec than the one the job was given"
    try:
        for artifact in result.artifacts:
            if artifacts_required or os.path.lexists(out_dir / artifact.path):
                inside_without_links(out_dir, artifact.path)
        check_tree(out_dir)
        if isinstance(result, BenchmarkResult) and (
                artifacts_required or _samples_present(out_dir, result)):
            read_samples(out_dir, result)
    except Untrusted as error:
        return None, f"out/ refused: {error}"
    except FileNotFoundError as error:  # a link or file removed between the checks
        return None, f"out/ refused: {Path(error.filename or '?').name} vanished"
    return result, None


def _samples_present(out_dir: Path, result: BenchmarkResult) -> bool:
    relative = samples_path(result)
    return relative is not None and os.path.lexists(out_dir / relative)


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root

    def job_folder(self, job: str, key: str) -> Path:
        return self.root / "jobs" / f"{job}-{key[:16]}"

    def prepare(self, folder: Path, spec_json: str) -> None:
        """Make the folder ready for a new attempt; an earlier attempt is moved aside whole."""
        if (folder / "status.json").exists() or (folder / "out").exists():
            self.archive_attempt(folder)
        (folder / "out").mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / "spec.json", spec_json)

    def archive_attempt(self, folder: Path) -> None:
        """The last attempt (status, log, out/) moves under attempts/N, never deleted."""
        attempts = folder / "attempts"
        attempts.mkdir(exist_ok=True)
        number = 1 + max((int(p.name) for p in attempts.iterdir() if p.name.isdigit()), default=0)
        target = attempts / str(number)
        target.mkdir()
        for name in ATTEMPT_PARTS:
            if (folder / name).exists():
                shutil.move(str(folder / name), str(target / name))

    def write_record(self, folder: Path, record: RunRecord) -> None:
        write_text_atomic(folder / "status.json", record.model_dump_json(indent=2) + "\n")

    def load(self, folder: Path) -> StoredJob:
        record: RunRecord | None = None
        try:
            record = RunRecord.model_validate(read_json(folder / "status.json"))
        except (OSError, Untrusted, ValidationError):
            record = None
        if record is None or record.status is not JobStatus.succeeded:
            return StoredJob(folder, record, None, None if record else "never finished")
        try:
            spec = read_json(folder / "spec.json")
        except (OSError, Untrusted):
            return StoredJob(folder, record, None, "spec.json is missing or unreadable")
        result, problem = load_result(folder / "out", spec, artifacts_required=False)
        return StoredJob(folder, record, result, problem)

    def done(self, folder: Path) -> JobResult | None:
        """The valid result of a succeeded job, else None: only this counts as done."""
        return self.load(folder).result

    def folders(self) -> Iterator[Path]:
        jobs = self.root / "jobs"
        if jobs.is_dir():
            yield from sorted(p for p in jobs.iterdir() if (p / "spec.json").exists())
