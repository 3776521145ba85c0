"""Each stack's keras.applications networks (launcher/applications.py over the generated table):
which a profile can build, at what input size, and which ImageNet file it loads; the one-line
refusals a campaign or a run gets before anything starts; and a Keras file without a published
hash, which the cache takes unchecked and says so."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from launcher.applications import (
    Network,
    WeightsFile,
    all_names,
    check_fields,
    check_input_size,
    listing,
    network,
    stacks,
    weights_file,
)
from launcher.contract.specs import TrainSpec
from launcher.contract.vocabulary import PAPER_ARCHITECTURES
from launcher.device.profiles import PROFILES
from launcher.errors import UserError
from launcher.study.campaign import load_campaign, with_overrides
from launcher.study.fetch import weights_needed
from launcher.study.plan import expand
from launcher.weights_cache import WeightsCache


def test_every_profile_has_a_stack_with_the_papers_six_and_about_thirty_more():
    for profile in PROFILES.values():
        names = {name for name in all_names() if name in stacks()[_line(profile.tensorflow)]}
        assert set(PAPER_ARCHITECTURES) <= names
        assert len(names) >= 28, (profile.name, len(names))
    # Keras 2.7 predates ConvNeXt, RegNet, ResNetRS and EfficientNetV2; later lines have them.
    assert len(stacks()["2.12"]) > len(stacks()["2.7"])


def _line(version: str) -> str:
    return ".".join(version.split(".")[:2])


def test_a_network_a_stack_lacks_is_one_line_naming_the_stacks_that_have_it():
    assert network("ConvNeXtTiny", "2.12.1").preprocessing == "inside"
    with pytest.raises(UserError) as caught:
        network("ConvNeXtTiny", "2.7.4+nv22.1")
    line = str(caught.value)
    assert "\n" not in line
    assert "TensorFlow 2.7 has no ConvNeXtTiny" in line and "2.12" in line and "2.21" in line
    with pytest.raises(UserError, match="no stack has it"):
        network("ResNet51", "2.12.1")


def test_preprocessing_is_keras_own_per_family():
    modes = {name: network(name, "2.12.1").preprocessing
             for name in ("VGG16", "ResNet50", "ResNet50V2", "MobileNetV2", "Xception",
                          "DenseNet121", "EfficientNetB0", "MobileNetV3Small", "ConvNeXtTiny")}
    assert modes == {"VGG16": "caffe", "ResNet50": "caffe", "ResNet50V2": "tf",
                     "MobileNetV2": "tf", "Xception": "tf", "DenseNet121": "torch",
                     "EfficientNetB0": "inside", "MobileNetV3Small": "inside",
                     "ConvNeXtTiny": "inside"}


def test_input_sizes_below_a_networks_smallest_are_refused():
    inception = network("InceptionV3", "2.7.4")
    assert inception.smallest_input == 75 and network("Xception", "2.7.4").smallest_input == 71
    check_input_size(inception, 75, imagenet=True)
    with pytest.raises(UserError, match="InceptionV3 needs an input of at least 75 px, not 32"):
        check_input_size(inception, 32, imagenet=False)
    fixed = Network("Fixed", "2.12", "tf", 32, 331, ())
    check_input_size(fixed, 64, imagenet=False)
    with pytest.raises(UserError, match="load only at 331 px, not 64"):
        check_input_size(fixed, 64, imagenet=True)


def test_mobilenets_load_the_file_of_their_input_size_and_the_224_one_otherwise():
    assert weights_file("MobileNetV2", "2.12.1", 96).name.endswith("_1.0_96_no_top.h5")
    assert weights_file("MobileNetV2", "2.12.1", 160).name.endswith("_1.0_160_no_top.h5")
    assert weights_file("MobileNetV2", "2.12.1", 100).name.endswith("_1.0_224_no_top.h5")
    assert weights_file("MobileNet", "2.7.4", 128).name == "mobilenet_1_0_128_tf_no_top.h5"
    # MobileNet v1 has no 96 px file: Keras loads the 224 one there.
    assert weights_file("MobileNet", "2.7.4", 96).name == "mobilenet_1_0_224_tf_no_top.h5"
    assert weights_file("EfficientNetB0", "2.12.1", 128) == weights_file("EfficientNetB0",
                                                                           "2.12.1", 224)


def test_hashes_follow_kerass_own_rule():
    assert weights_file("ConvNeXtTiny", "2.12.1").hash_algorithm == "sha256"
    assert weights_file("VGG16", "2.12.1").hash_algorithm == "md5"
    assert weights_file("MobileNetV2", "2.12.1").file_hash is None  # Keras publishes none


def test_a_spec_or_plan_naming_a_network_checks_it_on_the_stack_that_builds_it():
    check_fields(TrainSpec(architecture="VGG16", input_size=32).model_dump(), "2.7.4")
    with pytest.raises(UserError, match="InceptionV3 needs an input of at least 75"):
        check_fields(TrainSpec(architecture="InceptionV3", input_size=32).model_dump(), "2.12.1")
    config = with_overrides(load_campaign("quick"), models=["ConvNeXtTiny", "VGG16"])
    plan = expand(config)
    assert {node.params.get("architecture") for node in plan.nodes if node.role == "train"} == {
        "ConvNeXtTiny", "VGG16"}
    weights_needed(plan, "2.12.1")  # both on 2.12
    with pytest.raises(UserError, match="2.7 has no ConvNeXtTiny"):
        weights_needed(plan, "2.7.4")
    # Training placed on another stack is checked on that one.
    with pytest.raises(UserError, match="2.7 has no ConvNeXtTiny"):
        weights_needed(plan, "2.12.1", training_tensorflow="2.7.4")


def test_the_help_lists_every_network_and_the_common_ones_once():
    text = listing()
    assert text.startswith("on every stack (") and "also on TensorFlow 2.12: " in text
    words = text.replace(",", " ").replace(";", " ").split()
    for name in all_names():
        assert name in words, name
    common = set.intersection(*(set(networks) for networks in stacks().values()))
    assert "DenseNet169" in common and all(words.count(name) == 1 for name in common)


def test_a_keras_file_without_a_published_hash_is_taken_unchecked_and_said(tmp_path: Path):
    folder = tmp_path / "mirror"
    folder.mkdir()
    name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    (folder / name).write_bytes(b"weights")
    said: list[str] = []
    cache = WeightsCache(tmp_path / "cache", mirror=str(folder), say=said.append)
    file = WeightsFile("MobileNetV2", name, "https://keras.invalid/" + name, None)
    path = cache.ensure(file)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(b"weights").hexdigest()
    assert any("publishes no hash" in line for line in said)
    assert cache.cached(file) == path
