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

The source is untrusted (launcher/untrusted.py): a job folder is taken only when it holds
nothing but regular files and folders within the size cap, its spec and status parse, and
its name is the key recomputed from its spec and image id; a manifest only when its name,
profile and every folder it points at match the store's naming. Anything else is skipped
with its reason and the rest of the merge goes on.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from launcher.contract.record import RunRecord
from launcher.contract.specs import JOB_NAMES, JOB_SPEC
from launcher.errors import STORAGE_FIXES, UserError, describe_validation_error, storage_error
from launcher.files import sync_folder
from launcher.keys import job_key
from launcher.store import ATTEMPT_PARTS, RESULT_NAME, Store
from launcher.study.manifest import MANIFESTS, Manifest, load_manifest, write_manifest
from launcher.untrusted import (
    MAX_LOG_BYTES,
    MAX_RESULT_BYTES,
    Untrusted,
    check_tree,
    copy_plain_tree,
    read_json,
    read_regular_file,
)


@dataclass
class MergeReport:
    copied: list[str] = field(default_factory=list)
    same: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # theirs done, ours was not
    kept: list[str] = field(default_factory=list)  # ours kept, theirs not better
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    manifests_copied: list[str] = field(default_factory=list)
    manifests_extended: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # hostile or malformed


FOLDER_NAME = re.compile("^(" + "|".join(JOB_NAMES) + r")-[0-9a-f]{16}$")


def _result_json(folder: Path) -> object:
    return read_json(folder / "out" / RESULT_NAME, MAX_RESULT_BYTES)


def foreign_job_problem(folder: Path) -> str | None:
    """Why a foreign job folder must not come in, or None."""
    if not FOLDER_NAME.match(folder.name):
        return "not a job folder name (<job>-<16 hex digits>)"
    try:
        check_tree(folder)
        written = read_json(folder / "spec.json")
        spec = JOB_SPEC.validate_python(written)
        record = RunRecord.model_validate(read_json(folder / "status.json"))
    except FileNotFoundError as error:
        return f"{Path(str(error.filename)).name} is missing"
    except Untrusted as error:
        return str(error)
    except ValidationError as error:
        return describe_validation_error(error, limit=1)
    # The key of the spec as written, or as today's models read it: a spec field added since
    # (with its default) changes the second, and must not make an older store unmergeable.
    keys = {job_key(spec, record.image_id), job_key(written, record.image_id)}
    if record.key not in keys or folder.name != f"{spec.job}-{record.key[:16]}":
        return "its name and status are not the key of its own spec and image id"
    return None


def _staged(staging_root: Path, name: str) -> Path:
    staging_root.mkdir(parents=True, exist_ok=True)
    return staging_root / f"{name}-{uuid.uuid4().hex[:8]}"


def _copy_in(source: Path, target: Path, staging_root: Path) -> None:
    staging = _staged(staging_root, source.name)
    try:
        copy_plain_tree(source, staging)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _take_theirs(source: Path, folder: Path, target: Store, staging_root: Path) -> None:
    staging = _staged(staging_root, source.name)
    try:
        staging.mkdir()
        for name in ATTEMPT_PARTS:
            if (source / name).is_dir():
                copy_plain_tree(source / name, staging / name)
            elif (source / name).exists():
                (staging / name).write_bytes(read_regular_file(source / name, MAX_LOG_BYTES))
        # Our unfinished attempt goes under attempts/N, as a re-run would put it; status.json
        # last: until it is there the folder reads as never finished.
        target.archive_attempt(folder)
        for name in ("log.txt", "out", "status.json"):
            if (staging / name).exists():
                (staging / name).rename(folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def foreign_job_folders(source: Store, report: MergeReport) -> list[Path]:
    """The source's job folders, as entries (never followed): links and files skipped."""
    jobs = source.root / "jobs"
    found = []
    for entry in sorted(os.scandir(jobs), key=lambda e: e.name):
        if entry.is_dir(follow_symlinks=False):
            found.append(Path(entry.path))
        else:
            report.skipped.append((f"jobs/{entry.name!r}", "not a folder"))
    return found


def merge_jobs(source: Store, target: Store, report: MergeReport) -> None:
    staging_root = target.root / ".merge-staging"
    (target.root / "jobs").mkdir(parents=True, exist_ok=True)
    for theirs_folder in foreign_job_folders(source, report):
        name = theirs_folder.name
        try:
            problem = foreign_job_problem(theirs_folder)
        except OSError as error:
            problem = f"cannot read it: {error.strerror or error}"
        if problem is not None:
            report.skipped.append((f"jobs/{name!r}", problem))
            continue
        ours_folder = target.root / "jobs" / name
        try:
            _merge_one(source, target, theirs_folder, ours_folder, staging_root, report)
        except Untrusted as error:  # changed under us since it was checked
            report.skipped.append((f"jobs/{name}", str(error)))
        except (OSError, ValueError, ValidationError) as error:
            # One folder that cannot be copied (unreadable, a name the file system refuses)
            # costs that folder, not the merge; a full or read-only disk here stops it.
            if isinstance(error, OSError) and error.errno in STORAGE_FIXES:
                raise storage_error(error) from None
            report.skipped.append((f"jobs/{name}", f"{type(error).__name__}: "
                                   + " ".join(str(error).split())[:200]))
    shutil.rmtree(staging_root, ignore_errors=True)
    sync_folder(target.root / "jobs")


def _merge_one(source: Store, target: Store, theirs_folder: Path, ours_folder: Path,
               staging_root: Path, report: MergeReport) -> None:
    name = theirs_folder.name
    if not ours_folder.exists():
        _copy_in(theirs_folder, ours_folder, staging_root)
        report.copied.append(name)
        return
    theirs_spec = read_json(theirs_folder / "spec.json")
    try:
        ours_spec = read_json(ours_folder / "spec.json")
    except (OSError, Untrusted):
        ours_spec = None
    if ours_spec is not None and ours_spec != theirs_spec:
        report.conflicts.append((name, "same folder name, different spec"))
        return
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


def foreign_manifest(path: Path) -> tuple[Manifest | None, str | None]:
    """A foreign manifest, or why not: its file name must be its own name@profile, and
    every node must point at a job folder name (the model checks the patterns)."""
    try:
        manifest = Manifest.model_validate(read_json(path))
    except (OSError, Untrusted) as error:
        return None, str(error)
    except ValidationError as error:
        return None, describe_validation_error(error, limit=1)
    if path.name != f"{manifest.name}@{manifest.profile}.json":
        return None, "its file name is not its name@profile"
    if any(not FOLDER_NAME.match(node.folder) for node in manifest.nodes.values()):
        return None, "a node points at something that is not a job folder name"
    return manifest, None


def merge_manifests(source: Store, target: Store, report: MergeReport) -> None:
    folder = source.root / MANIFESTS
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        theirs, problem = foreign_manifest(path)
        if theirs is None:
            report.skipped.append((f"{MANIFESTS}/{path.name!r}", problem or "unreadable"))
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
