"""The tfds cache's rules (issue 18), on real folders: which version folder counts as prepared,
the fleet's copy, the one line when a dataset is missing; which job gets the network and
which the cache read-only (launcher/target.py); a campaign's check before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher import api, tfds_cache
from launcher.contract.specs import (
    InputRef,
    PrepareSpec,
    ProbeSpec,
    QuantizeSpec,
    TrainSpec,
    tfds_read,
)
from launcher.contract.vocabulary import CONTAINER_TFDS_DIR
from launcher.errors import UserError
from launcher.store import Store
from launcher.target import Target, request_for

DIGEST = "0" * 64


def prepared(cache: Path, name: str, version: str) -> Path:
    folder = cache / name / version
    folder.mkdir(parents=True)
    (folder / "dataset_info.json").write_text("{}")
    (folder / f"{name}-train.tfrecord-00000-of-00001").write_bytes(b"records")
    return folder


def test_only_a_finished_version_folder_is_prepared(tmp_path):
    assert tfds_cache.prepared_folder(tmp_path, "flowers") is None
    # tfds writes into version.incomplete.XXXX and renames when done; a crash leaves that.
    unfinished = tmp_path / "flowers" / "2.1.1.incomplete.ABC"
    unfinished.mkdir(parents=True)
    (unfinished / "dataset_info.json").write_text("{}")
    (tmp_path / "flowers" / "2.1.0").mkdir()  # a version folder without its info file
    assert tfds_cache.prepared_folder(tmp_path, "flowers") is None
    done = prepared(tmp_path, "flowers", "2.1.1")
    assert tfds_cache.prepared_folder(tmp_path, "flowers") == done
    assert tfds_cache.prepared_folder(tmp_path, "flowers:2.1.1") == done
    assert tfds_cache.prepared_folder(tmp_path, "flowers:2.1.0") is None


def test_a_missing_dataset_is_one_line_saying_how_to_prepare_it(tmp_path):
    with pytest.raises(UserError) as refused:
        tfds_cache.require_prepared(tmp_path, "oxford_flowers102")
    line = str(refused.value)
    assert "\n" not in line and str(tmp_path) in line
    assert "edgecompress fetch" in line and "run prepare --tfds-name oxford_flowers102" in line


def test_a_fleet_gets_a_copy_once_and_links_stay_links(tmp_path):
    cache, shared = tmp_path / "cache", tmp_path / "store" / "tfds-cache"
    source = prepared(cache, "flowers", "2.1.1")
    (source / "link").symlink_to("/etc/passwd")
    copied = tfds_cache.share(cache, "flowers", shared)
    assert copied == shared / "flowers" / "2.1.1"
    assert (copied / "flowers-train.tfrecord-00000-of-00001").read_bytes() == b"records"
    assert (copied / "link").is_symlink()  # not the file it points at
    (copied / "marker").write_text("kept")
    assert tfds_cache.share(cache, "flowers", shared) == copied  # not copied again
    assert (copied / "marker").read_text() == "kept"
    with pytest.raises(UserError, match="is not prepared in"):
        tfds_cache.share(cache, "other", shared)
    assert not (shared / "other").exists()


def target(tmp_path: Path) -> Target:
    return Target(store=Store(tmp_path / "store"), profile="x86-tf2.12", image="i",
                  image_id="sha256:1", tfds_cache=tmp_path / "tfds")


def test_only_the_prepare_job_has_the_network_and_writes_the_cache(tmp_path):
    where = target(tmp_path)
    prepare = request_for(where, PrepareSpec(tfds_name="flowers"), {})
    assert prepare.network and prepare.caches == {CONTAINER_TFDS_DIR: tmp_path / "tfds"}
    assert prepare.read_caches == {}

    train = request_for(where, TrainSpec(weights=None), {})
    assert not train.network and train.caches == {}
    assert train.read_caches == {CONTAINER_TFDS_DIR: tmp_path / "tfds"}

    images = InputRef(path="/inputs/images", sha256=DIGEST)
    for offline in (TrainSpec(weights=None, images=images), ProbeSpec(),
                    TrainSpec(weights=None, tfds_mock_examples=8),
                    QuantizeSpec(model=InputRef(path="/inputs/model", sha256=DIGEST),
                                 mode="fp16")):
        request = request_for(where, offline, {})
        assert not request.network and request.caches == {} and request.read_caches == {}


def test_the_dataset_a_job_reads(tmp_path):
    model = InputRef(path="/inputs/model", sha256=DIGEST)
    assert tfds_read(TrainSpec(tfds_name="flowers:2.1.1")) == "flowers:2.1.1"
    assert tfds_read(QuantizeSpec(model=model, mode="int8")) == "oxford_flowers102"  # calibrates
    assert tfds_read(QuantizeSpec(model=model, mode="fp16")) is None
    assert tfds_read(PrepareSpec()) is None  # it writes the dataset, read by the others


def test_a_campaign_on_a_dataset_not_prepared_stops_before_the_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGECOMPRESS_TFDS_DIR", str(tmp_path / "tfds"))
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    campaign = tmp_path / "flowers.toml"
    campaign.write_text('name = "flowers"\nmodels = ["MobileNetV3Small"]\nmethods = ["fp16"]\n'
                        'weights = "none"\n')
    with pytest.raises(UserError, match="tfds dataset oxford_flowers102 is not prepared"):
        api.connect_campaign(campaign, store=tmp_path / "store")
    assert not (tmp_path / "store").exists()
    assert api.campaign_dataset(api.load("quick")) is None  # digits: nothing to prepare
    prepared(tmp_path / "tfds", "oxford_flowers102", "2.1.1")
    api.check_dataset(api.load(campaign))  # prepared: no line
