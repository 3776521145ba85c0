"""A store on a full or read-only disk: one line naming the path and the fix, no temp file
left behind, earlier results intact. Real mounts (tmpfs with a size, a read-only bind), so
root only: CI runs as root."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from launcher.errors import UserError
from launcher.files import write_text_atomic

from .test_cli import assert_one_line_error, edgecompress

RECORDED = Path(__file__).parent.parent / "data" / "campaign-quick-2copies"
pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="mounting needs root (CI is root)")


@pytest.fixture
def full_disk(tmp_path):
    mount = tmp_path / "full"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.fixture
def read_only_store(tmp_path):
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)
    subprocess.run(["mount", "--bind", str(store), str(store)], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", str(store)], check=True)
    yield store
    subprocess.run(["umount", str(store)], check=True)


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_a_full_disk_leaves_no_temp_file_and_the_old_file_intact(full_disk):
    status = full_disk / "status.json"
    write_text_atomic(status, "old\n")
    with pytest.raises(UserError, match="the disk is full") as caught:
        write_text_atomic(status, "x" * 200_000)
    assert str(status) in str(caught.value)
    assert status.read_text() == "old\n"
    assert sorted(p.name for p in full_disk.iterdir()) == ["status.json"]


def test_a_read_only_store_is_one_line_and_left_as_it_was(read_only_store):
    before = files_under(read_only_store)
    proc = edgecompress("report", "--store", str(read_only_store))
    assert_one_line_error(proc, 2, "read-only")
    assert str(read_only_store) in proc.stderr
    assert files_under(read_only_store) == before


def fill(disk: Path) -> None:
    with open(disk / "filler", "wb", buffering=0) as handle, pytest.raises(OSError):
        while True:
            handle.write(b"\0" * 4096)



def test_a_report_onto_a_full_disk_is_one_line(full_disk, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)
    (full_disk / "report").mkdir()
    fill(full_disk)
    proc = edgecompress("report", "--store", str(store), "--out", str(full_disk / "report"))
    assert_one_line_error(proc, 2, "the disk is full")
    assert not list(full_disk.rglob("*.tmp"))
