"""The report's tables of latency beyond the paper's figure: statistics over every timed image
(launcher/report/latency_stats.py) and the cold start, with the threads each model ran with.
Pure: cells in, tables out."""

from __future__ import annotations

from launcher.contract.record import PowerMeasurement
from launcher.report.cells import Cells, ordered
from launcher.report.table import Column, Table


def _ci(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:.3f} – {bounds[1]:.3f}"


def _threads(metrics: object) -> str:
    threads = getattr(metrics, "threads", None)
    if threads is None:
        return "–"
    source = getattr(metrics, "threads_source", None)
    intra = getattr(metrics, "tf_intra_op_threads", None)
    inter = getattr(metrics, "tf_inter_op_threads", None)
    parts = [str(threads)]
    if source == "container_cpus":
        parts.append("(container's CPUs)")
    if intra is not None and inter is not None:
        parts.append(f"TF intra {intra} inter {inter}")
    return " ".join(parts)


def throttled_cell(power: PowerMeasurement | None) -> str:
    """Whether copy 1's timed runs were throttled (launcher/device/thermal.py); empty where
    its record holds no thermal summary (no sampler: the x86 twins)."""
    summary = power.thermal if power is not None else None
    if summary is None:
        return ""
    if summary.throttled:
        return "yes: kept run " + ", ".join(str(run) for run in summary.throttled_runs)
    return "no" if summary.throttled is False else "cannot tell"


def runs_cell(metrics: object) -> str:
    """What went short in copy 1's runs: the duration target not met (min_duration_s), a
    cooldown capped (cooldown_c) or without a zone to read; empty when nothing did (or the
    result predates them)."""
    notes = []
    if getattr(metrics, "duration_met", None) is False:
        notes.append(f"duration not met: {getattr(metrics, 'latency_kept_s', 0) or 0:.1f} of "
                     f"{getattr(metrics, 'min_duration_s', 0) or 0:g} s in "
                     f"{getattr(metrics, 'latency_runs_run', '?')} runs")
    cooldown = getattr(metrics, "cooldown", None)
    if cooldown == "cap hit":
        notes.append(f"cooldown cap hit in {getattr(metrics, 'cooldown_caps_hit', '?')} runs")
    elif cooldown == "no thermal zones":
        notes.append("cooldown: no thermal zones")
    return "; ".join(notes)


def per_image_latency_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        stats, first = cell.latency_stats.get(1), cell.first
        if stats is None or first is None:
            continue
        rows.append((cell.model, cell.method, first.backend, _threads(first), stats.runs,
                     stats.images, first.latency_ms_mean, stats.mean, _ci(stats.mean_ci),
                     stats.p50, stats.p90, _ci(stats.p90_ci), stats.p99,
                     stats.early_stopping_p90, stats.early_stopping_p99,
                     "" if stats.p99_claim_ok else "too few images",
                     throttled_cell(cell.power.get(1)), runs_cell(first)))
    return Table("latency_per_image", "Latency over every timed image on copy 1 (ms)", (
        Column("model"), Column("method"), Column("backend"), Column("threads"),
        Column("runs kept"), Column("images timed"), Column("paper's mean", 3),
        Column("mean", 3), Column("mean 95% CI"), Column("p50", 3), Column("p90", 3),
        Column("p90 95% CI"), Column("p99", 3), Column("MLPerf early-stopping p90", 3),
        Column("MLPerf early-stopping p99", 3), Column("p99 claim"), Column("throttled"),
        Column("runs")),
        tuple(rows),
        "Over every image of the kept runs (the side file the job wrote, validated), not over "
        "the run means; a model timed both ways: its call benchmark, its own time. "
        "paper's mean: the mean of the run means (the paper's figure), the same "
        "as the mean over images up to float32 rounding. CIs: percentile bootstrap resampling "
        "whole runs (1000 resamples, fixed seed): images within a run are not independent. "
        "MLPerf early stopping: LoadGen's single-stream estimate at 99 % confidence (the t-th "
        "largest latency, t from its binomial bound); empty below 64 images for p90 and 662 "
        "for p99 (then 'too few images'). threads: TFLite's num_threads and TensorFlow's "
        "intra-op threads (inter-op 1), the same count on a device. throttled: as in the "
        "energy table (a pinned clock below its maximum in a kept run); empty without a power "
        "sampler. runs: where the kept runs fell short of [benchmark] min_duration_s within "
        "the cap of runs, or a run started after waiting cooldown_timeout_s for cooldown_c "
        "(docs/methodology.md, \"Latency\"); empty when neither.")


def cold_start_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        first = cell.first
        if first is None or first.cold_first_inference_ms is None:
            continue
        rows.append((cell.model, cell.method, first.format, first.backend, _threads(first),
                     {True: "yes", None: "unknown"}.get(first.xnnpack, "–")
                     if first.format == "tflite" else "",
                     first.cold_load_s, first.cold_allocate_s, first.cold_first_inference_ms,
                     first.warmup_ms_mean, first.latency_ms_mean))
    return Table("cold_start", "Cold start on copy 1", (
        Column("model"), Column("method"), Column("format"), Column("backend"),
        Column("threads"), Column("XNNPACK"), Column("load s", 3), Column("allocate s", 3),
        Column("first inference ms", 3), Column("warm-up run mean ms", 3),
        Column("steady mean ms", 3)), tuple(rows),
        "What a user waits for before the steady latency: loading the deployed file (a "
        "SavedModel's .h5 copy or the SavedModel; a .tflite into an Interpreter), TFLite's "
        "allocate_tensors (a SavedModel allocates in its first inference), the first "
        "inference (a tf.function's tracing included), then the discarded warm-up run's mean "
        "per image against the kept runs' (the paper's figure). XNNPACK: yes where TFLite "
        "said it applied its delegate, unknown where it cannot tell.")
