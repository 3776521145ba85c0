"""The store lock with real processes: a holder in another process, the real CLI (merge needs
no engine) as the second launcher, kill -9, and two writers of one file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from launcher.errors import UserError
from launcher.store_lock import LOCK_NAME, held_message, parse_holder, store_lock

ROOT = Path(__file__).parents[2]

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from launcher.store_lock import store_lock
    with store_lock(Path(sys.argv[1]), "edgecompress campaign run quick"):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def hold(store: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(store), str(seconds)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def merge(source: Path, store: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "launcher", "merge", str(source), "--into",
                           str(store), *more], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


@pytest.fixture
def source(tmp_path) -> Path:
    (tmp_path / "source" / "jobs").mkdir(parents=True)
    return tmp_path / "source"


def test_a_second_launcher_is_told_who_holds_the_store(tmp_path, source):
    store = tmp_path / "store"
    holder = hold(store, 60)
    try:
        proc = merge(source, store)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: the store ") and f"pid {holder.pid} on " in line
    assert "'edgecompress campaign run quick'" in line and "--wait" in line
    assert "Traceback" not in proc.stderr


def test_kill_9_of_the_holder_frees_the_store(tmp_path, source):
    store = tmp_path / "store"
    holder = hold(store, 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    proc = merge(source, store)
    assert proc.returncode == 0, proc.stderr
    # The new holder's name replaced the dead one's.
    assert parse_holder((store / LOCK_NAME).read_text()).pid != holder.pid


def test_wait_queues_behind_the_holder(tmp_path, source):
    store = tmp_path / "store"
    holder = hold(store, 3)
    proc = merge(source, store, "--wait")
    assert holder.wait(timeout=30) == 0
    assert proc.returncode == 0, proc.stderr
    assert f"waiting for 'edgecompress campaign run quick' (pid {holder.pid}" in proc.stderr
    assert "merged" in proc.stdout


def test_the_lock_is_exclusive_within_one_process_too(tmp_path):
    with (store_lock(tmp_path, "first"),
          pytest.raises(UserError, match="in use by 'first'"),
          store_lock(tmp_path, "second")):
        pass
    with store_lock(tmp_path, "third"):  # released when the block ended
        assert parse_holder((tmp_path / LOCK_NAME).read_text()).command == "third"


@pytest.mark.parametrize("text", ["", "{", "[]", '{"host": "h"}', '{"pid": "x", "host": 1}'])
def test_a_holder_that_names_nobody_is_another_launcher(text):
    assert parse_holder(text) is None
    assert "in use by another launcher" in held_message(Path("/s"), None)


WRITER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from launcher.files import write_text_atomic
    path, me = Path(sys.argv[1]), sys.argv[2]
    for i in range(300):
        write_text_atomic(path, json.dumps({"writer": me, "i": i, "pad": "x" * 4000}))
""")


def test_two_writers_of_one_file_never_leave_it_torn(tmp_path):
    target = tmp_path / "status.json"
    target.write_text(json.dumps({"writer": "none", "i": -1}))
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(target), name], cwd=ROOT,
                                stderr=subprocess.PIPE, text=True) for name in "ab"]
    reads = 0
    while any(w.poll() is None for w in writers):
        document = json.loads(target.read_text())  # torn JSON or ENOENT would raise here
        assert document["writer"] in {"a", "b", "none"}
        reads += 1
        time.sleep(0.001)
    for writer in writers:
        assert writer.wait() == 0, writer.communicate()[1]
    assert reads > 0
    assert json.loads(target.read_text())["i"] == 299
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"], "no temp file left"
