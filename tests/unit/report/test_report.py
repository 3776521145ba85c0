"""The report's tables from real result documents: a recorded quick campaign (two copies,
every method) in tests/data/campaign-quick-2copies. Expected numbers are read straight from
the result.json files, not from the code under test."""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import os
import re
import shutil
import statistics

import pytest
from PIL import Image

from launcher.contract.results import BenchmarkResult
from launcher.errors import UserError
from launcher.report.beside import OWN_TIME, paper_table
from launcher.report.cells import build_cells
from launcher.report.figures import TRADEOFF_CAPTION
from launcher.report.paper import METRICS, PAPER_FAMILY_RANK, PAPER_VALUES, S_GPU, S_TFLITE_CPU
from launcher.report.ranking import average_ranks, ranking_tables
from launcher.report.recommend import DEFAULT_GOAL
from launcher.report.render import render_csvs, write_report
from launcher.report.results import load
from launcher.report.tables import (
    accuracy_table,
    compression_table,
    device_reports,
    latency_table,
    pruning_size_table,
    recommendation_table,
    size_table,
    tradeoff_table,
)
from launcher.store import Store
from tests.paths import RECORDED, ROOT

# The paper's text is not in the repository: it lives in shared/paper/ beside the clone (CI
# has a copy of shared/ there too).
PAPER_TEXT = (ROOT.parent / "shared" / "paper"
              / "compression-on-edge-devices.md")


def documents() -> dict[str, dict]:
    """node id -> result document, through the manifest (plain JSON, no launcher code)."""
    manifest = json.loads((RECORDED / "campaigns" / "quick@x86-tf2.12.json").read_text())
    return {node: json.loads((RECORDED / "jobs" / entry["folder"] / "out" / "result.json")
                             .read_text()) for node, entry in manifest["nodes"].items()}


@pytest.fixture(scope="module")
def loaded():
    return load(Store(RECORDED))


@pytest.fixture(scope="module")
def cells(loaded):
    (device_cells,) = build_cells(loaded.measured).values()
    return device_cells


def row_of(table, model, method):
    (row,) = [r for r in table.rows if r[0] == model and r[1] == method]
    return dict(zip([c.name for c in table.columns], row, strict=True))


def test_loads_every_result_once_on_one_device(loaded):
    assert len(loaded.measured) == 24 and loaded.missing == 0
    assert loaded.campaigns == ["quick@x86-tf2.12"]
    (device,) = {m.device for m in loaded.measured}
    assert device.profile == "x86-tf2.12" and "TF 2.12.1" in device.label


@pytest.mark.parametrize("method", ["base", "fp16", "int8", "prune50", "distill", "scratch"])
def test_accuracy_is_mean_and_std_over_copies(cells, method):
    docs = documents()
    subject = "train" if method == "base" else method
    top1 = [docs[f"benchmark/{subject}/MobileNetV3Small/copy{c}"]["metrics"]["top1_accuracy"]
            for c in (1, 2)]
    row = row_of(accuracy_table(cells), "MobileNetV3Small", method)
    assert row["copies"] == 2
    assert row["mean %"] == pytest.approx(100 * statistics.mean(top1))
    assert row["std %"] == pytest.approx(100 * statistics.stdev(top1))
    base = [docs[f"benchmark/train/MobileNetV3Small/copy{c}"]["metrics"]["top1_accuracy"]
            for c in (1, 2)]
    if method != "base":
        assert row["drop vs base (points)"] == pytest.approx(
            100 * (statistics.mean(base) - statistics.mean(top1)))


def test_latency_is_copy_ones_distribution(cells):
    docs = documents()
    for method, subject in (("base", "train"), ("int8", "int8"), ("prune50", "prune50")):
        metrics = docs[f"benchmark/{subject}/MobileNetV3Small/copy1"]["metrics"]
        row = row_of(latency_table(cells), "MobileNetV3Small", method)
        for name in ("mean", "median", "p90", "std", "min", "max"):
            assert row[name] == metrics[f"latency_ms_{name}"]
        assert row["backend"] == metrics["backend"]
    base = docs["benchmark/train/MobileNetV3Small/copy1"]["metrics"]["latency_ms_mean"]
    fp16 = docs["benchmark/fp16/MobileNetV3Small/copy1"]["metrics"]["latency_ms_mean"]
    assert row_of(latency_table(cells), "MobileNetV3Small", "fp16")[
        "speed-up vs base %"] == pytest.approx(100 * (base - fp16) / base)


def test_sizes_in_every_format(cells):
    docs = documents()
    table = size_table(cells)
    for method, subject, fmt in (("base", "train", "saved_model"), ("fp16", "fp16", "tflite"),
                                 ("int8", "int8", "tflite"),
                                 ("prune50", "prune50", "saved_model")):
        metrics = docs[f"benchmark/{subject}/MobileNetV3Small/copy1"]["metrics"]
        row = row_of(table, "MobileNetV3Small", method)
        assert (row["format"], row["bytes"]) == (fmt, metrics["bytes"])
        assert row["gzip MB"] == pytest.approx(metrics["gzip_bytes"] / 1e6)
    base = docs["benchmark/train/MobileNetV3Small/copy1"]["metrics"]
    pruned = docs["benchmark/prune50/MobileNetV3Small/copy1"]["metrics"]
    row = row_of(table, "MobileNetV3Small", "prune50")
    assert row["gzip reduction vs base x"] == pytest.approx(
        base["gzip_bytes"] / pruned["gzip_bytes"])
    assert row["nonzero weights %"] == pytest.approx(
        100 * pruned["nonzero_parameters"] / pruned["parameters"])


def test_compression_time_over_timed_runs(cells):
    docs = documents()
    field = {"fp16": "conversion_s", "int8": "conversion_s", "prune50": "prune_s",
             "distill": "distill_s"}
    table = compression_table(cells)
    assert {r[1] for r in table.rows} == set(field)
    for method, name in field.items():
        seconds = [docs[f"{method}/MobileNetV3Small/copy{c}"]["metrics"][name] for c in (1, 2)]
        row = row_of(table, "MobileNetV3Small", method)
        assert row["runs"] == 2
        assert row["compression mean"] == pytest.approx(statistics.mean(seconds))
        assert row["std"] == pytest.approx(statistics.stdev(seconds))
        # Recorded before load and save were timed apart: no total, said so.
        assert row["total mean"] == "n/a" and row["load mean"] is None


def test_ranking_uses_the_papers_criteria(cells):
    methods, families = ranking_tables(cells)
    assert [r[0] for r in methods.rows] == [1, 2, 3, 4]
    assert {r[1] for r in methods.rows} == {"fp16", "int8", "prune50", "distill"}
    assert {r[1] for r in families.rows} == set(PAPER_FAMILY_RANK)
    for row in families.rows:
        assert row[2] == PAPER_FAMILY_RANK[row[1]]
    # Everything the ranking weighs is in the row: check one criterion against the cells.
    (fp16,) = [dict(zip([c.name for c in methods.columns], r, strict=True))
               for r in methods.rows if r[1] == "fp16"]
    size = row_of(size_table(cells), "MobileNetV3Small", "fp16")["reduction vs base x"]
    assert fp16[METRICS["size_reduction_x"]] == pytest.approx(size)
    # Every latency the speed-up criterion compares is named; these results have no totals,
    # so the time criterion is the compression alone, and the note says so.
    assert fp16["latency backend"] == "tflite-cpu vs base tf-cpu"
    assert METRICS["compression_proper_s"] in fp16 and METRICS["compression_s"] not in fp16
    assert "the compression alone" in methods.note


def test_average_ranks_share_ties():
    assert average_ranks({"a": 1.0, "b": 1.0, "c": 3.0}, higher_is_better=False) == {
        "a": 1.5, "b": 1.5, "c": 3.0}
    assert average_ranks({"a": 1.0, "b": 2.0}, higher_is_better=True) == {"a": 2.0, "b": 1.0}


def test_paper_figures_beside_ours_with_ratio(loaded, cells):
    (device,) = {m.device for m in loaded.measured}
    table = paper_table(device, cells)
    assert table.rows
    for row in table.rows:
        values = dict(zip([c.name for c in table.columns], row, strict=True))
        # x86-tf2.12 stands for the Xavier NX: no Nano-only figure may appear.
        assert values["paper's device"] != "Jetson Nano"
        if values["metric"] in (METRICS["latency_ms"], METRICS["latency_speedup_pct"],
                                METRICS["compression_s"]):
            # An x86 twin: its base runs on tf-cpu, the paper's on the Jetson's GPU.
            assert values["ours / paper"] is None and "no ratio" in values["compared"]
            assert "tf-gpu" in values["backend: paper / ours"]
            assert "tf-cpu" in values["backend: paper / ours"]
        else:
            assert values["ours / paper"] == pytest.approx(values["ours"] / values["paper"])
    int8 = [r for r in table.rows if r[2] == "int8" and r[3] == METRICS["size_reduction_x"]
            and r[1] == "MobileNetV3Small"]
    assert int8 and int8[0][5] == 5.77
    # This store has no load/save times: the paper's compression time is shown, ours is n/a.
    docs = documents()
    (time,) = [dict(zip([c.name for c in table.columns], r, strict=True)) for r in table.rows
               if r[3] == METRICS["compression_s"] and r[2] == "fp16"]
    if "compression_total_s" not in docs["fp16/MobileNetV3Small/copy1"]["metrics"]:
        assert time["ours"] == "n/a" and "n/a" in time["compared"]


def test_paper_values_quote_the_paper():
    if not PAPER_TEXT.exists():
        missing = f"the paper's text is not at {PAPER_TEXT} (shared/paper/ beside the clone)"
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: CI must check the quoted values against it")
        pytest.skip(missing)
    text = re.sub(r"\s+", " ", PAPER_TEXT.read_text())
    for value in PAPER_VALUES:
        assert value.metric in METRICS
        # Every source, Table 2 included: its entries are the table's rows.
        assert value.sentence in text, value.sentence
        assert f"{value.value:g}".lstrip("-") in value.sentence.replace("MB", ""), value
    for sentence in (S_GPU, S_TFLITE_CPU):
        assert sentence in text


def test_ambiguous_readings_are_flagged_where_used(loaded, cells):
    def flagged(metric, method, model, device=None):
        found = [v for v in PAPER_VALUES if (v.metric, v.method, v.model) == (
            metric, method, model) and (device is None or v.device == device)]
        assert found, (metric, method, model)
        return all(v.ambiguity for v in found)

    # Mob-L's "29.16% accuracy": both readings listed, both flagged.
    assert flagged("accuracy_drop_pts", "int8", "MobileNetV3Large")
    assert flagged("accuracy_pct", "int8", "MobileNetV3Large")
    # The 113.9 ms assigned to the Nano; D169's two speed-ups assigned by sentence order.
    assert flagged("latency_ms", "base", "EfficientNetB3", "nano")
    assert flagged("latency_speedup_pct", "distill", "DenseNet169", "nano")
    assert flagged("latency_speedup_pct", "distill", "DenseNet169", "xavier")
    assert not flagged("latency_ms", "base", "EfficientNetB3", "xavier")
    # ... and the report prints the flag in the row that uses the value.
    (device,) = {m.device for m in loaded.measured}
    table = paper_table(device, cells)
    (gzip,) = [dict(zip([c.name for c in table.columns], r, strict=True)) for r in table.rows
               if r[2] == "prune50" and r[3] == METRICS["gzip_size_reduction_x"]]
    assert gzip["reading"].startswith("ambiguous: ")


def test_pruning_size_table_both_ways_and_sparsity(cells):
    docs = documents()
    (row,) = [dict(zip([c.name for c in t.columns], r, strict=True))
              for t in [pruning_size_table(cells)] for r in t.rows]
    base = docs["benchmark/train/MobileNetV3Small/copy1"]["metrics"]
    pruned = docs["benchmark/prune50/MobileNetV3Small/copy1"]["metrics"]
    runs = [docs[f"prune50/MobileNetV3Small/copy{c}"]["metrics"] for c in (1, 2)]
    assert row["gzip / gzip x"] == pytest.approx(base["gzip_bytes"] / pruned["gzip_bytes"])
    assert row["SavedModel / gzip x"] == pytest.approx(base["bytes"] / pruned["gzip_bytes"])
    assert row["SavedModel / SavedModel x"] == pytest.approx(base["bytes"] / pruned["bytes"])
    assert row["achieved sparsity, pruned layers %"] == pytest.approx(
        100 * statistics.mean(r["achieved_sparsity"] for r in runs))
    assert row["sparsity, whole model %"] == pytest.approx(
        100 * statistics.mean(r["overall_sparsity"] for r in runs))


def test_devices_are_grouped_apart(tmp_path):
    """A second device's results (same jobs, another environment) form their own section."""
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)
    manifest = json.loads((store / "campaigns" / "quick@x86-tf2.12.json").read_text())
    for entry in manifest["nodes"].values():
        twin = entry["folder"][:-4] + "beef"
        shutil.copytree(store / "jobs" / entry["folder"], store / "jobs" / twin)
        result_path = store / "jobs" / twin / "out" / "result.json"
        result = json.loads(result_path.read_text())
        result["environment"].update(board="NVIDIA Jetson Xavier NX Developer Kit",
                                     tensorflow="2.12.0")
        result_path.write_text(json.dumps(result))
        entry["folder"] = twin
    manifest["profile"] = "xavier"
    (store / "campaigns" / "quick@xavier.json").write_text(json.dumps(manifest))
    reports = device_reports(load(Store(store)).measured)
    assert [r.device.profile for r in reports] == ["x86-tf2.12", "xavier"]
    assert "Jetson Xavier NX" in reports[1].device.label
    assert len(render_csvs(reports)["accuracy"].splitlines()) == 1 + 2 * 6


def test_energy_table_only_where_power_was_sampled(tmp_path, loaded):
    assert all(t.key != "energy" for t in device_reports(loaded.measured)[0].tables)
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)
    manifest = json.loads((store / "campaigns" / "quick@x86-tf2.12.json").read_text())
    powered = {}
    for node, entry in manifest["nodes"].items():
        if node.startswith("benchmark/") and node.endswith("/copy1"):
            status_path = store / "jobs" / entry["folder"] / "status.json"
            status = json.loads(status_path.read_text())
            milliwatts = 5000.0 + 100 * len(powered)
            status["power"] = {"source": "tegrastats --interval 100", "interval_ms": 100,
                               "samples": 40, "rail": "POM_5V_IN", "timed_s": 4.0,
                               "average_power_mw": milliwatts,
                               "energy_per_inference_mj": milliwatts * 0.004,
                               "idle_samples": 5, "idle_power_mw": 1000.0,
                               "energy_above_idle_per_inference_mj":
                                   (milliwatts - 1000) * 0.004}
            status_path.write_text(json.dumps(status))
            powered[entry["method"]] = milliwatts
    (report,) = device_reports(load(Store(store)).measured)
    (energy,) = [t for t in report.tables if t.key == "energy"]
    assert len(energy.rows) == len(powered)
    for method, milliwatts in powered.items():
        row = row_of(energy, "MobileNetV3Small", method)
        assert row["average W"] == pytest.approx(milliwatts / 1000)
        assert row["mJ per inference"] == pytest.approx(milliwatts * 0.004)
        assert row["idle W"] == pytest.approx(1.0)
        assert row["mJ above idle"] == pytest.approx((milliwatts - 1000) * 0.004)
        assert row["rail"] == "POM_5V_IN" and row["samples"] == 40
        assert row["throttled"] == "" and row["max C"] is None  # recorded before thermal


def test_the_report_flags_a_throttled_run(tmp_path):
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)
    manifest = json.loads((store / "campaigns" / "quick@x86-tf2.12.json").read_text())
    verdicts = {"base": (True, [2]), "fp16": (False, []), "int8": (None, [])}
    for node, entry in manifest["nodes"].items():
        method = entry.get("method")
        if node.startswith("benchmark/") and node.endswith("/copy1") and method in verdicts:
            throttled, runs = verdicts[method]
            status_path = store / "jobs" / entry["folder"] / "status.json"
            status = json.loads(status_path.read_text())
            status["power"] = {
                "source": "tegrastats --interval 100", "interval_ms": 100, "samples": 40,
                "rail": "VDD_IN", "timed_s": 4.0, "average_power_mw": 6000.0,
                "energy_per_inference_mj": 24.0, "energy_per_query_window_mj": 26.0,
                "thermal": {"clocks_pinned": throttled is not None, "samples": 40,
                            "max_c": 88.5, "hottest_zone": "GPU", "throttled": throttled,
                            "throttled_runs": runs, "throttle_reason": "made up"}}
            status_path.write_text(json.dumps(status))
    (report,) = device_reports(load(Store(store)).measured)
    (energy,) = [t for t in report.tables if t.key == "energy"]
    # (The per-image latency table flags it too: tests/unit/report/test_latency_stats.py; this
    # store's results predate per-image latencies.)
    flags = {"base": "yes: kept run 2", "fp16": "no", "int8": "cannot tell"}
    for method, flag in flags.items():
        assert row_of(energy, "MobileNetV3Small", method)["throttled"] == flag
    base = row_of(energy, "MobileNetV3Small", "base")
    assert base["max C"] == 88.5 and base["mJ per query (windows)"] == 26.0
    assert base["interval ms"] == 100


def test_written_report(tmp_path):
    written = write_report(Store(RECORDED), tmp_path / "report")
    assert written.devices == 1 and written.results == 24
    assert len(written.figures) == 6  # Figures 2-5 (4 twice: as stored, gzip), the trade-off
    for path in written.figures:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size[0] > 100 and image.size[1] > 100
            assert image.convert("L").getextrema()[0] < 128, "something is drawn"
    markdown = written.markdown.read_text()
    page = written.html.read_text()
    for table in device_reports(load(Store(RECORDED)).measured)[0].tables:
        assert f"### {table.title}" in markdown
    assert page.count("data:image/png;base64,") == 6 and "figures/" not in page
    assert any(p.name.startswith("tradeoff-") for p in written.figures)
    assert TRADEOFF_CAPTION in markdown and html.escape(TRADEOFF_CAPTION) in page
    assert "Which compression for this device" in markdown
    with open(tmp_path / "report" / "csv" / "accuracy.csv") as handle:
        rows = {(r["model"], r["method"]): r for r in csv.DictReader(handle)}
    docs = documents()
    top1 = [docs[f"benchmark/int8/MobileNetV3Small/copy{c}"]["metrics"]["top1_accuracy"]
            for c in (1, 2)]
    assert float(rows[("MobileNetV3Small", "int8")]["mean %"]) == pytest.approx(
        100 * statistics.mean(top1))
    # The Markdown shows the same number, rounded.
    assert f"{100 * statistics.mean(top1):.2f}" in markdown


def test_report_of_an_unknown_campaign_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no campaign named nope"):
        write_report(Store(RECORDED), tmp_path / "report", ["nope"])
    assert load(Store(RECORDED), ["quick@x86-tf2.12"]).campaigns == ["quick@x86-tf2.12"]


def timed_both_ways(measured, predict_x: float = 5.0, predict_first: bool = True):
    """The recorded campaign as the paper preset plans it: copy 1 of each SavedModel
    benchmarked twice, by call (with accuracy) and by predict (latency alone, ``predict_x``
    times as long), each its own job folder; a .tflite by call alone."""
    found, extra = [], []
    for item in measured:
        if not isinstance(item.result, BenchmarkResult):
            found.append(item)
            continue
        metrics, spec = item.result.metrics, item.result.spec
        call = dataclasses.replace(item, result=item.result.model_copy(update={
            "metrics": metrics.model_copy(update={"latency_method": "call"}),
            "spec": spec.model_copy(update={"latency_method": "call"})}))
        found.append(call)
        if item.copy == 1 and metrics.format != "tflite":
            extra.append(dataclasses.replace(
                item, node=item.node + "/predict", folder=item.folder + "-predict",
                result=item.result.model_copy(update={
                    "metrics": metrics.model_copy(update={
                        "latency_method": "predict", "top1_accuracy": None,
                        "test_examples": None,
                        "latency_ms_mean": predict_x * metrics.latency_ms_mean}),
                    "spec": spec.model_copy(update={"latency_method": "predict",
                                                    "accuracy": False})})))
    return extra + found if predict_first else found + extra


@pytest.mark.parametrize("predict_first", [True, False])
def test_a_model_timed_both_ways_is_read_once_its_call_time_as_its_own(loaded, cells,
                                                                       predict_first):
    docs = documents()
    both = timed_both_ways(loaded.measured, predict_first=predict_first)
    saved_models = {m.method for m in loaded.measured if m.copy == 1
                    and isinstance(m.result, BenchmarkResult) and m.result.metrics.format
                    != "tflite"}
    assert saved_models >= {"base", "prune50", "distill"} and not saved_models & {"fp16",
                                                                                  "int8"}
    assert len(both) == len(loaded.measured) + len(saved_models)
    (timed,) = build_cells(both).values()
    base_call = docs["benchmark/train/MobileNetV3Small/copy1"]["metrics"]["latency_ms_mean"]
    base = timed[("MobileNetV3Small", "base")]
    assert base.first.latency_method == "call" and base.first.latency_ms_mean == base_call
    assert set(base.timed) == {"call", "predict"}
    assert base.timed["predict"].latency_ms_mean == pytest.approx(5 * base_call)
    assert set(timed[("MobileNetV3Small", "int8")].timed) == {"call"}
    # Nothing counted twice: each copy's accuracy once; the accuracy, size, trade-off and
    # ranking tables and the recommendation read what a call-timed campaign alone gives.
    assert {k: c.accuracy for k, c in timed.items()} == {k: c.accuracy for k, c in cells.items()}
    (alone,) = build_cells(m for m in both if not m.node.endswith("/predict")).values()
    for table in (accuracy_table, size_table, tradeoff_table, recommendation_table):
        made = (table(timed, DEFAULT_GOAL) if table is recommendation_table else table(timed))
        again = (table(alone, DEFAULT_GOAL) if table is recommendation_table
                 else table(alone))
        assert made.rows == again.rows, made.key
    assert [t.rows for t in ranking_tables(timed)] == [t.rows for t in ranking_tables(alone)]
    # The latency table: a row per timing, the call row the model's own time.
    latency = [dict(zip([c.name for c in latency_table(timed).columns], r, strict=True))
               for r in latency_table(timed).rows]
    base_rows = {r["timing"]: r for r in latency if r["method"] == "base"}
    assert set(base_rows) == {"call: the model's own time", "predict: Keras predict()"}
    assert base_rows["call: the model's own time"]["mean"] == base_call
    assert len(latency) == len(cells) + len(saved_models)


def test_beside_the_paper_ours_is_predict_timed_and_call_is_the_models_own_time(loaded):
    (device,) = {m.device for m in loaded.measured}
    (timed,) = build_cells(timed_both_ways(loaded.measured)).values()
    table = paper_table(device, timed)
    names = [c.name for c in table.columns]
    latency = [dict(zip(names, r, strict=True)) for r in table.rows
               if r[3] in (METRICS["latency_ms"], METRICS["latency_speedup_pct"])]
    base = [r for r in latency if r["method"] == "base" and r["model"] == "MobileNetV3Small"]
    assert base
    call = timed[("MobileNetV3Small", "base")].timed["call"].latency_ms_mean
    for row in base:
        assert row["ours"] == pytest.approx(5 * call)  # predict-timed beside the paper's
        assert row[OWN_TIME] == pytest.approx(call)  # the model's own time, apart
        assert row["ours / paper"] is None  # an x86 twin: no ratio to a Jetson's figure
    # The recorded results, timing unrecorded: never in "ours" beside a paper latency.
    for row in (dict(zip(names, r, strict=True)) for r in paper_table(device, build_cells(
            loaded.measured)[device]).rows):
        if row["metric"] in (METRICS["latency_ms"], METRICS["latency_speedup_pct"]):
            assert row["ours"] == "n/a" and row["ours / paper"] is None
