"""The trust boundary on real hostile files: links, FIFOs, devices, sockets, directories where
files belong, oversize and deeply nested JSON, non-UTF-8 names, and hostile stores to merge."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from launcher.errors import UserError
from launcher.files import tree_digest
from launcher.merge import merge
from launcher.store import Store, load_result
from launcher.untrusted import (
    Untrusted,
    Usage,
    check_tree,
    copy_plain_tree,
    disk_usage,
    give_back,
    inside_without_links,
    json_depth,
    parse_json,
    read_regular_file,
    walk_entries,
)

from .test_cli import assert_one_line_error, edgecompress

RECORDED = Path(__file__).parent.parent / "data" / "campaign-quick-2copies"


def recorded_job(kind: str) -> Path:
    return next(p for p in sorted((RECORDED / "jobs").iterdir()) if p.name.startswith(kind))


# --- files ------------------------------------------------------------------------------------


def test_a_regular_file_is_read(tmp_path):
    (tmp_path / "a.json").write_bytes(b"{}")
    assert read_regular_file(tmp_path / "a.json", 10) == b"{}"


@pytest.mark.parametrize("make, kind", [
    (lambda p: p.symlink_to("/etc/hostname"), "symbolic link"),
    (lambda p: p.symlink_to("/dev/zero"), "symbolic link"),
    (lambda p: os.mkfifo(p), "FIFO"),
    (lambda p: p.mkdir(), "directory"),
])
def test_what_is_not_a_regular_file_is_refused_without_blocking(tmp_path, make, kind):
    target = tmp_path / "result.json"
    make(target)
    with pytest.raises(Untrusted, match=kind):
        read_regular_file(target, 1024)


def test_a_device_is_refused():
    with pytest.raises(Untrusted, match="device"):
        read_regular_file(Path("/dev/zero"), 1024)


def test_an_oversize_file_is_refused_before_it_is_read(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 2049)
    with pytest.raises(Untrusted, match="2,049 bytes, over the 2,048-byte cap"):
        read_regular_file(tmp_path / "big", 2048)


# --- JSON ------------------------------------------------------------------------------------


def test_depth_counts_brackets_outside_strings_only():
    assert json_depth('{"a": [1, {"b": "[[[{{"}]}') == 3
    assert json_depth('"\\"[["') == 0


def test_deep_json_is_refused_before_parsing():
    with pytest.raises(Untrusted, match="deeper than 64"):
        parse_json(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize("text", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}'])
def test_non_finite_numbers_are_refused(text):
    with pytest.raises(Untrusted, match="not valid JSON"):
        parse_json(text)


def test_invalid_utf8_is_refused():
    with pytest.raises(Untrusted, match="UTF-8"):
        parse_json(b'{"a": "\xff"}')


# --- trees -----------------------------------------------------------------------------------


def plain_tree(root: Path) -> Path:
    (root / "saved_model" / "variables").mkdir(parents=True)
    (root / "saved_model" / "saved_model.pb").write_bytes(b"pb")
    (root / "saved_model" / "variables" / "v.data").write_bytes(b"0123456789")
    return root


def test_a_plain_tree_is_summarised(tmp_path):
    summary = check_tree(plain_tree(tmp_path / "out"))
    assert (summary.files, summary.folders, summary.bytes) == (2, 2, 12)


@pytest.mark.parametrize("make, fragment", [
    (lambda d: (d / "link").symlink_to("/"), "saved_model/link is a symbolic link"),
    (lambda d: (d / "dangling").symlink_to(d / "nowhere"), "is a symbolic link"),
    (lambda d: os.mkfifo(d / "pipe"), "saved_model/pipe is a FIFO"),
    (lambda d: socket.socket(socket.AF_UNIX).bind(str(d / "sock")), "is a socket"),
    (lambda d: (d / os.fsdecode(b"bad\xffname")).write_bytes(b""), "not a UTF-8 name"),
])
def test_a_link_or_special_file_anywhere_is_refused(tmp_path, make, fragment):
    root = plain_tree(tmp_path / "out")
    make(root / "saved_model")
    with pytest.raises(Untrusted, match=fragment):
        check_tree(root)


def test_tree_budgets(tmp_path):
    root = plain_tree(tmp_path / "out")
    with pytest.raises(Untrusted, match="over the 11-byte cap"):
        check_tree(root, max_bytes=11)
    with pytest.raises(Untrusted, match="more than 2 entries"):
        check_tree(root, max_entries=2)


def test_paths_inside_out_never_cross_a_link(tmp_path):
    root = plain_tree(tmp_path / "out")
    (root / "elsewhere").symlink_to(tmp_path)
    assert inside_without_links(root, "saved_model/variables/v.data").is_file()
    for path, fragment in (("elsewhere/out", "elsewhere is a symbolic link"),
                           ("../out", "not a relative path"), ("/etc", "not a relative path"),
                           ("missing", "does not exist")):
        with pytest.raises(Untrusted, match=fragment):
            inside_without_links(root, path)


def test_a_plain_copy_refuses_a_link_it_meets(tmp_path):
    root = plain_tree(tmp_path / "out")
    assert copy_plain_tree(root, tmp_path / "copy") == 12
    assert (tmp_path / "copy" / "saved_model" / "variables" / "v.data").read_bytes() == (
        b"0123456789")
    (root / "saved_model" / "secret").symlink_to("/etc/hostname")
    with pytest.raises(Untrusted, match="symbolic link"):
        copy_plain_tree(root, tmp_path / "copy2")


def test_digests_refuse_links_fifos_and_bad_names(tmp_path):
    (tmp_path / "to_root").symlink_to("/")
    with pytest.raises(UserError, match="to_root is a symbolic link"):
        tree_digest(tmp_path / "to_root")
    folder = plain_tree(tmp_path / "images")
    os.mkfifo(folder / "fifo")
    with pytest.raises(UserError, match="fifo is a FIFO inside"):
        tree_digest(folder)


# --- what a job left -------------------------------------------------------------------------


@pytest.fixture
def job_out(tmp_path) -> tuple[Path, dict]:
    folder = recorded_job("quantize")
    out = tmp_path / "out"
    shutil.copytree(folder / "out", out)
    result = json.loads((out / "result.json").read_text())
    (out / result["artifacts"][0]["path"]).write_bytes(b"TFL3")
    return out, json.loads((folder / "spec.json").read_text())


def test_a_valid_output_loads(job_out):
    out, spec = job_out
    result, problem = load_result(out, spec)
    assert problem is None and result is not None


@pytest.mark.parametrize("make, fragment", [
    (lambda r: (r.unlink(), r.symlink_to("/etc/passwd")), "result.json is a symbolic link"),
    (lambda r: (r.unlink(), r.symlink_to("/dev/zero")), "result.json is a symbolic link"),
    (lambda r: (r.unlink(), os.mkfifo(r)), "result.json is a FIFO"),  # type: ignore[func-returns-value]
    (lambda r: (r.unlink(), r.mkdir()), "result.json is a directory"),
    (lambda r: r.write_text("[" * 5000 + "]" * 5000), "nested deeper"),
])
def test_a_hostile_result_json_is_refused(job_out, make, fragment):
    out, spec = job_out
    make(out / "result.json")
    result, problem = load_result(out, spec)
    assert result is None and problem is not None and fragment in problem


def test_an_artifact_that_is_a_link_is_refused(job_out, tmp_path):
    out, spec = job_out
    artifact = json.loads((out / "result.json").read_text())["artifacts"][0]["path"]
    (out / artifact).unlink()
    (out / artifact).symlink_to(tmp_path)
    result, problem = load_result(out, spec)
    assert result is None and problem is not None and "symbolic link" in problem


def test_a_special_file_anywhere_in_out_is_refused(job_out):
    out, spec = job_out
    (out / "deep").mkdir()
    os.mkfifo(out / "deep" / "pipe")
    result, problem = load_result(out, spec)
    assert result is None and problem == "out/ refused: deep/pipe is a FIFO"


# --- foreign stores --------------------------------------------------------------------------


@pytest.fixture
def hostile_store(tmp_path) -> Path:
    theirs = tmp_path / "theirs"
    shutil.copytree(RECORDED, theirs)
    jobs = theirs / "jobs"
    linked = recorded_job("train")
    (jobs / linked.name / "out" / "passwd").symlink_to("/etc/passwd")
    renamed = recorded_job("prune")
    (jobs / renamed.name).rename(jobs / (renamed.name[:-1] + ("0" if renamed.name[-1] != "0"
                                                                    else "1")))
    (jobs / "benchmark-0000000000000000").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").mkdir()
    manifest = json.loads((theirs / "campaigns" / "quick@x86-tf2.12.json").read_text())
    manifest["name"] = "../../escape"
    (theirs / "campaigns" / "evil@x86-tf2.12.json").write_text(json.dumps(manifest))
    return theirs


def test_a_hostile_store_merges_what_is_sound_and_skips_the_rest(hostile_store, tmp_path):
    ours = tmp_path / "ours"
    report = merge(hostile_store, ours)
    skipped = dict(report.skipped)
    assert len(report.skipped) == 4, report.skipped
    assert any("symbolic link" in why for why in skipped.values())
    assert any("not the key of its own spec" in why for why in skipped.values())
    assert any("not a folder" in why for why in skipped.values())
    assert any(name.startswith("campaigns/") for name in skipped)
    assert len(report.copied) == 24 - 2  # the linked and the renamed folder stay out
    assert report.manifests_copied == ["quick@x86-tf2.12.json"]
    for folder, _, files in os.walk(ours):
        for name in files:
            assert not os.path.islink(os.path.join(folder, name))
    assert not (tmp_path / "escape@x86-tf2.12.json").exists()
    assert not any(p.name.startswith("escape") for p in tmp_path.rglob("*escape*"))
    assert all(Store(ours).load(ours / "jobs" / n).problem is None
               for n in report.copied if (ours / "jobs" / n / "status.json").exists())


# --- input folders ---------------------------------------------------------------------------


@pytest.mark.parametrize("make, fragment", [
    (lambda d: (d.rmdir(), d.symlink_to("/")), "is a symbolic link"),
    (lambda d: os.mkfifo(d / "0" / "pipe.png"), "is a FIFO inside"),
    (lambda d: (d / "0" / "gone.png").symlink_to(d / "nowhere"), "is a symbolic link inside"),
    (lambda d: (d / "0" / os.fsdecode(b"\xff.png")).write_bytes(b""), "not UTF-8"),
])
def test_a_hostile_input_folder_is_one_line_and_starts_nothing(tmp_path, make, fragment):
    images = tmp_path / "images"
    for label_name in ("0", "1"):
        (images / label_name).mkdir(parents=True)
        (images / label_name / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    if fragment == "is a symbolic link":
        shutil.rmtree(images)
        images.mkdir()
    make(images)
    proc = edgecompress("run", "train", "--images", str(images), "--weights", "none",
                        "--store", str(tmp_path / "store"),
                        env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    assert_one_line_error(proc, 2, fragment)
    assert not (tmp_path / "store").exists()


# --- trees no path can name: depth, PATH_MAX, sparse files ------------------------------------


@pytest.fixture
def deep_trees():
    """Removes the trees deep_tree made: pytest's own clean-up (shutil.rmtree, recursive on
    Python 3.11) would hit RecursionError on them in a later session; GNU rm walks them."""
    made: list[Path] = []
    yield made
    for root in made:
        subprocess.run(["rm", "-rf", "--", str(root)], check=True)


def deep_tree(root: Path, depth: int, name: str = "d") -> None:
    """``depth`` nested folders made fd-relative (the full path may pass PATH_MAX), a 3-byte
    file at the bottom."""
    root.mkdir()
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        bottom = os.open("bottom", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(bottom, b"end")
        os.close(bottom)
    finally:
        os.close(fd)


@pytest.mark.parametrize(("depth", "name"), [(1500, "d"), (40, "n" * 200)])
def test_a_tree_deeper_or_longer_than_any_path_is_walked_whole(tmp_path, depth, name,
                                                               deep_trees):
    root = tmp_path / "out"
    deep_trees.append(root)
    deep_tree(root, depth, name)  # 40 x 201 bytes: past PATH_MAX (4096)
    entries = list(walk_entries(root))
    assert len(entries) == depth + 1 and entries[-1][1] == "bottom"
    usage = disk_usage(root)
    assert usage == Usage(bytes=3, entries=depth + 1, complete=True)
    give_back(root, os.getuid(), os.getgid())  # fd-relative: nothing too deep to reach
    with pytest.raises(Untrusted, match="nested deeper than 32 levels|longer than 1,024"):
        check_tree(root)


def test_a_deep_tree_in_a_foreign_store_skips_that_folder_only(hostile_store, tmp_path,
                                                               deep_trees):
    deep = recorded_job("quantize")
    deep_trees.append(hostile_store)
    deep_tree(hostile_store / "jobs" / deep.name / "out" / "nest", 1500)
    report = merge(hostile_store, tmp_path / "ours")
    skipped = dict(report.skipped)
    assert skipped[f"jobs/{deep.name!r}"] == "folders nested deeper than 32 levels"
    assert len(report.copied) == 24 - 3 and report.manifests_copied


def test_a_sparse_file_counts_and_copies_by_its_length_and_stays_sparse(tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    with open(root / "sparse", "wb") as handle:
        handle.seek(512 * 1024**2)
        handle.write(b"middle")
        handle.truncate(1024**3)
    assert os.stat(root / "sparse").st_blocks * 512 < 1024**2  # the file system made a hole
    assert disk_usage(root).bytes == 1024**3  # what a copy or a digest would have to read
    with pytest.raises(Untrusted, match="over the 1,000-byte cap"):
        check_tree(root, max_bytes=1000)
    copied = copy_plain_tree(root, tmp_path / "copy")
    assert copied == 1024**3
    info = os.stat(tmp_path / "copy" / "sparse")
    assert info.st_size == 1024**3 and info.st_blocks * 512 < 1024**2
    with open(tmp_path / "copy" / "sparse", "rb") as handle:
        handle.seek(512 * 1024**2 - 2)
        assert handle.read(10) == b"\0\0middle\0\0"


def test_counting_stops_past_the_entry_budget(tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    for index in range(12):
        (root / str(index)).write_bytes(b"")
    assert disk_usage(root, max_entries=10) == Usage(bytes=0, entries=11, complete=False)
    assert disk_usage(root, max_entries=12).complete


def test_a_folder_swapped_for_a_link_while_walked_is_refused(tmp_path):
    root = tmp_path / "out"
    (root / "a" / "b").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "secret").write_text("x")
    walked = walk_entries(root)
    fd, name, _ = next(walked)
    assert name == "a"
    shutil.rmtree(root / "a")
    (root / "a").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OSError):  # O_NOFOLLOW: ELOOP, never the link's target
        list(walked)
