"""--json on every command that shows results (results, status, campaign plan, diff, doctor,
fleet status): one JSON document on stdout and nothing else there, valid against its exported
schema (schema/<command>-output.schema.json); errors stay one line on stderr, stdout empty."""

from __future__ import annotations

import json
from typing import get_args

import jsonschema
import pytest

from launcher.contract.export import OUTPUT_DOCUMENTS
from launcher.docker_swarm import NodeInfo
from launcher.fleet.node_placement import PROFILE_LABEL
from launcher.fleet.status import rows
from launcher.output.base import dumps
from launcher.output.build import fleet_document
from launcher.output.documents import JobState, ResultsDocument, StoredJobEntry
from launcher.study.resolve import State
from tests import stores
from tests.paths import ROOT
from tests.unit.test_cli import assert_one_line_error, edgecompress

SCHEMAS = ROOT / "schema"
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/no-docker.sock"}


def valid(document: dict, stem: str) -> dict:
    schema = json.loads((SCHEMAS / f"{stem}.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(document)
    return document


def only_json(proc, stem: str, code: int = 0) -> dict:
    """stdout holds one JSON document and nothing else; it validates against its schema."""
    assert proc.returncode == code, proc.stderr
    assert proc.stderr == ""
    document = json.loads(proc.stdout)  # one document: trailing text would not parse
    assert document["command"] == stem.removesuffix("-output").replace("-", " ")
    return valid(document, stem)


def test_every_document_has_its_schema_file():
    assert {f"{stem}.schema.json" for stem in OUTPUT_DOCUMENTS} == {
        p.name for p in SCHEMAS.glob("*-output.schema.json")}


def test_results(tmp_path):
    document = only_json(edgecompress("results", "--store", str(stores.RECORDED), "--json"),
                         "results-output")
    assert len(document["jobs"]) == 24
    assert {job["status"] for job in document["jobs"]} == {"succeeded"}
    bench = next(j for j in document["jobs"] if j["folder"] == "benchmark-e2e576bcda63d1a5")
    assert bench["metrics"]["latency_ms_median"] > 0
    empty = only_json(edgecompress("results", "--store", str(tmp_path), "--json"),
                      "results-output")
    assert empty["jobs"] == []


def test_status_without_an_engine(tmp_path):
    store = stores.copy_store(tmp_path / "store")
    proc = edgecompress("status", "quick", "--store", str(store), "--json", env=NO_ENGINE)
    document = only_json(proc, "status-output", code=1)  # the digits folder is not there
    assert document["complete"] is False and document["profile"] == "x86-tf2.12"
    assert sum(n for counts in document["counts"].values() for n in counts.values()) == len(
        document["jobs"])
    assert {j["state"] for j in document["jobs"] if j["job"] == "train"} == {"waiting"}


def test_campaign_plan(tmp_path):
    document = only_json(edgecompress("campaign", "plan", "paper", "--json", cwd=tmp_path),
                         "campaign-plan-output")
    assert len(document["nodes"]) == 450
    assert document["counts"] == {"train": 30, "benchmark": 240, "quantize": 60, "prune": 90,
                                  "distill": 25, "scratch": 5}
    ids = {node["id"] for node in document["nodes"]}
    assert all(set(node["upstream"]) <= ids for node in document["nodes"])


def test_diff(tmp_path):
    store = stores.copy_store(tmp_path / "b")
    stores.drop_nodes(store, "scratch")
    proc = edgecompress("diff", str(stores.RECORDED), str(store), "--json", "--fail-on",
                        "latency:1.1,unpaired")
    document = only_json(proc, "diff-output", code=1)  # a row of A went unpaired
    assert len(document["pairs"]) == 5 and len(document["unpaired"]) == 1


def test_doctor_without_an_engine():
    document = only_json(edgecompress("doctor", "--json", env=NO_ENGINE), "doctor-output",
                         code=1)
    engine = next(c for c in document["checks"] if c["name"] == "docker engine")
    assert engine["state"] == "fail" and "cannot reach the Docker engine" in engine["detail"]
    assert document["ok"] is False


@pytest.mark.parametrize(("args", "code", "fragment"), [
    ([], 2, "no fleet given"),
    (["--fleet", "tcp://127.0.0.1:9"], 3, "cannot reach the fleet's manager"),
])
def test_fleet_status_errors_are_one_line_and_stdout_stays_empty(args, code, fragment,
                                                                 tmp_path):
    proc = edgecompress("fleet", "status", "--json", *args, cwd=tmp_path,
                        env={"EDGECOMPRESS_FLEET": ""})
    assert_one_line_error(proc, code, fragment)
    assert proc.stdout == ""


def test_fleet_status_document_from_its_rows():
    nodes = [NodeInfo(id="n1", hostname="xavier-1", role="worker", state="ready",
                      availability="active", labels={PROFILE_LABEL: "xavier"},
                      address="10.0.0.3"),
             NodeInfo(id="m", hostname="manager", role="manager", state="ready",
                      availability="active", labels={}, address="10.0.0.2")]
    document = fleet_document("tcp://10.0.0.2:2375", rows(nodes, {"n1": "benchmark 0123"}))
    found = valid(json.loads(dumps(document)), "fleet-status-output")
    assert [(n["hostname"], n["profile"], n["job"]) for n in found["nodes"]] == [
        ("manager", None, None), ("xavier-1", "xavier", "benchmark 0123")]


def test_job_states_are_the_executors():
    assert list(get_args(JobState)) == [state.value for state in State]


def test_store_text_is_escaped_and_parses_back():
    hostile = "oops\x1b[2J\x9b31m\u202egnp.exe\x7f\nnext"
    document = ResultsDocument(store="s", jobs=[StoredJobEntry(
        folder="train-0", job="train", key="0", status="failed", wall_s=None, detail=hostile,
        metrics=None, power=None)])
    text = dumps(document)
    assert all(32 <= ord(c) < 127 or c == "\n" for c in text), "only printable ASCII"
    assert json.loads(text)["jobs"][0]["detail"] == hostile


def test_help_names_each_schema(tmp_path):
    for command, stem in ((["results"], "results-output"), (["status"], "status-output"),
                          (["campaign", "plan"], "campaign-plan-output"),
                          (["diff"], "diff-output"), (["recommend"], "recommend-output"),
                          (["doctor"], "doctor-output"),
                          (["fleet", "status"], "fleet-status-output")):
        shown = edgecompress(*command, "--help", env={"COLUMNS": "300"}, cwd=tmp_path)
        assert f"schema/{stem}.schema.json" in shown.stdout, command


def test_schemas_are_current():
    """The generated files on disk match the models (make lint checks it too)."""
    from launcher.contract.export import generated_files, stale_files
    assert stale_files(SCHEMAS.parent, generated_files()) == []
