"""edgecompress diff (launcher/compare/) on stores made for it from the recorded real one
(tests/stores.py): no change between identical stores, a tight 1.3x latency regression flagged
and the same in wide noise not, an accuracy drop over five copies, rows without a partner
listed, settings that invalidate a comparison named, and the exit codes of --fail-on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from launcher.compare.diff import bucket, compare
from launcher.compare.gate import parse_fail_on
from launcher.compare.sides import Selection, load_side, parse_selection
from launcher.contract.record import PowerMeasurement, RunThermal, ThermalSummary
from launcher.contract.vocabulary import LATENCY_SAMPLES_FILE
from launcher.errors import UserError
from launcher.output.diff import DiffDocument
from tests import stores
from tests.unit.test_cli import assert_one_line_error, edgecompress

TIGHT = [6.40, 6.45, 6.50, 6.42, 6.48]
WIDE_A = [3.0, 9.0, 5.0, 12.0, 4.0]
WIDE_B = [6.5, 4.0, 13.0, 8.0, 5.5]  # the median 1.3x A's, in as much noise
GATE = "latency:1.1,accuracy:0.5"


def diff(a: str, b: str, fail_on: str = GATE) -> DiffDocument:
    return compare(load_side(parse_selection(a)), load_side(parse_selection(b)),
                   parse_fail_on(fail_on))


def pair(document: DiffDocument, method: str):
    (found,) = [p for p in document.pairs if p.method == method]
    return found


@pytest.fixture
def a_store(tmp_path):
    return stores.copy_store(tmp_path / "a")


@pytest.fixture
def b_store(tmp_path):
    return stores.copy_store(tmp_path / "b")


def set_base_runs(store, kept):
    stores.edit_result(store, stores.benchmark_node("base", 1),
                       lambda r: stores.set_runs(r, kept))


def test_identical_stores_show_no_change(a_store):
    document = diff(str(stores.RECORDED), str(a_store))
    assert len(document.pairs) == 6 and document.unpaired == []
    for found in document.pairs:
        assert found.accuracy.difference_pts == 0 and not found.accuracy.significant
        assert found.accuracy.n_a == found.accuracy.n_b == 2
        assert found.latency.ratio == 1 and not found.latency.significant
        assert found.latency.basis == "runs" and found.latency.bucket == "within 1.1x"
        assert found.latency.ci_low < 1 < found.latency.ci_high
        assert found.size.ratio == found.gzip_size.ratio == 1
        assert found.differences == [] and found.gate == []
    assert not document.failed


def test_a_tight_13x_latency_regression_is_flagged(a_store, b_store):
    set_base_runs(a_store, TIGHT)
    set_base_runs(b_store, [v * 1.3 for v in TIGHT])
    document = diff(str(a_store), str(b_store))
    latency = pair(document, "base").latency
    assert latency.ratio == pytest.approx(1.3)
    assert latency.significant and latency.ci_low > 1.2 and latency.basis == "runs"
    assert latency.bucket == "1.2-1.5x slower"
    assert pair(document, "base").gate == ["latency 1.3x > 1.1x"]
    assert document.failed
    assert [p.method for p in document.pairs if p.gate] == ["base"]


def test_the_same_regression_in_wide_noise_is_not(a_store, b_store):
    set_base_runs(a_store, WIDE_A)
    set_base_runs(b_store, WIDE_B)
    document = diff(str(a_store), str(b_store))
    latency = pair(document, "base").latency
    assert latency.ratio == pytest.approx(1.3)
    assert not latency.significant and latency.ci_low < 1 < latency.ci_high
    assert not document.failed


def image_runs(seed: int, scale: float, runs: int = 5, images: int = 400,
               spread: float = 0.05) -> list[list[float]]:
    """Kept runs x images around 6.4 ms x scale, log-normal within a run."""
    rng = np.random.default_rng(seed)
    return (6.4 * scale * rng.lognormal(0.0, spread, size=(runs, images))).tolist()


def test_per_image_latencies_on_both_sides_give_medians_over_images(a_store, b_store):
    base = stores.benchmark_node("base", 1)
    stores.set_images(a_store, base, image_runs(1, 1.0))
    stores.set_images(b_store, base, image_runs(2, 1.3))
    latency = pair(diff(str(a_store), str(b_store)), "base").latency
    assert latency.basis == "images" and latency.significant
    assert latency.ratio == pytest.approx(1.3, rel=0.02)
    assert 1.2 < latency.ci_low < 1.3 < latency.ci_high < 1.4


def test_a_median_over_images_can_differ_from_the_median_of_run_means(a_store, b_store):
    # B's runs have A's mean per image, but 3 images in 5 are 0.7x as fast and the rest 1.45x
    # as slow: the run means see no change, the images' median does.
    base = stores.benchmark_node("base", 1)
    a = image_runs(3, 1.0, spread=0.01)
    b = [[v * (1.45 if i % 5 < 2 else 0.7) for i, v in enumerate(run)] for run in a]
    stores.set_images(a_store, base, a)
    stores.set_images(b_store, base, b)
    latency = pair(diff(str(a_store), str(b_store)), "base").latency
    assert latency.basis == "images" and latency.significant
    assert latency.ratio == pytest.approx(0.7, rel=0.02)
    assert latency.ci_low <= latency.ratio <= latency.ci_high
    means = [sum(run) / len(run) for run in b]
    assert np.median(means) / np.median([sum(run) / len(run) for run in a]) == pytest.approx(
        1.0, abs=0.01)


def test_one_side_without_per_image_latencies_falls_back_to_run_means(a_store, b_store):
    base = stores.benchmark_node("base", 1)
    stores.set_images(b_store, base, image_runs(4, 1.3))
    set_base_runs(a_store, TIGHT)
    document = diff(str(a_store), str(b_store))
    assert pair(document, "base").latency.basis == "runs"
    assert any("over run means, not images" in note for note in document.notes)


def test_a_latency_file_removed_after_filing_falls_back_to_run_means(a_store, b_store):
    base = stores.benchmark_node("base", 1)
    stores.set_images(a_store, base, image_runs(5, 1.0))
    stores.set_images(b_store, base, image_runs(6, 1.3))
    (stores.folder(b_store, base) / "out" / LATENCY_SAMPLES_FILE).unlink()
    latency = pair(diff(str(a_store), str(b_store)), "base").latency
    assert latency.basis == "runs" and latency.ratio == pytest.approx(1.3, rel=0.02)


def test_runs_too_small_to_be_measurements_give_no_latency_not_a_crash(a_store):
    set_base_runs(a_store, [5e-324] * 5)  # valid per the schema; the ratio overflows
    document = diff(str(a_store), str(stores.RECORDED))
    assert pair(document, "base").latency is None
    assert pair(document, "fp16").latency is not None


def test_an_accuracy_drop_over_five_copies(a_store, b_store):
    stores.set_accuracy(a_store, "int8", [0.930, 0.940, 0.935, 0.945, 0.940])
    stores.set_accuracy(b_store, "int8", [0.900, 0.910, 0.905, 0.895, 0.910])
    document = diff(str(a_store), str(b_store))
    accuracy = pair(document, "int8").accuracy
    assert (accuracy.n_a, accuracy.n_b) == (5, 5)
    assert accuracy.difference_pts == pytest.approx(-3.4)
    assert accuracy.significant and accuracy.p < 0.001
    assert accuracy.ci_low_pts < -3.4 < accuracy.ci_high_pts < 0
    assert pair(document, "int8").gate == ["accuracy -3.4 pts, more than 0.5 down"]
    # A limit past the drop passes; the other methods (2 copies, unchanged) never fail.
    assert not diff(str(a_store), str(b_store), "accuracy:5").failed


def test_rows_without_a_partner_are_listed(a_store, b_store):
    stores.drop_nodes(b_store, "scratch")
    stores.drop_nodes(a_store, "distill")
    document = diff(str(a_store), str(b_store))
    assert {p.method for p in document.pairs} == {"base", "fp16", "int8", "prune50"}
    unpaired = {(u.side, u.method): u.reason for u in document.unpaired}
    assert unpaired == {("a", "scratch"): "B has no MobileNetV3Small scratch",
                        ("b", "distill"): "A has no MobileNetV3Small distill"}
    assert not document.failed
    assert diff(str(a_store), str(b_store), "unpaired").failed


def test_another_network_under_the_same_name_does_not_pair(a_store, b_store):
    for store, sha in ((a_store, "a" * 64), (b_store, "b" * 64)):
        for copy in (1, 2):
            stores.set_fingerprint(store, f"train/{stores.MODEL}/copy{copy}", sha)
    document = diff(str(a_store), str(b_store))
    # The base and its compressions are the base's network; distill and scratch their own.
    assert {p.method for p in document.pairs} == {"distill", "scratch"}
    reasons = {(u.side, u.method): u.reason for u in document.unpaired}
    assert reasons[("a", "fp16")] == ("B's MobileNetV3Small fp16 is another network "
                                      "(bbbbbbbbbbbb, not aaaaaaaaaaaa)")
    assert len(reasons) == 8


def test_timing_method_and_threads_mismatches_are_named(a_store, b_store):
    def predict(result):
        result["spec"]["latency_method"] = result["metrics"]["latency_method"] = "predict"

    def one_thread(result):
        result["spec"]["threads"] = result["metrics"]["threads"] = 1

    stores.edit_result(b_store, stores.benchmark_node("base", 1), predict)
    stores.edit_result(b_store, stores.benchmark_node("fp16", 1), one_thread)
    document = diff(str(a_store), str(b_store))
    base, fp16 = pair(document, "base"), pair(document, "fp16")
    assert [(d.setting, d.b, d.invalidates) for d in base.differences] == [
        ("timing method", "predict", True)]
    assert base.differences[0].a == "call, waited once per run (unrecorded)"
    assert [(d.setting, d.a, d.b, d.invalidates) for d in fp16.differences] == [
        ("threads", "default", "1", True)]
    assert "2 pair(s) differ in a setting that invalidates" in " ".join(document.notes)
    assert any("Throttling is not recorded" in note for note in document.notes)


def set_thermal(store, method: str, throttled: bool | None) -> None:
    """Every copy's benchmark record of ``method`` gets a power record with a thermal summary
    of two kept runs: run 1 throttled (pinned clocks), none (pinned), or untold (not pinned)."""
    runs = [RunThermal(run=0, samples=10, max_c=71.0, hottest_zone="GPU", throttled=False),
            RunThermal(run=1, samples=10, max_c=93.5, hottest_zone="GPU",
                       clocks_below_mhz={"GR3D": 675} if throttled else {},
                       throttled=bool(throttled) if throttled is not None else None)]
    summary = ThermalSummary(
        clocks_pinned=throttled is not None, samples=20, max_c=93.5, hottest_zone="GPU",
        runs=runs, throttled_runs=[1] if throttled else [], throttled=throttled,
        throttle_reason="made up")
    power = PowerMeasurement(source="tegrastats --interval 100", interval_ms=100, samples=20,
                             rail="VDD_IN", average_power_mw=6000.0,
                             energy_per_inference_mj=30.0, thermal=summary)
    for copy in (1, 2):
        path = stores.folder(store, stores.benchmark_node(method, copy)) / "status.json"
        record = json.loads(path.read_text())
        record["power"] = power.model_dump(mode="json")
        path.write_text(json.dumps(record, indent=1))


def test_a_throttled_run_is_a_difference_that_invalidates(a_store, b_store):
    for method in ("base", "fp16"):
        set_thermal(a_store, method, throttled=False)
    set_thermal(b_store, "base", throttled=True)
    set_thermal(b_store, "fp16", throttled=False)
    document = diff(str(a_store), str(b_store))
    assert [(d.setting, d.a, d.b, d.invalidates) for d in pair(document, "base").differences] \
        == [("throttled run", "not throttled", "throttled (kept run 1)", True)]
    assert pair(document, "fp16").differences == []
    notes = " ".join(document.notes)
    assert "1 pair(s) differ in a setting that invalidates" in notes
    # The other methods' records hold no thermal summary: for them the old note stands.
    assert "whose throttling is not recorded" in notes


def test_clocks_not_pinned_throttling_cannot_be_told_and_is_noted(a_store, b_store):
    set_thermal(a_store, "base", throttled=None)
    set_thermal(b_store, "base", throttled=False)
    document = diff(str(a_store), str(b_store))
    assert pair(document, "base").differences == []
    assert any(note.startswith("1 pair(s) with a side whose throttling cannot be told")
               for note in document.notes)


def test_two_devices_of_one_store(a_store):
    data = stores.manifest(a_store)
    data["profile"] = "x86-tf2.7"
    stores.write_manifest(a_store, data, "quick@x86-tf2.7.json")
    document = diff(f"{a_store}::@x86-tf2.12", f"{a_store}::quick@x86-tf2.7")
    assert document.a.campaigns == ["quick@x86-tf2.12"]
    assert document.b.campaigns == ["quick@x86-tf2.7"]
    assert [d.setting for d in pair(document, "base").differences] == ["device profile"]
    # The whole store pairs each device with itself first: nothing crosses devices.
    whole = diff(str(a_store), str(a_store))
    assert len(whole.pairs) == 12 and all(p.differences == [] for p in whole.pairs)


@pytest.mark.parametrize(("text", "expected"), [
    ("results", Selection("results", Path("results"))),
    ("results::quick", Selection("results::quick", Path("results"), "quick")),
    ("a/b::quick@nano", Selection("a/b::quick@nano", Path("a/b"), "quick", "nano")),
    ("r::@xavier", Selection("r::@xavier", Path("r"), None, "xavier")),
])
def test_selections(text, expected):
    assert parse_selection(text) == expected


@pytest.mark.parametrize(("text", "fragment"), [
    ("::quick", "give a store's folder"),
    ("r::", "name a campaign, a profile or both"),
    ("r::@", "name a campaign, a profile or both"),
    ("r::../x", "is not a campaign name"),
    ("r::quick@no/pe", "is not a profile name"),
])
def test_bad_selections(text, fragment):
    with pytest.raises(UserError, match=fragment):
        parse_selection(text)


@pytest.mark.parametrize(("ratio", "label"), [
    (1.0, "within 1.1x"), (1.05, "within 1.1x"), (1 / 1.05, "within 1.1x"),
    (1.15, "1.1-1.2x slower"), (1 / 1.3, "1.2-1.5x faster"), (1.7, "1.5-2x slower"),
    (1 / 3, "2-5x faster"), (7.0, "5-10x slower"), (1 / 12, "10x+ faster"),
])
def test_speedup_buckets(ratio, label):
    assert bucket(ratio) == label


@pytest.mark.parametrize(("text", "fragment"), [
    ("latency:0.9", "a ratio above 1"), ("latency", "is not a threshold"),
    ("speed:2", "is not a threshold"), ("accuracy:-1", "0 or more"),
    ("accuracy:x", "is not a number"), ("size:inf", "finite"),
    ("latency:1.1,latency:1.2", "given twice"), (",", "no threshold given"),
])
def test_bad_thresholds(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_fail_on(text)


def test_the_command_line_gates_with_its_exit_code(a_store, b_store):
    set_base_runs(a_store, TIGHT)
    set_base_runs(b_store, [v * 1.3 for v in TIGHT])
    env = {"COLUMNS": "250"}
    shown = edgecompress("diff", str(a_store), str(b_store), env=env)
    assert shown.returncode == 0, shown.stderr  # no --fail-on: a report, not a gate
    assert "1.30x *" in shown.stdout and "1.2-1.5x slower" in shown.stdout
    gated = edgecompress("diff", str(a_store), str(b_store), "--fail-on", GATE, env=env)
    assert gated.returncode == 1, gated.stderr
    assert "FAILED (1 pair(s) cross a threshold)" in gated.stdout
    passed = edgecompress("diff", str(a_store), str(b_store), "--fail-on", "latency:1.5")
    assert passed.returncode == 0 and "passed" in passed.stdout
    markdown = edgecompress("diff", str(a_store), str(b_store), "--markdown")
    assert markdown.stdout.startswith("# edgecompress diff\n")
    assert "| MobileNetV3Small | base |" in markdown.stdout
    as_json = edgecompress("diff", str(a_store), str(b_store), "--json", "--fail-on", GATE)
    assert as_json.returncode == 1 and as_json.stderr == ""
    assert json.loads(as_json.stdout)["failed"] is True


@pytest.mark.parametrize(("args", "fragment"), [
    (["--fail-on", "latency:0.5"], "a latency limit is a ratio above 1"),
    (["--json", "--markdown"], "not allowed with argument"),
])
def test_bad_options_are_one_line(args, fragment, tmp_path):
    proc = edgecompress("diff", str(stores.RECORDED), str(stores.RECORDED), *args)
    assert_one_line_error(proc, 2, fragment)
    assert proc.stdout == ""


@pytest.mark.parametrize(("side", "fragment"), [
    ("nowhere", "no results store at nowhere"),
    (f"{stores.RECORDED}::paper", "no campaign paper@* in"),
    (f"{stores.RECORDED}::@nano", "no campaign *@nano in"),
])
def test_sides_that_name_nothing_are_one_line(side, fragment, tmp_path):
    proc = edgecompress("diff", str(stores.RECORDED), side, "--json", cwd=tmp_path)
    assert_one_line_error(proc, 2, fragment)
    assert proc.stdout == ""


def test_store_text_stays_inert(a_store):
    data = stores.manifest(a_store)
    for node in data["nodes"].values():
        if node["method"] == "int8":
            node["method"] = "int8\x1b]52;c;aGk=\x07|x"
    stores.write_manifest(a_store, data)
    markdown = edgecompress("diff", str(a_store), str(stores.RECORDED), "--markdown")
    table = edgecompress("diff", str(a_store), str(stores.RECORDED), env={"COLUMNS": "300"})
    as_json = edgecompress("diff", str(a_store), str(stores.RECORDED), "--json")
    for proc in (markdown, table, as_json):
        assert proc.returncode == 0, proc.stderr
        assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "int8\\\\x1b\\]52;c;aGk=\\\\x07\\|x" in markdown.stdout  # escaped, no cell break
    methods = {u["method"] for u in json.loads(as_json.stdout)["unpaired"]}
    assert methods == {"int8\x1b]52;c;aGk=\x07|x", "int8"}  # the JSON carries it, escaped


def test_a_model_timed_both_ways_is_one_row_its_call_timed_benchmark(b_store):
    """The paper preset benchmarks copy 1 of a SavedModel twice (call with accuracy, predict
    alone): diff reads the call-timed one as the row, whatever its folder's name, and counts
    each copy's accuracy once."""
    data = stores.manifest(b_store)
    call = stores.benchmark_node("base", 1)
    entry = data["nodes"][call]
    twin = "benchmark-0000000000000000"  # sorts before every recorded folder
    shutil.copytree(b_store / "jobs" / entry["folder"], b_store / "jobs" / twin)
    data["nodes"][call + "/predict"] = {**entry, "folder": twin}
    stores.write_manifest(b_store, data)

    def predict(result):
        result["spec"]["latency_method"] = result["metrics"]["latency_method"] = "predict"
        result["spec"]["accuracy"] = False
        result["metrics"].update(top1_accuracy=None, test_examples=None)
        stores.set_runs(result, [5 * v for v in result["samples"][
            "latency_ms_per_image_all_runs"][result["spec"]["warmup_runs"]:]])

    stores.edit_result(b_store, call + "/predict", predict)
    document = diff(str(stores.RECORDED), str(b_store))
    assert len(document.pairs) == 6 and document.unpaired == []
    base = pair(document, "base")
    assert base.latency.ratio == 1 and base.differences == []
    assert base.accuracy.n_b == 2 and base.accuracy.difference_pts == 0
