"""The Docker engine stopped in the middle of a campaign: the running job ends 'lost', the
launcher stops with one line, and after the engine is back the same campaign resumes and
finishes, with nothing done twice.

A second, private dockerd (its own socket and data root, no bridge) is stopped and started
here, so the engine the other tests use is never touched. Its job image is small: the
Debian-made base plus a stand-in ``jobs`` package that answers a make_model spec with a
real make_model result (recorded from the real image once) after sleeping a while.
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
from pathlib import Path

import pytest

from launcher.schema import JOB_RESULT, MakeModelSpec

pytestmark = pytest.mark.docker
ROOT = Path(__file__).parents[2]
RECORDED = ROOT / "tests" / "data" / "campaign-quick-2copies"
BASE = os.environ.get("EDGECOMPRESS_BASE_X86_TF2_12", "edgecompress/base:bookworm")

STAND_IN = r'''
import json, os, sys, time
spec_path = sys.argv[sys.argv.index("--spec") + 1]
out = sys.argv[sys.argv.index("--out") + 1]
with open(spec_path) as handle:
    spec = json.load(handle)
with open("/opt/edgecompress/recorded.json") as handle:
    result = json.load(handle)
if spec["input_size"] == 33:
    time.sleep(float(os.environ.get("SLEEP_S", "0")))
result["spec"] = spec
for artifact in result["artifacts"]:
    folder = os.path.join(out, artifact["path"])
    os.makedirs(folder)
    with open(os.path.join(folder, "saved_model.pb"), "wb") as handle:
        handle.write(b"stand-in")
with open(os.path.join(out, "result.json"), "w") as handle:
    json.dump(result, handle)
'''

DRIVER = r'''
import sys
from pathlib import Path
from launcher.docker_client import Engine
from launcher.store import Store
from launcher.study.campaign import load_campaign, with_overrides
from launcher.study.execute import run_plan
from launcher.study.plan import Node, Plan
from launcher.target import Target

class Quiet:
    def begin(self, plan, assessments): pass
    def started(self, node): pass
    def line(self, text): pass
    def finished(self, node, assessment, ran): print(node.id, assessment.state.value, flush=True)

image_id, store, sleep_s = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
config = with_overrides(load_campaign("paper"), models=["MobileNetV3Small"], methods=["fp16"],
                        copies=1)
nodes = tuple(Node(id=f"make_model/{size}", job="make_model",
                   params={"architecture": "MobileNetV3Small", "input_size": size,
                           "num_classes": 10},
                   inputs=(), model="MobileNetV3Small", method="base", copy=1, role="train")
              for size in (32, 33, 34))
target = Target(store=Store(store), profile="x86-tf2.12", image="stand-in", image_id=image_id,
                environment={"SLEEP_S": sleep_s})
summary = run_plan(Engine.connect(), Plan(config, nodes), target, Quiet())
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

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.socket}

    def start(self) -> None:
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - lives with the daemon
        self.process = subprocess.Popen(
            ["dockerd", "--host", self.socket, "--data-root", str(self.root / "data"),
             "--exec-root", str(self.root / "exec"), "--pidfile", str(self.root / "pid"),
             "--bridge", "none", "--iptables=false", "--ip-masq=false"],
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
def recorded_make_model() -> str:
    """A make_model result as a real job writes it: the environment, resources and timings
    of a recorded real result, validated by the contract here."""
    train = next((RECORDED / "jobs").glob("train-*"))
    real = json.loads((train / "out" / "result.json").read_text())
    document = {
        "schema_version": real["schema_version"], "job": "make_model",
        "spec": MakeModelSpec(architecture="MobileNetV3Small", input_size=32,
                              num_classes=10).model_dump(mode="json"),
        "metrics": {"parameters": 1, "saved_model_bytes": 8, "build_s": 0.1},
        "samples": {},
        "artifacts": [{"name": "model", "kind": "saved_model", "path": "saved_model",
                       "bytes": 8}],
        "environment": real["environment"], "resources": real["resources"],
        "timings": real["timings"],
    }
    JOB_RESULT.validate_python(document)
    return json.dumps(document)


@pytest.fixture(scope="module")
def private_engine(recorded_make_model, tmp_path_factory):
    engine = PrivateEngine()
    engine.start()
    try:
        saved = subprocess.run(["docker", "save", BASE], check=True, capture_output=True).stdout
        engine.docker("load", "-q", stdin=saved)
        context = tmp_path_factory.mktemp("stand-in")
        (context / "main.py").write_text(STAND_IN)
        (context / "recorded.json").write_text(recorded_make_model)
        (context / "Dockerfile").write_text(
            f"FROM {BASE}\nCOPY main.py /opt/edgecompress/jobs/__main__.py\n"
            "COPY recorded.json /opt/edgecompress/recorded.json\n"
            "ENV PYTHONPATH=/opt/edgecompress\n")
        engine.docker("build", "-q", "-t", "edgecompress/test-stand-in", str(context))
        yield engine
    finally:
        engine.stop()
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
    image_id = private_engine.docker("image", "inspect", "-f", "{{.Id}}",
                                     "edgecompress/test-stand-in").strip()
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
