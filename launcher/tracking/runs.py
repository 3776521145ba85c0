"""What one MLflow run holds for a job folder or a campaign of the store (pure): its identity
tag, name, tags, params, metrics, times, status and artifacts.

Everything here comes from a store, which is untrusted (launcher/untrusted.py): numbers only
from validated results and records, out-of-range ones left out (an absent metric reads as
not measured; MLflow would store NaN or refuse 1e308); text made inert and cut to MLflow's
limits; keys of free-form maps (samples) reduced to the characters MLflow accepts. The
tracker and its ids never appear: sync.py adds the parent's run id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from launcher.contract.record import JobStatus, RunRecord
from launcher.contract.results import JobResult
from launcher.device.profiles import PROFILES
from launcher.inert import inert_line
from launcher.report.results import device_of, out_of_range
from launcher.study.manifest import Manifest, ManifestNode

# Tags the export owns, in a namespace of its own so that a user's tags never collide.
TAG = "edgecompress."
KIND = TAG + "kind"  # job | campaign
KEY = TAG + "key"  # a job's content key: its identity in the experiment
CAMPAIGN = TAG + "campaign"  # name@profile: a campaign run's identity, a job's parent
ATTEMPT = TAG + "attempt"  # when the job's last attempt finished: which attempt a run shows
STATUS = TAG + "status"  # the job's status as the launcher recorded it
ARTIFACTS = TAG + "artifacts_sha256"  # what was uploaded, so a re-export uploads only news
# Set last, once everything else is logged: a run without it is half-made (the export died
# or could not clean up) and the next export replaces it.
EXPORT = TAG + "export"
COMPLETE = "complete"
PARENT = "mlflow.parentRunId"  # MLflow's own tag: the UI nests the run under its parent

# MLflow's limits (mlflow/utils/validation.py). Values: 500, the limit of servers before 2.x,
# is far above any spec value; tags 5000 likewise. Batches as log_batch accepts them.
MAX_KEY = 250
MAX_PARAM_VALUE = 500
MAX_TAG_VALUE = 5000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
# The raw samples (every latency run, every epoch) as metric histories, step by step; beyond
# this many points per run they stay in result.json alone (an artifact of the run).
MAX_SAMPLE_POINTS = 10_000

# MLflow's statuses for the launcher's: a run that ended by someone's hand is KILLED.
KILLED_STATUSES = frozenset({JobStatus.canceled, JobStatus.killed})


@dataclass(frozen=True)
class Membership:
    """A job folder as a node of one campaign (a folder may serve several campaigns)."""

    campaign: str  # the manifest's file stem, name@profile
    profile: str
    node: str
    info: ManifestNode


@dataclass(frozen=True)
class JobFacts:
    """What the store says about one job folder, already read under the trust rules."""

    folder: str
    record: RunRecord
    spec: dict[str, Any] | None  # the validated spec, as JSON; None: unreadable or invalid
    result: JobResult | None  # the validated result of a succeeded job
    result_json: bytes | None  # result.json as validated, uploaded as the run's artifact
    problem: str | None  # why a succeeded job has no usable result
    memberships: tuple[Membership, ...] = ()


@dataclass(frozen=True)
class CampaignFacts:
    stem: str  # name@profile
    manifest: Manifest
    figures: Mapping[str, bytes] = field(default_factory=dict)  # the report's, by file name


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    step: int = 0


@dataclass(frozen=True)
class RunPlan:
    identity: tuple[str, str]  # (tag, value) that finds this run again
    name: str
    parent: str | None  # the campaign (name@profile) whose run is this run's parent
    tags: dict[str, str]
    params: dict[str, str]
    metrics: tuple[Metric, ...]
    timestamp_ms: int  # of every metric: when it was measured, not when it was exported
    start_ms: int | None
    end_ms: int | None
    status: str  # MLflow's: FINISHED, FAILED, KILLED
    artifacts: Mapping[str, bytes]  # artifact path -> content

    @property
    def artifacts_digest(self) -> str:
        return artifacts_digest(self.artifacts)


def artifacts_digest(artifacts: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for path in sorted(artifacts):
        digest.update(path.encode() + b"\0" + hashlib.sha256(artifacts[path]).digest())
    return digest.hexdigest()


def text(value: str, limit: int) -> str:
    """Store text as an MLflow value: one inert line, cut to the limit (marked when cut)."""
    value = inert_line(value)
    return value if len(value) <= limit else value[:limit - 1] + "…"


_UNSAFE_KEY = re.compile(r"[^A-Za-z0-9_\-. /:]")


def key(name: str) -> str:
    """A name as an MLflow key: the characters MLflow accepts, within its length, and a path
    that is its own normal form (MLflow stores keys as file names in places: it refuses
    'a//b', 'a/./b', '..')."""
    safe = _UNSAFE_KEY.sub("_", name).replace("..", "__").strip("/ ")[:MAX_KEY].rstrip("/")
    if posixpath.normpath(safe) != safe:
        safe = safe.replace("/", "_")
    return safe or "_"


def millis(timestamp: str | None) -> int | None:
    """An ISO 8601 time from a record as epoch milliseconds; None when it is no such time."""
    if not timestamp:
        return None
    try:
        when = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return int(when.timestamp() * 1000)


def flat_params(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """A spec or config as JSON, nested objects as dotted keys, other values as JSON text
    (lists, null, numbers) or the string itself."""
    for name, value in values.items():
        if isinstance(value, dict):
            yield from flat_params(value, f"{prefix}{name}.")
        else:
            shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            yield key(prefix + name), text(shown, MAX_PARAM_VALUE)


def model_values(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """A model's fields, nested models as dotted names. Maps and lists are left out: their
    keys are free text (a calibration histogram by class) and result.json carries them."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from model_values(value, f"{prefix}{name}.")
        elif not isinstance(value, list | dict):
            yield prefix + name, value


def number(value: Any) -> float | None:
    """A measurement as a metric value; None for text, None and out-of-range numbers."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if not isinstance(value, int | float) or out_of_range(value):
        return None
    return float(value)


def job_metrics(facts: JobFacts) -> tuple[list[Metric], dict[str, str]]:
    """Numbers as metrics; the result's words (backend, format, regime) as result.* tags."""
    metrics: list[Metric] = []
    words: dict[str, str] = {}

    def add(name: str, value: Any, word: str | None = None) -> None:
        measured = number(value)
        if measured is not None:
            metrics.append(Metric(key(name), measured))
        elif isinstance(value, str):
            words[key(word or name)] = text(value, MAX_TAG_VALUE)

    add("wall_s", facts.record.wall_s)
    if facts.record.power is not None:  # a benchmark on a Jetson: energy per inference
        for name, value in model_values(facts.record.power, "power."):
            add(name, value)
    result = facts.result
    if result is not None:
        for name, value in model_values(result.metrics):
            add(name, value, "result." + name)
        for name, value in model_values(result.timings, "timings."):
            if name != "timings.started_at":
                add(name, value)
        for name, value in model_values(result.resources, "resources."):
            add(name, value)
        metrics += sample_metrics(result.samples)
    return metrics, words


def sample_metrics(samples: Mapping[str, list[float]]) -> list[Metric]:
    """Every raw sample series as one metric's history (step = position), up to
    MAX_SAMPLE_POINTS in all."""
    found: list[Metric] = []
    for name in sorted(samples):
        for step, value in enumerate(samples[name]):
            if len(found) >= MAX_SAMPLE_POINTS:
                return found
            measured = number(value)
            if measured is not None:
                found.append(Metric(key("samples." + name), measured, step))
    return found


def profile_of_image(image: str) -> str | None:
    """The profile whose job image this is (a registry's copy too): for jobs run alone, whose
    record names the image and no profile."""
    tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
    return next((p.name for p in PROFILES.values() if p.tag == tag), None)


def mlflow_status(facts: JobFacts) -> str:
    if facts.record.status is JobStatus.succeeded and facts.result is not None:
        return "FINISHED"
    return "KILLED" if facts.record.status in KILLED_STATUSES else "FAILED"


def job_plan(facts: JobFacts) -> RunPlan:
    record, result = facts.record, facts.result
    first = facts.memberships[0] if facts.memberships else None
    tags = {KIND: "job", KEY: record.key, TAG + "job": text(record.job, MAX_TAG_VALUE),
            TAG + "folder": facts.folder, STATUS: record.status.value,
            ATTEMPT: text(record.finished_at, MAX_TAG_VALUE),
            TAG + "image": text(record.image, MAX_TAG_VALUE),
            TAG + "image_id": text(record.image_id, MAX_TAG_VALUE)}
    profile = first.profile if first else profile_of_image(record.image)
    if profile:
        tags[TAG + "profile"] = text(profile, MAX_TAG_VALUE)
    if record.reason:
        tags[TAG + "reason"] = text(record.reason, MAX_TAG_VALUE)
    if facts.problem:
        tags[TAG + "problem"] = text(facts.problem, MAX_TAG_VALUE)
    if first is not None:
        tags.update({CAMPAIGN: first.campaign, TAG + "node": text(first.node, MAX_TAG_VALUE),
                     TAG + "model": text(first.info.model, MAX_TAG_VALUE),
                     TAG + "method": text(first.info.method, MAX_TAG_VALUE),
                     TAG + "copy": str(first.info.copy_label), TAG + "role": first.info.role})
        if len(facts.memberships) > 1:
            tags[TAG + "campaigns"] = text(
                ", ".join(m.campaign for m in facts.memberships), MAX_TAG_VALUE)
    if result is not None:
        environment = result.environment
        tags[TAG + "device"] = text(device_of(profile or "", environment).label, MAX_TAG_VALUE)
        if environment.board:
            tags[TAG + "board"] = text(environment.board, MAX_TAG_VALUE)
        for name, value in model_values(environment):
            if value is not None:
                tags[key("env." + name)] = text(str(value), MAX_TAG_VALUE)
        if environment.gpus:
            tags["env.gpus"] = text(", ".join(environment.gpus), MAX_TAG_VALUE)
    metrics, words = job_metrics(facts)
    tags.update(words)
    start, end = millis(record.started_at), millis(record.finished_at)
    artifacts = {"result.json": facts.result_json} if facts.result_json is not None else {}
    return RunPlan(
        identity=(KEY, record.key), name=text(first.node if first else facts.folder, MAX_KEY),
        parent=first.campaign if first else None, tags=tags,
        params=dict(flat_params(facts.spec or {})), metrics=tuple(metrics),
        timestamp_ms=end or start or 0, start_ms=start, end_ms=end,
        status=mlflow_status(facts), artifacts=artifacts)


def campaign_plan(facts: CampaignFacts, jobs: list[JobFacts]) -> RunPlan:
    """The campaign's run: its config as params; counts of its jobs by status as tags (they
    change as the campaign goes on, and tags may change); the report's figures of its
    devices as artifacts. ``jobs``: the campaign's job folders that have a record."""
    manifest = facts.manifest
    folders = {node.folder for node in manifest.nodes.values()}
    # One tag for every count, so a count that falls to none is not left behind.
    counts = {s: sum(j.record.status is s for j in jobs) for s in JobStatus}
    by_status = ", ".join(f"{s.value} {n}" for s, n in counts.items() if n) or "none"
    devices = sorted({device_of(manifest.profile, j.result.environment).label
                      for j in jobs if j.result is not None})
    tags = {KIND: "campaign", CAMPAIGN: facts.stem, TAG + "profile": manifest.profile,
            TAG + "image": text(manifest.image, MAX_TAG_VALUE),
            TAG + "image_id": text(manifest.image_id, MAX_TAG_VALUE),
            TAG + "jobs": str(len(folders)), TAG + "jobs_not_run": str(len(folders) - len(jobs)),
            TAG + "jobs_by_status": by_status}
    if devices:
        tags[TAG + "device"] = text("; ".join(devices), MAX_TAG_VALUE)
    starts = [t for t in (millis(j.record.started_at) for j in jobs) if t is not None]
    ends = [t for t in (millis(j.record.finished_at) for j in jobs) if t is not None]
    failed = any(j.record.status is not JobStatus.succeeded for j in jobs)
    return RunPlan(
        identity=(CAMPAIGN, facts.stem), name=facts.stem, parent=None, tags=tags,
        params=dict(flat_params(manifest.config.model_dump(mode="json"))), metrics=(),
        timestamp_ms=max(ends, default=0), start_ms=min(starts, default=None),
        end_ms=max(ends, default=None), status="FAILED" if failed else "FINISHED",
        artifacts={f"report/figures/{name}": data for name, data in facts.figures.items()})


def batches(plan: RunPlan, tags: Mapping[str, str] | None = None
            ) -> Iterator[tuple[dict[str, str], list[Metric], dict[str, str]]]:
    """The plan's params, metrics and ``tags`` (default: none) in log_batch-sized pieces."""
    params = list(plan.params.items())
    tag_items = list((tags or {}).items())
    metrics = list(plan.metrics)
    while params or tag_items or metrics:
        room = MAX_PARAMS_TAGS_PER_BATCH
        take_params, params = params[:room], params[room:]
        room -= len(take_params)
        take_tags, tag_items = tag_items[:room], tag_items[room:]
        room = MAX_ENTITIES_PER_BATCH - len(take_params) - len(take_tags)
        take_metrics, metrics = metrics[:room], metrics[room:]
        yield dict(take_params), take_metrics, dict(take_tags)
