"""A user's Keras 3 ``.keras`` file (issue 21), on a stack that has Keras 3 beside the jobs'
tf_keras (TensorFlow 2.16 and newer: the x86-tf2.21 twin; `make test` runs this file there).

The model is written in the job image by Keras 3 itself. Through the Python API, as a campaign
would run them: ``inspect`` reads its shapes, ``quantize`` makes its FP16 ``.tflite`` and
``benchmark`` times the file and scores it; ``prune`` refuses it in one line (tfmot wraps Keras
2 layers only), and so does an ``inspect`` for a campaign that would prune it, before anything
of it runs. On stacks without Keras 3 this file has nothing to run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from launcher import api
from launcher.contract.record import JobStatus
from launcher.contract.results import BenchmarkResult, InspectResult, QuantizeResult
from launcher.contract.specs import BenchmarkSpec, InputRef, InspectSpec, PruneSpec, QuantizeSpec
from launcher.files import tree_digest

from ..digits import write_digits_folder
from .in_image import python_in_image

pytestmark = pytest.mark.docker
SIZE = 32

MAKE_KERAS3 = """
import json
import keras
assert keras.__version__.startswith("3."), keras.__version__
keras.utils.set_random_seed(0)
inputs = keras.Input((32, 32, 3))
x = keras.layers.Rescaling(1 / 255.0)(inputs)
x = keras.layers.Conv2D(8, 3, activation="relu")(x)
x = keras.layers.MaxPooling2D()(x)
x = keras.layers.Flatten()(x)
model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
model.save("/out/mynet.keras")
print(json.dumps({"keras": keras.__version__, "parameters": model.count_params()}))
"""


@pytest.fixture(scope="module")
def keras3_file(profile, image_id, tmp_path_factory) -> tuple[Path, dict]:
    if not profile.tensorflow.startswith("2.21"):
        pytest.skip(f"TensorFlow {profile.tensorflow} has no Keras 3 beside its Keras 2")
    out = tmp_path_factory.mktemp("keras3")
    out.chmod(0o777)
    made = json.loads(python_in_image(image_id, MAKE_KERAS3, {}, {out: "/out"}))
    return out / "mynet.keras", made


def test_a_keras3_file_is_inspected_quantized_and_benchmarked_and_never_pruned(
        keras3_file, profile, tmp_path):
    path, made = keras3_file
    folder = tmp_path / "digits"
    folder.mkdir()
    folder.chmod(0o755)
    digits = write_digits_folder(folder, size=SIZE, per_class=20)
    images = InputRef(path="/inputs/images", sha256=tree_digest(digits))
    model = InputRef(path="/inputs/model", sha256=tree_digest(path))
    common = {"images": images, "input_size": SIZE, "batch_size": 16}
    mounts = {"images": digits, "model": path}
    with api.open_session(profile.name, tmp_path / "store") as session:
        inspected = session.run(InspectSpec(model=model, file_name="mynet.keras", **common),
                                mounts)
        assert isinstance(inspected.result, InspectResult), inspected.record.reason
        assert inspected.result.metrics.format == "keras"
        assert (inspected.result.metrics.input_size, inspected.result.metrics.num_classes) == (
            SIZE, 10)
        assert inspected.result.metrics.parameters == made["parameters"]

        quantized = session.run(QuantizeSpec(model=model, mode="fp16", **common), mounts)
        assert isinstance(quantized.result, QuantizeResult), quantized.record.reason
        assert quantized.result.metrics.tflite_bytes > 0

        timed = session.run(BenchmarkSpec(model=model, latency_images=8, latency_runs=2,
                                          warmup_runs=1, **common), mounts)
        assert isinstance(timed.result, BenchmarkResult), timed.record.reason
        assert timed.result.metrics.top1_accuracy is not None
        assert timed.result.metrics.latency_ms_mean > 0

        pruned = session.run(PruneSpec(model=model, target_sparsity=0.5, epochs=1, **common),
                             mounts)
        assert pruned.record.status is JobStatus.failed
        reason = pruned.record.reason or ""
        assert f"written by Keras {made['keras']}" in reason and "pruning needs a Keras 2" in reason
        assert "\n" not in reason

        refused = session.run(InspectSpec(model=model, file_name="mynet.keras",
                                          needs_keras2=True, **common), mounts)
        assert refused.record.status is JobStatus.failed
        assert "pruning or distillation needs a Keras 2 model" in (refused.record.reason or "")
