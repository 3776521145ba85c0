"""The report's tables, from validated results. Pure: measurements in, tables out.

Per device (grouped by what the results' environment says), per model x method:
- accuracy: top-1 on the test split, mean and sample std over the trained copies;
- latency: the paper's mean of the kept runs on copy 1, and the distribution (median, p90,
  std, min, max), with the backend that ran it;
- size: every format the benchmark measured (SavedModel or .tflite) and its gzip; for pruning,
  SavedModel and gzip against the base both ways, and the sparsity achieved;
- compression time: the compression alone, load, save and their total, over the timed runs;
- the trade-off: speed-up against accuracy drop per method, and which are Pareto-optimal;
then the paper's ranking of methods recomputed from these numbers with its four criteria
(ranking.py), and every figure the paper published for the same cell beside ours (beside.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from launcher.report.beside import paper_table
from launcher.report.cells import (
    CALL,
    MB,
    PREDICT,
    UNRECORDED,
    Cells,
    accuracy_drop_pts,
    build_cells,
    gzip_size_reduction_x,
    latency_speedup_pct,
    mean_std,
    ordered,
    saved_model_gzip_reduction_x,
    size_bytes,
    size_reduction_x,
    timed_cells,
    timing_of,
)
from launcher.report.latency_tables import (
    cold_start_table,
    per_image_latency_table,
    throttled_cell,
)
from launcher.report.networks import network_table
from launcher.report.pruning import pruning_flags_table
from launcher.report.ranking import ranking_tables
from launcher.report.recommend import DEFAULT_GOAL, RULE_TEXT, UNITS, recommend
from launcher.report.results import Device, Measured
from launcher.report.table import Column, Table
from launcher.report.tradeoff import pareto_front, tradeoff_points
from launcher.study.campaign import GoalConfig
from launcher.study.methods import is_chain

# --- tables ----------------------------------------------------------------------------------


def _pct(value: float | None) -> float | None:
    return None if value is None else 100 * value


def accuracy_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        if not cell.accuracy:
            continue
        mean, std = mean_std([cell.accuracy[c] for c in sorted(cell.accuracy)])
        rows.append((cell.model, cell.method, len(cell.accuracy), _pct(mean), _pct(std),
                     accuracy_drop_pts(cells, cell.model, cell.method)
                     if cell.method != "base" else None,
                     " ".join(f"{100 * cell.accuracy[c]:.2f}" for c in sorted(cell.accuracy))))
    return Table("accuracy", "Top-1 accuracy over the trained copies", (
        Column("model"), Column("method"), Column("copies"), Column("mean %", 2),
        Column("std %", 2), Column("drop vs base (points)", 2), Column("per copy %")),
        tuple(rows), "std: sample standard deviation over copies (n - 1); the paper shows the "
        "mean only.")


# The latency table's timing column: what each way of timing measures.
TIMING_LABELS = {CALL: "call: the model's own time", PREDICT: "predict: Keras predict()",
                 UNRECORDED: "–"}


def latency_table(cells: Cells) -> Table:
    """One row per model x method and way copy 1 was timed: the model's own time (call) first,
    then Keras predict() where the campaign timed it too; a speed-up is against the base
    timed the same way."""
    views = {CALL: timed_cells(cells, CALL), PREDICT: timed_cells(cells, PREDICT)}
    views[UNRECORDED] = views[CALL]
    rows = []
    for cell in ordered(cells):
        if cell.first is None:
            continue
        timings = cell.timings
        own = timing_of(cell.first)
        for timing in sorted(timings, key=lambda t: (t != own, t)):
            first = timings[timing]
            rows.append((cell.model, cell.method, first.format, first.backend, first.threads,
                         TIMING_LABELS.get(timing, timing),
                         first.latency_runs_kept, first.latency_images, first.latency_ms_mean,
                         first.latency_ms_median, first.latency_ms_p90, first.latency_ms_std,
                         first.latency_ms_min, first.latency_ms_max,
                         latency_speedup_pct(views.get(timing, cells), cell.model, cell.method)
                         if cell.method != "base" else None))
    return Table("latency", "Latency per image on copy 1 (ms)", (
        Column("model"), Column("method"), Column("format"), Column("backend"),
        Column("threads"), Column("timing"), Column("runs kept"), Column("images"),
        Column("mean", 3), Column("median", 3), Column("p90", 3), Column("std", 3),
        Column("min", 3), Column("max", 3), Column("speed-up vs base %", 1)), tuple(rows),
        "The paper's latency: total time x 1000 / images per run, the first run(s) discarded, "
        "the mean of the rest; median and p90 over the same kept runs. backend: what ran the "
        "model (tf-gpu, tf-cpu: TensorFlow on the GPU or CPU; tflite-cpu: the TFLite "
        "interpreter on the CPU); a speed-up compares the method's backend with the base's. "
        "The paper ran TensorFlow on the Jetson's GPU and TFLite on its ARM CPU. timing: how "
        "the result says it was timed: call, one call of the model per image with its output "
        "on the host before the next (the model's own time; a .tflite's only way); predict, "
        "Keras Model.predict per image, Keras's machinery included (the paper's likely way, "
        "the only latency held against the paper's); a model timed both ways has a row for "
        "each, and every other table, figure and recommendation reads its call row "
        "(– : not recorded by results of this age).")


def size_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        sized = cell.sized
        if sized is None:
            continue
        nonzero = (sized.nonzero_parameters / sized.parameters
                   if sized.parameters and sized.nonzero_parameters is not None else None)
        rows.append((cell.model, cell.method, sized.format, sized.bytes, sized.bytes / MB,
                     sized.gzip_bytes / MB,
                     size_reduction_x(cells, cell.model, cell.method)
                     if cell.method != "base" else None,
                     gzip_size_reduction_x(cells, cell.model, cell.method)
                     if cell.method != "base" else None,
                     _pct(nonzero)))
    return Table("size", "Model size in every format measured", (
        Column("model"), Column("method"), Column("format"), Column("bytes"),
        Column("MB", 2), Column("gzip MB", 2), Column("reduction vs base x", 2),
        Column("gzip reduction vs base x", 2), Column("nonzero weights %", 1)), tuple(rows),
        "MB = 10^6 bytes; a SavedModel's size is its folder's; reductions divide the base's "
        "size by the method's (gzip by gzip).")


def pruning_size_table(cells: Cells) -> Table:
    """Pruning's sizes against the base both ways the paper's "After gzip, ... 1.68x
    small-er than the base" can be read, and the sparsity the pruning reached."""
    rows = []
    for cell in ordered(cells):
        # A chain (prune50+int8) is a .tflite: its sizes are in the size table, beside prune50's.
        if not cell.method.startswith("prune") or is_chain(cell.method) or cell.sized is None:
            continue
        model, method = cell.model, cell.method
        base, base_gzip = size_bytes(cells, model, "base"), size_bytes(cells, model, "base",
                                                                          gzip=True)
        achieved = mean_std([a for a, _ in cell.sparsity])[0]
        overall = mean_std([o for _, o in cell.sparsity])[0]
        rows.append((model, method, _pct(achieved), _pct(overall),
                     None if base is None else base / MB, cell.sized.bytes / MB,
                     size_reduction_x(cells, model, method),
                     None if base_gzip is None else base_gzip / MB, cell.sized.gzip_bytes / MB,
                     gzip_size_reduction_x(cells, model, method),
                     saved_model_gzip_reduction_x(cells, model, method)))
    return Table("pruning_size", "Pruning: size against the base, and the sparsity reached", (
        Column("model"), Column("method"), Column("achieved sparsity, pruned layers %", 1),
        Column("sparsity, whole model %", 1), Column("base SavedModel MB", 2),
        Column("SavedModel MB", 2), Column("SavedModel / SavedModel x", 2),
        Column("base gzip MB", 2), Column("gzip MB", 2), Column("gzip / gzip x", 2),
        Column("SavedModel / gzip x", 2)), tuple(rows),
        "Ratios are base / pruned. gzip / gzip: both gzipped (TensorFlow's pruning guide); "
        "SavedModel / gzip: the base as stored against the pruned model gzipped. The paper's "
        "'After gzip, the 25% sparse models are 1.68x small-er than the base' can be either. "
        "Achieved sparsity: zeros among the kernels of the pruned layers (Conv2D and Dense; "
        "depthwise convolutions, batch norms and biases stay dense), mean over the pruning "
        "runs; whole model: zeros among all weights.")


def compression_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        if not cell.compression_s:
            continue
        mean, std = mean_std(cell.compression_s)
        total, total_std = mean_std(cell.compression_total_s)
        rows.append((cell.model, cell.method, len(cell.compression_s), mean, std,
                     min(cell.compression_s), max(cell.compression_s),
                     mean_std(cell.load_s)[0], mean_std(cell.save_s)[0],
                     "n/a" if total is None else total, total_std,
                     max(cell.compression_parallel, default=1)))
    return Table("compression_time", "Compression time over the timed runs (s)", (
        Column("model"), Column("method"), Column("runs"), Column("compression mean", 2),
        Column("std", 2), Column("min", 2), Column("max", 2), Column("load mean", 2),
        Column("save mean", 2), Column("total mean", 2), Column("total std", 2),
        Column("jobs at once")),
        tuple(rows),
        "Measured inside the job. compression: the compression itself (TFLite conversion with "
        "its calibration, pruning's fine-tuning, distillation's training); load: reading the "
        "input model (and INT8's calibration images, distillation's student set-up); save: "
        "writing the result; total: load + compression + save, "
        "where a job loaded the model's .h5 copy (seconds, against a SavedModel's tens), its "
        "load counts the SavedModel load timed once in the job that trained the model instead, "
        "so load and total stay the paper's; "
        "what the paper's compression times are held against (it does not say what its times "
        "include). Container start and imports are in none of them. n/a: the results were "
        "recorded before load and save were timed apart: not compared with the paper. "
        "jobs at once: the most jobs the campaign let run on the machine beside a timed run "
        "(campaign run --parallel); above 1, its times include the wait for cores the others "
        "held, and are not compared with the paper's (run with --parallel 1 for those). "
        "A chain's row (prune50+int8) times its last link alone, the quantization of the "
        "pruned or distilled model; its first link's time is that method's own row.")


def energy_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        power, first = cell.power.get(1), cell.first
        if power is None or first is None:
            continue
        summary = power.thermal
        rows.append((cell.model, cell.method, first.backend, power.rail, power.samples,
                     power.interval_ms, _watts(power.idle_power_mw),
                     _watts(power.average_power_mw), first.latency_ms_mean,
                     power.energy_per_inference_mj, power.energy_above_idle_per_inference_mj,
                     power.energy_per_query_window_mj,
                     summary.max_c if summary is not None else None, throttled_cell(power),
                     power.reason or ""))
    return Table("energy", "Power and energy per inference on copy 1", (
        Column("model"), Column("method"), Column("backend"), Column("rail"),
        Column("samples"), Column("interval ms"), Column("idle W", 2), Column("average W", 2),
        Column("latency ms", 3), Column("mJ per inference", 3), Column("mJ above idle", 3),
        Column("mJ per query (windows)", 3), Column("max C", 1), Column("throttled"),
        Column("not measured because")), tuple(rows),
        "What the paper did not measure: the module's input power (tegrastats on the host) "
        "averaged over the kept latency runs; energy per inference = average power x "
        "latency, which includes the board's idle draw; above idle = (average - idle) x "
        "latency, idle being the draw sampled just before the job's container started. "
        "mJ per query (windows): MLPerf's window-based figure, average power x the kept runs' "
        "length over their images, which counts the work between timed images too. max C: the "
        "hottest zone over the kept runs. throttled: yes (with the kept runs) where a clock "
        "pinned by jetson_clocks fell below its maximum in a run: that run's latency and "
        "energy measure the heat as much as the model; 'cannot tell' where the clocks were "
        "not pinned (DVFS lowers them anyway) or tegrastats printed none; empty: not recorded "
        "(docs/methodology.md, \"Power and energy\").")


def _watts(milliwatts: float | None) -> float | None:
    return None if milliwatts is None else milliwatts / 1000


def memory_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        for job in sorted(cell.memory):
            runs = cell.memory[job]
            rss = [r for r, _ in runs if r is not None]
            cgroup = [c for _, c in runs if c is not None]
            rows.append((cell.model, cell.method, job, len(runs),
                         max(rss) / MB if rss else None, max(cgroup) / MB if cgroup else None))
    return Table("memory", "Peak memory per job (MB, the largest over runs)", (
        Column("model"), Column("method"), Column("job"), Column("runs"),
        Column("peak RSS MB", 0), Column("container peak MB", 0)), tuple(rows),
        "The job process's peak resident set, and the container cgroup's peak where the "
        "engine reports it. What the paper does not report, and what decides whether a job "
        "fits a 4 GB Jetson Nano.")


def tradeoff_table(cells: Cells) -> Table:
    rows = []
    for model, points in tradeoff_points(cells).items():
        front = {p.method for p in pareto_front(points)}
        for p in points:
            rows.append((model, p.method, p.backend if p.method == "base" else
                         f"{p.backend} vs base {p.base_backend}",
                         p.speedup_pct, p.drop_pts, p.size_reduction_x,
                         "yes" if p.method in front else ""))
    return Table("tradeoff", "Which compression for this device: speed-up against accuracy "
                 "drop", (
                     Column("model"), Column("method"), Column("latency backend"),
                     Column("speed-up vs base %", 1), Column("accuracy drop (points)", 2),
                     Column("size reduction x", 2), Column("Pareto-optimal")), tuple(rows),
                 "Pareto-optimal: no other method of the same model (the base included) is at "
                 "least as fast and as accurate and better in one; the size reduction is "
                 "shown, not weighed. Speed-ups from each model's own time (timed by call "
                 "where it was timed by predict too). The figure 'trade-off' draws the same "
                 "points.")


@dataclass(frozen=True)
class DeviceReport:
    device: Device
    cells: Cells
    tables: tuple[Table, ...]


def recommendation_table(cells: Cells, goal: GoalConfig, why: str = "") -> Table:
    """The report's opening: per model, the method within the budget best on the objective
    (launcher/report/recommend.py; the same as edgecompress recommend)."""
    size = goal.minimize == "size"
    scale = 1e6 if size else 1.0
    unit = "gzip MB" if size else UNITS[goal.minimize]
    rows = []
    for found in recommend(cells, goal):
        shown = found.chosen or found.closest
        rows.append((found.model, found.method or "none",
                     found.closest.method if found.closest else None,
                     shown.drop_pts if shown else None,
                     shown.judged_drop_pts if shown else None,
                     shown.rule if shown else None,
                     f"{shown.base_copies}, {shown.copies}" if shown else None,
                     None if shown is None or shown.objective is None
                     else shown.objective / scale,
                     None if found.base_objective is None else found.base_objective / scale,
                     found.note))
    return Table("recommendation", f"Recommendation: the {goal.minimize} least within "
                 f"{goal.max_accuracy_drop:g} points of top-1", (
                     Column("model"), Column("method"), Column("closest"),
                     Column("drop (points)", 2), Column("judged drop (points)", 2),
                     Column("rule"), Column("copies (base, method)"),
                     Column(f"{goal.minimize} {unit}", 3), Column(f"base {unit}", 3),
                     Column("why")), tuple(rows),
                 f"Candidates: every compression, chains included (the base and scratch are "
                 f"not). Latency: copy 1's own time (timed by call where it was timed by "
                 f"predict too). Rule: {RULE_TEXT}. 'none' when no method meets the budget "
                 "(closest: the least judged drop). Every candidate: edgecompress recommend. "
                 + why)


def device_reports(measured: Iterable[Measured], goal: GoalConfig | None = None,
                   goal_note: str = "") -> list[DeviceReport]:
    reports = []
    goal = goal or DEFAULT_GOAL
    everywhere = build_cells(measured)
    for device, cells in everywhere.items():
        # The energy table only where something sampled power (a Jetson): elsewhere it
        # would be empty by design, not "no results yet".
        energy = energy_table(cells)
        pruning = pruning_size_table(cells)
        flags = pruning_flags_table(cells)
        networks = network_table(device, cells, everywhere)
        per_image, cold = per_image_latency_table(cells), cold_start_table(cells)
        tables = (recommendation_table(cells, goal, goal_note),
                  *((networks,) if networks.rows else ()), accuracy_table(cells),
                  latency_table(cells), *((per_image,) if per_image.rows else ()),
                  *((cold,) if cold.rows else ()), size_table(cells),
                  *((pruning,) if pruning.rows else ()), *((flags,) if flags.rows else ()),
                  *((energy,) if energy.rows else ()),
                  compression_table(cells), memory_table(cells), tradeoff_table(cells),
                  *ranking_tables(cells), paper_table(device, cells))
        reports.append(DeviceReport(device, cells, tables))
    return reports
