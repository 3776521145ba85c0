"""The validated results of campaigns, labeled with model, method, copy and device.

Which folder is which node of a campaign comes from the campaign manifests in the store; the
numbers come only from results that validate (``Store.load``); the device comes from the
environment each result recorded. ``device_of`` and ``Measured`` are pure; ``load`` reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from launcher.contract.record import RunRecord
from launcher.contract.results import BenchmarkResult, Environment, JobResult
from launcher.latency_samples import read_samples
from launcher.report.latency_stats import LatencyStats, latency_stats
from launcher.store import Store
from launcher.study.campaign import GoalConfig
from launcher.study.manifest import manifests
from launcher.untrusted import Untrusted


@dataclass(frozen=True, order=True)
class Device:
    profile: str  # the campaign's device profile: nano, xavier, x86-tf2.12, ...
    label: str  # what the jobs saw: board or CPU, TensorFlow version, power mode

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in f"{self.profile}-{self.label}"
                       ).strip("-").lower().replace("--", "-")


def device_of(profile: str, environment: Environment) -> Device:
    where = environment.board or " ".join(
        part for part in (environment.machine, environment.cpu_model) if part)
    parts = [where, f"TF {environment.tensorflow}"]
    if environment.gpus:
        parts.append(f"{len(environment.gpus)} GPU")
    if environment.power_mode:
        parts.append(environment.power_mode)
    return Device(profile, ", ".join(parts))


@dataclass(frozen=True)
class Measured:
    campaign: str
    node: str
    device: Device
    model: str
    method: str
    copy: int
    role: str  # train, compress, benchmark
    folder: str
    record: RunRecord
    result: JobResult
    # A benchmark's statistics over every timed image (its validated side file); None: the
    # result predates the file, or the store was copied without it.
    latency: LatencyStats | None = None


def per_image_stats(out_dir: Path, result: JobResult) -> LatencyStats | None:
    if not isinstance(result, BenchmarkResult):
        return None
    try:
        runs = read_samples(out_dir, result)
    except (Untrusted, OSError):
        return None  # Store.load validated it when present: gone or changed since
    return None if runs is None else latency_stats(runs)


@dataclass(frozen=True)
class Loaded:
    measured: list[Measured]
    campaigns: list[str]  # name@profile of every manifest read
    missing: int  # nodes a manifest names whose folder holds no valid result (yet)
    # name@profile -> the campaign's [goal] (None: it sets none), for the recommendation
    goals: dict[str, GoalConfig | None] = field(default_factory=dict)


def load(store: Store, campaigns: list[str] | None = None) -> Loaded:
    """Every valid result of the store's campaigns (or of those named, by name or
    name@profile), each job folder once."""
    found: list[Measured] = []
    seen: set[str] = set()
    names: list[str] = []
    goals: dict[str, GoalConfig | None] = {}
    missing = 0
    for path, manifest in manifests(store.root):
        if campaigns and manifest.name not in campaigns and path.stem not in campaigns:
            continue
        names.append(path.stem)
        goals[path.stem] = manifest.config.goal
        for node_id, node in manifest.nodes.items():
            if node.folder in seen or node.role == "prepare":  # no model's numbers
                continue
            stored = store.load(store.root / "jobs" / node.folder)
            if stored.result is None or stored.record is None:
                missing += 1
                continue
            seen.add(node.folder)
            result = in_range(stored.result)
            found.append(Measured(
                campaign=manifest.name, node=node_id,
                device=device_of(manifest.profile, result.environment),
                model=node.model, method=node.method, copy=node.copy_label, role=node.role,
                folder=node.folder, record=stored.record, result=result,
                latency=per_image_stats(stored.folder / "out", stored.result)))
    return Loaded(found, names, missing, goals)


# Larger than any size, count, time or rate a job measures (bytes of a model, parameters,
# milliseconds): what lies beyond is a broken or hostile result, not a measurement.
NUMBER_LIMIT = 1e15


def out_of_range(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return True
    return abs(value) > NUMBER_LIMIT


def in_range(result: JobResult) -> JobResult:
    """The result with every number the schema let through but no measurement can be
    (non-finite, or beyond NUMBER_LIMIT: 1e308 twice in a sum, an integer of 400 digits) made
    NaN, which every table prints as "n/a" and every sum carries without an exception: one
    bad result never blocks a report."""
    metrics = {name: math.nan for name, value in result.metrics if out_of_range(value)}
    samples = {name: [math.nan if out_of_range(v) else v for v in values]
               for name, values in result.samples.items()
               if isinstance(values, list) and any(out_of_range(v) for v in values)}
    if not metrics and not samples:
        return result
    return result.model_copy(update={
        "metrics": result.metrics.model_copy(update=metrics),
        "samples": {**result.samples, **samples}})
