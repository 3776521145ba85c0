"""Training placed off the device (issue 12, item 2): which profile may train for which, the
training image's id from a store's records, and the keys the placement gives."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from launcher.device.profiles import get_profile
from launcher.errors import UserError
from launcher.store import Store
from launcher.study import training_placement
from launcher.study.campaign import load_campaign, with_overrides
from launcher.study.plan import expand
from launcher.study.resolve import Resolver, State
from tests.paths import RECORDED

RECORDED_IMAGE_ID = "sha256:67a54ef57cc47e6bfe3f46bc3efe07bf949698b3ee56621ef76638b11f520ef7"
DEVICE_ID = "sha256:" + "d" * 64
TRAINING_ID = "sha256:" + "7" * 64


@pytest.mark.parametrize(("device", "training"), [
    ("nano", "x86-tf2.7"), ("xavier", "x86-tf2.12"), ("xavier-emulated", "x86-tf2.12")])
def test_a_profile_of_the_devices_tensorflow_minor_may_train_for_it(device, training):
    training_placement.check_training_profile(get_profile(device), get_profile(training))


@pytest.mark.parametrize(("device", "training"), [
    ("nano", "x86-tf2.12"), ("xavier", "x86-tf2.7"), ("xavier", "x86-tf2.21")])
def test_another_tensorflow_minor_is_refused_in_one_line(device, training):
    with pytest.raises(UserError) as raised:
        training_placement.check_training_profile(get_profile(device), get_profile(training))
    line = str(raised.value)
    assert "\n" not in line and training in line and "minor version" in line


def test_the_training_image_id_comes_from_the_stores_records(tmp_path):
    """A merged store carries the workstation's training: its records name the image tag
    and id, which key the device's train jobs when that image is not on the device."""
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)
    training = get_profile("x86-tf2.12")
    recorded = training_placement.recorded_image_ids(Store(store), training.image)
    assert recorded == [RECORDED_IMAGE_ID]
    assert training_placement.recorded_image_ids(Store(store), get_profile("x86-tf2.7").image) == []
    assert training_placement.training_image_id(training, None, recorded) == RECORDED_IMAGE_ID
    assert training_placement.training_image_id(training, TRAINING_ID, recorded) == TRAINING_ID
    with pytest.raises(UserError, match="edgecompress merge"):
        training_placement.training_image_id(get_profile("x86-tf2.7"), None, [])


def test_placed_training_is_keyed_as_a_run_on_the_training_profile(tmp_path):
    """The device's resolver keys train and scratch jobs with the training image (so the
    folders are those a campaign run on the workstation writes, found after a merge) and
    every other job with the device's image."""
    plan = expand(with_overrides(load_campaign("paper"), models=["MobileNetV3Small"],
                                 methods=["fp16", "scratch"], copies=1))
    store = Store(tmp_path / "store")
    # The paper starts from ImageNet weights: a file stands for the cached one.
    stub = tmp_path / "weights.h5"
    stub.write_bytes(b"weights")

    def weights(architecture: str, training: bool) -> Path:
        return stub

    device = Resolver(plan, store, DEVICE_ID, None, TRAINING_ID, weights)
    workstation = Resolver(plan, store, TRAINING_ID, None, weights=weights)
    unplaced = Resolver(plan, store, DEVICE_ID, None, weights=weights)
    roles = {node.role for node in plan.nodes}
    assert roles == {"train", "compress", "benchmark"}
    for node in plan.nodes:
        if node.role == "train":
            assert device.assess(node).folder == workstation.assess(node).folder
            assert device.assess(node).folder != unplaced.assess(node).folder
            assert device.assess(node).state is State.todo
        else:
            assert device.image_for(node) == DEVICE_ID
            assert device.assess(node).state is State.waiting


def test_the_command_line_refuses_a_mismatch_before_it_needs_an_engine(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "launcher", "campaign", "run", "quick", "--profile", "nano",
         "--train-profile", "x86-tf2.12", "--store", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "DOCKER_HOST": "unix:///nonexistent.sock"})
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "minor version" in lines[0], proc.stderr
    assert not (tmp_path / "jobs").exists()


def test_no_job_waits_for_the_decoded_cache(tmp_path):
    """A cache whose job is not done is left out of a job's inputs: the job is ready (and
    decodes the files itself) instead of waiting, so a failed decode blocks nothing, and a
    store whose jobs ran before decoding existed is found done by the same keys
    (test_plan.py)."""
    from launcher.study.resolve import dataset_folder

    plan = expand(with_overrides(load_campaign("quick"), copies=1))
    store = Store(tmp_path)
    resolver = Resolver(plan, store, DEVICE_ID, dataset_folder(plan, store))
    decode, train = plan.nodes[0], plan.node("train/MobileNetV3Small/copy1")
    assert resolver.assess(decode).state is State.todo
    assert resolver.assess(train).state is State.todo
    inputs = resolver.inputs(train)
    assert inputs is not None and set(inputs) == {"images"}
