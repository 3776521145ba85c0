"""Which ImageNet weights file a job gets: Keras's table per TensorFlow line, the slots of a
spec that ask for one, and the campaign's weights inputs (part of each key)."""

from __future__ import annotations

import pytest

from launcher.contract.specs import DistillSpec, MakeModelSpec, TrainSpec
from launcher.contract.vocabulary import PAPER_ARCHITECTURES
from launcher.errors import UserError
from launcher.jobspecs import SPEC_CLASSES
from launcher.pretrained import (
    SLOTS,
    missing_weights,
    tensorflow_line,
    weights_file,
    with_weights_file,
)
from launcher.study.campaign import load_campaign, with_overrides
from launcher.study.fetch import weights_needed
from launcher.study.plan import expand, is_weights


def test_every_profile_stack_has_every_architecture():
    from launcher.device.profiles import PROFILES

    for profile in PROFILES.values():
        for architecture in PAPER_ARCHITECTURES:
            file = weights_file(architecture, profile.tensorflow)
            assert file.origin.endswith("/" + file.name) and file.hash_algorithm == "md5"
    assert tensorflow_line("2.7.0+nv22.1") == "2.7" and tensorflow_line("2.12.1") == "2.12"
    with pytest.raises(UserError, match="no keras.applications table for TensorFlow 2.9"):
        weights_file("DenseNet169", "2.9.0")


def test_keras_2_7_mobilenet_v3_loads_the_file_with_conv_2():
    """Keras 2.7 keeps Conv_2 without the top and loads *_no_top.h5; from 2.10 on it is
    *_no_top_v2.h5 without it. The other families load the same files on every line."""
    old, new = weights_file("MobileNetV3Small", "2.7.4"), weights_file("MobileNetV3Small", "2.12.1")
    assert old.name.endswith("_no_top.h5") and new.name.endswith("_no_top_v2.h5")
    assert old.file_hash != new.file_hash
    for architecture in ("EfficientNetB3", "DenseNet201"):
        assert len({weights_file(architecture, line) for line in ("2.7", "2.12", "2.21")}) == 1


def test_slots_ask_only_for_imagenet_and_only_once():
    assert [slot.file for slot, _ in missing_weights(TrainSpec(weights="imagenet"))] == [
        "weights_file"]
    assert missing_weights(TrainSpec(weights=None)) == []
    assert missing_weights(MakeModelSpec()) == []  # make_model's default: no weights
    distill = DistillSpec.model_validate({
        "teacher": {"path": "/inputs/teacher", "sha256": "a" * 64}, "student": "DenseNet169"})
    ((slot, architecture),) = missing_weights(distill)
    assert (slot.file, architecture) == ("student_weights_file", "DenseNet169")
    given = with_weights_file(distill, slot, "b" * 64)
    assert missing_weights(given) == []
    assert {s.file for s in SLOTS} <= {f for cls in SPEC_CLASSES.values() for f in cls.model_fields}


def test_a_weights_file_without_imagenet_is_refused():
    with pytest.raises(ValueError, match="weights_file is given but weights is not"):
        TrainSpec.model_validate({"weights": None, "weights_file": {
            "path": "/inputs/weights_file", "sha256": "a" * 64}})


def test_a_campaign_starting_from_imagenet_needs_one_file_per_architecture_and_stack():
    plan = expand(with_overrides(load_campaign("paper"), copies=2))
    needed = weights_needed(plan, "2.7.0")
    # Six backbones for training, and the distillation student (MobileNetV3Small) for the
    # compress lane: the same file as its training's.
    assert {(n.architecture, n.training) for n in needed} == {
        *((arch, True) for arch in PAPER_ARCHITECTURES), ("MobileNetV3Small", False)}
    assert len({n.file.name for n in needed}) == 6
    placed = weights_needed(plan, "2.7.0", training_tensorflow="2.7.4")
    assert [n.file for n in placed] == [n.file for n in needed]
    for node in plan.nodes:
        weights = [source for _, source in node.inputs if is_weights(source)]
        assert bool(weights) is (node.job in ("train", "scratch", "distill")), node.id
        assert not any(is_weights(up) for up in node.upstream)
    quick = expand(load_campaign("quick"))  # weights = "none": nothing from outside
    assert weights_needed(quick, "2.12.1") == []


def test_a_job_refuses_imagenet_without_its_file_before_any_import():
    from jobs import pretrained
    from jobs.errors import JobInputError

    with pytest.raises(JobInputError, match="needs the weights_file input"):
        pretrained.check_spec({"weights": "imagenet"})
    with pytest.raises(JobInputError, match="student_weights_file is given but"):
        pretrained.check_spec({"student_weights": None,
                               "student_weights_file": {"path": "/inputs/w"}},
                              "student_weights", "student_weights_file")
    pretrained.check_spec({"weights": "imagenet", "weights_file": {"path": "/inputs/w"}})
    pretrained.check_spec({"weights": None})
