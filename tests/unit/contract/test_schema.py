"""The contract's models accept what real jobs write and reject what they must not."""

import copy
import json

import jsonschema
import pytest
from pydantic import ValidationError

from launcher.contract.export import json_schemas, render_json_schema
from launcher.contract.results import JOB_RESULT, MAX_ARTIFACTS, Artifact, QuantizeResult
from launcher.contract.specs import JOB_SPEC, InputRef
from launcher.errors import describe_validation_error
from tests.paths import DATA, ROOT


@pytest.fixture
def recorded():
    """A result.json written by the real quantize job in the TF 2.12 image."""
    return json.loads((DATA / "quantize-result.tf2.12.json").read_text())


def test_a_recorded_real_result_validates(recorded):
    result = JOB_RESULT.validate_python(recorded)
    assert isinstance(result, QuantizeResult)
    assert result.metrics.tflite_bytes == recorded["metrics"]["tflite_bytes"]


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: d["metrics"].update(tflite_bytes=-1), id="negative size"),
        pytest.param(lambda d: d["metrics"].update(conversion_s=float("nan")), id="nan"),
        pytest.param(lambda d: d["metrics"].update(size_ratio=float("inf")), id="inf"),
        pytest.param(lambda d: d["metrics"].update(surprise=1), id="unknown metric"),
        pytest.param(lambda d: d.update(extra=1), id="unknown top-level field"),
        pytest.param(lambda d: d.update(schema_version=2), id="other schema version"),
        pytest.param(lambda d: d.pop("environment"), id="missing environment"),
        pytest.param(lambda d: d.update(job="probe"), id="job does not match its spec"),
        pytest.param(lambda d: d["artifacts"][0].update(path="/job/out/x.tflite"),
                     id="absolute artifact path"),
        pytest.param(lambda d: d["artifacts"][0].update(path="../other/x.tflite"),
                     id="artifact path leaving the folder"),
        pytest.param(lambda d: d["spec"]["model"].update(sha256="xyz"), id="bad digest"),
        pytest.param(lambda d: d["samples"].update(latency_ms=[1.0, float("nan")]),
                     id="nan sample"),
    ],
)
def test_bad_results_are_rejected(recorded, mutate):
    document = copy.deepcopy(recorded)
    mutate(document)
    with pytest.raises(ValidationError):
        JOB_RESULT.validate_python(document)


def test_nan_in_json_text_is_rejected(recorded):
    text = json.dumps(recorded).replace(
        json.dumps(recorded["metrics"]["conversion_s"]), "NaN", 1)
    with pytest.raises(ValidationError):
        JOB_RESULT.validate_json(text)


@pytest.mark.parametrize("path", ["out/model.tflite", "saved_model", "a/b/c.bin"])
def test_relative_artifact_paths_are_accepted(path):
    assert Artifact(name="m", kind="file", path=path, bytes=1).path == path


@pytest.mark.parametrize("path", ["", "/abs", "..", "../x", "a/../../x", "a/./b", "a\\b"])
def test_artifact_paths_outside_the_folder_are_rejected(path):
    with pytest.raises(ValidationError):
        Artifact(name="m", kind="file", path=path, bytes=1)


def test_a_result_lists_at_most_max_artifacts(recorded):
    """A result.json naming a million artifacts once made every load of the store take 14 s:
    beyond MAX_ARTIFACTS validation refuses it, in one line that says how many and the limit,
    and the exported JSON Schema says the same."""
    artifact = recorded["artifacts"][0]
    at_limit = copy.deepcopy(recorded)
    at_limit["artifacts"] = [artifact] * MAX_ARTIFACTS
    assert len(JOB_RESULT.validate_json(json.dumps(at_limit)).artifacts) == MAX_ARTIFACTS
    schema = json.loads((ROOT / "schema" / "job-result.schema.json").read_text())
    jsonschema.validate(at_limit, schema)
    for count in (MAX_ARTIFACTS + 1, 1_000_000):
        over = dict(recorded, artifacts=[artifact] * count)
        with pytest.raises(ValidationError) as refused:
            JOB_RESULT.validate_json(json.dumps(over))
        line = describe_validation_error(refused.value)
        assert line.startswith("quantize.artifacts: ") and f"at most {MAX_ARTIFACTS} items" in line
        assert f"not {count}" in line
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(dict(recorded, artifacts=[artifact] * (MAX_ARTIFACTS + 1)), schema)


@pytest.mark.parametrize("path", ["/inputs/model", "/inputs/a/b"])
def test_input_paths_must_be_under_inputs(path):
    assert InputRef(path=path, sha256="0" * 64).path == path


@pytest.mark.parametrize("path", ["/job/spec.json", "/inputs/../etc", "relative", "/inputs/"])
def test_input_paths_elsewhere_are_rejected(path):
    with pytest.raises(ValidationError):
        InputRef(path=path, sha256="0" * 64)


def test_specs_are_discriminated_by_job_and_strict():
    assert JOB_SPEC.validate_python({"job": "probe"}).job == "probe"
    for bad in ({"job": "nope"}, {"job": "probe", "x": 1},
                {"job": "make_model", "input_size": 8},
                {"job": "make_model", "architecture": "ResNet51"},
                {"job": "quantize"}):
        with pytest.raises(ValidationError):
            JOB_SPEC.validate_python(bad)


def test_exported_json_schemas_are_current():
    """schema/ is what non-Python consumers read; regenerate with 'edgecompress schema'."""
    for name, schema in json_schemas().items():
        path = ROOT / "schema" / name
        assert path.exists(), f"schema/{name} is missing: run 'edgecompress schema'"
        assert path.read_text() == render_json_schema(schema), (
            f"schema/{name} is stale: run 'edgecompress schema'")


def test_exported_schema_accepts_the_recorded_result(recorded):
    schema = json.loads((ROOT / "schema" / "job-result.schema.json").read_text())
    jsonschema.validate(recorded, schema)
