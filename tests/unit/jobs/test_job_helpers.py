"""The container side's pure helpers, run on the host: nothing here imports TensorFlow.

jobs/ imports TensorFlow only inside functions (jobs/compat.py), so its modules import on the
host and the arithmetic, file handling and parsing that every result depends on are tested
here with real values; what needs TensorFlow runs in the job images (tests/integration).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import statistics
from types import SimpleNamespace

import pytest

from jobs import benchmark, compat, contract, data, environment, models, sizes
from jobs.__main__ import main as jobs_main
from jobs.errors import JobInputError
from launcher.contract.vocabulary import SCHEMA_VERSION
from tests.paths import JETSON

PNG_HEAD = b"\x89PNG\r\n\x1a\n"


# --- benchmark: the paper's latency rule -----------------------------------------------------


def test_summarise_discards_warmups_then_describes_the_rest():
    # Run 1 (warm-up, 50 ms) is dropped; the kept runs are 12, 10, 14, 11, 13 ms per image.
    summary = benchmark.summarise([50.0, 12.0, 10.0, 14.0, 11.0, 13.0], warmup_runs=1)
    assert summary["latency_runs_kept"] == 5
    assert summary["latency_ms_mean"] == pytest.approx(12.0)
    assert summary["latency_ms_median"] == pytest.approx(12.0)
    # Sample standard deviation: squares 0, 4, 4, 1, 1 -> 10 / (5 - 1).
    assert summary["latency_ms_std"] == pytest.approx(math.sqrt(2.5))
    # p90 between closest ranks: sorted 10..14, rank 0.9 * 4 = 3.6 -> 13 + 0.6 * (14 - 13).
    assert summary["latency_ms_p90"] == pytest.approx(13.6)
    assert (summary["latency_ms_min"], summary["latency_ms_max"]) == (10.0, 14.0)


def test_summarise_matches_the_statistics_module():
    # The paper's rule: 11 runs, the first discarded.
    runs = [31.7, 20.4, 19.8, 22.9, 20.1, 25.3, 19.9, 21.0, 20.6, 24.2, 20.0]
    kept = runs[1:]
    summary = benchmark.summarise(runs, warmup_runs=1)
    assert summary["latency_runs_kept"] == 10
    assert summary["latency_ms_mean"] == pytest.approx(statistics.mean(kept))
    assert summary["latency_ms_median"] == pytest.approx(statistics.median(kept))
    assert summary["latency_ms_std"] == pytest.approx(statistics.stdev(kept))
    # 'inclusive' is linear interpolation between closest ranks (numpy's default percentile).
    p90 = statistics.quantiles(kept, n=10, method="inclusive")[8]
    assert summary["latency_ms_p90"] == pytest.approx(p90)
    assert summary["latency_ms_max"] == 25.3 and summary["latency_ms_min"] == 19.8


def test_summarise_even_count_median_and_single_run():
    summary = benchmark.summarise([9.0, 4.0, 1.0, 3.0, 2.0], warmup_runs=1)
    assert summary["latency_ms_median"] == pytest.approx(2.5)
    assert summary["latency_ms_p90"] == pytest.approx(3.7)  # rank 2.7: 3 + 0.7 * (4 - 3)
    single = benchmark.summarise([100.0, 7.5], warmup_runs=1)
    assert single["latency_runs_kept"] == 1
    assert single["latency_ms_std"] == 0.0
    assert single["latency_ms_mean"] == single["latency_ms_p90"] == 7.5


def test_summarise_with_no_warmup_keeps_every_run():
    summary = benchmark.summarise([3.0, 1.0, 2.0], warmup_runs=0)
    assert summary["latency_runs_kept"] == 3
    assert summary["latency_ms_mean"] == pytest.approx(2.0)
    assert summary["latency_ms_std"] == pytest.approx(1.0)


class CountingRunner:
    def __init__(self, sleep_s):
        self.sleep_s = sleep_s
        self.predicted = []
        self.fetched = 0

    def prepare(self, image):
        return image

    def predict(self, image):
        self.predicted.append(image)
        if self.sleep_s:
            import time

            time.sleep(self.sleep_s)
        return image

    def fetch(self, output):
        self.fetched += 1
        return output


def test_latency_runs_time_every_image_of_every_run():
    runner = CountingRunner(sleep_s=0.002)
    per_image_ms, started, ended = benchmark.latency_runs(runner, ["a", "b", "c"], runs=3)
    assert runner.predicted == ["a", "b", "c"] * 3
    assert runner.fetched == 9  # every output, not once per run (see test_measurement.py)
    assert len(per_image_ms) == len(started) == len(ended) == 3
    assert all(ms >= 2.0 for ms in per_image_ms), per_image_ms  # each image slept 2 ms
    # Each run's wall-clock window covers its images, runs follow each other.
    for index in range(3):
        assert ended[index] - started[index] >= 3 * 0.002
        if index:
            assert started[index] >= ended[index - 1]


def tflite_file(path):
    # A FlatBuffer's file identifier sits at bytes 4..8: "TFL3" for TFLite models.
    path.write_bytes(b"\x1c\x00\x00\x00TFL3" + b"\x00" * 24)
    return path


def test_benchmark_check_accepts_tflite_and_keras_models_only(tmp_path):
    model = tflite_file(tmp_path / "model.tflite")
    spec = {"model": {"path": str(model)}, "warmup_runs": 1, "latency_runs": 11}
    benchmark.check(spec)
    saved = tmp_path / "saved_model"
    saved.mkdir()
    (saved / "saved_model.pb").write_bytes(b"\x08\x01")
    benchmark.check({**spec, "model": {"path": str(saved)}})

    other = tmp_path / "model.onnx"
    other.write_bytes(b"\x08\x07\x12\x04onnx" + b"\x00" * 24)
    keras_file = tmp_path / "model.h5"
    keras_file.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 24)
    benchmark.check({**spec, "model": {"path": str(keras_file)}})  # a user's own model
    with pytest.raises(JobInputError, match="neither a SavedModel folder, a .keras or .h5 file "
                                            "nor a .tflite"):
        benchmark.check({**spec, "model": {"path": str(other)}})
    with pytest.raises(JobInputError, match="neither"):
        benchmark.check({**spec, "model": {"path": str(tmp_path)}})  # a folder, no .pb
    with pytest.raises(JobInputError, match="warmup_runs must be fewer than latency_runs"):
        benchmark.check({**spec, "warmup_runs": 11})


# --- data: image folders, without TensorFlow -------------------------------------------------


def test_split_class_files_sizes_and_seeding():
    files = [f"img{i:02d}.png" for i in range(20)]
    train, validation, test = data.split_class_files(files, 0.1, 0.2, seed=7, class_name="cat")
    assert (len(train), len(validation), len(test)) == (14, 2, 4)
    assert sorted(train + validation + test) == files
    # The same seed and class: the same split; another seed: another one.
    assert data.split_class_files(files, 0.1, 0.2, 7, "cat") == (train, validation, test)
    assert data.split_class_files(files, 0.1, 0.2, 8, "cat") != (train, validation, test)
    assert data.split_class_files(files, 0.1, 0.2, 7, "dog") != (train, validation, test)


def test_split_class_files_small_classes():
    # From three images on, validation and test get at least one each.
    assert [len(p) for p in data.split_class_files(["a", "b", "c"], 0.1, 0.1, 0, "x")] == \
        [1, 1, 1]
    # Fewer: everything trains.
    train, validation, test = data.split_class_files(["a", "b"], 0.5, 0.5, 0, "x")
    assert sorted(train) == ["a", "b"] and validation == [] and test == []


def image_folder(root, counts):
    for name, count in counts.items():
        (root / name).mkdir(parents=True)
        for index in range(count):
            (root / name / f"{index:03d}.png").write_bytes(PNG_HEAD + b"\x00" * 8)
    return root


def test_folder_splits_of_class_folders(tmp_path):
    root = image_folder(tmp_path / "images", {"daisy": 10, "rose": 5})
    (root / "daisy" / "notes.txt").write_text("not an image, not listed")
    (root / "rose" / ".hidden.png").write_bytes(b"skipped")
    (root / ".cache").mkdir()  # not a class
    splits = data.folder_splits(str(root), 0.2, 0.2, seed=1)
    assert splits.class_names == ["daisy", "rose"] and splits.num_classes == 2
    assert splits.source == f"folder:{root} (seeded split 1)"
    every = splits.train + splits.validation + splits.test
    assert len(every) == 15 and len(set(every)) == 15
    assert {label for path, label in every if "/daisy/" in path} == {0}
    assert {label for path, label in every if "/rose/" in path} == {1}
    # Per class: daisy 10 -> 2 validation, 2 test; rose 5 -> 1 and 1.
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (9, 3, 3)
    assert data.count(splits.train) == 9
    assert data.load_splits(None, {"images": {"path": str(root)}, "validation_fraction": 0.2,
                                   "test_fraction": 0.2, "seed": 1}).test == splits.test


def test_folder_splits_of_split_folders(tmp_path):
    root = tmp_path / "images"
    image_folder(root / "train", {"a": 3, "b": 2})
    image_folder(root / "test", {"a": 1, "b": 1})
    splits = data.folder_splits(str(root), 0.5, 0.5, seed=0)
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (5, 0, 2)
    assert sorted(label for _, label in splits.test) == [0, 1]
    assert splits.source.endswith("(train/validation/test)")


def test_folder_splits_name_what_is_wrong(tmp_path):
    with pytest.raises(JobInputError, match="1 class folder"):
        data.folder_splits(str(image_folder(tmp_path / "one", {"a": 3})), 0.1, 0.1, 0)
    with pytest.raises(JobInputError, match="no training images"):
        data.folder_splits(str(image_folder(tmp_path / "empty", {"a": 0, "b": 0})), 0.1, 0.1, 0)
    bad = image_folder(tmp_path / "bad", {"a": 3, "b": 3})
    (bad / "b" / "001.png").write_text("<html>a download error page</html>")
    with pytest.raises(JobInputError, match=r"b/001\.png is not a JPEG, PNG, GIF or BMP"):
        data.folder_splits(str(bad), 0.1, 0.1, 0)
    with pytest.raises(JobInputError, match="is not a folder"):
        data.check({"images": {"path": str(tmp_path / "missing")}})
    data.check({"images": {"path": str(bad)}})
    data.check({"tfds_name": "oxford_flowers102"})  # nothing to check on the host


# --- contract: spec in, result.json out ------------------------------------------------------


def test_jobs_and_launcher_agree_on_the_schema_version():
    assert contract.SCHEMA_VERSION == SCHEMA_VERSION


def test_check_spec(tmp_path):
    contract.check_spec({"schema_version": contract.SCHEMA_VERSION, "job": "benchmark"})
    with pytest.raises(JobInputError, match="rebuild the image or update the launcher"):
        contract.check_spec({"schema_version": contract.SCHEMA_VERSION + 1, "job": "probe"})
    with pytest.raises(JobInputError, match="unknown job 'nope': choose one of benchmark, "):
        contract.check_spec({"schema_version": contract.SCHEMA_VERSION, "job": "nope"})


def test_read_spec(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text('{"job": "probe", "schema_version": 1}')
    assert contract.read_spec(str(spec)) == {"job": "probe", "schema_version": 1}
    spec.write_text("[1, 2]")
    with pytest.raises(JobInputError, match="must be a JSON object"):
        contract.read_spec(str(spec))
    spec.write_text("{job: probe}")
    with pytest.raises(JobInputError, match="is not JSON"):
        contract.read_spec(str(spec))
    with pytest.raises(JobInputError, match="cannot read spec"):
        contract.read_spec(str(tmp_path / "missing.json"))


def test_write_json_atomic(tmp_path):
    path = tmp_path / "result.json"
    path.write_text("old")
    contract.write_json_atomic(str(path), {"b": [1.5, None], "a": "é"})
    text = path.read_text()
    assert text.endswith("}\n") and text.index('"a"') < text.index('"b"')
    assert json.loads(text) == {"a": "é", "b": [1.5, None]}
    assert os.listdir(tmp_path) == ["result.json"]  # no temp file left
    # NaN is not JSON: refused before anything replaces the file.
    with pytest.raises(ValueError):
        contract.write_json_atomic(str(path), {"latency_ms_mean": float("nan")})
    assert json.loads(path.read_text())["a"] == "é"


def test_path_bytes_and_artifacts(tmp_path):
    (tmp_path / "model" / "variables").mkdir(parents=True)
    (tmp_path / "model" / "saved_model.pb").write_bytes(b"x" * 1000)
    (tmp_path / "model" / "variables" / "variables.data").write_bytes(b"y" * 234)
    (tmp_path / "model.tflite").write_bytes(b"z" * 77)
    assert sizes.path_bytes(str(tmp_path / "model")) == 1234
    assert sizes.path_bytes(str(tmp_path / "model.tflite")) == 77
    assert contract.describe_artifact(str(tmp_path), "model", "saved_model", "model") == {
        "name": "model", "kind": "saved_model", "path": "model", "bytes": 1234}


def test_entry_point_without_a_spec_is_one_line(capsys):
    assert jobs_main([]) == 2
    assert capsys.readouterr().err == \
        "error: no spec given: run as python3 -m jobs --spec /job/spec.json\n"


# --- models: sizes as the paper measures them ------------------------------------------------


def test_gzip_bytes_of_a_file_is_plain_gzip(tmp_path):
    payload = bytes(range(256)) * 40 + b"\x00" * 5000
    path = tmp_path / "model.tflite"
    path.write_bytes(payload)
    assert models.gzip_bytes(str(path)) == len(gzip.compress(payload, compresslevel=9, mtime=0))
    assert models.gzip_bytes(str(path)) < len(payload)


def test_gzip_bytes_of_a_folder_depends_on_content_only(tmp_path):
    folder = tmp_path / "saved_model"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"graph" * 300)
    (folder / "variables" / "variables.data-00000-of-00001").write_bytes(b"\x00" * 4096)
    first = models.gzip_bytes(str(folder))
    os.utime(folder / "saved_model.pb", (1, 1))  # another mtime: the same bytes
    assert models.gzip_bytes(str(folder)) == first
    (folder / "variables" / "variables.data-00000-of-00001").write_bytes(os.urandom(4096))
    assert models.gzip_bytes(str(folder)) > first + 3000  # random weights do not compress


def test_model_checks(tmp_path):
    assert not models.is_saved_model(str(tmp_path)) and not models.is_saved_model(None)
    with pytest.raises(JobInputError, match="teacher input .* is neither a SavedModel folder"):
        models.check_model("teacher", {"path": str(tmp_path)})
    (tmp_path / "saved_model.pb").write_bytes(b"")
    assert models.is_saved_model(str(tmp_path))
    models.check_model("teacher", {"path": str(tmp_path)})


# --- environment: what a result says it ran on -----------------------------------------------


def test_l4t_release_from_real_boards():
    nano = environment.read_text(str(JETSON / "nano" / "nv_tegra_release"))
    xavier = environment.read_text(str(JETSON / "xavier-nx" / "nv_tegra_release"))
    assert environment.l4t_release(nano) == "R32.7.1"
    assert environment.l4t_release(xavier) == "R35.2.1"
    assert environment.l4t_release(None) is None
    assert environment.l4t_release("Debian GNU/Linux 12") is None


def test_memory_and_cpu_from_proc_text():
    meminfo = environment.read_text(str(JETSON / "nano" / "meminfo"))
    assert environment.memory_total_bytes(meminfo) == 4059240 * 1024
    assert environment.memory_total_bytes(None) is None
    x86 = ("processor\t: 0\nvendor_id\t: GenuineIntel\n"
           "model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n")
    assert environment.cpu_model(x86) == "Intel(R) Xeon(R) CPU @ 2.20GHz"
    # An arm64 kernel without "model name": the first key that is there.
    arm = "processor\t: 0\nBogoMIPS\t: 38.40\nCPU implementer\t: 0x4e\nCPU part\t: 0x004\n"
    assert environment.cpu_model(arm) == "0x004"
    assert environment.cpu_model("") is None


def test_read_text(tmp_path):
    path = tmp_path / "model"
    path.write_bytes(b"NVIDIA Jetson \xff Nano\x00")
    assert environment.read_text(str(path)) == "NVIDIA Jetson \ufffd Nano\x00"
    assert environment.read_text(str(tmp_path / "missing")) is None
    board = environment.read_text(str(JETSON / "nano" / "device-tree-model"))
    assert board.strip("\x00 \n") == "NVIDIA Jetson Nano Developer Kit"


def test_peak_memory_of_this_process():
    peak = environment.peak_memory()
    assert peak["peak_rss_bytes"] > 10 * 2**20  # this interpreter with pytest loaded
    assert peak["cgroup_peak_bytes"] is None or peak["cgroup_peak_bytes"] > 0


# --- compat: the TensorFlow differences that need no TensorFlow ------------------------------


@pytest.mark.parametrize(("version", "expected"), [
    ("2.7.0+nv22.1", (2, 7)), ("2.12.0", (2, 12)), ("2.16.0rc0", (2, 16)), ("2.21.0", (2, 21)),
])
def test_tf_version_tuple(version, expected):
    assert compat.tf_version_tuple(SimpleNamespace(__version__=version)) == expected


def test_keras_module_before_keras_3():
    tf = SimpleNamespace(__version__="2.12.1", keras=SimpleNamespace(__version__="2.12.0"))
    keras = compat.keras_module(tf)
    assert keras is tf.keras and compat.keras_version(keras) == "2.12.0"


def test_package_version():
    assert compat.package_version("pytest") == pytest.__version__
    assert compat.package_version("no-such-distribution-anywhere") is None


def test_a_keras3_file_is_told_by_its_metadata_and_a_keras3_model_by_its_package(tmp_path):
    import sys
    import types
    import zipfile

    for name, version in (("three.keras", "3.15.1"), ("two.keras", "2.12.0")):
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            archive.writestr("metadata.json", json.dumps({"keras_version": version}))
    (tmp_path / "model.h5").write_bytes(models.HDF5_MAGIC)
    assert compat.written_by_keras3(str(tmp_path / "three.keras"))
    assert not compat.written_by_keras3(str(tmp_path / "two.keras"))
    assert not compat.written_by_keras3(str(tmp_path / "model.h5"))
    assert not compat.written_by_keras3(None)
    for package, version, expected in (("fake_keras3", "3.15.1", True),
                                       ("fake_tf_keras", "2.21.0", False)):
        module = types.ModuleType(package)
        module.__version__ = version  # type: ignore[attr-defined]
        sys.modules[package] = module
        try:
            model = type("Functional", (), {"__module__": package + ".src.models"})()
            assert compat.is_keras3(model) is expected
        finally:
            del sys.modules[package]
