"""Bring another machine's results into this store: no duplicates, no silent overwrites.

A job folder is named by its key (spec + image id + schema version), so the same folder name
on two machines means the same job. For each job folder of the source:
- absent here: copied whole (through a staging folder, then renamed: never half there);
- done in both with the same result: nothing to do;
- done in both with different results: a conflict, reported, ours kept;
- done here only: ours kept;
- done there only: theirs taken, our unfinished attempt kept under attempts/N;
- done in neither: ours kept.
Campaign manifests are copied when absent; same name with other content is a conflict
(ours kept), except that nodes only the source knows are added.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from launcher.errors import UserError
from launcher.store import ATTEMPT_PARTS, RESULT_NAME, Store
from launcher.study.manifest import MANIFESTS, load_manifest, write_manifest


@dataclass
class MergeReport:
    copied: list[str] = field(default_factory=list)
    same: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # theirs done, ours was not
    kept: list[str] = field(default_factory=list)  # ours kept, theirs not better
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    manifests_copied: list[str] = field(default_factory=list)
    manifests_extended: list[str] = field(default_factory=list)


def _result_json(folder: Path) -> object:
    return json.loads((folder / "out" / RESULT_NAME).read_text(encoding="utf-8"))


def _copy_in(source: Path, target: Path, staging_root: Path) -> None:
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = staging_root / f"{source.name}-{uuid.uuid4().hex[:8]}"
    try:
        shutil.copytree(source, staging, symlinks=True)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _take_theirs(source: Path, folder: Path, target: Store, staging_root: Path) -> None:
    # Our unfinished attempt goes under attempts/N, as a re-run would put it.
    target.archive_attempt(folder)
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = staging_root / f"{source.name}-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir()
        for name in ATTEMPT_PARTS:
            if (source / name).is_dir():
                shutil.copytree(source / name, staging / name, symlinks=True)
            elif (source / name).exists():
                shutil.copy2(source / name, staging / name)
        # status.json last: until it is there the folder reads as never finished.
        for name in ("log.txt", "out", "status.json"):
            if (staging / name).exists():
                (staging / name).rename(folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def merge_jobs(source: Store, target: Store, report: MergeReport) -> None:
    staging_root = target.root / ".merge-staging"
    (target.root / "jobs").mkdir(parents=True, exist_ok=True)
    for theirs_folder in source.folders():
        name = theirs_folder.name
        ours_folder = target.root / "jobs" / name
        if not ours_folder.exists():
            _copy_in(theirs_folder, ours_folder, staging_root)
            report.copied.append(name)
            continue
        theirs_spec = (theirs_folder / "spec.json").read_text(encoding="utf-8")
        ours_spec = (ours_folder / "spec.json").read_text(encoding="utf-8") if (
            ours_folder / "spec.json").exists() else None
        if ours_spec is not None and json.loads(ours_spec) != json.loads(theirs_spec):
            report.conflicts.append((name, "same folder name, different spec"))
            continue
        theirs, ours = source.load(theirs_folder), target.load(ours_folder)
        if theirs.result is not None and ours.result is not None:
            theirs_key = theirs.record.key if theirs.record else None
            ours_key = ours.record.key if ours.record else None
            if theirs_key != ours_key:
                report.conflicts.append((name, "same folder name, different key"))
            elif _result_json(theirs_folder) == _result_json(ours_folder):
                report.same.append(name)
            else:
                report.conflicts.append(
                    (name, "both machines hold a different valid result for this job"))
        elif theirs.result is not None:
            _take_theirs(theirs_folder, ours_folder, target, staging_root)
            report.updated.append(name)
        else:
            report.kept.append(name)
    shutil.rmtree(staging_root, ignore_errors=True)


def merge_manifests(source: Store, target: Store, report: MergeReport) -> None:
    folder = source.root / MANIFESTS
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        theirs = load_manifest(path)
        if theirs is None:
            continue
        ours_path = target.root / MANIFESTS / path.name
        ours = load_manifest(ours_path) if ours_path.exists() else None
        if ours is None:
            write_manifest(target.root, theirs)
            report.manifests_copied.append(path.name)
            continue
        clashes = [n for n, node in theirs.nodes.items()
                   if n in ours.nodes and ours.nodes[n] != node]
        if clashes or ours.config != theirs.config or ours.image_id != theirs.image_id:
            why = (f"{len(clashes)} node(s) point at other job folders" if clashes
                   else "a different campaign config under the same name"
                   if ours.config != theirs.config else "a different image id")
            report.conflicts.append((f"{MANIFESTS}/{path.name}", why))
            continue
        added = {n: node for n, node in theirs.nodes.items() if n not in ours.nodes}
        if added:
            ours.nodes.update(added)
            write_manifest(target.root, ours)
            report.manifests_extended.append(path.name)


def merge(source_root: Path, target_root: Path) -> MergeReport:
    if not (source_root / "jobs").is_dir():
        raise UserError(f"{source_root} is not a results store (no jobs/ folder in it)")
    if source_root.resolve() == target_root.resolve():
        raise UserError("source and destination are the same store")
    report = MergeReport()
    merge_jobs(Store(source_root), Store(target_root), report)
    merge_manifests(Store(source_root), Store(target_root), report)
    return report
