"""What a results store holds to export: every job folder with a record, the campaign nodes
each one is, and the report's figures of each campaign's devices.

The store is untrusted: records and results are read by ``Store.load`` (the trust rules of
launcher/untrusted.py), result.json and the figures are read once more here the same way
(no link followed, size capped) and those bytes are what gets uploaded, never a path MLflow
would open itself. A folder whose record names another key than its folder is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from launcher.contract.specs import JOB_SPEC
from launcher.inert import inert_line
from launcher.report.results import device_of
from launcher.store import RESULT_NAME, Store
from launcher.study.manifest import manifests
from launcher.tracking.runs import CampaignFacts, JobFacts, Membership
from launcher.untrusted import MAX_RESULT_BYTES, Untrusted, read_json, read_regular_file

FOLDER = re.compile(r"^[a-z_]+-([0-9a-f]{16})$")
KEY = re.compile(r"^[0-9a-f]{64}$")
# The report's figure files: <key>-<device slug>.png (launcher/report/figures.py draw_all),
# one set per device: a campaign's run gets those of the devices its results ran on.
FIGURE_KEYS = ("fig2-accuracy", "fig3-latency", "fig4-size", "fig4-size-gzip",
               "fig5-compression-time", "tradeoff")
PNG = b"\x89PNG\r\n\x1a\n"
MAX_FIGURE_BYTES = 16 * 1024**2  # a figure is some 100 kB


@dataclass
class Collected:
    jobs: list[JobFacts] = field(default_factory=list)
    campaigns: list[CampaignFacts] = field(default_factory=list)
    not_run: int = 0  # folders without a record: prepared, running, or never finished
    refused: list[tuple[str, str]] = field(default_factory=list)  # (folder, why)


def read_spec(folder: Path) -> dict[str, object] | None:
    try:
        return JOB_SPEC.validate_python(read_json(folder / "spec.json")).model_dump(mode="json")
    except (OSError, Untrusted, ValidationError):
        return None


def read_figures(store: Path) -> dict[str, bytes]:
    """The report's PNG files (STORE/report/figures/), by file name; none when there is no
    report. A link, a strange name or a file that is no PNG is left out."""
    folder = store / "report" / "figures"
    if any(p.is_symlink() for p in (store / "report", folder)) or not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.iterdir()):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.png", path.name):
            continue
        try:
            data = read_regular_file(path, MAX_FIGURE_BYTES)
        except (OSError, Untrusted):
            continue
        if data.startswith(PNG):
            found[path.name] = data
    return found


def collect(root: Path) -> Collected:
    store = Store(root)
    collected = Collected()
    memberships: dict[str, list[Membership]] = {}
    listed = []
    for path, manifest in manifests(root):
        # The stem names the campaign's run and finds it again: only the name the launcher
        # gives a manifest (both parts pattern-checked), never a file name from elsewhere.
        if path.stem != f"{manifest.name}@{manifest.profile}":
            collected.refused.append((inert_line(path.name), "a campaign manifest under "
                                      "another name than its name@profile"))
            continue
        listed.append((path, manifest))
        for node_id, node in manifest.nodes.items():
            memberships.setdefault(node.folder, []).append(
                Membership(path.stem, manifest.profile, node_id, node))
    for folder in store.folders():
        match = FOLDER.match(folder.name)
        if folder.is_symlink() or match is None:
            collected.refused.append((inert_line(folder.name),
                                      "not a job folder of the store's layout"))
            continue
        stored = store.load(folder)
        if stored.record is None:
            collected.not_run += 1
            continue
        if not KEY.match(stored.record.key) or stored.record.key[:16] != match.group(1):
            collected.refused.append((folder.name, "status.json names another job's key"))
            continue
        result_json = None
        if stored.result is not None:
            try:
                result_json = read_regular_file(folder / "out" / RESULT_NAME, MAX_RESULT_BYTES)
            except (OSError, Untrusted) as error:
                collected.refused.append((folder.name, f"result.json: {error}"))
                continue
        collected.jobs.append(JobFacts(
            folder=folder.name, record=stored.record,
            spec=stored.result.spec.model_dump(mode="json") if stored.result else
            read_spec(folder), result=stored.result, result_json=result_json,
            problem=stored.problem, memberships=tuple(memberships.get(folder.name, ()))))
    figures = read_figures(root)
    for path, manifest in listed:
        slugs = {device_of(manifest.profile, job.result.environment).slug
                 for job in collected.jobs if job.result is not None
                 and any(m.campaign == path.stem for m in job.memberships)}
        names = {f"{figure}-{slug}.png" for figure in FIGURE_KEYS for slug in slugs}
        collected.campaigns.append(CampaignFacts(
            path.stem, manifest, {name: data for name, data in figures.items()
                                  if name in names}))
    return collected
