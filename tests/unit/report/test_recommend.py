"""The recommendation against an accuracy budget (launcher/report/recommend.py) on synthetic
cells, and ``edgecompress recommend`` on a recorded store: its table, its JSON against the
exported schema, its one-line errors."""

from __future__ import annotations

import math
import statistics

import pytest

from launcher.compare.stats import t_quantile
from launcher.contract.record import PowerMeasurement
from launcher.contract.results import BenchmarkMetrics
from launcher.errors import UserError
from launcher.report.cells import Cell, Cells
from launcher.report.recommend import (
    DEFAULT_GOAL,
    judged_drop,
    recommend,
    recommend_model,
    report_goal,
    with_overrides,
)
from launcher.study.campaign import GoalConfig, parse_config
from tests import stores
from tests.unit.output.test_output_json import only_json
from tests.unit.test_cli import assert_one_line_error, edgecompress

MODEL = "MobileNetV3Small"
METRICS = BenchmarkMetrics(
    format="tflite", backend="tflite-cpu", threads=4, threads_source="container_cpus",
    tf_intra_op_threads=4, tf_inter_op_threads=1, xnnpack=True, input_dtype="float32",
    latency_images=1000, latency_runs_kept=10, latency_ms_mean=5.0, latency_ms_median=5.0,
    latency_ms_p90=6.0, latency_ms_std=0.1, latency_ms_min=4.0, latency_ms_max=7.0,
    latency_samples_format="float32-le", cold_load_s=0.01, cold_allocate_s=0.02,
    cold_first_inference_ms=30.0, warmup_ms_mean=6.0, bytes=10_000_000, gzip_bytes=9_000_000)


def cell(method: str, accuracy: list[float], latency: float, gzip: int,
         energy: float | None = None, model: str = MODEL) -> Cell:
    """Copies 1..N with these top-1 fractions; latency, gzip size and energy on copy 1."""
    power = {} if energy is None else {1: PowerMeasurement(
        source="tegrastats", interval_ms=100, samples=50, energy_per_inference_mj=energy)}
    return Cell(model, method, accuracy=dict(enumerate(accuracy, 1)),
                benchmarks={1: METRICS.model_copy(update={"latency_ms_mean": latency,
                                                           "gzip_bytes": gzip})},
                power=power)


def cells(*made: Cell) -> Cells:
    return {(c.model, c.method): c for c in made}


# Three copies. Drops in points: fp16 0, int8 0.5 (tight), prune50 0.5 on average but spread
# over copies, prune50+int8 2.
STUDY = cells(
    cell("base", [0.90, 0.92, 0.94], latency=10.0, gzip=9_000_000, energy=50.0),
    cell("fp16", [0.90, 0.92, 0.94], latency=6.0, gzip=4_500_000, energy=30.0),
    cell("int8", [0.895, 0.915, 0.935], latency=4.0, gzip=2_500_000, energy=25.0),
    cell("prune50", [0.92, 0.88, 0.945], latency=9.0, gzip=5_000_000, energy=20.0),
    cell("prune50+int8", [0.88, 0.90, 0.92], latency=3.5, gzip=1_200_000, energy=22.0),
    cell("scratch", [0.99, 0.99, 0.99], latency=1.0, gzip=1, energy=1.0))


def goal(drop: float = 1.0, minimize: str = "latency") -> GoalConfig:
    return GoalConfig.model_validate({"max_accuracy_drop": drop, "minimize": minimize})


def test_the_fastest_method_within_the_budget_wins():
    (found,) = recommend(STUDY, goal(1.0))
    assert found.model == MODEL and found.method == "int8"  # prune50+int8 is faster, 2 pts off
    assert found.closest is None and found.base_objective == 10.0
    assert [c.method for c in found.candidates] == ["fp16", "int8", "prune50", "prune50+int8"]
    assert recommend(STUDY, goal(2.5))[0].method == "prune50+int8"


@pytest.mark.parametrize("minimize, expected", [
    ("latency", "int8"), ("size", "int8"), ("energy", "int8")])
def test_each_objective_within_one_point(minimize, expected):
    assert recommend(STUDY, goal(1.0, minimize))[0].method == expected


@pytest.mark.parametrize("minimize, expected", [
    ("latency", "prune50+int8"), ("size", "prune50+int8"), ("energy", "prune50")])
def test_each_objective_picks_its_own_best_on_a_loose_budget(minimize, expected):
    # prune50's spread over copies is wide: within 10 points it meets, and draws least power.
    assert recommend(STUDY, goal(10.0, minimize))[0].method == expected


def test_the_drop_is_judged_on_the_mean_and_the_spread_over_copies():
    judged = {c.method: c for c in recommend(STUDY, goal(1.0))[0].candidates}
    prune = judged["prune50"]
    # Paired by copy: base - prune50 = -2, 4, -0.5 points: 0.5 on average.
    differences = [-2.0, 4.0, -0.5]
    upper = statistics.fmean(differences) + t_quantile(0.95, 2) * statistics.stdev(
        differences) / math.sqrt(3)
    assert prune.rule == "paired t" and prune.drop_pts == pytest.approx(0.5)
    assert prune.judged_drop_pts == pytest.approx(upper) and upper > 5
    assert not prune.meets
    # int8 loses 0.5 on every copy: no spread, the judged drop is the mean.
    assert judged["int8"].judged_drop_pts == pytest.approx(0.5) and judged["int8"].meets


def test_a_mean_within_the_budget_is_not_enough_when_the_copies_disagree():
    noisy = cells(cell("base", [0.90, 0.92], 10.0, 9), cell("int8", [0.91, 0.89], 4.0, 3))
    (found,) = recommend(noisy, goal(1.0))
    (candidate,) = found.candidates
    assert candidate.drop_pts == pytest.approx(1.0) and candidate.judged_drop_pts > 1.0
    assert found.method is None and found.closest is not None
    assert found.closest.method == "int8" and "none within 1 points" in found.note


def test_one_copy_is_judged_by_its_point_drop_and_flagged():
    single = cells(cell("base", [0.90], 10.0, 9), cell("int8", [0.895], 4.0, 3))
    (found,) = recommend(single, goal(1.0))
    assert found.method == "int8" and found.chosen is not None
    assert found.chosen.rule == "one copy"
    assert found.chosen.judged_drop_pts == pytest.approx(found.chosen.drop_pts)
    assert "one copy" in found.note


def test_copies_that_do_not_pair_use_welch():
    base, other = {1: 0.90, 2: 0.92}, {3: 0.89, 4: 0.91}
    drop, upper, rule = judged_drop(base, other)
    assert rule == "welch t" and drop == pytest.approx(1.0)
    se = math.sqrt(2 * statistics.variance([90.0, 92.0]) / 2)
    assert upper == pytest.approx(1.0 + t_quantile(0.95, 2.0) * se)


def test_none_meets_and_the_closest_is_named():
    (found,) = recommend(STUDY, goal(0.0))
    # fp16 loses nothing: a drop of 0 is within a budget of 0.
    assert found.method == "fp16"
    lossy = {k: v for k, v in STUDY.items() if k[1] != "fp16"}
    (found,) = recommend(lossy, goal(0.0))
    assert found.method is None and found.chosen is None
    assert found.closest is not None and found.closest.method == "int8"
    assert found.note.startswith("none within 0 points; closest: int8")


def test_a_budget_exactly_met_is_met():
    exact = cells(cell("base", [0.93], 10.0, 9), cell("int8", [0.92], 4.0, 3))
    assert recommend(exact, goal(1.0))[0].method == "int8"


def test_energy_without_power_sampling_recommends_none_and_says_why():
    unsampled = cells(cell("base", [0.9], 10.0, 9), cell("int8", [0.9], 4.0, 3))
    (found,) = recommend(unsampled, goal(1.0, "energy"))
    assert found.method is None and found.closest is None
    assert "none has its energy measured" in found.note and "Jetson" in found.note


def test_the_base_lower_on_the_objective_is_said():
    slow = cells(cell("base", [0.9], 2.0, 9), cell("fp16", [0.9], 4.0, 3))
    (found,) = recommend(slow, goal(1.0))
    assert found.method == "fp16" and "consider not compressing" in found.note


def test_scratch_and_models_without_a_base_are_not_candidates():
    assert "scratch" not in [c.method for c in recommend(STUDY, goal(100.0))[0].candidates]
    assert recommend(cells(cell("int8", [0.9], 4.0, 3)), goal()) == []
    empty = recommend_model(cells(cell("base", [0.9], 4.0, 3)), MODEL, goal())
    assert empty.method is None and empty.candidates == ()


def test_goal_from_the_campaign_and_the_command_line():
    config = parse_config('name = "x"\nmodels = ["MobileNetV3Small"]\nmethods = ["int8"]\n'
                          '[goal]\nmax_accuracy_drop = 0.5\nminimize = "size"\n', "x.toml")
    assert config.goal == goal(0.5, "size")
    assert with_overrides(config.goal) == goal(0.5, "size")
    assert with_overrides(config.goal, 2.0) == goal(2.0, "size")
    assert with_overrides(None, None, "energy") == goal(1.0, "energy")
    assert with_overrides(None) == DEFAULT_GOAL == goal(1.0, "latency")
    assert report_goal([None, None])[0] == DEFAULT_GOAL
    assert report_goal([None, goal(2.0)]) == (goal(2.0), "")
    chosen, note = report_goal([goal(2.0), goal(3.0)])
    assert chosen == goal(2.0) and "2 different goals" in note


@pytest.mark.parametrize("table, fragment", [
    ('[goal]\nminimize = "speed"\n', "goal.minimize"),
    ('[goal]\nmax_accuracy_drop = -1\n', "goal.max_accuracy_drop"),
    ('[goal]\nmax_accuracy_drop = nan\n', "goal.max_accuracy_drop"),
    ('[goal]\nsearch = true\n', "search bisects pruning levels"),  # methods: int8 alone
    ('[goal]\nsearch_resolution = 0\n', "goal.search_resolution")])
def test_a_bad_goal_is_one_line(table, fragment):
    with pytest.raises(UserError, match=fragment.replace(".", r"\.")):
        parse_config('name = "x"\nmodels = ["MobileNetV3Small"]\nmethods = ["int8"]\n' + table,
                     "x.toml")


# --- edgecompress recommend on a recorded store (two copies of the quick campaign) ---------


def test_recommend_json_names_a_method_and_validates():
    proc = edgecompress("recommend", "quick", "--store", str(stores.RECORDED), "--json")
    document = only_json(proc, "recommend-output")
    assert document["goal"] == {"max_accuracy_drop_pts": 1.0, "minimize": "latency",
                                "unit": "ms", "source": "default"}
    (found,) = document["recommendations"]
    assert found["model"] == MODEL and found["profile"] == "x86-tf2.12"
    assert found["method"] in {c["method"] for c in found["candidates"] if c["meets"]}
    assert all(c["rule"] == "paired t" for c in found["candidates"])


def test_recommend_json_says_none_and_the_closest(tmp_path):
    store = stores.copy_store(tmp_path / "store")
    for lossless in ("fp16", "int8"):  # these two lose nothing on this store
        stores.drop_nodes(store, lossless)
    proc = edgecompress("recommend", "quick", "--store", str(store), "--json", "--max-drop",
                        "0", "--minimize", "size")
    document = only_json(proc, "recommend-output")
    (found,) = document["recommendations"]
    assert found["method"] is None and found["closest"] in {"prune50", "distill"}
    assert document["goal"]["source"] == "command line"
    assert not any(c["meets"] for c in found["candidates"])


def test_recommend_table():
    proc = edgecompress("recommend", "quick", "--store", str(stores.RECORDED), "--minimize",
                        "size", env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "recommendation" in proc.stdout and "every candidate" in proc.stdout
    assert "gzip MB" in proc.stdout and "paired t" in proc.stdout


@pytest.mark.parametrize("args, fragment", [
    (("nope",), "no campaign 'nope'"),
    (("quick", "--max-drop", "-1"), "not a drop from 0 to 100"),
    (("quick", "--max-drop", "nan"), "not a drop from 0 to 100"),
    (("quick", "--minimize", "speed"), "invalid choice"),
])
def test_recommend_bad_input_is_one_line(tmp_path, args, fragment):
    proc = edgecompress("recommend", *args, "--store", str(tmp_path), "--json")
    assert_one_line_error(proc, 2, fragment)
    assert proc.stdout == ""


def test_recommend_before_the_campaign_ran(tmp_path):
    proc = edgecompress("recommend", "quick", "--store", str(tmp_path))
    assert_one_line_error(proc, 2, "has not run into")
