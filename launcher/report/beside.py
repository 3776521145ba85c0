"""Our numbers beside the paper's published ones (launcher/report/paper.py), and whether the
two were measured alike. Pure: cells in, a table out.

A latency, a speed-up or a compression time depends on what ran it. The paper ran its
SavedModels with TensorFlow on the Jetson's GPU and its TFLite models on the Jetson's ARM CPU
(``PAPER_BACKENDS``); an x86 twin runs both on an x86 CPU. Such a row shows the paper's number
beside ours with no ratio, and says which backend ran each. Accuracies and sizes do not
depend on the device: they keep their ratio everywhere.

A latency also depends on how it was timed. The paper's were most likely taken with Keras
``Model.predict`` per image, Keras's machinery included: only our latencies timed that way
(``latency_method = "predict"``) stand in the "ours" column of a latency or speed-up row and
get a ratio. A latency timed by ``call`` (one call of the model per image: the model's own
time, a .tflite's only way) is shown in a column of its own, "ours, call", and never divided by
the paper's.
"""

from __future__ import annotations

from dataclasses import dataclass

from launcher.report.cells import CALL, PREDICT, Cells, latency_backend, metric, timed_cells
from launcher.report.networks import differs_from_papers
from launcher.report.paper import (
    DEVICE_DEPENDENT,
    METRICS,
    PAPER_DEVICE_NAMES,
    PAPER_DEVICE_OF_PROFILE,
    PAPER_VALUES,
    PaperDevice,
    PaperValue,
    paper_backend,
)
from launcher.report.results import Device
from launcher.report.table import Column, Table

PAPER_BASE_BACKEND = paper_backend("base")
# The paper's metrics that are latencies: held against ours timed by predict alone.
LATENCY_METRICS = frozenset({"latency_ms", "latency_speedup_pct"})
OWN_TIME = "ours, call: the model's own time"
NOT_PREDICT = ("no ratio: ours was not timed by Keras predict() per image, the paper's likely "
               "way, and only such a latency is held against the paper's; ours by call (one "
               "call per image: the model's own time) is in '" + OWN_TIME + "'")


@dataclass(frozen=True)
class Comparability:
    comparable: bool
    backends: str  # "paper / ours", for device-dependent rows; "" otherwise
    why: str  # "yes", or why there is no ratio


def _ours(cells: Cells, model: str | None, method: str) -> str:
    models = [model] if model else sorted({m for m, _ in cells})
    found = sorted({b for m in models if (b := latency_backend(cells, m, method)) is not None})
    return "/".join(found) or "?"


def predict_timed(cells: Cells, model: str | None, method: str) -> bool:
    """Whether copy 1 of the method (of ``model``, or of every model that has it) was timed by
    Keras predict() (a .tflite never is: it has no predict)."""
    found = [cell for (m, of), cell in cells.items()
             if of == method and model in (None, m) and cell.timings]
    return bool(found) and all(PREDICT in cell.timings for cell in found)


def comparability(value: PaperValue, device: Device, cells: Cells) -> Comparability:
    """Whether our number for a paper value was measured like the paper's: on the paper's
    device (not a stand-in for it), with the paper's backends for every latency involved, the
    base's included (the profile's own: an x86 twin runs its base on tf-cpu)."""
    if value.metric not in DEVICE_DEPENDENT:
        return Comparability(True, "", "yes")
    paper_device: PaperDevice | None = value.device or PAPER_DEVICE_OF_PROFILE.get(
        device.profile)
    jetson = f"the {PAPER_DEVICE_NAMES[paper_device]}" if paper_device else "the Jetsons"
    compression = value.metric.startswith("compression")
    shared = max((n for cell in cells.values() if value.model in (None, cell.model)
                  and cell.method == value.method for n in cell.compression_parallel),
                 default=1)
    if compression and shared > 1:
        return Comparability(False, "", f"no ratio: our compressions ran with up to {shared} "
                             "jobs at once (--parallel), the paper's alone")
    if compression:
        involved: tuple[str, ...] = ("base",)  # what TensorFlow trains and runs on there
    elif value.metric == "latency_speedup_pct":
        involved = (value.method, "base")
    else:
        involved = (value.method,)
    paper = tuple(paper_backend(m) or "?" for m in involved)
    ours = tuple(_ours(cells, value.model, m) for m in involved)
    base = _ours(cells, value.model, "base")

    def text(names: tuple[str, ...]) -> str:
        return names[0] if len(names) == 1 else f"{names[0]} vs base {names[1]}"

    backends = f"{text(paper)} / {text(ours)}"
    if device.profile == paper_device and paper == ours and base == PAPER_BASE_BACKEND:
        if compression:
            return Comparability(True, backends, "yes")
        unpredicted = [m for m in involved if not predict_timed(cells, value.model, m)]
        if unpredicted:
            tflite = [m for m in unpredicted if paper_backend(m) == "tflite-cpu"]
            return Comparability(False, backends, NOT_PREDICT + (
                f" ({', '.join(tflite)}: a .tflite has no predict())" if tflite else ""))
        return Comparability(True, backends, "yes: ours timed by Keras predict() per image, "
                             "as the paper's probably was")
    where = (f"{device.profile}, a stand-in for {jetson}"
             if paper_device and device.profile != paper_device else device.profile)
    why = f"no ratio: the paper ran {text(paper)} on {jetson}, ours {text(ours)} on {where}"
    if "base" not in involved and base != PAPER_BASE_BACKEND:
        why += f" (whose base runs on {base}, the paper's on {PAPER_BASE_BACKEND})"
    return Comparability(False, backends, why)


def paper_table(device: Device, cells: Cells) -> Table:
    paper_device = PAPER_DEVICE_OF_PROFILE.get(device.profile)
    rows = []
    predicted, called = timed_cells(cells, PREDICT), timed_cells(cells, CALL)
    for value in PAPER_VALUES:
        if value.device is not None and value.device != paper_device:
            continue
        latency = value.metric in LATENCY_METRICS
        # A latency beside the paper's is predict-timed; the call-timed one beside it, apart.
        ours = metric(predicted if latency else cells, value.metric, value.model, value.method)
        own = metric(called, value.metric, value.model, value.method) if latency else None
        judged = comparability(value, device, cells)
        if latency and ours is None and own is None:
            continue
        if ours is None and not latency:
            # Results from before the total was recorded: the compression alone is there,
            # the total is not; say so rather than hold the paper's time against a part.
            proper = (metric(cells, "compression_proper_s", value.model, value.method)
                      if value.metric == "compression_s" else None)
            if proper is None:
                continue
            judged = Comparability(False, judged.backends, (
                "no ratio: these results do not record load and save times, so the total "
                f"the paper's time is held against is n/a (the compression alone: "
                f"{proper:.2f} s)"))
        other_network = differs_from_papers(cells, value.model, value.device or paper_device)
        if other_network is not None:
            judged = Comparability(False, judged.backends, f"no ratio: {other_network}")
        ratio = (ours / value.value if ours is not None and value.value and judged.comparable
                 and (not latency or predict_timed(cells, value.model, value.method))
                 else None)
        where = PAPER_DEVICE_NAMES[value.device] if value.device else "device not stated"
        reading = f"ambiguous: {value.ambiguity}" if value.ambiguity else value.note
        rows.append((value.source, value.model or "mean over models", value.method,
                     METRICS[value.metric], where, value.value,
                     "n/a" if ours is None else ours, own, ratio, judged.backends, judged.why,
                     reading, value.sentence))
    twin = (f" This device stands for the {PAPER_DEVICE_NAMES[paper_device]}"
            f"{'' if device.profile == paper_device else ', as a stand-in'}."
            if paper_device else "")
    return Table("paper", "Beside the paper's published figures", (
        Column("source"), Column("model"), Column("method"), Column("metric"),
        Column("paper's device"), Column("paper", 2), Column("ours", 2), Column(OWN_TIME, 2),
        Column("ours / paper", 2), Column("backend: paper / ours"), Column("compared"),
        Column("reading"), Column("the paper's sentence")), tuple(rows),
        "Only the cells the paper's text gives a number for (launcher/report/paper.py). "
        "Latencies and speed-ups: 'ours' is copy 1 timed by Keras predict() per image, the "
        "paper's likely way, and only it can get a ratio; '" + OWN_TIME + "' is copy 1 timed "
        "by one call per image (a .tflite's only way: it has no predict), shown beside and "
        "never divided by the paper's (docs/methodology.md, \"Latency\"). "
        "Latencies, speed-ups and compression times get a ratio only when ours ran on the "
        "paper's device with the paper's backends (TensorFlow on the Jetson's GPU, TFLite on "
        "its ARM CPU); elsewhere both numbers stand side by side without one. The paper's "
        "compression times are held against our total (load + compression + save). "
        "'ambiguous' marks a reading the paper's text does not settle. No ratio either where "
        "our network is not the one the paper's stack builds (its fingerprint: launcher/"
        "report/networks.py)." + twin)
