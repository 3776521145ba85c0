"""Merging another machine's store: copied once, never duplicated, conflicts kept apart."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from launcher.merge import merge
from launcher.store import Store

from .test_cli import edgecompress

RECORDED = Path(__file__).parent.parent / "data" / "campaign-quick-2copies"


@pytest.fixture
def source(tmp_path) -> Path:
    shutil.copytree(RECORDED, tmp_path / "theirs")
    return tmp_path / "theirs"


def folders(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "jobs").iterdir())


def test_into_an_empty_store_then_again(source, tmp_path):
    ours = tmp_path / "ours"
    first = merge(source, ours)
    assert len(first.copied) == 24 and not first.conflicts
    assert first.manifests_copied == ["quick@x86-tf2.12.json"]
    assert folders(ours) == folders(source)
    assert all(Store(ours).done(ours / "jobs" / name) is not None for name in folders(ours))
    second = merge(source, ours)
    assert len(second.same) == 24 and not (second.copied or second.conflicts)
    assert folders(ours) == folders(source), "no duplicates"
    assert not (ours / ".merge-staging").exists()


def test_a_different_result_is_a_conflict_and_ours_is_kept(source, tmp_path):
    ours = tmp_path / "ours"
    merge(source, ours)
    name = next(n for n in folders(source) if n.startswith("benchmark-"))
    result_path = source / "jobs" / name / "out" / "result.json"
    result = json.loads(result_path.read_text())
    result["metrics"]["latency_ms_mean"] += 1.0
    result_path.write_text(json.dumps(result))
    before = (ours / "jobs" / name / "out" / "result.json").read_bytes()
    report = merge(source, ours)
    assert [c[0] for c in report.conflicts] == [name]
    assert (ours / "jobs" / name / "out" / "result.json").read_bytes() == before


def test_done_there_replaces_unfinished_here_keeping_our_attempt(source, tmp_path):
    ours = tmp_path / "ours"
    merge(source, ours)
    name = next(n for n in folders(source) if n.startswith("train-"))
    status_path = ours / "jobs" / name / "status.json"
    record = json.loads(status_path.read_text())
    record.update(status="canceled", reason="canceled by the user")
    status_path.write_text(json.dumps(record))
    assert Store(ours).done(ours / "jobs" / name) is None
    report = merge(source, ours)
    assert report.updated == [name]
    assert Store(ours).done(ours / "jobs" / name) is not None
    kept = json.loads((ours / "jobs" / name / "attempts" / "1" / "status.json").read_text())
    assert kept["status"] == "canceled"


def test_merge_command_reports_conflicts_in_one_line_each(source, tmp_path):
    ours = tmp_path / "ours"
    assert edgecompress("merge", str(source), "--into", str(ours)).returncode == 0
    name = next(n for n in folders(source) if n.startswith("quantize-"))
    result_path = source / "jobs" / name / "out" / "result.json"
    result = json.loads(result_path.read_text())
    result["metrics"]["conversion_s"] += 1.0
    result_path.write_text(json.dumps(result))
    proc = edgecompress("merge", str(source), "--into", str(ours))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"conflict: {name}: both machines hold a "
                                                "different valid result for this job; kept ours"]
