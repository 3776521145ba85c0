"""The Docker engine stopped in the middle of a campaign: the running job ends 'lost', the
launcher stops with one line, and after the engine is back the same campaign resumes and
finishes, with nothing done twice.

A second, private dockerd (its own socket and data root, no bridge) is stopped and started
here, so the engine the other tests use is never touched. Its job image is small: the
stand-in of stand_ins/job_image.py (no TensorFlow), whose 33 px make_model sleeps.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from stand_ins import job_image

pytestmark = pytest.mark.docker
ROOT = Path(__file__).parents[2]
BASE = os.environ.get("EDGECOMPRESS_BASE_X86_TF2_12", "edgecompress/base:bookworm")

DRIVER = r'''
import sys
from pathlib import Path
from launcher.docker_client import Engine
from launcher.store import Store
from launcher.study.campaign import load_campaign, with_overrides
from launcher.execution.local import LocalSite
from launcher.execution.schedule import run_plan
from launcher.study.plan import Plan
from launcher.target import Target
from stand_ins.job_image import make_model_node

class Quiet:
    def begin(self, plan, assessments): pass
    def started(self, node): pass
    def line(self, node, text): pass
    def finished(self, node, assessment, ran): print(node.id, assessment.state.value, flush=True)

image_id, store, sleep_s = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
config = with_overrides(load_campaign("paper"), models=["MobileNetV3Small"], methods=["fp16"],
                        copies=1)
nodes = tuple(make_model_node(size) for size in (32, 33, 34))
target = Target(store=Store(store), profile="x86-tf2.12", image="stand-in", image_id=image_id,
                environment={"SLEEP_S": sleep_s, "SLEEP_SIZE": "33"})
summary = run_plan(Plan(config, nodes), LocalSite(Engine.connect(), target), Quiet())
print("ran", len(summary.ran), "reused", summary.reused, "complete", summary.complete,
      flush=True)
'''


class PrivateEngine:
    """A dockerd of our own: start, stop (SIGTERM, like systemctl stop), start again."""

    def __init__(self) -> None:
        # A short path: a unix socket's path is limited to 108 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="/tmp/ec-engine-"))
        self.socket = f"unix://{self.root}/docker.sock"
        self.process: subprocess.Popen[bytes] | None = None
        self.image_id = ""
        # A bridge of its own: with --bridge none, dockerd deletes the host's docker0 (the
        # other engine's), and image builds there lose the network.
        self.bridge = f"ecbr{uuid.uuid4().hex[:8]}"
        subprocess.run(["ip", "link", "add", "name", self.bridge, "type", "bridge"], check=True)
        subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.socket}

    def start(self) -> None:
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - lives with the daemon
        self.process = subprocess.Popen(
            ["dockerd", "--host", self.socket, "--data-root", str(self.root / "data"),
             "--exec-root", str(self.root / "exec"), "--pidfile", str(self.root / "pid"),
             "--bridge", self.bridge, "--iptables=false", "--ip-masq=false"],
            stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while subprocess.run(["docker", "info"], env=self.env,
                             capture_output=True).returncode != 0:
            assert time.monotonic() < deadline, (self.root / "dockerd.log").read_text()[-2000:]
            assert self.process.poll() is None, (self.root / "dockerd.log").read_text()[-2000:]
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)

    def docker(self, *args: str, stdin: bytes | None = None) -> str:
        return subprocess.run(["docker", *args], env=self.env, input=stdin, check=True,
                              capture_output=True).stdout.decode()


@pytest.fixture(scope="module")
def private_engine():
    engine = PrivateEngine()
    engine.start()
    try:
        saved = subprocess.run(["docker", "save", BASE], check=True, capture_output=True).stdout
        engine.docker("load", "-q", stdin=saved)
        engine.image_id = job_image.build(BASE, engine.env)
        yield engine
    finally:
        engine.stop()
        subprocess.run(["ip", "link", "delete", engine.bridge], check=False)
        shutil.rmtree(engine.root, ignore_errors=True)


def run_driver(private_engine: PrivateEngine, store: Path, image_id: str, sleep_s: int
               ) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", DRIVER, image_id, str(store), str(sleep_s)],
                            cwd=ROOT,
                            env={**private_engine.env, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def started(store: Path, size: int) -> bool:
    return any(json.loads(spec.read_text())["input_size"] == size
               for spec in store.glob("jobs/make_model-*/spec.json"))


def statuses(store: Path) -> dict[int, str]:
    found = {}
    for status in store.glob("jobs/make_model-*/status.json"):
        spec = json.loads((status.parent / "spec.json").read_text())
        found[spec["input_size"]] = json.loads(status.read_text())["status"]
    return found


def test_an_engine_stopped_mid_campaign_then_restarted_resumes(private_engine, tmp_path):
    image_id = private_engine.image_id
    store = tmp_path / "store"
    first = run_driver(private_engine, store, image_id, sleep_s=300)
    deadline = time.monotonic() + 120
    while not started(store, 33):
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.3)
    time.sleep(3)  # the second job (33 px) is asleep inside its container
    private_engine.stop()
    out, err = first.communicate(timeout=120)
    assert statuses(store) == {32: "succeeded", 33: "lost"}, (out, err)
    assert "make_model/33 interrupted" in out and "complete False" in out

    private_engine.start()
    again = run_driver(private_engine, store, image_id, sleep_s=0)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert "ran 2 reused 1 complete True" in out, out
    assert statuses(store) == {32: "succeeded", 33: "succeeded", 34: "succeeded"}
    (lost_folder,) = [p.parent.parent for p in store.glob("jobs/make_model-*/attempts/1")]
    assert json.loads((lost_folder / "attempts" / "1" / "status.json").read_text())[
        "status"] == "lost"
