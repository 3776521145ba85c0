"""The trust boundary against real hostile containers: an image built FROM the job image whose
entry point, told by $HOSTILE what to do, leaves links, FIFOs, directories, floods and sleeps
where the contract expects a result. The sandbox is inspected on a running container."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from launcher.console import InertConsole
from launcher.contract.record import JobStatus
from launcher.contract.specs import ProbeSpec
from launcher.docker_client import label
from launcher.limits import Limits, resolve
from launcher.runner import run_job
from launcher.untrusted import walk_entries
from launcher.views import outcome_table

pytestmark = pytest.mark.docker
ROOT = Path(__file__).parents[2]
# What a terminal or a bidi renderer acts on (launcher/inert.py); newline and tab are layout.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                     "\u2066-\u2069]")

HOSTILE_MAIN = r'''
import json, os, sys, time
STARTED = time.time()
mode = os.environ.get("HOSTILE", "")
out = sys.argv[sys.argv.index("--out") + 1]
spec = sys.argv[sys.argv.index("--spec") + 1]
result = os.path.join(out, "result.json")


def valid():
    from jobs import contract
    contract.run(contract.read_spec(spec), out, STARTED)


if mode == "sleep":
    print("sleeping", flush=True)
    time.sleep(3600)
elif mode == "link-passwd":
    os.symlink("/etc/passwd", result)
elif mode == "link-zero":
    os.symlink("/dev/zero", result)
elif mode == "fifo":
    os.mkfifo(result)
elif mode == "dir":
    os.mkdir(result)
elif mode == "deep":
    with open(result, "w") as handle:
        handle.write("[" * 200000 + "]" * 200000)
elif mode == "huge":
    with open(result, "w") as handle:
        handle.write('{"pad": "' + "x" * (40 * 1024 * 1024) + '"}')
elif mode == "artifact-link":
    valid()
    with open(result) as handle:
        document = json.load(handle)
    document["artifacts"] = [{"name": "model", "kind": "file", "path": "model", "bytes": 1}]
    os.symlink("/", os.path.join(out, "model"))
    with open(result, "w") as handle:
        json.dump(document, handle)
elif mode == "planted":  # a folder where the launcher sets a failed result aside
    os.makedirs(os.path.join(out, "result.rejected.json", "inside"))
    with open(result, "w") as handle:
        handle.write("{}")
elif mode == "deep-out":  # deeper than any path can name: 1,500 folders of 200-byte names
    valid()
    os.chdir(out)
    for _ in range(1500):
        os.mkdir("n" * 200)
        os.chdir("n" * 200)
    with open("bottom", "w") as handle:
        handle.write("owned by the job's uid until handed back")
elif mode == "exit-124":  # the guard's exit code, from the job itself, at once
    print("error: my own 124", file=sys.stderr, flush=True)
    sys.exit(124)
elif mode == "fill-out":
    with open(os.path.join(out, "junk"), "wb") as handle:
        for _ in range(200):
            handle.write(os.urandom(1024 * 1024))
            handle.flush()
            time.sleep(0.05)
    time.sleep(600)
elif mode == "flood-log":
    line = ("z" * 1023 + "\n").encode()
    for _ in range(20 * 1024):
        sys.stdout.buffer.write(line)
    sys.stdout.flush()
    print("error: [/red][bold]the end[/bold] | <b>markup</b>", file=sys.stderr, flush=True)
    sys.exit(2)
elif mode == "terminal":  # writes the clipboard (OSC 52), clears the screen, reverses text
    line = "error: copy \x1b]52;c;ZWNobyBwd25lZA==\x07 clear \x1b[2J bidi txt.\u202eexe\n"
    sys.stderr.buffer.write(line.encode("utf-8"))
    sys.stderr.flush()
    sys.exit(2)
sys.exit(0)
'''


@pytest.fixture(scope="module")
def hostile_image(engine, image_id, tmp_path_factory):
    context = tmp_path_factory.mktemp("hostile-image")
    (context / "hostile.py").write_text(HOSTILE_MAIN)
    (context / "Dockerfile").write_text(
        f"FROM {image_id}\nCOPY hostile.py /opt/edgecompress/jobs/__main__.py\n")
    tag = "edgecompress/test-hostile:latest"
    for event in engine.build(str(context), tag, {}, {label("kind"): "test"}):
        assert "error" not in event, event
    yield engine.image_id(tag)
    engine.remove_image(tag)


def hostile(request_for, hostile_image, mode: str, **kwargs):
    kwargs.setdefault("deadline_s", 120)
    return request_for(ProbeSpec(), image_id=hostile_image,
                       environment={"HOSTILE": mode}, **kwargs)


def our_containers(engine, key: str) -> list[dict]:
    return engine.containers({label("key"): key})


@pytest.mark.parametrize(("mode", "fragment"), [
    ("link-passwd", "result.json is a symbolic link"),
    ("link-zero", "result.json is a symbolic link"),
    ("fifo", "result.json is a FIFO"),
    ("dir", "result.json is a directory"),
    ("deep", "nested deeper than 64 levels"),
    ("huge", "over the 33,554,432-byte cap"),
    ("artifact-link", "model is a symbolic link"),
])
def test_a_hostile_result_is_invalid_result_with_one_line(engine, store, request_for,
                                                          hostile_image, mode, fragment):
    outcome = run_job(engine, store, hostile(request_for, hostile_image, mode))
    record = outcome.record
    assert record.status is JobStatus.invalid_result, record.reason
    assert record.reason is not None and fragment in record.reason
    assert "\n" not in record.reason and "root:" not in record.reason
    assert store.done(outcome.folder) is None
    assert not our_containers(engine, record.key)
    # Set aside without being opened, so it can never be read as a success later.
    assert os.path.lexists(outcome.folder / "out" / "result.rejected.json")


def test_out_is_handed_back_to_the_launchers_user(engine, store, request_for, hostile_image):
    outcome = run_job(engine, store, hostile(request_for, hostile_image, "artifact-link"))
    for path in [outcome.folder / "out", *(outcome.folder / "out").rglob("*")]:
        assert os.lstat(path).st_uid == os.getuid(), path


def test_a_planted_folder_cannot_stop_a_status_being_filed(engine, store, request_for,
                                                           hostile_image):
    outcome = run_job(engine, store, hostile(request_for, hostile_image, "planted"))
    record = outcome.record
    assert record.status is JobStatus.invalid_result, record.reason
    assert record.reason.startswith("result.json does not validate"), record.reason
    assert json.loads((outcome.folder / "status.json").read_text())["status"] == "invalid_result"
    # Set aside under a fresh name beside the planted folder, which is left as it was.
    (aside,) = (outcome.folder / "out").glob("result.rejected.*.json")
    assert aside.read_text() == "{}"
    assert (outcome.folder / "out" / "result.rejected.json" / "inside").is_dir()


def test_an_out_deeper_than_any_path_is_refused_and_handed_back_whole(engine, store,
                                                                       request_for,
                                                                       hostile_image):
    outcome = run_job(engine, store, hostile(request_for, hostile_image, "deep-out"))
    record = outcome.record
    assert record.status is JobStatus.invalid_result, record.reason
    assert record.reason == "out/ refused: a path longer than 1,024 bytes (" + "n" * 60 + "...)"
    try:
        walked = list(walk_entries(outcome.folder / "out"))
        assert len(walked) == 1500 + 2 and "bottom" in {name for _, name, _ in walked}
        assert all(info.st_uid == os.getuid() for _, _, info in walked)
    finally:
        # pytest's clean-up (shutil.rmtree, recursive on Python 3.11) would hit RecursionError
        # on it in a later session: GNU rm walks it.
        subprocess.run(["rm", "-rf", "--", str(outcome.folder / "out")], check=True)


def test_a_finished_result_left_without_a_status_is_adopted_not_redone(engine, store,
                                                                      request_for):
    """A launcher killed between the container's end and status.json: the next run files
    the result the job had finished, and starts no container."""
    first = run_job(engine, store, request_for(ProbeSpec()))
    assert first.record.status is JobStatus.succeeded, first.record.reason
    (first.folder / "status.json").unlink()
    log_before = (first.folder / "log.txt").stat().st_mtime_ns
    again = run_job(engine, store, request_for(ProbeSpec()))
    assert again.record.status is JobStatus.succeeded
    assert again.record.reason.startswith("adopted:")
    assert again.result == first.result
    assert not (first.folder / "attempts").exists()
    assert (first.folder / "log.txt").stat().st_mtime_ns == log_before
    assert store.done(first.folder) == first.result
    # A result another image made is not this job's: it runs again.
    (first.folder / "status.json").unlink()
    result_path = first.folder / "out" / "result.json"
    document = json.loads(result_path.read_text())
    document["environment"]["image_id"] = "sha256:" + "0" * 64
    result_path.write_text(json.dumps(document))
    rerun = run_job(engine, store, request_for(ProbeSpec()))
    assert rerun.record.status is JobStatus.succeeded and rerun.record.reason is None
    assert [p.name for p in (first.folder / "attempts").iterdir()] == ["1"]


def test_a_jobs_own_exit_124_is_its_failure_not_the_guards_timeout(engine, store,
                                                                  request_for, hostile_image):
    outcome = run_job(engine, store, hostile(request_for, hostile_image, "exit-124"))
    assert outcome.record.status is JobStatus.failed, outcome.record.reason
    assert outcome.record.reason == "exit 124: my own 124"


def test_a_job_filling_out_is_stopped_with_a_named_status(engine, store, request_for,
                                                          hostile_image):
    limits = resolve(Limits(out_mb=16), 8 * 1024**3)
    started = time.monotonic()
    outcome = run_job(engine, store, hostile(request_for, hostile_image, "fill-out",
                                             limits=limits))
    assert outcome.record.status is JobStatus.output_limit, outcome.record.reason
    assert time.monotonic() - started < 60
    assert (outcome.folder / "out" / "junk").stat().st_size < 64 * 1024**2
    assert not our_containers(engine, outcome.record.key)


def test_a_flooding_log_is_kept_as_head_and_tail(engine, store, request_for, hostile_image):
    limits = resolve(Limits(log_mb=2), 8 * 1024**3)
    outcome = run_job(engine, store, hostile(request_for, hostile_image, "flood-log",
                                             limits=limits))
    assert outcome.record.status is JobStatus.failed
    log = (outcome.folder / "log.txt").read_bytes()
    assert len(log) < 2 * 1024**2 + 1024
    assert b"bytes of this log were dropped" in log
    # The job's last words survive the cap, and are the failure's reason, markup and all.
    assert outcome.record.reason == "exit 2: [/red][bold]the end[/bold] | <b>markup</b>"


def test_terminal_sequences_from_a_job_are_inert(engine, store, request_for, hostile_image):
    outcome = run_job(engine, store, hostile(request_for, hostile_image, "terminal"))
    record = outcome.record
    assert record.status is JobStatus.failed, record.reason
    reason = record.reason
    assert reason is not None and "\n" not in reason and not CONTROL.search(reason), reason
    assert "\\x1b]52;c;" in reason and "txt.\\u202eexe" in reason  # shown, not acted on
    assert json.loads((outcome.folder / "status.json").read_text())["reason"] == reason
    # What `edgecompress run` prints, into a pipe as into a terminal.
    for terminal in (False, True):
        out = io.StringIO()
        InertConsole(file=out, width=300, force_terminal=terminal).print(outcome_table(outcome))
        text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())  # rich's own colours
        assert not CONTROL.search(text) and "\\x1b[2J" in text, repr(text)


def test_the_sandbox_of_a_running_job(engine, store, request_for, hostile_image):
    limits = resolve(Limits(memory_mb=512, pids=256, tmp_mb=64), 8 * 1024**3)
    request = hostile(request_for, hostile_image, "sleep", limits=limits, deadline_s=60)
    finished = {}
    runner = threading.Thread(target=lambda: finished.setdefault(
        "outcome", run_job(engine, store, request)))
    runner.start()
    deadline = time.monotonic() + 60
    while not our_containers(engine, request.key):
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.2)
    (container,) = our_containers(engine, request.key)
    try:
        info = json.loads(subprocess.run(["docker", "inspect", container["Id"]], check=True,
                                         capture_output=True, text=True).stdout)[0]
        host = info["HostConfig"]
        assert host["Privileged"] is False and host["ReadonlyRootfs"] is True
        assert host["NetworkMode"] == "none" and host["CapDrop"] == ["ALL"]
        assert "no-new-privileges" in host["SecurityOpt"]
        assert host["Memory"] == 512 * 1024**2 and host["PidsLimit"] == 256
        assert "size=67108864" in host["Tmpfs"]["/tmp"]
        assert not any("docker.sock" in m["Source"] for m in info["Mounts"])
        assert all(m["RW"] is False for m in info["Mounts"]
                   if m["Destination"] != "/job/out")
        status = subprocess.run(["docker", "exec", container["Id"], "cat", "/proc/self/status"],
                                check=True, capture_output=True, text=True).stdout
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        assert fields["CapEff"].strip() == "0000000000000000"
        assert fields["NoNewPrivs"].strip() == "1"
        assert fields["Uid"].split()[0] == "1000"
        interfaces = subprocess.run(["docker", "exec", container["Id"], "cat",
                                     "/proc/net/dev"], check=True, capture_output=True,
                                    text=True).stdout
        assert [line.split(":")[0].strip() for line in interfaces.splitlines()[2:]] == ["lo"]
        write = subprocess.run(["docker", "exec", container["Id"], "touch", "/opt/x"],
                               capture_output=True, text=True)
        assert write.returncode != 0 and "Read-only file system" in write.stderr
    finally:
        subprocess.run(["docker", "kill", container["Id"]], capture_output=True)
        runner.join(timeout=60)
    assert finished["outcome"].record.status is JobStatus.killed


DRIVER = r'''
import sys
from pathlib import Path
from launcher.runner import JobRequest, run_job
from launcher.docker_client import Engine
from launcher.contract.specs import ProbeSpec
from launcher.store import Store
image_id, store, deadline = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
request = JobRequest(spec=ProbeSpec(), image="edgecompress/test-hostile:latest",
                     image_id=image_id, deadline_s=deadline, environment={"HOSTILE": "sleep"})
outcome = run_job(Engine.connect(), Store(store), request)
print(outcome.record.status.value, outcome.record.reason, flush=True)
'''


def start_driver(tmp_path: Path, hostile_image: str, deadline_s: float):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    return subprocess.Popen([sys.executable, str(script), hostile_image,
                             str(tmp_path / "store"), str(deadline_s)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def containers_of(engine, pid: int) -> list[dict]:
    """The job containers a launcher process owns (its owner label names its pid)."""
    return [c for c in engine.containers({label("kind"): "job"})
            if c.get("Labels", {}).get(label("owner"), "").split(":")[-2:-1] == [str(pid)]]


def wait_for_container(engine, pid: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [c for c in containers_of(engine, pid) if c["State"] == "running"]
        if running:
            return running[0]
        time.sleep(0.2)
    raise AssertionError("the job container never started")


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_cancel_like_ctrl_c(engine, tmp_path, hostile_image, signal_number):
    driver = start_driver(tmp_path, hostile_image, 300)
    container = wait_for_container(engine, driver.pid)
    driver.send_signal(signal_number)
    out, err = driver.communicate(timeout=60)
    assert out.startswith("canceled"), (out, err)
    assert signal.Signals(signal_number).name in out
    (status,) = (tmp_path / "store").glob("jobs/probe-*/status.json")
    assert json.loads(status.read_text())["status"] == "canceled"
    assert not engine.containers({label("key"): container["Labels"][label("key")]})


def test_a_killed_launchers_job_is_stopped_by_the_guard_and_swept_by_gc(engine, tmp_path,
                                                                        hostile_image):
    (tmp_path / "live").mkdir()
    live = start_driver(tmp_path / "live", hostile_image, 300)
    live_container = wait_for_container(engine, live.pid)
    dead = start_driver(tmp_path, hostile_image, 3)
    orphan = wait_for_container(engine, dead.pid)
    dead.kill()  # kill -9: no handler runs, the container is left behind
    dead.wait()
    # The guard (coreutils timeout, 30 s past the 3 s deadline) ends it without the launcher.
    deadline = time.monotonic() + 90
    while engine.state(orphan["Id"]).running:
        assert time.monotonic() < deadline, "the guard did not stop the orphaned job"
        time.sleep(1)
    assert engine.state(orphan["Id"]).exit_code == 124
    gc = subprocess.run([sys.executable, "-m", "launcher", "gc"], cwd=ROOT, text=True,
                        capture_output=True, timeout=60)
    assert gc.returncode == 0, gc.stderr
    ids = {c["Id"] for c in engine.containers({label("kind"): "job"})}
    assert orphan["Id"] not in ids, "gc removes the dead launcher's container"
    assert live_container["Id"] in ids, "gc leaves a live launcher's job alone"
    live.send_signal(signal.SIGTERM)
    out, _ = live.communicate(timeout=60)
    assert out.startswith("canceled")
