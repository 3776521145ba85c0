"""What the study measures, checked on the host without TensorFlow (issue 9): calibration
images are a random sample of the training split, the latency loop times each image up to its
output on the host and nothing else, the latency images are held once, the latency method is an
option of the job and of a campaign, and compression time is load + conversion + save.

What needs TensorFlow (the jobs themselves) is tests/integration/test_study_measurement.py.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from pathlib import Path

import pytest
from pydantic import ValidationError

from jobs import benchmark, data
from jobs.errors import JobInputError
from launcher.contract.results import JOB_RESULT, QuantizeResult
from launcher.contract.specs import BenchmarkSettings, BenchmarkSpec
from launcher.contract.vocabulary import LATENCY_METHODS
from launcher.errors import UserError
from launcher.jobspecs import build_spec

DATA = Path(__file__).parent.parent / "data"
PNG_HEAD = b"\x89PNG\r\n\x1a\n"


# --- calibration: a random sample of the training split --------------------------------------


def ten_class_folder(root: Path, per_class: int = 20) -> Path:
    for digit in range(10):
        (root / f"digit_{digit}").mkdir(parents=True)
        for index in range(per_class):
            (root / f"digit_{digit}" / f"{index:03d}.png").write_bytes(PNG_HEAD + b"\x00" * 8)
    return root


def test_64_calibration_images_of_a_10_class_folder_cover_at_least_8_classes(tmp_path):
    splits = data.folder_splits(str(ten_class_folder(tmp_path / "digits")), 0.15, 0.15, seed=0)
    first = Counter(label for _, label in splits.train[:64])
    assert len(first) <= 5, "the training list is ordered by class: its head is no sample"
    for seed in range(20):
        chosen = data.sample_items(splits.train, 64, seed)
        assert len(chosen) == 64 and len(set(chosen)) == 64
        assert set(chosen) <= set(splits.train)
        assert len({label for _, label in chosen}) >= 8, seed


def test_sample_items_is_seeded_and_takes_everything_when_asked_for_more():
    items = list(range(100))
    assert data.sample_items(items, 10, seed=3) == data.sample_items(items, 10, seed=3)
    assert data.sample_items(items, 10, seed=3) != data.sample_items(items, 10, seed=4)
    assert sorted(data.sample_items(items, 500, seed=0)) == items
    assert data.sample_items([], 5, seed=0) == []


def test_sample_items_is_uniform_over_a_stream_read_once():
    """Reservoir sampling: every item has the same chance, k/n, whatever its position; a
    generator (a tfds split) is read once."""
    trials, n, k = 3000, 40, 10
    counts: Counter[int] = Counter()
    for seed in range(trials):
        stream = iter(range(n))
        counts.update(data.sample_items(stream, k, seed))
        assert next(stream, None) is None
    expected = trials * k / n  # 750; the binomial's standard deviation is about 24
    assert all(abs(counts[item] - expected) < 6 * 24 for item in range(n)), counts
    # First and last quarters of the stream are drawn alike.
    head = sum(counts[i] for i in range(10))
    tail = sum(counts[i] for i in range(30, 40))
    assert abs(head - tail) < 0.06 * expected * 10


def test_class_histogram_by_name():
    names = ["daisy", "rose", "tulip"]
    assert data.class_histogram([0, 2, 2, 0, 0], names) == {"daisy": 3, "tulip": 2}
    assert data.class_histogram([], names) == {}
    assert data.class_histogram([5], names) == {"5": 1}  # a label without a name


# --- latency: per image, output on the host, the model's time only ---------------------------


class Pending:
    """An output not yet on the host, as a GPU's asynchronous result."""

    def __init__(self) -> None:
        self.on_host = False


class AsyncRunner:
    """predict() returns at once (queued work); fetch() waits for it. Refuses to start an image
    while the previous one's output is still pending: that overlap is what timing a GPU with
    one wait per run measured."""

    def __init__(self, fetch_s: float, prepare_s: float) -> None:
        self.fetch_s, self.prepare_s = fetch_s, prepare_s
        self.pending: Pending | None = None
        self.events: list[str] = []

    def prepare(self, image):  # type: ignore[no-untyped-def]
        time.sleep(self.prepare_s)  # e.g. uint8 -> float32: not the model's time
        self.events.append("prepare")
        return image

    def predict(self, image):  # type: ignore[no-untyped-def]
        assert self.pending is None or self.pending.on_host, "images overlap"
        self.events.append("predict")
        self.pending = Pending()
        return self.pending

    def fetch(self, output):  # type: ignore[no-untyped-def]
        time.sleep(self.fetch_s)  # the device finishing the image
        output.on_host = True
        self.events.append("fetch")
        return output


def test_each_timed_image_ends_with_its_output_on_the_host():
    runner = AsyncRunner(fetch_s=0.002, prepare_s=0.02)
    per_image_ms, _, _ = benchmark.latency_runs(runner, ["a", "b", "c"], runs=2)
    assert runner.events == ["prepare", "predict", "fetch"] * 6
    # The wait for each output is timed (>= 2 ms per image); preparing the input is not
    # (20 ms per image would show).
    assert all(2.0 <= ms < 12.0 for ms in per_image_ms), per_image_ms


def test_keras_runner_fetches_the_output_to_the_host():
    """KerasRunner.fetch is what makes a GPU's image finish inside its own timed span."""

    class Tensor:
        fetched = 0

        def numpy(self):  # type: ignore[no-untyped-def]
            Tensor.fetched += 1
            return [0.1, 0.9]

    runner = benchmark.KerasRunner.__new__(benchmark.KerasRunner)  # no TensorFlow here
    runner.method = "call"
    assert runner.fetch(Tensor()) == [0.1, 0.9] and Tensor.fetched == 1
    runner.method = "predict"
    already = [[0.1, 0.9]]  # Model.predict returns numpy: already on the host
    assert runner.fetch(already) is already


def test_latency_images_are_held_once():
    pool = [bytearray(8) for _ in range(3)]
    images = benchmark.latency_pool(pool, 1000)
    assert len(images) == 1000
    assert {id(image) for image in images} == {id(image) for image in pool}
    assert images[:4] == [pool[0], pool[1], pool[2], pool[0]]


# --- latency method: an option of the job and of a campaign ---------------------------------


def test_latency_method_defaults_to_call_and_predict_is_an_option():
    assert LATENCY_METHODS == ("call", "predict")
    assert BenchmarkSettings().latency_method == "call"
    spec, _ = build_spec("benchmark", {"model": ".", "latency_method": "predict"},
                         lambda path: "0" * 64)
    assert isinstance(spec, BenchmarkSpec) and spec.latency_method == "predict"
    with pytest.raises(UserError, match="--latency-method 'fast'"):
        build_spec("benchmark", {"model": ".", "latency_method": "fast"}, lambda path: "0" * 64)


def test_a_campaigns_benchmark_table_takes_the_latency_method():
    from launcher.study.campaign import parse_config, preset_text
    from launcher.study.plan import expand

    text = preset_text("quick")
    assert text.rstrip().splitlines()[-4] == "[benchmark]"  # the table is the file's last
    plan = expand(parse_config(text + 'latency_method = "predict"\n', "quick + predict"))
    timed = [node for node in plan.nodes if node.job == "benchmark" and node.copy == 1]
    assert timed and all(node.params["latency_method"] == "predict" for node in timed)
    default = expand(parse_config(text, "quick"))
    assert all(node.params["latency_method"] == "call" for node in default.nodes
               if node.job == "benchmark" and node.copy == 1)


def test_benchmark_job_checks_the_latency_method(tmp_path):
    model = tmp_path / "model.tflite"
    model.write_bytes(b"\x1c\x00\x00\x00TFL3" + b"\x00" * 24)
    spec = {"model": {"path": str(model)}, "warmup_runs": 1, "latency_runs": 11}
    for method in LATENCY_METHODS:  # a .tflite with predict is timed by call, not refused
        benchmark.check({**spec, "latency_method": method})
    with pytest.raises(JobInputError, match="latency_method 'fast'"):
        benchmark.check({**spec, "latency_method": "fast"})


# --- compression time: load + conversion + save ---------------------------------------------


@pytest.fixture
def quantize_result():
    recorded = json.loads((DATA / "quantize-result.tf2.12.json").read_text())
    recorded["metrics"].update(load_s=6.0, calibration_load_s=0.0, conversion_s=20.0,
                               save_s=0.5, compression_total_s=26.5,
                               calibration_class_histogram={})
    return recorded


def test_compression_total_is_load_plus_conversion_plus_save(quantize_result):
    result = JOB_RESULT.validate_python(quantize_result)
    assert isinstance(result, QuantizeResult) and result.metrics.compression_total_s == 26.5
    wrong = copy.deepcopy(quantize_result)
    wrong["metrics"]["compression_total_s"] = 20.0  # the conversion alone
    with pytest.raises(ValidationError, match="load_s \\+ conversion_s \\+ save_s"):
        JOB_RESULT.validate_python(wrong)


def test_calibration_histogram_counts_the_calibration_images(quantize_result):
    quantize_result["metrics"].update(calibration_images=4,
                                      calibration_class_histogram={"a": 3, "b": 1})
    JOB_RESULT.validate_python(quantize_result)
    quantize_result["metrics"]["calibration_class_histogram"] = {"a": 4, "b": 1}
    with pytest.raises(ValidationError, match="must count calibration_images"):
        JOB_RESULT.validate_python(quantize_result)


def test_results_recorded_before_these_fields_still_validate():
    recorded = json.loads((DATA / "quantize-result.tf2.12.json").read_text())
    assert "compression_total_s" not in recorded["metrics"]
    result = JOB_RESULT.validate_python(recorded)
    assert isinstance(result, QuantizeResult) and result.metrics.compression_total_s is None


# --- stores written before a spec field existed ----------------------------------------------


def test_a_store_written_before_latency_method_existed_still_loads_and_merges(tmp_path):
    """A benchmark folder as a launcher without ``latency_method`` wrote it: its spec.json
    lacks the field, its name is the key of that spec. Today's launcher reads the spec with the
    field's default: the result must still load (report) and the folder still merge."""
    import shutil

    from launcher.keys import job_key
    from launcher.merge import foreign_job_problem, merge
    from launcher.store import Store

    recorded = DATA / "campaign-quick-2copies" / "jobs"
    source = next(folder for folder in sorted(recorded.iterdir())
                  if folder.name.startswith("benchmark-"))
    status = json.loads((source / "status.json").read_text())
    spec = json.loads((source / "spec.json").read_text())
    spec.pop("latency_method", None)
    key = job_key(spec, status["image_id"])
    old = tmp_path / "old" / "jobs" / f"benchmark-{key[:16]}"
    shutil.copytree(source, old)
    (old / "spec.json").write_text(json.dumps(spec, sort_keys=True, separators=(",", ":")))
    status["key"] = key
    (old / "status.json").write_text(json.dumps(status))
    result_path = old / "out" / "result.json"
    result = json.loads(result_path.read_text())
    result["spec"].pop("latency_method", None)
    result["metrics"].pop("latency_method", None)
    result_path.write_text(json.dumps(result))

    loaded = Store(tmp_path / "old").load(old)
    assert loaded.problem is None and loaded.result is not None
    assert loaded.result.spec.latency_method == "call"  # read with today's default
    assert loaded.result.metrics.latency_method is None  # not recorded then
    assert foreign_job_problem(old) is None
    report = merge(tmp_path / "old", tmp_path / "ours")
    assert [path.name for path in (tmp_path / "ours" / "jobs").iterdir()] == [old.name]
    assert not report.skipped


# --- training pipelines: what the shuffle buffer holds ---------------------------------------


class FakeDataset:
    """Records the tf.data calls made on it: (operation, what it was given)."""

    def __init__(self, log: list, what: str) -> None:
        self.log, self.what = log, what

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None):  # type: ignore[no-untyped-def]
        self.log.append(("shuffle", self.what, buffer_size))
        return self

    def map(self, function, num_parallel_calls=None):  # type: ignore[no-untyped-def]
        self.log.append(("map", function.__name__))
        self.what = {"read": "uint8 images", "resize": "uint8 images",
                     "to_float32": "float32 images"}[function.__name__]
        return self


class FakeTF:
    def __init__(self) -> None:
        self.log: list = []
        log = self.log

        class Dataset:
            @staticmethod
            def from_tensor_slices(tensors):  # type: ignore[no-untyped-def]
                return FakeDataset(log, "paths")

        self.data = type("data", (), {"Dataset": Dataset,
                                      "experimental": type("e", (), {"AUTOTUNE": -1})})


def test_training_shuffles_file_paths_not_decoded_images():
    """A Nano has 4 GB for everything: a shuffle buffer of decoded float32 images (1020 of the
    paper's training images at 224 x 224: 614 MB) does not belong in it."""
    fake = FakeTF()
    split = [(f"/data/{index}.png", index % 3) for index in range(1020)]
    data.as_dataset(fake, split, 224, shuffle_seed=5)
    shuffles = [entry for entry in fake.log if entry[0] == "shuffle"]
    assert shuffles == [("shuffle", "paths", 1020)]
    assert fake.log.index(shuffles[0]) == 0, fake.log  # before anything is decoded
    fake.log.clear()
    data.as_dataset(fake, split, 224)  # evaluation: no shuffle at all
    assert not [entry for entry in fake.log if entry[0] == "shuffle"]


def test_a_tfds_split_is_shuffled_as_uint8():
    fake = FakeTF()
    data.as_dataset(fake, FakeDataset(fake.log, "decoded examples"), 224, shuffle_seed=5)
    assert ("shuffle", "uint8 images", data.SHUFFLE_BUFFER) in fake.log
    assert fake.log[-1] == ("map", "to_float32")  # the models take float32 pixels
