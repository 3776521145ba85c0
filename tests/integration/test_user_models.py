"""A model of one's own through a campaign, for real (issue 21): a small CNN that is not a
keras.applications network (a Rescaling layer, 40 px, 10 classes), trained briefly on the
digits in the job image and saved as .keras; a campaign compresses it (fp16, int8, prune50)
and benchmarks every model, and the report has its rows. A model whose class count disagrees
with the data fails its inspection with one line, and nothing of it runs."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ..digits import write_digits_folder
from .conftest import TEST_PROFILE
from .in_image import python_in_image

pytestmark = pytest.mark.docker

# Written in the job image by its own Keras (the host has no TensorFlow): the copy the user
# brings (10 classes, .keras) and one whose head has 12 classes (.h5).
MAKE_MODELS = """
from jobs import compat
tf = compat.import_tensorflow(); keras = compat.keras_module(tf)
tf.random.set_seed(0)

def cnn(classes):
    inputs = keras.Input((40, 40, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(16, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    # Flatten, not global pooling: where a stroke is tells digits apart (pooled, three epochs
    # left it near chance).
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(x))

train = keras.utils.image_dataset_from_directory(
    "/digits/train", image_size=(40, 40), batch_size=32, label_mode="int", seed=0)
model = cnn(10)
model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", ["accuracy"])
model.fit(train, epochs=3, verbose=0)
# Keras 2.12 writes HDF5 under a .keras name unless asked for its zip format (the default
# from Keras 2.13 on): ask, so that the file is what newer Keras writes.
model.save("/out/mynet.keras", save_format="keras_v3")
cnn(12).save("/out/twelve.h5")
exec(open("/out/layers.py").read())
inputs = keras.Input((40, 40, 3))
outputs = keras.layers.Dense(10, activation="softmax")(
    keras.layers.GlobalAveragePooling2D()(Scale(1 / 255.0)(inputs)))
keras.Model(inputs, outputs).save("/out/custom.h5")
print("ok")
"""

# A custom layer, as a user's custom_objects file defines it (imported only inside jobs).
LAYERS = """
from jobs import compat
keras = compat.keras_module(compat.import_tensorflow())


class Scale(keras.layers.Layer):
    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return dict(super().get_config(), factor=self.factor)
"""

CAMPAIGN = """name = "{name}"
models = [{{ name = "{model}", path = "{path}" }}]
methods = ["fp16", "int8"]
copies = 1
input_size = 40
batch_size = 32
weights = "none"
compress_epochs = 1
calibration_images = 16
[dataset]
source = "digits"
[benchmark]
latency_images = 20
latency_runs = 2
warmup_runs = 1
"""


def edgecompress(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "launcher", *args], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def own(image_id, tmp_path_factory) -> Path:
    """A folder with the two model files, written by the job image's Keras."""
    root = tmp_path_factory.mktemp("own")
    write_digits_folder(root / "digits", 40, split=(0.15, 0.15))
    out = root / "models"
    out.mkdir()
    out.chmod(0o777)  # the image writes as uid 1000
    (out / "layers.py").write_text(LAYERS)
    for path in (root, *(root / "digits").rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    python_in_image(image_id, MAKE_MODELS, {root / "digits": "/digits"}, {out: "/out"})
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """One store for the campaigns here: the digits' decode job runs once."""
    return tmp_path_factory.mktemp("own-store") / "store"


def test_own_keras_model_through_a_campaign_to_the_report(own, store, tmp_path):
    config = own / "mynet.toml"
    config.write_text(CAMPAIGN.format(name="own", model="mynet", path="mynet.keras"))
    run = edgecompress("campaign", "run", str(config), "--profile", TEST_PROFILE, "--store",
                       str(store))
    assert run.returncode == 0, run.stdout + run.stderr
    manifest = json.loads(next((store / "campaigns").glob("own@*.json")).read_text())
    nodes = manifest["nodes"]
    assert not [node for node in nodes if node.startswith(("train/", "scratch/"))]

    def result(node: str) -> dict:
        folder = store / "jobs" / nodes[node]["folder"]
        return json.loads((folder / "out" / "result.json").read_text())

    inspected = result("inspect/mynet/copy1")["metrics"]
    assert (inspected["format"], inspected["input_size"], inspected["num_classes"],
            inspected["dataset_classes"]) == ("keras", 40, 10, 10)
    assert inspected["input_shape"] == [None, 40, 40, 3]
    assert inspected["fingerprint"]["parameters"] == inspected["parameters"]
    base = result("benchmark/inspect/mynet/copy1")["metrics"]
    # Three epochs of a small CNN: far above chance (0.1; 0.96 seen on the 279 test images).
    assert base["format"] == "keras" and base["top1_accuracy"] > 0.5
    for method in ("fp16", "int8"):
        quantized = result(f"benchmark/{method}/mynet/copy1")["metrics"]
        assert quantized["format"] == "tflite"
        assert abs(quantized["top1_accuracy"] - base["top1_accuracy"]) < 0.1

    out = tmp_path / "report"
    report = edgecompress("report", "--store", str(store), "--out", str(out))
    assert report.returncode == 0, report.stderr
    with open(out / "csv" / "accuracy.csv") as handle:
        accuracy = {(r["model"], r["method"]): r for r in csv.DictReader(handle)}
    assert {("mynet", m) for m in ("base", "fp16", "int8")} <= set(accuracy)
    assert float(accuracy[("mynet", "base")]["mean %"]) == pytest.approx(
        100 * base["top1_accuracy"])

    # Run again: everything is done, no container starts.
    again = edgecompress("campaign", "run", str(config), "--profile", TEST_PROFILE, "--store",
                         str(store))
    assert again.returncode == 0 and "0 job(s) ran" in again.stdout, again.stdout


def test_models_that_do_not_fit_are_one_line_each_and_nothing_runs(own, store):
    """A 12-class head on 10-class data, and a .keras file Keras cannot read: each inspection
    fails with one line naming the file, and no job of either model runs."""
    with zipfile.ZipFile(own / "broken.keras", "w") as archive:
        archive.writestr("config.json", "not json")
    config = own / "unfit.toml"
    config.write_text(CAMPAIGN.format(name="unfit", model="twelve", path="twelve.h5").replace(
        '"twelve.h5" }]', '"twelve.h5" }, { name = "broken", path = "broken.keras" }]'))
    before = set((store / "jobs").iterdir()) if (store / "jobs").exists() else set()
    run = edgecompress("campaign", "run", str(config), "--profile", TEST_PROFILE, "--store",
                       str(store))
    assert run.returncode == 1, run.stdout + run.stderr
    for node, reason in (("inspect/twelve/copy1", "twelve.h5 has 12 classes out, the dataset "
                                                  "has 10"),
                         ("inspect/broken/copy1", "cannot load the broken.keras at")):
        lines = [line for line in run.stderr.splitlines() if f"failed: {node}: " in line]
        assert len(lines) == 1 and reason in lines[0], run.stderr
    ran = sorted(folder.name.split("-")[0] for folder in set((store / "jobs").iterdir()) - before)
    assert [job for job in ran if job != "decode"] == ["inspect", "inspect"], ran


def test_custom_layers_are_imported_in_the_job(own, tmp_path):
    """custom_objects: the file is mounted and imported inside the job (edgecompress run
    inspect on an .h5 file: a single job takes a user's file too)."""
    common = ("--model", str(own / "custom.h5"), "--file-name", "custom.h5", "--images",
              str(own.parent / "digits"), "--input-size", "40", "--profile", TEST_PROFILE,
              "--store", str(tmp_path / "store"))
    run = edgecompress("run", "inspect", *common, "--custom-objects", str(own / "layers.py"))
    assert run.returncode == 0, run.stdout + run.stderr
    (result,) = (tmp_path / "store" / "jobs").glob("inspect-*/out/result.json")
    assert json.loads(result.read_text())["metrics"]["num_classes"] == 10
