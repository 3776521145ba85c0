"""The documents of ``results``, ``status``, ``campaign plan``, ``doctor`` and ``fleet status``
with ``--json`` (diff's is launcher/output/diff.py). Models only: launcher/output/build.py
fills them from what the commands hold, and launcher/contract/export.py exports their JSON
Schemas, so this module imports nothing that runs jobs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue

from launcher.contract.record import PowerMeasurement
from launcher.output.base import Document, Out

# launcher/study/resolve.py State's values (tests/unit/output/test_output_json.py checks they
# agree).
JobState = Literal["done", "to do", "interrupted", "waiting", "failed"]


class StoredJobEntry(Out):
    folder: str
    job: str
    key: str = Field(description="the first 16 hex digits of the job's content key")
    status: str = Field(description="the last attempt's status (succeeded, failed, timeout, "
                        "oom, killed, canceled, invalid_result, output_limit, lost), or 'to "
                        "do' when none finished")
    wall_s: float | None
    detail: str | None = Field(description="why there is no usable result, or the reason "
                               "the attempt ended")
    metrics: dict[str, JsonValue] | None = Field(
        description="the valid result's metrics (schema/job-result.schema.json)")
    power: PowerMeasurement | None


class ResultsDocument(Document):
    command: Literal["results"] = "results"
    store: str
    jobs: list[StoredJobEntry]


class StatusJob(Out):
    id: str = Field(description="the campaign's node id, e.g. benchmark/fp16/DenseNet169/copy1")
    job: str
    model: str
    method: str
    copy_label: int
    state: JobState
    reason: str
    folder: str | None
    wall_s: float | None


class StatusDocument(Document):
    command: Literal["status"] = "status"
    campaign: str
    profile: str
    store: str
    counts: dict[str, dict[JobState, int]] = Field(description="job -> state -> jobs")
    jobs: list[StatusJob] = Field(description="every job of the campaign, done ones too")
    complete: bool = Field(description="every job done: exit code 0 (else 1)")


class PlanNode(Out):
    id: str
    job: str
    model: str
    method: str
    copy_label: int
    role: Literal["prepare", "train", "compress", "benchmark"]
    upstream: list[str] = Field(description="the nodes whose models it reads")


class PlanDocument(Document):
    command: Literal["campaign plan"] = "campaign plan"
    campaign: str
    copies: int
    counts: dict[str, int] = Field(description="jobs per job kind")
    nodes: list[PlanNode]


class CheckEntry(Out):
    name: str
    state: Literal["ok", "warn", "fail"]
    detail: str


class DoctorDocument(Document):
    command: Literal["doctor"] = "doctor"
    checks: list[CheckEntry]
    ok: bool = Field(description="no check failed: exit code 0 (else 1)")


class FleetNode(Out):
    hostname: str
    role: str
    profile: str | None = Field(description="its edgecompress.profile label; null: none")
    job: str | None = Field(description="the job it runs: name and key; null: none")
    health: str


class FleetStatusDocument(Document):
    command: Literal["fleet status"] = "fleet status"
    fleet: str
    nodes: list[FleetNode]
