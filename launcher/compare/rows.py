"""The rows ``edgecompress diff`` compares: one per model x method of a campaign on a device,
read from the campaign's manifest and its validated results. Pure: the results come in through
a loader.

A row's latency, size, energy and benchmark settings are those of copy 1's benchmark (the
paper's rule: latency on copy 1; the other copies' benchmarks time one image once and measure
accuracy only), else of the lowest copy benchmarked, with that benchmark's per-image latencies
where it kept them; its accuracy is every copy's. Where copy 1 was timed both ways
(``[benchmark] latency_methods``), the row is its call-timed benchmark, the model's own time,
as in the report (launcher/report/cells.py); its predict-timed one is not a row of its own.
Its network is the fingerprint the job that built the model recorded
(launcher/report/networks.py): the base's train job for the base and every compression of it,
the student's for distill and scratch.

Rows are made per manifest, not from ``report.results.load``: that files a job folder under the
first campaign naming it, and two campaigns that share their copy-2 benchmarks (same settings
but for copy 1's latency) would leave the second without its accuracy copies. The same row read
through two campaigns is merged (``merge_rows``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from launcher.contract.record import RunRecord
from launcher.contract.results import BenchmarkResult, JobResult
from launcher.report.cells import PREDICT
from launcher.report.results import device_of, in_range
from launcher.study.manifest import Manifest, ManifestNode

# A job folder's record and valid result, or None (not done, failed, invalid).
Loader = Callable[[str], tuple[RunRecord, JobResult] | None]
# A benchmark folder's per-image latencies (kept runs x images), or None where it kept none.
SampleLoader = Callable[[str, BenchmarkResult], np.ndarray | None]

# The methods whose network is their own (a student's); every other is the base's, compressed.
OWN_NETWORK = ("distill", "scratch")


@dataclass(frozen=True)
class Benchmarked:
    folder: str
    copy: int
    result: BenchmarkResult
    record: RunRecord
    # Every timed image of the kept runs (runs x images), where the job kept them.
    images: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Row:
    campaigns: tuple[str, ...]  # name@profile of the manifests it was read through
    profile: str
    device: str  # launcher/report/results.py device_of: board or CPU, TF version, power mode
    model: str
    method: str
    network: str | None  # the fingerprint's sha256; None: not recorded
    measured: Benchmarked  # latency, size, energy and settings
    accuracy: Mapping[int, float] = field(default_factory=dict)  # copy -> top-1 (fraction)

    @property
    def input_size(self) -> int:
        return self.measured.result.spec.input_size

    @property
    def name(self) -> str:
        return f"{self.model} {self.method}"


def _fingerprint(result: JobResult) -> str | None:
    fingerprint = getattr(result.metrics, "fingerprint", None)
    sha = getattr(fingerprint, "sha256", None)
    return sha if isinstance(sha, str) else None


def _network(manifest: Manifest, load: Loader, model: str, method: str, copy: int
             ) -> str | None:
    """The recorded network of the model the row measures: the copy's own builder, else any
    copy's (copies of one configuration are one network)."""
    subject = method if method in OWN_NETWORK else "base"
    builders = sorted((node.copy_label != copy, node.copy_label, node.folder)
                      for node in manifest.nodes.values()
                      if node.role in ("train", "compress") and node.model == model
                      and node.method == subject)
    for _, _, folder in builders:
        loaded = load(folder)
        if loaded is not None and (sha := _fingerprint(loaded[1])) is not None:
            return sha
    return None


def no_samples(folder: str, result: BenchmarkResult) -> np.ndarray | None:
    return None


def rows_of(campaign: str, manifest: Manifest, load: Loader,
            samples: SampleLoader = no_samples) -> list[Row]:
    """The campaign's rows, one per model x method with at least one valid benchmark; the
    measured benchmark's per-image latencies read through ``samples``."""
    groups: dict[tuple[str, str], list[ManifestNode]] = {}
    for node in manifest.nodes.values():
        if node.role == "benchmark":
            groups.setdefault((node.model, node.method), []).append(node)
    rows = []
    for (model, method), nodes in groups.items():
        measured: list[Benchmarked] = []
        for node in nodes:
            loaded = load(node.folder)
            if loaded is not None and isinstance(loaded[1], BenchmarkResult):
                result = in_range(loaded[1])
                assert isinstance(result, BenchmarkResult)
                measured.append(Benchmarked(node.folder, node.copy_label, result, loaded[0]))
        if not measured:
            continue
        # Copy 1's when it has a result, else the lowest copy's; of two benchmarks of a copy,
        # the one not timed by predict.
        measured.sort(key=lambda b: (b.copy, b.result.metrics.latency_method == PREDICT,
                                     b.folder))
        first = measured[0]
        first = replace(first, images=samples(first.folder, first.result))
        accuracy: dict[int, float] = {}
        for item in measured:
            top1 = item.result.metrics.top1_accuracy
            if top1 is not None and math.isfinite(top1):
                accuracy.setdefault(item.copy, top1)
        rows.append(Row(
            campaigns=(campaign,), profile=manifest.profile,
            device=device_of(manifest.profile, first.result.environment).label,
            model=model, method=method,
            network=_network(manifest, load, model, method, first.copy),
            measured=first, accuracy=accuracy))
    return rows


def merge_rows(rows: Iterable[Row]) -> list[Row]:
    """One row per (profile, latency benchmark): the same row read through several campaigns
    keeps every campaign's name and the union of their copies."""
    merged: dict[tuple[str, str], Row] = {}
    for row in rows:
        key = (row.profile, row.measured.folder)
        seen = merged.get(key)
        if seen is None:
            merged[key] = row
            continue
        merged[key] = Row(
            campaigns=tuple(dict.fromkeys((*seen.campaigns, *row.campaigns))),
            profile=seen.profile, device=seen.device, model=seen.model, method=seen.method,
            network=seen.network or row.network, measured=seen.measured,
            accuracy={**row.accuracy, **seen.accuracy})
    return list(merged.values())
