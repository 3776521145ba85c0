"""Real jobs in real containers on the real engine: results validate, files exist, faults end
in their named status with the log kept and no container left behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import jsonschema
import pytest

from launcher import images
from launcher.contract.record import JobStatus
from launcher.contract.results import MakeModelResult, ProbeResult, QuantizeResult
from launcher.contract.specs import InputRef, MakeModelSpec, ProbeSpec, QuantizeSpec
from launcher.device.preflight import HostFacts, device_environment
from launcher.device.profiles import resolve_base_image
from launcher.docker_client import ContainerRequest, label
from launcher.execution.container import container_user, gpu_groups
from launcher.files import tree_digest
from launcher.limits import Limits, resolve
from launcher.runner import JobRequest, run_job
from launcher.store import Store

from .conftest import job_containers

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parent.parent.parent
RESULT_SCHEMA = json.loads((REPO / "schema" / "job-result.schema.json").read_text())


def assert_valid_on_disk(folder: Path) -> dict:
    """The result validates against the exported JSON Schema as well as the models, and every
    artifact it names is where it says."""
    document = json.loads((folder / "out" / "result.json").read_text())
    jsonschema.validate(document, RESULT_SCHEMA)
    for artifact in document["artifacts"]:
        path = folder / "out" / artifact["path"]
        assert path.exists(), artifact
    return document


@pytest.fixture(scope="module")
def small_model(engine, profile, image_id, tmp_path_factory):
    """An untrained MobileNetV3Small made by the real make_model job, shared by the module."""
    store = Store(tmp_path_factory.mktemp("model-store"))
    spec = MakeModelSpec(architecture="MobileNetV3Small", input_size=32, num_classes=4)
    outcome = run_job(engine, store, JobRequest(spec=spec, image=profile.image,
                                                image_id=image_id, deadline_s=600))
    assert outcome.record.status is JobStatus.succeeded, outcome.record.reason
    assert isinstance(outcome.result, MakeModelResult)
    return outcome


def test_build_reuses_the_image_when_its_content_tag_exists(engine, profile, image_id):
    plan = images.plan_build(profile, resolve_base_image(profile),
                             images.read_sources(profile))
    again, reused = images.build_image(engine, plan, None, on_line=lambda line: None)
    assert reused and again == image_id
    assert engine.image_labels(image_id)["io.edgecompress.profile"] == profile.name


def test_probe_reports_the_profiles_stack(engine, store, request_for, profile, image_id):
    outcome = run_job(engine, store, request_for(ProbeSpec(), deadline_s=300))
    assert outcome.record.status is JobStatus.succeeded, outcome.record.reason
    assert isinstance(outcome.result, ProbeResult)
    env = outcome.result.environment
    assert env.tensorflow == profile.tensorflow
    assert env.tfmot == profile.tfmot and env.tfds == profile.tfds
    assert env.python.startswith(profile.python + ".")
    assert env.image_id == image_id
    assert env.cpu_count >= 1 and env.gpus == []
    assert outcome.result.timings.imports_s > 0
    assert_valid_on_disk(outcome.folder)
    assert not job_containers(engine, outcome.record.key)


def test_make_model_then_quantize_fp16(engine, store, request_for, small_model):
    made = small_model.result
    model_dir = small_model.folder / "out" / made.artifacts[0].path
    assert (model_dir / "saved_model.pb").exists()
    assert made.metrics.saved_model_bytes == made.artifacts[0].bytes
    assert_valid_on_disk(small_model.folder)

    spec = QuantizeSpec(model=InputRef(path="/inputs/model", sha256=tree_digest(model_dir)))
    outcome = run_job(engine, store, request_for(spec, {"model": model_dir}, deadline_s=600))
    assert outcome.record.status is JobStatus.succeeded, outcome.record.reason
    result = outcome.result
    assert isinstance(result, QuantizeResult)
    tflite = outcome.folder / "out" / result.artifacts[0].path
    assert tflite.read_bytes()[4:8] == b"TFL3", "a real TFLite flatbuffer"
    assert tflite.stat().st_size == result.metrics.tflite_bytes
    # FP16 stores each weight in 2 bytes: at most about half the float32 weights plus graph.
    assert result.metrics.tflite_bytes < 0.6 * 4 * made.metrics.parameters + 200_000
    assert result.metrics.conversion_s > 0
    assert_valid_on_disk(outcome.folder)

    again = run_job(engine, store, request_for(spec, {"model": model_dir}, deadline_s=600))
    assert again.reused and again.result == result, "a done, valid job is not run twice"


def test_a_job_that_exits_non_zero_is_failed_with_its_log(engine, store, request_for,
                                                          tmp_path):
    not_a_model = tmp_path / "empty"
    not_a_model.mkdir()
    spec = QuantizeSpec(model=InputRef(path="/inputs/model", sha256=tree_digest(not_a_model)))
    outcome = run_job(engine, store, request_for(spec, {"model": not_a_model}, deadline_s=300))
    assert outcome.record.status is JobStatus.failed
    assert outcome.record.exit_code == 2
    assert "is neither a SavedModel folder" in (outcome.record.reason or "")
    assert "is neither a SavedModel folder" in (outcome.folder / "log.txt").read_text()
    assert outcome.result is None and store.done(outcome.folder) is None
    assert not job_containers(engine, outcome.record.key)


def test_a_job_past_its_deadline_is_timeout_and_leaves_no_container(engine, store,
                                                                   request_for):
    started = time.monotonic()
    outcome = run_job(engine, store, request_for(ProbeSpec(), deadline_s=0.5, force=True))
    assert outcome.record.status is JobStatus.timeout
    assert time.monotonic() - started < 30
    assert (outcome.folder / "log.txt").exists()
    assert store.done(outcome.folder) is None
    assert not job_containers(engine, outcome.record.key)


def test_a_job_out_of_memory_is_oom_from_state_not_exit_code(engine, store, request_for):
    # Importing TensorFlow needs far more than 96 MiB: the kernel kills the job.
    outcome = run_job(engine, store, request_for(
        ProbeSpec(), deadline_s=120, limits=resolve(Limits(memory_mb=96), 0)))
    assert outcome.record.status is JobStatus.oom, outcome.record.reason
    assert outcome.record.oom_killed
    assert not job_containers(engine, outcome.record.key)


@pytest.fixture(scope="module")
def lying_image(engine, image_id, tmp_path_factory):
    """The job image with a probe that exits 0 but writes a result the contract rejects (a
    negative GPU count): the launcher must not take exit 0 for success."""
    context = tmp_path_factory.mktemp("lying-image")
    (context / "probe.py").write_text(
        "from jobs.contract import Outcome\n\n\n"
        "def run(spec, context):\n"
        "    return Outcome(metrics={'gpu_count': -1})\n")
    (context / "Dockerfile").write_text(
        f"FROM {image_id}\nCOPY probe.py /opt/edgecompress/jobs/probe.py\n")
    tag = "edgecompress/test-lying-probe:latest"
    for event in engine.build(str(context), tag, {}, {"io.edgecompress.kind": "test"}):
        assert "error" not in event, event
    yield engine.image_id(tag)
    engine.remove_image(tag)


def test_an_invalid_result_is_invalid_result_and_never_done(engine, store, request_for,
                                                            lying_image):
    request = request_for(ProbeSpec(), image_id=lying_image, deadline_s=300)
    outcome = run_job(engine, store, request)
    assert outcome.record.exit_code == 0
    assert outcome.record.status is JobStatus.invalid_result
    assert "metrics.gpu_count" in (outcome.record.reason or "")
    assert outcome.result is None and store.done(outcome.folder) is None
    assert not (outcome.folder / "out" / "result.json").exists()
    assert (outcome.folder / "out" / "result.rejected.json").exists()
    rerun = run_job(engine, store, request)
    assert not rerun.reused, "an invalid result is redone, not reused"
    assert (outcome.folder / "attempts" / "1" / "status.json").exists(), "attempts are kept"


def test_ctrl_c_cancels_the_job_and_removes_its_container(engine, tmp_path, small_model,
                                                          image_id):
    model_dir = small_model.folder / "out" / "saved_model"
    proc = subprocess.Popen(
        [sys.executable, "-m", "launcher", "run", "quantize", "--model", str(model_dir),
         "--store", str(tmp_path), "--force"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not engine.containers({"io.edgecompress.job": "quantize"}):
        assert time.monotonic() < deadline and proc.poll() is None, "container never started"
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "canceled" in out
    (status,) = tmp_path.glob("jobs/quantize-*/status.json")
    assert json.loads(status.read_text())["status"] == "canceled"
    assert not engine.containers({"io.edgecompress.job": "quantize"})


def test_gpu_groups_reach_the_container_user(engine, image_id, tmp_path):
    """The nvidia runtime cannot run here; what the runner adds for it (the host's video
    group) reaches the engine, and a job runs with it."""
    (gid,) = gpu_groups("nvidia", lambda name: 44 if name == "video" else None)
    request = ContainerRequest(
        image=image_id, command=["probe"], name=f"edgecompress-test-groups-{time.time_ns()}",
        mounts=(), labels={label("kind"): "test"}, user=container_user(), group_add=(gid,))
    container_id = engine.create(request)
    try:
        inspected = docker.from_env().api.inspect_container(container_id)
        assert inspected["HostConfig"]["GroupAdd"] == ["44"]
        engine.start(container_id)
        give_up = time.monotonic() + 300
        while not engine.wait(container_id, timeout=5) and time.monotonic() < give_up:
            pass
        assert engine.state(container_id).exit_code == 0, engine.logs(container_id)[-2000:]
    finally:
        engine.remove_container(container_id)


def test_the_device_setup_read_on_the_host_is_recorded_by_the_job(engine, store, request_for):
    """What preflight reads on a Jetson host (here a Nano's recorded nvpmodel and L4T files,
    clocks pinned) reaches every result's environment."""
    data = REPO / "tests" / "data" / "jetson" / "nano"
    facts = HostFacts(tegra_release=(data / "nv_tegra_release").read_text(),
                      nvpmodel=(data / "nvpmodel-q.txt").read_text(),
                      cpu_freq_bounds=((1479000, 1479000),) * 4)
    outcome = run_job(engine, store, request_for(
        ProbeSpec(), deadline_s=300, environment=device_environment(facts)))
    assert outcome.record.status is JobStatus.succeeded, outcome.record.reason
    env = outcome.result.environment
    assert (env.power_mode, env.jetpack, env.jetson_clocks) == ("MAXN (0)", "4.6.1", True)
