"""Only one job ever has the network (issue 18): a prepare job fills the tfds cache; every job
that reads the dataset gets the cache read-only and no network, and a dataset not prepared is
one line before anything starts.

No tfds dataset can be downloaded here, so the cache is filled the way tfds fills it, by a
tfds builder's own ``download_and_prepare`` in the job image: a builder of the scikit-learn
digits, 32 px, with the train/validation/test splits the jobs read. The jobs then know the
dataset only from its files in the cache (tfds's read-only builder), as a board that was
handed a prepared cache does. Runs on every twin: tfds 4.5 (Nano) and 4.9 read it alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from launcher import api
from launcher.contract.record import JobStatus
from launcher.contract.results import PrepareResult, TrainResult
from launcher.contract.specs import PrepareSpec, TrainSpec
from launcher.errors import UserError

from ..digits import write_digits_folder
from .in_image import python_in_image

pytestmark = pytest.mark.docker
DATASET = "edgecompress_digits"

# A tfds builder of an image folder's train/, validation/ and test/, run in the job image:
# the files it leaves are the files a prepare job leaves (the same tfds writes them).
BUILDER = """
import os
import tensorflow_datasets as tfds

ROOT = "/digits"
CLASSES = sorted(os.listdir(os.path.join(ROOT, "train")))


class EdgecompressDigits(tfds.core.GeneratorBasedBuilder):
    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self, supervised_keys=("image", "label"),
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(32, 32, 3)),
                "label": tfds.features.ClassLabel(names=CLASSES)}))

    def _split_generators(self, dl_manager):
        return {split: self._generate_examples(split)
                for split in ("train", "validation", "test")}

    def _generate_examples(self, split):
        for label in CLASSES:
            folder = os.path.join(ROOT, split, label)
            for name in sorted(os.listdir(folder)):
                yield split + label + name, {"image": os.path.join(folder, name),
                                             "label": label}
"""
# tfds reads a builder's source file (its checksums live beside it): the builder is a module.
BUILD = f"""
import json, sys
open("/tmp/edgecompress_digits.py", "w").write({BUILDER!r})
sys.path.insert(0, "/tmp")
from edgecompress_digits import EdgecompressDigits
builder = EdgecompressDigits(data_dir="/cache")
builder.download_and_prepare()
print(json.dumps({{split: info.num_examples for split, info in builder.info.splits.items()}}))
"""


@pytest.fixture(scope="module")
def prepared_cache(image_id, tmp_path_factory) -> tuple[Path, dict[str, int]]:
    digits = tmp_path_factory.mktemp("digits")
    digits.chmod(0o755)
    write_digits_folder(digits, size=32, per_class=12, split=(0.25, 0.25))
    cache = tmp_path_factory.mktemp("tfds")
    cache.chmod(0o777)
    counts = json.loads(python_in_image(image_id, BUILD, {digits: "/digits"}, {cache: "/cache"}))
    return cache, counts


def test_a_prepared_dataset_is_read_with_no_network_and_a_read_only_cache(
        prepared_cache, profile, tmp_path, monkeypatch):
    cache, counts = prepared_cache
    monkeypatch.setenv("EDGECOMPRESS_TFDS_DIR", str(cache))
    before = sorted(str(path.relative_to(cache)) for path in cache.rglob("*"))
    with api.open_session(profile.name, tmp_path / "store") as session:
        # Already in the cache: prepare finds it there, downloads nothing, reports its splits.
        found = session.run(PrepareSpec(tfds_name=DATASET))
        assert isinstance(found.result, PrepareResult), found.record.reason
        metrics = found.result.metrics
        assert metrics.already_prepared and metrics.version == "1.0.0"
        assert metrics.examples == counts and metrics.prepared_bytes > 0

        trained = session.run(TrainSpec(tfds_name=DATASET, weights=None, input_size=32,
                                        epochs=1, batch_size=16))
        assert isinstance(trained.result, TrainResult), trained.record.reason
        assert trained.result.metrics.train_examples == counts["train"]
        assert trained.result.metrics.validation_examples == counts["validation"]
        assert trained.result.metrics.num_classes == 10
    # Nothing a job did changed the cache (it was mounted read-only to the train job).
    assert sorted(str(path.relative_to(cache)) for path in cache.rglob("*")) == before


def test_a_dataset_not_prepared_is_one_line_and_nothing_starts(profile, tmp_path, monkeypatch):
    cache = tmp_path / "empty-cache"
    monkeypatch.setenv("EDGECOMPRESS_TFDS_DIR", str(cache))
    store = tmp_path / "store"
    with (api.open_session(profile.name, store) as session,
          pytest.raises(UserError) as refused):
        session.run(TrainSpec(weights=None, input_size=32, epochs=1))
    line = str(refused.value)
    assert "tfds dataset oxford_flowers102 is not prepared in" in line and "\n" not in line
    assert "edgecompress fetch" in line and "EDGECOMPRESS_TFDS_DIR" in line
    assert not (store / "jobs").exists() or not any((store / "jobs").iterdir())


def test_a_prepare_that_cannot_is_one_line_naming_the_dataset(profile, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGECOMPRESS_TFDS_DIR", str(tmp_path / "cache"))
    with pytest.raises(UserError) as failed:
        api.prepare_dataset("no_such_dataset", profile=profile.name, store=tmp_path / "store")
    line = str(failed.value)
    assert line.startswith("cannot prepare tfds dataset no_such_dataset:") and "\n" not in line
    assert "no tfds dataset 'no_such_dataset'" in line
    logs = list((tmp_path / "store").glob("jobs/*/log.txt"))
    assert len(logs) == 1 and str(logs[0]) in line
    assert any(folder.name.startswith("prepare")
               for folder in (tmp_path / "store" / "jobs").iterdir())
    record = json.loads((logs[0].parent / "status.json").read_text())
    assert record["status"] == JobStatus.failed.value
