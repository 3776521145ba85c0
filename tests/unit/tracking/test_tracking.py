"""The MLflow export's pure parts and its reading of the store, without MLflow: what each run
holds (launcher/tracking/runs.py), what the store hands over (collect.py), what a re-export
does with the runs it finds (sync.py's decide and index), errors as one line. The export
against a real MLflow server is tests/unit/tracking/test_export_mlflow.py."""

from __future__ import annotations

import json
import shutil

import pytest

from launcher.contract.record import JobStatus
from launcher.contract.specs import JOB_SPEC
from launcher.report.render import write_report
from launcher.store import Store
from launcher.tracking import runs
from launcher.tracking.collect import FIGURE_KEYS, collect
from launcher.tracking.mlflow_client import ExistingRun, describe, shown_uri
from launcher.tracking.sync import Action, decide, index
from tests.paths import RECORDED

MANIFEST = json.loads((RECORDED / "campaigns" / "quick@x86-tf2.12.json").read_text())


@pytest.fixture(scope="module")
def collected():
    return collect(RECORDED)


def facts_of(collected, folder):
    return next(job for job in collected.jobs if job.folder == folder)


def test_every_job_folder_of_the_recorded_store_is_collected_with_its_campaign_node(collected):
    assert len(collected.jobs) == 24 and collected.not_run == 0 and collected.refused == []
    by_folder = {n["folder"]: node for node, n in MANIFEST["nodes"].items()}
    for job in collected.jobs:
        (member,) = job.memberships
        assert member.campaign == "quick@x86-tf2.12" and member.node == by_folder[job.folder]
        stored_spec = json.loads((RECORDED / "jobs" / job.folder / "spec.json").read_text())
        assert job.result is not None and job.spec is not None
        # As today's spec model reads it: stores of older launchers spelt some fields
        # otherwise (freeze_backbone became a regime).
        assert job.spec == JOB_SPEC.validate_python(stored_spec).model_dump(mode="json")
        assert job.result_json == (RECORDED / "jobs" / job.folder / "out" / "result.json"
                                   ).read_bytes()
    (campaign,) = collected.campaigns
    assert campaign.stem == "quick@x86-tf2.12" and campaign.figures == {}  # no report stored


def test_a_benchmark_run_holds_the_spec_the_measurements_and_the_job_tags(collected):
    folder = "benchmark-084994c2aa62edbc"
    document = json.loads((RECORDED / "jobs" / folder / "out" / "result.json").read_text())
    status = json.loads((RECORDED / "jobs" / folder / "status.json").read_text())
    plan = runs.job_plan(facts_of(collected, folder))
    assert plan.identity == (runs.KEY, status["key"]) and plan.parent == "quick@x86-tf2.12"
    node = next(n for n, e in MANIFEST["nodes"].items() if e["folder"] == folder)
    assert plan.name == node and plan.status == "FINISHED"
    assert plan.params["images.sha256"] == document["spec"]["images"]["sha256"]
    assert plan.params["latency_runs"] == "2" and plan.params["threads"] == "null"
    metrics = {m.key: m.value for m in plan.metrics if m.step == 0}
    for name in ("top1_accuracy", "latency_ms_mean", "latency_ms_p90", "bytes", "gzip_bytes"):
        assert metrics[name] == document["metrics"][name]
    assert metrics["timings.job_s"] == document["timings"]["job_s"]
    assert metrics["wall_s"] == status["wall_s"]
    assert metrics["resources.peak_rss_bytes"] == document["resources"]["peak_rss_bytes"]
    history = [m.value for m in plan.metrics if m.key == "samples.latency_ms_per_image_all_runs"]
    assert history == document["samples"]["latency_ms_per_image_all_runs"]
    tags = plan.tags
    assert tags[runs.KIND] == "job" and tags[runs.STATUS] == "succeeded"
    assert tags["edgecompress.job"] == "benchmark" and tags["edgecompress.folder"] == folder
    assert tags["edgecompress.profile"] == "x86-tf2.12"
    assert tags["edgecompress.image_id"] == status["image_id"]
    assert tags["edgecompress.device"] == "x86_64 AMD EPYC, TF 2.12.1"
    assert tags["result.backend"] == "tf-cpu" and tags["env.tensorflow"] == "2.12.1"
    assert tags[runs.ATTEMPT] == status["finished_at"]
    assert plan.artifacts == {"result.json": (RECORDED / "jobs" / folder / "out" /
                                              "result.json").read_bytes()}
    assert plan.start_ms == runs.millis(status["started_at"]) < plan.end_ms


def test_a_failed_job_is_a_failed_run_with_its_spec_and_reason(tmp_path):
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)
    folder = store / "jobs" / "prune-2f2c4f1e08819278"
    record = json.loads((folder / "status.json").read_text())
    record.update(status="oom", reason="the job used more memory than its limit\x1b[2J")
    (folder / "status.json").write_text(json.dumps(record))
    canceled = store / "jobs" / "prune-60e6241ad31cb55a"
    record = json.loads((canceled / "status.json").read_text())
    (canceled / "status.json").write_text(json.dumps(record | {"status": "canceled"}))
    collected = collect(store)
    plan = runs.job_plan(facts_of(collected, folder.name))
    assert plan.status == "FAILED" and plan.tags[runs.STATUS] == "oom"
    assert plan.tags["edgecompress.reason"].endswith("limit\\x1b[2J")  # inert
    assert plan.params["target_sparsity"] == "0.5" and plan.artifacts == {}
    assert {m.key for m in plan.metrics} == {"wall_s"}
    assert runs.job_plan(facts_of(collected, canceled.name)).status == "KILLED"
    campaign = runs.campaign_plan(collected.campaigns[0], collected.jobs)
    assert campaign.status == "FAILED"
    assert campaign.tags["edgecompress.jobs_by_status"] == "succeeded 22, oom 1, canceled 1"
    assert campaign.tags["edgecompress.jobs"] == "24"


def test_folders_that_lie_about_their_key_or_never_finished_are_not_runs(tmp_path):
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)
    liar = store / "jobs" / "train-8dc00ef0f4dee621"
    record = json.loads((liar / "status.json").read_text())
    (liar / "status.json").write_text(json.dumps(record | {"key": "f" * 64}))
    (store / "jobs" / "scratch-93815d6638d4fd78" / "status.json").unlink()
    collected = collect(store)
    assert collected.refused == [(liar.name, "status.json names another job's key")]
    assert collected.not_run == 1 and len(collected.jobs) == 22


def test_a_manifest_under_a_name_of_its_own_is_no_campaign_run(tmp_path):
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)
    manifest = store / "campaigns" / "quick@x86-tf2.12.json"
    manifest.rename(manifest.with_name("quick\x1b[2J.json"))
    collected = collect(store)
    assert collected.campaigns == [] and len(collected.jobs) == 24
    assert collected.refused == [("quick\\x1b[2J.json", "a campaign manifest under another "
                                  "name than its name@profile")]
    assert all(job.memberships == () for job in collected.jobs)
    plan = runs.job_plan(collected.jobs[0])
    assert plan.parent is None and plan.name == collected.jobs[0].folder
    assert runs.CAMPAIGN not in plan.tags and plan.tags["edgecompress.profile"] == "x86-tf2.12"


def test_the_campaign_run_gets_the_reports_figures_and_only_real_pngs(tmp_path):
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)
    written = write_report(Store(store), store / "report")
    figures = store / "report" / "figures"
    (figures / "fig2-accuracy-other-device.png").write_bytes(b"\x89PNG\r\n\x1a\nother")
    (figures / "notes.png").write_bytes(b"not a png")
    # Every figure the report writes is one FIGURE_KEYS names (a new kind of figure that is
    # not named there would be left out of the export).
    assert sorted(collect(store).campaigns[0].figures) == sorted(
        p.name for p in written.figures)
    linked = written.figures[0]
    linked.rename(tmp_path / "elsewhere.png")
    linked.symlink_to(tmp_path / "elsewhere.png")  # a link is not followed
    (campaign,) = collect(store).campaigns
    assert sorted(campaign.figures) == sorted(p.name for p in written.figures[1:])
    assert all(name.split("-x86-tf2-12-")[0] in FIGURE_KEYS for name in campaign.figures)
    plan = runs.campaign_plan(campaign, collect(store).jobs)
    assert sorted(plan.artifacts) == sorted(f"report/figures/{p.name}"
                                            for p in written.figures[1:])
    assert plan.params["copies"] == "2" and plan.params["distill.temperature"] == "10.0"
    assert plan.tags[runs.KIND] == "campaign" and plan.identity == (runs.CAMPAIGN,
                                                                    "quick@x86-tf2.12")


def test_store_text_becomes_safe_mlflow_keys_and_values():
    assert runs.key("samples.val acc/epoch") == "samples.val acc/epoch"
    assert runs.key("a\x1b[31m..b|c" + "x" * 300) == ("a__31m__b_c" + "x" * 300)[:250]
    assert runs.key("loss//val/./x/") == "loss__val_._x" and runs.key("/../") == "__"
    assert runs.key("\x00") == "_"
    assert runs.text("a\nb\x07", 100) == "a b\\x07"
    assert runs.text("x" * 600, 500) == "x" * 499 + "…"
    assert runs.number(1e300) is None and runs.number(True) == 1.0 and runs.number("8") is None
    assert runs.millis("2026-11-28T14:09:57.587+00:00") == 1795874997587
    assert runs.millis("2026-11-28T14:09:57Z") == 1795874997000 and runs.millis("soon") is None
    assert runs.profile_of_image("registry:5000/edgecompress/jobs:jp46-tf2.7-py36") == "nano"
    assert runs.profile_of_image("registry:5000/other") is None


def test_samples_are_capped_and_out_of_range_values_left_out():
    samples = {"a": [1.0, 1e300, 3.0], "b": [float(i) for i in range(runs.MAX_SAMPLE_POINTS)]}
    found = runs.sample_metrics(samples)
    assert [(m.key, m.value, m.step) for m in found[:2]] == [("samples.a", 1.0, 0),
                                                            ("samples.a", 3.0, 2)]
    assert len(found) == runs.MAX_SAMPLE_POINTS and found[-1].key == "samples.b"


def test_batches_keep_within_log_batchs_limits(collected):
    plan = runs.job_plan(facts_of(collected, "benchmark-084994c2aa62edbc"))
    plan = runs.RunPlan(**{**plan.__dict__, "params": {f"p{i}": "v" for i in range(150)},
                           "metrics": tuple(runs.Metric("m", 1.0, i) for i in range(2500))})
    tags = {f"t{i}": "v" for i in range(30)}
    pieces = list(runs.batches(plan, tags))
    for params, metrics, piece in pieces:
        assert len(params) + len(piece) <= 100 and len(params) + len(piece) + len(metrics) <= 1000
    assert sum(len(p) for p, _, _ in pieces) == 150 and sum(len(t) for _, _, t in pieces) == 30
    assert [m.step for _, ms, _ in pieces for m in ms] == list(range(2500))


def existing(tags, run_id="r1"):
    return ExistingRun(run_id, "FINISHED", 1, tags)


def test_a_re_export_creates_replaces_keeps_or_updates(collected):
    plan = runs.job_plan(facts_of(collected, "benchmark-084994c2aa62edbc"))
    same = {**plan.tags, runs.EXPORT: runs.COMPLETE}
    assert decide(None, plan) is Action.create
    assert decide(existing({**plan.tags}), plan) is Action.replace  # half-made
    assert decide(existing(same), plan) is Action.update
    other_success = {**same, runs.ATTEMPT: "2020-01-01T00:00:00+00:00"}
    assert decide(existing(other_success), plan) is Action.keep
    earlier_failure = {**other_success, runs.STATUS: JobStatus.failed.value}
    assert decide(existing(earlier_failure), plan) is Action.replace


def test_index_prefers_the_complete_run_and_lists_half_made_twins():
    key = {runs.KEY: "k"}
    done = existing({**key, runs.EXPORT: runs.COMPLETE}, "done")
    chosen, extra = index([existing(key, "half1"), done, existing(key, "half2"),
                           existing({}, "foreign")], runs.KEY)
    assert chosen == {"k": done} and extra == ["half1", "half2"]
    chosen, extra = index([existing(key, "half1"), existing(key, "half2")], runs.KEY)
    assert chosen["k"].run_id == "half1" and extra == ["half2"]


def test_tracker_errors_as_one_line():
    refused = ConnectionError("API request to http://h/api failed with exception "
                              "HTTPConnectionPool(host='h', port=1): Max retries exceeded "
                              "(Caused by NewConnectionError(\"...: [Errno 111] Connection "
                              "refused\"))")
    assert describe(refused) == (False, "Connection refused")

    class RestException(Exception):
        error_code = "PERMISSION_DENIED"

    assert describe(RestException("PERMISSION_DENIED: no\nwrite")) == (
        True, "PERMISSION_DENIED: no write")
    assert shown_uri("https://me:secret@mlflow.example/x") == "https://me:***@mlflow.example/x"
    assert shown_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
