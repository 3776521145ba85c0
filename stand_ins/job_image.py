"""A stand-in job image: the Debian-made base (no TensorFlow) plus a ``jobs`` package that
answers make_model and benchmark specs at once with results as real jobs write them (the
environment, resources and timings of recorded real results), after sleeping SLEEP_S
seconds when the spec's input_size is SLEEP_SIZE (or SLEEP_SIZE is "*"); a benchmark's
latency runs wait RUN_S seconds each, stamped as the real job stamps them. For what needs
many or stoppable jobs and no model: a private engine that is stopped mid-job, a campaign of
hundreds of jobs, a fleet."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from launcher.contract.results import JOB_RESULT
from launcher.contract.specs import BenchmarkSpec, InputRef, MakeModelSpec
from launcher.study.plan import Node, Role

# The tests' recorded real campaign: its results are the stand-in's templates.
RECORDED = Path(__file__).resolve().parents[1] / "tests" / "data" / "campaign-quick-2copies"
TAG = "edgecompress/test-stand-in"

MAIN = r'''
import datetime, json, os, sys, time
spec_path = sys.argv[sys.argv.index("--spec") + 1]
out = sys.argv[sys.argv.index("--out") + 1]
with open(spec_path) as handle:
    spec = json.load(handle)
with open("/opt/edgecompress/recorded-%s.json" % spec["job"]) as handle:
    result = json.load(handle)
if os.environ.get("SLEEP_SIZE") in ("*", str(spec["input_size"])):  # "*": every job
    time.sleep(float(os.environ.get("SLEEP_S", "0")))
if spec["job"] == "benchmark":  # latency runs of RUN_S seconds each, stamped as the job's
    result["timings"]["started_at"] = datetime.datetime.utcnow().isoformat() + "Z"
    started, ended = [], []
    for _ in range(spec["latency_runs"]):
        started.append(time.time())
        time.sleep(float(os.environ.get("RUN_S", "0.5")))
        ended.append(time.time())
    result["samples"] = {
        "latency_ms_per_image_all_runs": [(e - s) * 1000.0 / spec["latency_images"]
                                          for s, e in zip(started, ended)],
        "latency_run_started_unix": started, "latency_run_ended_unix": ended}
    result["metrics"]["latency_images"] = spec["latency_images"]
result["spec"] = spec
for artifact in result["artifacts"]:
    folder = os.path.join(out, artifact["path"])
    os.makedirs(folder)
    with open(os.path.join(folder, "saved_model.pb"), "wb") as handle:
        handle.write(b"stand-in")
with open(os.path.join(out, "result.json"), "w") as handle:
    json.dump(result, handle)
'''


def recorded_make_model() -> str:
    """A make_model result document, validated by the contract here."""
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


def recorded_benchmark() -> str:
    """A recorded benchmark result of a .tflite (no artifacts), validated by the contract
    here with a spec of the stand-in's; the image puts in the spec and latency runs it gets."""
    real = next(json.loads((folder / "out" / "result.json").read_text())
                for folder in sorted((RECORDED / "jobs").glob("benchmark-*")))
    spec = BenchmarkSpec(model=InputRef(path="/inputs/model", sha256="0" * 64),
                         input_size=32, latency_images=1, latency_runs=2, warmup_runs=1,
                         tfds_mock_examples=10)
    document = {**real, "spec": spec.model_dump(mode="json"), "artifacts": []}
    JOB_RESULT.validate_python(document)
    return json.dumps(document)


def build(base: str, env: dict[str, str] | None = None, tag: str = TAG) -> str:
    """Build the stand-in image FROM ``base`` on the engine ``env`` points at; its id. Another
    ``tag`` gives an image of the same behaviour and another id (a second profile's)."""
    with tempfile.TemporaryDirectory() as folder:
        context = Path(folder)
        (context / "main.py").write_text(MAIN)
        (context / "recorded-make_model.json").write_text(recorded_make_model())
        (context / "recorded-benchmark.json").write_text(recorded_benchmark())
        (context / "Dockerfile").write_text(
            f"FROM {base}\nCOPY main.py /opt/edgecompress/jobs/__main__.py\n"
            "COPY recorded-make_model.json recorded-benchmark.json /opt/edgecompress/\n"
            "ENV PYTHONPATH=/opt/edgecompress\n"
            'LABEL io.edgecompress.kind="test"\n'
            + ("" if tag == TAG else f'LABEL io.edgecompress.test-variant="{tag}"\n'))
        subprocess.run(["docker", "build", "-q", "-t", tag, str(context)], env=env,
                       check=True, capture_output=True)
        return subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", tag], env=env,
                              check=True, capture_output=True, text=True).stdout.strip()


def make_model_node(size: int, role: Role = "train") -> Node:
    """A campaign node of one make_model job at ``size`` px (no inputs); its ``role`` decides
    where placed training sends it (train: the training profile's nodes)."""
    return Node(id=f"make_model/{size}", job="make_model",
                params={"architecture": "MobileNetV3Small", "input_size": size,
                        "num_classes": 10},
                inputs=(), model="MobileNetV3Small", method="base", copy=1,
                role=role)
