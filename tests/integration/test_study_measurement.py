"""Issue 9 in the job images: INT8 calibration is a random sample of the training split (item
2), quantization's compression time in parts (item 3), per-image latency and its method (item
4), the latency images held once as uint8 (item 9). Issue 22: runs by duration as well as count
(min_duration_s) and the cooldown between runs (cooldown_c) on fake thermal zones.

One untrained MobileNetV3Small at 96 x 96 (make_model; accuracy does not matter here) and the
digits written with 60 % of each class in test/, so 1000 distinct latency images exist.

Not testable without a GPU: that a SavedModel's images no longer overlap on one. The loop that
makes each image wait for its output is tested on the host (tests/unit/test_measurement.py);
here the jobs record the method they timed and run the code paths on the CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from launcher.contract.record import JobStatus
from launcher.contract.results import BenchmarkResult, DecodeResult, QuantizeResult
from launcher.contract.specs import BenchmarkSpec, DecodeSpec, InputRef, MakeModelSpec, QuantizeSpec
from launcher.contract.vocabulary import CONTAINER_INPUTS_DIR, ENV_THERMAL_ROOT, LatencyMethod
from launcher.files import tree_digest
from launcher.keys import job_key
from launcher.runner import JobRequest, run_job
from launcher.store import Store

from ..digits import write_digits_folder
from . import job_runs
from .in_image import python_in_image

pytestmark = pytest.mark.docker
SIZE = 96
# 60 % of every class in test/ (about 1078 images), 35 % in train/ (about 63 per class).
SPLIT = (0.05, 0.6)
MANY, FEW = 1000, 20
MB = 1024 * 1024


class Jobs(job_runs.Jobs):
    def model(self) -> Path:
        return self.artifact(self.run("model", MakeModelSpec(
            architecture="MobileNetV3Small", input_size=SIZE, num_classes=10), {}))

    def int8(self) -> QuantizeResult:
        model = self.model()
        result = self.run("int8", QuantizeSpec(
            images=self.images, model=self.ref(model), mode="int8", calibration_images=64,
            input_size=SIZE, seed=3), {"model": model}).result
        assert isinstance(result, QuantizeResult)
        return result

    def benchmark(self, name: str, model: Path, images: int, method: LatencyMethod,
                  h5: Path | None = None) -> BenchmarkResult:
        """``h5``: the model's .h5 copy, loaded instead of the SavedModel (as campaigns do)."""
        handoff = {} if h5 is None else {"model_h5": h5}
        result = self.run(name, BenchmarkSpec(
            images=self.images, model=self.ref(model), input_size=SIZE, accuracy=False,
            latency_images=images, latency_runs=2, warmup_runs=1, latency_method=method,
            model_h5=None if h5 is None else InputRef(path="/inputs/model_h5",
                                                      sha256=tree_digest(h5))),
            {"model": model, **handoff}).result
        assert isinstance(result, BenchmarkResult)
        return result


@pytest.fixture(scope="module")
def jobs(engine, profile, image_id, tmp_path_factory) -> Jobs:
    folder = tmp_path_factory.mktemp("digits")
    folder.chmod(0o755)  # jobs run as uid 1000 when the tests run as root
    digits = write_digits_folder(folder, size=SIZE, split=SPLIT)
    assert sum(1 for _ in (digits / "test").rglob("*.png")) >= MANY
    return Jobs(engine, profile, image_id, Store(tmp_path_factory.mktemp("store")), digits)


def test_int8_calibration_is_a_random_sample_of_the_training_split(jobs):
    """The training list is ordered by class: its first 64 images are all digit_0."""
    metrics = jobs.int8().metrics
    histogram = metrics.calibration_class_histogram
    assert metrics.calibration_images == 64 and histogram is not None
    assert sum(histogram.values()) == 64
    assert len(histogram) >= 8, histogram
    assert set(histogram) <= {f"digit_{digit}" for digit in range(10)}


def test_compression_time_is_load_plus_conversion_plus_save(jobs):
    result = jobs.int8()
    metrics = result.metrics
    assert metrics.load_s and metrics.save_s and metrics.conversion_s > 0
    assert metrics.calibration_load_s and metrics.calibration_load_s < metrics.load_s
    assert metrics.compression_total_s == pytest.approx(
        metrics.load_s + metrics.conversion_s + metrics.save_s)
    # Nothing the user waits for is left out: the parts are the job's own time, bar the
    # measuring of sizes afterwards.
    assert 0.9 * result.timings.job_s <= metrics.compression_total_s <= result.timings.job_s


def call_many(jobs) -> BenchmarkResult:
    model = jobs.model()
    return jobs.benchmark("call", model, MANY, "call", h5=model.parent / "model.h5")


def predict_few(jobs) -> BenchmarkResult:
    return jobs.benchmark("predict", jobs.model(), FEW, "predict")


def test_latency_method_is_recorded_and_predict_times_kerass_machinery(jobs):
    call, predict = call_many(jobs), predict_few(jobs)
    assert (call.metrics.latency_method, predict.metrics.latency_method) == ("call", "predict")
    assert call.metrics.latency_images == MANY and predict.metrics.latency_images == FEW
    # Model.predict per image adds Keras's machinery (a data adapter, callbacks, a step
    # function) to every image: several times the call's time on this small model.
    assert predict.metrics.latency_ms_mean > 1.5 * call.metrics.latency_ms_mean, (
        predict.metrics.latency_ms_mean, call.metrics.latency_ms_mean)


def test_a_tflite_model_asked_for_predict_is_timed_by_call(jobs):
    jobs.int8()
    result = jobs.benchmark("tflite-predict", jobs.artifact(jobs.outcomes["int8"]), FEW,
                            "predict")
    assert result.metrics.format == "tflite" and result.metrics.latency_method == "call"
    log = (jobs.outcomes["tflite-predict"].folder / "log.txt").read_text()
    assert "a .tflite model has no Keras predict(); timed by call" in log


def test_the_latency_images_are_held_once_as_uint8(jobs):
    """1000 images of 96 x 96 are 27.6 MB as uint8, 110 MB as float32; the job held them as
    float32 twice (the images and a tensor of each: 221 MB). Peak memory of the SavedModel's
    benchmark with 1000 latency images against 20 (timed by predict, which adds about 10 MB:
    it only narrows the difference)."""
    many, few = call_many(jobs), predict_few(jobs)
    assert many.resources.peak_rss_bytes and few.resources.peak_rss_bytes
    grown = (many.resources.peak_rss_bytes - few.resources.peak_rss_bytes) / MB
    uint8_mb = MANY * SIZE * SIZE * 3 / MB
    assert grown < uint8_mb + 50, f"1000 latency images took {grown:.0f} MB more than 20"


def test_the_h5_copy_runs_the_same_graph_as_the_savedmodel(jobs, image_id):
    """Issue 11: the benchmark (and prune, distill) load a model's .h5 copy instead of its
    SavedModel. Both, loaded by Keras in the job image, give the same outputs on every image
    of the test split, to 1e-5; the benchmark records which one it ran."""
    assert call_many(jobs).metrics.input_format == "h5"
    assert predict_few(jobs).metrics.input_format == "saved_model"
    model = jobs.model()
    assert (model.parent / "model.h5").is_file()
    report = json.loads(python_in_image(image_id, SAME_OUTPUTS,
                                        {model.parent: "/m", jobs.digits: "/d"}))
    assert report["images"] >= MANY
    assert report["max_abs_diff"] <= 1e-5, report


SAME_OUTPUTS = """
import glob, json
import numpy as np
from jobs import compat
tf = compat.import_tensorflow()
keras = compat.keras_module(tf)
saved = keras.models.load_model("/m/saved_model", compile=False)
handed = keras.models.load_model("/m/model.h5", compile=False)
paths = sorted(glob.glob("/d/test/*/*.png"))
worst = 0.0
for start in range(0, len(paths), 64):
    batch = np.stack([tf.io.decode_png(tf.io.read_file(p), channels=3).numpy()
                      for p in paths[start:start + 64]]).astype("float32")
    worst = max(worst, float(np.max(np.abs(saved(batch, training=False).numpy()
                                           - handed(batch, training=False).numpy()))))
print(json.dumps({"images": len(paths), "max_abs_diff": worst}))
"""


def test_a_folder_decoded_once_gives_the_jobs_the_same_pixels(jobs, image_id, tmp_path):
    """Issue 11, item 2: the decode job writes the folder's pixels once; a job given them
    (``decoded``) reads rows instead of decoding files, with the same result: INT8 calibration
    (random images, decoded or read) gives the same .tflite bytes, under the same key. The
    pixels equal the jobs' own decode and resize, also where the resize is not the identity
    (decoded at 64 px from 96 px images)."""
    decoded = {}
    for size in (SIZE, 64):
        outcome = jobs.run(f"decode{size}", DecodeSpec(images=jobs.images, input_size=size), {})
        assert isinstance(outcome.result, DecodeResult)
        assert outcome.result.metrics.images == sum(1 for _ in jobs.digits.rglob("*.png"))
        decoded[size] = jobs.artifact(outcome)
    report = json.loads(python_in_image(image_id, SAME_PIXELS,
                                        {decoded[64]: "/decoded", jobs.digits: "/d"}))
    assert report == {"compared": 200, "different": 0}, report

    plain = jobs.int8()
    model = jobs.model()
    spec = QuantizeSpec(
        images=jobs.images, model=jobs.ref(model), mode="int8", calibration_images=64,
        input_size=SIZE, seed=3, decoded=InputRef(path="/inputs/decoded",
                                                  sha256=tree_digest(decoded[SIZE])))
    assert job_key(spec, image_id) == job_key(plain.spec, image_id)
    # Another store: in the first, the same key is done already.
    outcome = run_job(jobs.engine, Store(tmp_path / "store"), JobRequest(
        spec=spec, image=jobs.profile.image, image_id=image_id,
        inputs={"images": jobs.digits, "model": model, "decoded": decoded[SIZE]},
        deadline_s=900))
    assert outcome.record.status is JobStatus.succeeded, outcome.record.reason
    read = outcome.result
    assert isinstance(read, QuantizeResult) and read.spec.decoded is not None
    assert read.metrics.calibration_class_histogram == plain.metrics.calibration_class_histogram
    written = [(Jobs.artifact(o)).read_bytes() for o in (jobs.outcomes["int8"], outcome)]
    assert written[0] == written[1]


SAME_PIXELS = """
import json
import numpy as np
from jobs import compat, data
from jobs.decoded import DecodedImages
tf = compat.import_tensorflow()
decoded = DecodedImages("/d", "/decoded")
paths = data.folder_files("/d")[::len(data.folder_files("/d")) // 200][:200]
pixels = data.to_pixels(tf, 64)
different = sum(int(not np.array_equal(pixels(data.decode_file(tf, p)).numpy(),
                                       decoded.pixels[decoded.row(p)])) for p in paths)
print(json.dumps({"compared": len(paths), "different": different}))
"""


def thermal_zones(folder: Path, millidegrees: str) -> Path:
    """A thermal root of two zones, mounted read-only in place of /sys/class/thermal: one
    reading ``millidegrees``, one unreadable as a number (skipped)."""
    for name, text in (("thermal_zone0", millidegrees), ("thermal_zone1", "unknown")):
        (folder / name).mkdir(parents=True)
        (folder / name / "temp").write_text(text + "\n")
        (folder / name / "temp").chmod(0o644)
        (folder / name).chmod(0o755)
    folder.chmod(0o755)  # jobs run as uid 1000 when the tests run as root
    return folder


def test_min_duration_adds_runs_and_cooldown_waits_for_the_hottest_zone(jobs, tmp_path):
    """Two lean benchmarks (5 images, 2 runs asked for). Hot zones (90 C) against cooldown_c
    50 and a 2 s cap: each of the 2 runs waits the cap, then starts. Cool zones (30 C): no
    wait, and min_duration_s 0.5 adds runs until the kept ones have timed half a second; the
    side file holds every kept run (the Jobs helper validates the folder)."""
    model = jobs.model()
    tmp_path.chmod(0o755)
    environment = {ENV_THERMAL_ROOT: f"{CONTAINER_INPUTS_DIR}/thermal"}

    def bench(name: str, zones: Path, **options: float) -> BenchmarkResult:
        result = jobs.run(name, BenchmarkSpec.model_validate({
            "images": jobs.images, "model": jobs.ref(model), "input_size": SIZE,
            "accuracy": False, "latency_images": 5, "latency_runs": 2, "warmup_runs": 1,
            "cooldown_c": 50, **options}),
            {"model": model, "thermal": zones}, environment).result
        assert isinstance(result, BenchmarkResult)
        return result

    hot = bench("hot", thermal_zones(tmp_path / "hot", "90000"), cooldown_timeout_s=2)
    metrics = hot.metrics
    assert (metrics.cooldown, metrics.cooldown_caps_hit) == ("cap hit", 2)
    waits = hot.samples["cooldown_wait_s"]
    assert len(waits) == 2 and all(2.0 <= wait < 3.5 for wait in waits), waits
    assert metrics.cooldown_wait_s == pytest.approx(sum(waits))
    assert hot.samples["cooldown_start_c"] == [90.0, 90.0]
    assert (metrics.latency_runs_run, metrics.duration_met) == (2, True)
    # The waits come before each run's window, not inside it.
    started, ended = (hot.samples[k] for k in ("latency_run_started_unix",
                                              "latency_run_ended_unix"))
    assert started[1] - ended[0] >= 2.0

    cool = bench("cool", thermal_zones(tmp_path / "cool", "30000"), min_duration_s=0.5)
    metrics = cool.metrics
    assert metrics.cooldown == "reached" and metrics.cooldown_caps_hit == 0
    assert all(wait < 0.5 for wait in cool.samples["cooldown_wait_s"])
    assert metrics.latency_runs_run is not None and metrics.latency_runs_run > 2
    assert metrics.latency_runs_kept == metrics.latency_runs_run - 1
    assert metrics.duration_met and metrics.latency_kept_s is not None
    assert metrics.latency_kept_s >= 0.5 and metrics.min_duration_s == 0.5
    assert len(cool.samples["latency_ms_per_image_all_runs"]) == metrics.latency_runs_run
