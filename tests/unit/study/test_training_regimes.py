"""Training regimes (issue 9, item 6), pruning's fine-tuning (item 1) and distillation's soft
targets (item 5): the pure parts, on the host. What needs TensorFlow runs in the job images
(tests/integration/test_study_compression.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from jobs import architectures, distill, prune
from launcher.contract.results import DistillMetrics, PruneMetrics
from launcher.contract.specs import DistillSpec, ScratchSpec, TrainSpec
from launcher.contract.vocabulary import TRAINING_REGIMES
from launcher.study.campaign import load_campaign, parse_config
from launcher.study.plan import expand, resolve_spec

TEACHER = {"path": "/inputs/teacher", "sha256": "b" * 64}
DIGESTS = {"model": "a" * 64, "teacher": "b" * 64, "images": "c" * 64, "model_h5": "d" * 64,
           "teacher_h5": "e" * 64, "weights_file": "f" * 64, "student_weights_file": "f" * 64}
MINIMAL = ('name = "mine"\nmodels = ["MobileNetV3Small", "DenseNet169"]\n'
           'methods = ["distill", "scratch", "prune50"]\ncopies = 2\n')


# --- specs: every spec names the regime it trains with ---------------------------------------


def test_default_regime_follows_the_weights():
    assert TrainSpec().regime == "head" and TrainSpec(weights=None).regime == "full"
    assert ScratchSpec().regime == "head" and ScratchSpec(weights=None).regime == "full"
    assert DistillSpec(teacher=TEACHER).student_regime == "head"
    assert DistillSpec(teacher=TEACHER, student_weights=None).student_regime == "full"
    assert ScratchSpec.model_validate({"regime": None, "weights": None}).regime == "full"


def test_an_explicit_regime_wins_and_is_in_the_spec():
    spec = ScratchSpec(weights="imagenet", regime="full_bn_frozen")
    assert spec.model_dump()["regime"] == "full_bn_frozen"
    assert TrainSpec.model_validate(spec.model_dump() | {"job": "train"}).regime == (
        "full_bn_frozen")
    with pytest.raises(ValidationError):
        TrainSpec(regime="backbone")  # type: ignore[arg-type]
    # regime wins over the pre-regime freeze_backbone
    assert TrainSpec.model_validate({"freeze_backbone": True, "regime": "full"}).regime == "full"


# --- the campaign chooses; scratch and the student always share one regime --------------------


def regimes_of(text: str) -> dict[str, set[str]]:
    plan = expand(parse_config(text, "mine.toml"))
    found: dict[str, set[str]] = {}
    for node in plan.nodes:
        if node.job in ("train", "scratch", "distill"):
            spec = resolve_spec(node, {f: DIGESTS[f] for f, _ in node.inputs})
            assert isinstance(spec, DistillSpec | TrainSpec | ScratchSpec)
            regime = spec.student_regime if isinstance(spec, DistillSpec) else spec.regime
            found.setdefault(node.job, set()).add(str(regime))
    return found


def test_default_regimes_by_weights():
    assert regimes_of(MINIMAL) == {"train": {"head"}, "scratch": {"head"},
                                   "distill": {"head"}}
    assert regimes_of(MINIMAL + 'weights = "none"\n') == {
        "train": {"full"}, "scratch": {"full"}, "distill": {"full"}}


def test_students_regime_reaches_scratch_and_distill_alike():
    found = regimes_of(MINIMAL + '[training]\nstudents = "full_bn_frozen"\n')
    assert found == {"train": {"head"}, "scratch": {"full_bn_frozen"},
                     "distill": {"full_bn_frozen"}}
    # Students follow the base unless told otherwise.
    assert regimes_of(MINIMAL + '[training]\nbase = "full"\n') == {
        "train": {"full"}, "scratch": {"full"}, "distill": {"full"}}


@pytest.mark.parametrize(("text", "fragment"), [
    ('[training]\nstudent = "head"\n', "training.student: Extra inputs are not permitted"),
    ('[training]\nbase = "frozen"\n', "training.base"),
])
def test_bad_training_setting_is_an_error(text, fragment):
    from launcher.errors import UserError

    with pytest.raises(UserError) as caught:
        parse_config(MINIMAL + text, "mine.toml")
    assert fragment in str(caught.value)


def test_presets_state_their_regimes():
    assert load_campaign("paper").training.regimes("imagenet") == ("head", "head")
    assert load_campaign("quick").training.regimes(None) == ("full", "full")


# --- jobs/architectures.py: which layer trains under which regime ----------------------------


@pytest.mark.parametrize(("regime", "head", "conv", "batch_norm"), [
    ("head", True, False, False),
    ("full", True, True, True),
    ("full_bn_frozen", True, True, False),
])
def test_regime_decides_per_layer(regime, head, conv, batch_norm):
    assert regime in TRAINING_REGIMES
    assert architectures.trains(regime, is_head=True, is_batch_norm=False) is head
    assert architectures.trains(regime, is_head=False, is_batch_norm=False) is conv
    assert architectures.trains(regime, is_head=False, is_batch_norm=True) is batch_norm


# --- jobs/prune.py: did the fine-tuning reach the surviving weights ---------------------------


def test_survivors_changed_counts_only_the_weights_left():
    base = np.array([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32)
    untouched = np.array([[0.0, 0.0, 3.0, 4.0]], dtype=np.float32)  # one-shot pruning only
    tuned = np.array([[0.0, 0.0, 3.5, 4.0]], dtype=np.float32)
    assert prune.survivors_changed([(base, untouched)]) == 0.0
    assert prune.survivors_changed([(base, tuned)]) == 0.5
    assert prune.survivors_changed([(base, np.zeros_like(base))]) is None


# --- jobs/distill.py: soft targets from the true logits ---------------------------------------


def softmax(z: np.ndarray) -> np.ndarray:
    shifted = np.exp(z - z.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def reference_softmax(row: list[float]) -> list[float]:
    top = max(row)
    exps = [math.exp(v - top) for v in row]
    return [e / sum(exps) for e in exps]


def synthetic_teacher() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A softmax head whose logit gaps reach 60 and 90: (features, kernel, bias, logits)."""
    features = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    kernel = np.array([[60.0, 0.0, 0.0, 0.0, 0.0],
                       [30.0, 10.0, -30.0, 0.0, 5.0],
                       [0.0, 90.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    bias = np.array([0.0, 0.0, 0.0, 0.0, 1.0], dtype=np.float32)
    return features, kernel, bias, features.astype(np.float64) @ kernel + bias


def test_soft_targets_are_softmax_of_logits_over_t():
    features, kernel, bias, z = synthetic_teacher()
    logits = distill.dense_logits(np.matmul, features, kernel, bias)
    targets = distill.soft_targets(softmax, logits, 10.0)
    for row, logits_row in zip(targets.tolist(), z.tolist(), strict=True):
        assert row == pytest.approx(reference_softmax([v / 10.0 for v in logits_row]), abs=1e-6)
    assert distill.dense_logits(np.matmul, features, kernel, None) == pytest.approx(
        features @ kernel)


def test_logits_recovered_from_probabilities_are_not_the_teachers():
    """Why distill reads the head: log(p + 1e-12) of a float32 softmax caps every gap near
    27.6, and at T = 10 the top target of the gap-60 row falls from 0.99 to 0.80."""
    features, kernel, bias, z = synthetic_teacher()
    probabilities = softmax(distill.dense_logits(np.matmul, features, kernel, bias))
    recovered = np.log(probabilities + 1e-12)
    flat = distill.soft_targets(softmax, recovered, 10.0)
    true = distill.soft_targets(softmax, z, 10.0)
    assert recovered.min() == pytest.approx(-27.63, abs=0.01)
    assert true[0, 0] == pytest.approx(0.990, abs=0.001)
    assert flat[0, 0] == pytest.approx(0.798, abs=0.001)
    assert np.abs(flat - true).max() > 0.15


# --- results record all of it; older results still read ----------------------------------------


def test_specs_from_before_regimes_read_as_what_they_trained():
    """spec.json files written before regimes say freeze_backbone (train, scratch)."""
    assert TrainSpec.model_validate({"freeze_backbone": None}).regime == "head"
    assert TrainSpec.model_validate({"freeze_backbone": None, "weights": None}).regime == "full"
    assert TrainSpec.model_validate({"freeze_backbone": True, "weights": None}).regime == "head"
    old_scratch = {"job": "scratch", "freeze_backbone": False, "weights": "imagenet"}
    assert ScratchSpec.model_validate(old_scratch).regime == "full"
    assert "freeze_backbone" not in ScratchSpec.model_validate(old_scratch).model_dump()


PRUNE = {"prune_s": 2.0, "target_sparsity": 0.5, "achieved_sparsity": 0.5,
         "overall_sparsity": 0.45, "wrapped_layers": 3, "pruned_parameters": 10,
         "parameters": 12, "saved_model_bytes": 1, "gzip_bytes": 1, "base_saved_model_bytes": 1,
         "base_gzip_bytes": 1}
DISTILL = {"distill_s": 2.0, "epochs": 1, "teacher_parameters": 5, "student_parameters": 4,
           "saved_model_bytes": 1}


@pytest.mark.parametrize(("model", "metrics"), [(PruneMetrics, PRUNE), (DistillMetrics, DISTILL)])
def test_compression_time_is_load_plus_proper_plus_save(model, metrics):
    times = {"load_s": 1.0, "save_s": 3.0}
    assert model.model_validate(metrics | times | {"compression_total_s": 6.0})
    with pytest.raises(ValidationError, match="compression_total_s must be"):
        model.model_validate(metrics | times | {"compression_total_s": 4.0})
    # Recorded before these fields existed: still a valid result.
    assert model.model_validate(metrics).compression_total_s is None
