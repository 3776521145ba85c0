"""What the report holds against the paper and what it recommends, on synthetic cells: which
rows get a ratio (backends), compression time (total vs the compression alone), the trade-off
figure's Pareto front. Fast: no store, no TensorFlow."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from launcher.contract.results import BenchmarkMetrics
from launcher.report.beside import OWN_TIME, comparability, paper_table
from launcher.report.cells import (
    Cell,
    Cells,
    CompressionTime,
    add_compression_time,
    read_compression_time,
)
from launcher.report.figures import FIG5_TOTAL, FIGURES, draw, draw_tradeoff, figures_for
from launcher.report.paper import (
    D201,
    METRICS,
    MOB_S,
    PAPER_VALUES,
    paper_backend,
)
from launcher.report.ranking import ranking_tables
from launcher.report.results import Device
from launcher.report.tables import compression_table, latency_table, tradeoff_table
from launcher.report.tradeoff import Point, pareto_front, tradeoff_points

XAVIER = Device("xavier", "NVIDIA Jetson Xavier NX Developer Kit, TF 2.12.0, 1 GPU, MODE_20W")
TWIN = Device("x86-tf2.12", "x86_64 AMD EPYC, TF 2.12.1")
TFLITE = ("fp16", "int8")


def bench(latency: float, backend: str, size: int, gzip: int) -> BenchmarkMetrics:
    fmt = "tflite" if backend.startswith("tflite") else "saved_model"
    return BenchmarkMetrics.model_construct(
        format=fmt, backend=backend, threads=None, input_dtype="float32", top1_accuracy=None,
        test_examples=None, latency_images=1000, latency_runs_kept=10, latency_ms_mean=latency,
        latency_ms_median=latency, latency_ms_p90=latency, latency_ms_std=0.1 * latency,
        latency_ms_min=latency, latency_ms_max=latency, bytes=size, gzip_bytes=gzip,
        parameters=None, nonzero_parameters=None)


# model -> method -> (latency ms, top-1, size MB, gzip MB, compression proper s)
STUDY = {
    MOB_S: {"base": (17.9, 0.90, 7.5, 6.9, None), "fp16": (10.0, 0.90, 2.0, 1.8, 5.0),
            "int8": (19.6, 0.70, 1.3, 1.0, 20.0), "prune25": (18.0, 0.89, 7.4, 4.1, 500.0),
            "prune50": (17.5, 0.60, 7.4, 3.1, 510.0), "distill": (17.9, 0.88, 7.5, 6.9, 300.0),
            "scratch": (17.9, 0.85, 7.5, 6.9, None)},
    D201: {"base": (83.2, 0.95, 80.0, 74.0, None), "fp16": (1100.0, 0.95, 33.0, 30.0, 60.0),
           "int8": (500.0, 0.88, 17.0, 15.0, 200.0), "prune25": (84.0, 0.95, 76.0, 45.0, 2000.0),
           "prune50": (83.0, 0.94, 76.0, 34.0, 2100.0), "distill": (17.9, 0.87, 7.5, 6.9, 400.0)},
}


def study(base_backend: str = "tf-gpu", totals: bool = True) -> Cells:
    cells: Cells = {}
    for model, methods in STUDY.items():
        for method, (latency, top1, size, gzip, proper) in methods.items():
            backend = "tflite-cpu" if method in TFLITE else base_backend
            cell = Cell(model, method, accuracy={1: top1, 2: top1 - 0.01},
                        benchmarks={1: bench(latency, backend, int(size * 1e6),
                                             int(gzip * 1e6))})
            if proper is not None:
                for copy in (1, 2):
                    add_compression_time(cell, CompressionTime(
                        proper + copy, 3.0, 1.0, proper + copy + 4.0 if totals else None))
            cells[(model, method)] = cell
    return cells


def timed_both_ways(cells: Cells, predict_x: float = 5.5) -> Cells:
    """As the paper preset's results: copy 1 of each SavedModel timed by call and by predict
    (``predict_x`` times as long: Keras's machinery), a .tflite by call alone."""
    for cell in cells.values():
        call = cell.benchmarks[1].model_copy(update={"latency_method": "call"})
        cell.benchmarks[1] = call
        cell.timed = {"call": call}
        if call.format != "tflite":
            cell.timed["predict"] = call.model_copy(update={
                "latency_method": "predict", "latency_ms_mean": predict_x * call.latency_ms_mean})
    return cells


def rows(table):
    return [dict(zip([c.name for c in table.columns], r, strict=True)) for r in table.rows]


def paper_row(table, metric: str, method: str, model: str | None):
    (row,) = [r for r in rows(table) if r["metric"] == METRICS[metric]
              and r["method"] == method and r["model"] == (model or "mean over models")]
    return row


# --- item 7: what is comparable -------------------------------------------------------------


def test_on_the_jetson_a_predict_timed_latency_gets_a_ratio_and_a_call_timed_one_none():
    table = paper_table(XAVIER, timed_both_ways(study(), predict_x=2.0))
    row = paper_row(table, "latency_ms", "base", MOB_S)
    # "ours" is the predict-timed latency, held against the paper's; the call-timed one is
    # beside it, the model's own time, never divided by the paper's.
    assert row["ours"] == pytest.approx(2 * 17.9)
    assert row["ours / paper"] == pytest.approx(2 * 17.9 / 17.91)
    assert row[OWN_TIME] == pytest.approx(17.9)
    assert row["backend: paper / ours"] == "tf-gpu / tf-gpu"
    assert row["compared"].startswith("yes: ours timed by Keras predict()")
    # A speed-up of two SavedModels: both predict-timed, so a ratio, of the predict figures.
    distill = paper_row(table, "latency_speedup_pct", "distill", D201)
    assert distill["ours / paper"] == pytest.approx(100 * (83.2 - 17.9) / 83.2 / 78.67)
    # A .tflite has no predict(): its speed-up is shown by call alone, without a ratio.
    fp16 = paper_row(table, "latency_speedup_pct", "fp16", MOB_S)
    assert fp16["ours"] == "n/a" and fp16["ours / paper"] is None
    assert fp16[OWN_TIME] == pytest.approx(100 * (17.9 - 10.0) / 17.9)
    assert fp16["backend: paper / ours"] == ("tflite-cpu vs base tf-gpu / "
                                             "tflite-cpu vs base tf-gpu")
    assert fp16["compared"].startswith("no ratio: ours was not timed by Keras predict()")
    assert "fp16: a .tflite has no predict()" in fp16["compared"]


def test_a_call_timed_latency_is_never_divided_by_the_papers():
    cells = study()
    for cell in cells.values():  # as results that record latency_method do
        cell.benchmarks[1] = cell.benchmarks[1].model_copy(update={"latency_method": "call"})
    table = paper_table(XAVIER, cells)
    latency = [r for r in rows(table) if r["metric"] in (
        METRICS["latency_ms"], METRICS["latency_speedup_pct"])]
    assert latency
    for row in latency:
        assert row["ours / paper"] is None and row["ours"] == "n/a", row
        assert isinstance(row[OWN_TIME], float)
        assert row["compared"].startswith("no ratio: ours was not timed by Keras predict()")
    assert paper_row(table, "latency_ms", "base", MOB_S)[OWN_TIME] == pytest.approx(17.9)
    assert rows(latency_table(cells))[0]["timing"] == "call: the model's own time"
    # Accuracy and size rows are untouched: their ratio stands, no own-time figure.
    size = paper_row(table, "size_reduction_x", "int8", MOB_S)
    assert size["ours / paper"] is not None and size[OWN_TIME] is None


def test_the_latency_table_has_a_row_per_timing_and_the_rest_reads_call():
    cells = timed_both_ways(study(), predict_x=3.0)
    by_row = {(r["model"], r["method"], r["timing"]): r for r in rows(latency_table(cells))}
    call = by_row[(MOB_S, "prune25", "call: the model's own time")]
    predict = by_row[(MOB_S, "prune25", "predict: Keras predict()")]
    assert (call["mean"], predict["mean"]) == (pytest.approx(18.0), pytest.approx(54.0))
    # Each speed-up against the base timed the same way.
    assert call["speed-up vs base %"] == pytest.approx(100 * (17.9 - 18.0) / 17.9)
    assert predict["speed-up vs base %"] == pytest.approx(100 * (53.7 - 54.0) / 53.7)
    assert not any(key[1] in TFLITE and key[2].startswith("predict") for key in by_row)
    assert len(by_row) == len(cells) + sum(m not in TFLITE for _, m in cells)
    # The trade-off, its front and the ranking read the call-timed latency, as before.
    alone = study()
    for cell in alone.values():
        cell.benchmarks[1] = cell.benchmarks[1].model_copy(update={"latency_method": "call"})
    assert rows(tradeoff_table(cells)) == rows(tradeoff_table(alone))
    assert [rows(t) for t in ranking_tables(cells)] == [rows(t) for t in ranking_tables(alone)]


def test_compressions_timed_beside_other_jobs_get_no_ratio_and_say_so():
    cells = study()
    fp16 = cells[(MOB_S, "fp16")]
    fp16.compression_parallel = [1, 2]  # one copy's compression ran with --parallel 2
    table = paper_table(XAVIER, cells)
    row = paper_row(table, "compression_s", "fp16", MOB_S)
    assert row["ours / paper"] is None
    assert row["compared"] == ("no ratio: our compressions ran with up to 2 jobs at once "
                               "(--parallel), the paper's alone")
    alone = paper_row(table, "compression_s", "prune25", MOB_S)
    assert alone["ours / paper"] is not None, alone
    by_cell = {(r["model"], r["method"]): r for r in rows(compression_table(cells))}
    assert by_cell[(MOB_S, "fp16")]["jobs at once"] == 2
    assert by_cell[(MOB_S, "int8")]["jobs at once"] == 1


def test_an_x86_twin_prints_the_papers_number_without_a_ratio_naming_both_backends():
    table = paper_table(TWIN, study(base_backend="tf-cpu"))
    device_dependent = [r for r in rows(table) if r["metric"] in (
        METRICS["latency_ms"], METRICS["latency_speedup_pct"], METRICS["compression_s"])]
    assert len(device_dependent) >= 6
    for row in device_dependent:
        assert row["ours / paper"] is None, row
        # Unrecorded timing is not predict: a latency is in the own-time column alone.
        ours = row["ours"] if row["metric"] == METRICS["compression_s"] else row[OWN_TIME]
        assert isinstance(ours, float) and isinstance(row["paper"], float)
        assert row["compared"].startswith("no ratio")
        assert "Jetson Xavier NX" in row["compared"] and "x86-tf2.12" in row["compared"]
    base = paper_row(table, "latency_ms", "base", MOB_S)
    assert base["backend: paper / ours"] == "tf-gpu / tf-cpu"
    assert "the paper ran tf-gpu" in base["compared"] and "ours tf-cpu" in base["compared"]
    # TFLite ran on a CPU in both, but not on the same one, and the base did not: no ratio,
    # and the note says why.
    int8 = paper_row(table, "latency_speedup_pct", "int8", MOB_S)
    assert int8["backend: paper / ours"] == ("tflite-cpu vs base tf-gpu / "
                                             "tflite-cpu vs base tf-cpu")
    # What the device does not change keeps its ratio.
    size = paper_row(table, "size_reduction_x", "int8", MOB_S)
    assert size["ours / paper"] == pytest.approx(7.5 / 1.3 / 5.77)
    assert size["compared"] == "yes" and size["backend: paper / ours"] == ""


def test_a_jetson_whose_tensorflow_saw_no_gpu_is_not_compared_either():
    value = next(v for v in PAPER_VALUES if v.metric == "latency_ms" and v.model == MOB_S
                 and v.device == "xavier")
    judged = comparability(value, XAVIER, study(base_backend="tf-cpu"))
    assert not judged.comparable and "tf-cpu" in judged.why and "tf-gpu" in judged.why


def test_the_papers_backends_are_its_words():
    assert paper_backend("base") == "tf-gpu" and paper_backend("prune75") == "tf-gpu"
    assert paper_backend("distill") == "tf-gpu"
    assert paper_backend("fp16") == paper_backend("int8") == "tflite-cpu"


def test_every_latency_row_names_its_backend():
    table = latency_table(study())
    assert all(r["backend"] in ("tf-gpu", "tflite-cpu") for r in rows(table))
    assert all(r["timing"] for r in rows(table))
    (spec,) = [s for s in FIGURES if s.key == "fig3-latency"]
    assert spec.bar_label is not None
    assert spec.bar_label(study()[(MOB_S, "int8")]) == "tflite-cpu"
    methods, families = ranking_tables(study(base_backend="tf-cpu"))
    by_method = {r["method"]: r for r in rows(methods)}
    assert by_method["int8"]["latency backend"] == "tflite-cpu vs base tf-cpu"
    assert by_method["prune50"]["latency backend"] == "tf-cpu vs base tf-cpu"
    assert {r["latency backend"] for r in rows(families)} >= {"tflite-cpu vs base tf-cpu"}


def test_latency_figure_is_drawn_with_backend_labels(tmp_path):
    (spec,) = [s for s in FIGURES if s.key == "fig3-latency"]
    path = draw(spec, study(), "xavier: test", tmp_path / "fig3.png")
    assert path is not None
    with Image.open(path) as image:
        assert image.format == "PNG"


# --- item 3: compression time, the total against the paper --------------------------------


def test_compression_times_are_read_defensively():
    old = SimpleNamespace(conversion_s=2.0)  # results from before load/save were recorded
    assert read_compression_time(old, 2.0) == CompressionTime(2.0, None, None, None)
    new = SimpleNamespace(load_s=1.0, conversion_s=2.0, save_s=0.5, compression_total_s=3.5)
    assert read_compression_time(new, 2.0) == CompressionTime(2.0, 1.0, 0.5, 3.5)


def test_a_job_that_loaded_the_h5_copy_is_given_the_savedmodel_load():
    """Issue 11: the paper's compression time starts by loading the SavedModel. A prune that
    loaded the .h5 copy (1.5 s of its 2 s load) is counted with the SavedModel load its base's
    train job timed (20 s); without that figure, load and total are unknown, not flattered."""
    pruned = SimpleNamespace(load_s=2.0, prune_s=30.0, save_s=5.0, compression_total_s=37.0,
                             input_format="h5", input_load_s=1.5)
    assert read_compression_time(pruned, 30.0, 20.0) == CompressionTime(
        30.0, 20.5, 5.0, 55.5)
    assert read_compression_time(pruned, 30.0, None) == CompressionTime(30.0, None, 5.0, None)
    from_saved_model = SimpleNamespace(load_s=21.0, prune_s=30.0, save_s=5.0,
                                       compression_total_s=56.0, input_format="saved_model",
                                       input_load_s=21.0)
    assert read_compression_time(from_saved_model, 30.0, 20.0) == CompressionTime(
        30.0, 21.0, 5.0, 56.0)


def test_the_paper_is_held_against_the_total():
    cells = study()
    table = paper_table(XAVIER, cells)
    row = paper_row(table, "compression_s", "fp16", MOB_S)
    total = ((5.0 + 1 + 4) + (5.0 + 2 + 4)) / 2
    assert row["ours"] == pytest.approx(total)
    assert row["ours / paper"] == pytest.approx(total / 121.74)
    assert "ambiguous" in row["reading"]
    compression = {(r["model"], r["method"]): r for r in rows(compression_table(cells))}
    fp16 = compression[(MOB_S, "fp16")]
    assert fp16["compression mean"] == pytest.approx(6.5)
    assert (fp16["load mean"], fp16["save mean"]) == (3.0, 1.0)
    assert fp16["total mean"] == pytest.approx(total)
    assert "held against" in compression_table(cells).note
    methods, _ = ranking_tables(cells)
    assert METRICS["compression_s"] in [c.name for c in methods.columns]
    assert "the total (load + compression + save)" in methods.note
    assert FIG5_TOTAL in figures_for(cells)


def test_without_a_total_the_paper_is_not_compared():
    cells = study(totals=False)
    row = paper_row(paper_table(XAVIER, cells), "compression_s", "fp16", MOB_S)
    assert row["ours"] == "n/a" and row["ours / paper"] is None
    assert "n/a" in row["compared"] and "6.50 s" in row["compared"]
    assert {r["total mean"] for r in rows(compression_table(cells))} == {"n/a"}
    methods, _ = ranking_tables(cells)
    assert METRICS["compression_proper_s"] in [c.name for c in methods.columns]
    assert FIG5_TOTAL not in figures_for(cells)


# --- item 11: which compression on this device ---------------------------------------------


def point(method: str, speedup: float, drop: float) -> Point:
    return Point(method, speedup, drop, 1.0, "tf-gpu", "tf-gpu")


def test_pareto_front():
    base, fast, worse = point("base", 0, 0), point("a", 50, 1), point("b", 40, 2)
    fastest, accurate = point("c", 80, 10), point("d", -5, -1)
    front = pareto_front([fast, worse, base, fastest, accurate])
    assert [p.method for p in front] == ["d", "base", "a", "c"]
    # A method as accurate and faster than the base pushes the base off the front.
    assert [p.method for p in pareto_front([base, point("e", 10, 0)])] == ["e"]
    # Identical points dominate neither each other.
    assert len(pareto_front([fast, point("f", 50, 1)])) == 2
    # Slower and less accurate than the base: never on the front.
    assert [p.method for p in pareto_front([base, point("g", -10, 3)])] == ["base"]


def test_tradeoff_points_per_model():
    points = tradeoff_points(study())
    assert list(points) == [MOB_S, D201]
    methods = {p.method: p for p in points[D201]}
    assert set(methods) == {"base", "fp16", "int8", "prune25", "prune50", "distill"}
    assert "scratch" not in {p.method for p in points[MOB_S]}
    distill = methods["distill"]
    assert distill.speedup_pct == pytest.approx(100 * (83.2 - 17.9) / 83.2)
    assert distill.drop_pts == pytest.approx(100 * (0.945 - 0.865))
    assert distill.size_reduction_x == pytest.approx(80 / 7.5)
    assert (methods["base"].speedup_pct, methods["base"].drop_pts) == (0.0, 0.0)
    table = {(r["model"], r["method"]): r for r in rows(tradeoff_table(study()))}
    assert table[(D201, "distill")]["Pareto-optimal"] == "yes"
    assert table[(D201, "fp16")]["Pareto-optimal"] == ""  # 13x slower, no more accurate
    assert table[(D201, "prune50")]["latency backend"] == "tf-gpu vs base tf-gpu"


def test_tradeoff_figure(tmp_path: Path):
    path = draw_tradeoff(study(), "xavier: test", tmp_path / "tradeoff.png")
    assert path is not None
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] >= 900
    assert draw_tradeoff({}, "none", tmp_path / "none.png") is None
