from pathlib import Path

import pytest

from launcher.contract.specs import MakeModelSpec, QuantizeSpec
from launcher.errors import UserError
from launcher.jobspecs import build_spec, parameter_fields


def fake_digest(path: Path) -> str:
    return "c" * 64


def test_parameters_become_a_typed_spec():
    spec, inputs = build_spec("make_model", {"architecture": "DenseNet169",
                                             "input_size": "64", "weights": "none"}, fake_digest)
    assert spec == MakeModelSpec(architecture="DenseNet169", input_size=64, weights=None)
    assert inputs == {}


def test_inputs_are_digested_and_mapped_under_inputs(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"x")
    spec, inputs = build_spec("quantize", {"model": str(tmp_path)}, fake_digest)
    assert isinstance(spec, QuantizeSpec)
    assert spec.model.path == "/inputs/model" and spec.model.sha256 == "c" * 64
    assert inputs == {"model": tmp_path}


@pytest.mark.parametrize(
    ("job", "params", "message"),
    [
        ("make_model", {"input_size": "8"}, "invalid --input-size '8'"),
        ("make_model", {"input_size": "big"}, "invalid --input-size 'big'"),
        ("make_model", {"architecture": "ResNet51"}, "invalid --architecture 'ResNet51'"),
        ("make_model", {"colour": "red"}, "job make_model has no parameter --colour"),
        ("quantize", {}, "job quantize needs --model PATH"),
        ("quantize", {"model": "/no/such/model"}, "--model /no/such/model: no such file"),
        ("nope", {}, "unknown job 'nope'"),
        ("train", {"architecture": "VGG17"}, "invalid --architecture 'VGG17'"),
        ("prune", {"model": ".", "target_sparsity": "1.0"}, "invalid --target-sparsity '1.0'"),
        ("prune", {"model": ".", "target_sparsity": "0"}, "invalid --target-sparsity '0'"),
        ("quantize", {"model": ".", "mode": "int8", "calibration_images": "0"},
         "invalid --calibration-images '0'"),
        ("distill", {"teacher": ".", "alpha": "1.5"}, "invalid --alpha '1.5'"),
        ("benchmark", {"model": ".", "latency_runs": "3", "warmup_runs": "3"},
         "warmup_runs must be fewer than latency_runs"),
    ],
)
def test_bad_parameters_are_one_clear_line(job, params, message):
    with pytest.raises(UserError) as caught:
        build_spec(job, params, fake_digest)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_probe_takes_no_parameters():
    assert parameter_fields("probe") == {}
