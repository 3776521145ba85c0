"""PNG figures like the paper's Figures 2-5, one set per device: grouped bars, x = model,
one bar per method, error bars where there is a spread (std over copies); every latency bar
names the backend that ran it. Then the figure the paper lacks: per model, accuracy drop
against latency speed-up, one marker per method sized by its size reduction, the Pareto front
drawn (launcher/report/tradeoff.py).
matplotlib with the Agg backend: no display needed, same pixels everywhere; every text plain,
never mathtext (``draw_all``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: never look for a display

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

from launcher.inert import inert_line  # noqa: E402
from launcher.report.cells import MB, Cell, Cells, mean_std, method_order, model_order  # noqa: E402
from launcher.report.tables import DeviceReport  # noqa: E402
from launcher.report.tradeoff import Point, pareto_front, tradeoff_points  # noqa: E402

Series = Callable[[Cell], tuple[float | None, float | None]]  # cell -> (height, error)
Label = Callable[[Cell], str | None]  # cell -> text written on its bar


@dataclass(frozen=True)
class FigureSpec:
    key: str
    title: str
    ylabel: str
    series: Series
    log: bool = False
    bar_label: Label | None = None
    caption: str = ""


@dataclass(frozen=True)
class Drawn:
    title: str
    path: Path
    caption: str = ""


def _accuracy(cell: Cell) -> tuple[float | None, float | None]:
    mean, std = mean_std(list(cell.accuracy.values()))
    return (None if mean is None else 100 * mean), (None if std is None else 100 * std)


def _latency(cell: Cell) -> tuple[float | None, float | None]:
    first = cell.first
    return (first.latency_ms_mean, first.latency_ms_std) if first else (None, None)


def _size(cell: Cell) -> tuple[float | None, float | None]:
    sized = cell.sized
    return (sized.bytes / MB, None) if sized else (None, None)


def _gzip(cell: Cell) -> tuple[float | None, float | None]:
    sized = cell.sized
    return (sized.gzip_bytes / MB, None) if sized else (None, None)


def _compression(cell: Cell) -> tuple[float | None, float | None]:
    return mean_std(cell.compression_s)


def _compression_total(cell: Cell) -> tuple[float | None, float | None]:
    return mean_std(cell.compression_total_s)


def _backend(cell: Cell) -> str | None:
    return cell.first.backend if cell.first else None


FIGURES = (
    FigureSpec("fig2-accuracy", "Figure 2: top-1 accuracy (mean ± std over copies)",
               "top-1 accuracy (%)", _accuracy),
    FigureSpec("fig3-latency", "Figure 3: latency on copy 1 (mean ± std over runs)",
               "ms per image", _latency, bar_label=_backend,
               caption="Each bar names the backend that ran it: tf-gpu / tf-cpu (TensorFlow "
               "on the GPU / CPU), tflite-cpu (the TFLite interpreter on the CPU). The paper "
               "ran TensorFlow on the Jetson's GPU and TFLite on its ARM CPU. A model timed "
               "both ways is drawn by call, its own time (the latency table has its predict "
               "row too)."),
    FigureSpec("fig4-size", "Figure 4: model size", "MB", _size),
    FigureSpec("fig4-size-gzip", "Figure 4 (gzip): model size after gzip", "MB", _gzip),
    FigureSpec("fig5-compression-time",
               "Figure 5: compression time, compression alone (mean ± std)",
               "seconds", _compression),
)
# Figure 5 with load and save included, where every timed cell recorded the total: the time
# the paper's is held against. Drawn instead of the compression alone when it exists.
FIG5_TOTAL = FigureSpec(
    "fig5-compression-time",
    "Figure 5: compression time, load + compression + save (mean ± std)",
    "seconds", _compression_total,
    caption="The total the paper's compression times are held against; the table "
    "'Compression time' gives the compression alone, load and save.")


def figures_for(cells: Cells) -> tuple[FigureSpec, ...]:
    timed = [c for c in cells.values() if c.compression_s]
    total = bool(timed) and all(len(c.compression_total_s) == len(c.compression_s)
                                for c in timed)
    return tuple(FIG5_TOTAL if total and spec.key == FIG5_TOTAL.key else spec
                 for spec in FIGURES)



PALETTE_ORDER = ("base", "fp16", "int8", "prune25", "prune50", "prune75", "distill", "scratch")


def colour_index(method: str) -> int:
    """One colour per method in every figure, so a reader learns it once."""
    if method in PALETTE_ORDER:
        return PALETTE_ORDER.index(method)
    return len(PALETTE_ORDER) + sum(map(ord, method)) % (10 - len(PALETTE_ORDER))


def draw(spec: FigureSpec, cells: Cells, device_label: str, path: Path) -> Path | None:
    """One grouped-bar PNG; None when no cell has a value for it."""
    values = {key: spec.series(cell) for key, cell in cells.items()}
    values = {key: v for key, v in values.items() if v[0] is not None}
    if not values:
        return None
    models = sorted({m for m, _ in values}, key=model_order)
    methods = sorted({m for _, m in values}, key=method_order)
    bar = 0.8 / len(methods)
    width = max(6.0, 1.2 + 1.3 * len(models))
    figure, axes = plt.subplots(figsize=(width, 4.2), dpi=100)
    try:
        colours = plt.get_cmap("tab10")
        for index, method in enumerate(methods):
            xs, heights, errors, labels = [], [], [], []
            for position, model in enumerate(models):
                height, error = values.get((model, method), (None, None))
                if height is None:
                    continue
                xs.append(position - 0.4 + bar * (index + 0.5))
                heights.append(height)
                errors.append(error or 0.0)
                cell = cells[(model, method)]
                labels.append(inert_line((spec.bar_label(cell) if spec.bar_label else None)
                                         or ""))
            axes.bar(xs, heights, bar, yerr=errors if any(errors) else None, capsize=2,
                     label=inert_line(method), color=colours(colour_index(method)))
            if spec.bar_label:  # above the error bar, so the two never overlap
                for x, top, error, text in zip(xs, heights, errors, labels, strict=True):
                    axes.annotate(text, (x, top + error), xytext=(0, 3),
                                  textcoords="offset points", rotation=90, fontsize=7,
                                  ha="center", va="bottom")
        if spec.bar_label:
            axes.margins(y=0.25)  # room above the tallest bar for its label
        axes.set_xticks(range(len(models)), [inert_line(m) for m in models],
                        rotation=15 if len(models) > 3 else 0)
        axes.set_ylabel(spec.ylabel)
        axes.set_title(f"{spec.title}\n{device_label}", fontsize=10)
        if spec.log:
            axes.set_yscale("log")
        # Below the axes: over the bars it would hide them.
        axes.legend(fontsize=8, ncols=min(len(methods), max(4, int(width))), loc="upper center",
                    bbox_to_anchor=(0.5, -0.14 if len(models) <= 3 else -0.22), frameon=False)
        axes.grid(axis="y", alpha=0.3)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
    return path


TRADEOFF_TITLE = "Which compression on this device: accuracy drop against latency speed-up"
TRADEOFF_CAPTION = (
    "What the paper does not show. One panel per model, one marker per method (the base at "
    "1x, 0), its area the size reduction; the line joins the Pareto front (ringed): the "
    "methods no other is both faster and more accurate than. Best is bottom right. Speed-ups "
    "compare the backends named in the legend, each latency the model's own time (timed by "
    "call where a campaign timed it by predict too); the table 'Which compression for this "
    "device' lists the same points.")


FINE_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100)
COARSE_TICKS = (0.01, 0.1, 0.5, 1, 2, 10, 100)


def _log_speedup_axis(axes: Any, speedups: list[float]) -> None:
    """A log axis (13x slower and 4x faster both stay readable) with ticks like 0.5x, 1x, 2x
    that fit its range, the base's 1x always inside."""
    finite = [x for x in speedups if 0 < x < float("inf")] or [1.0]
    low, high = min(*finite, 1.0) / 1.4, max(*finite, 1.0) * 1.4
    axes.set_xscale("log")
    axes.set_xlim(low, high)
    ticks = [t for t in FINE_TICKS if low <= t <= high]
    if len(ticks) > 7:
        ticks = [t for t in COARSE_TICKS if low <= t <= high]
    axes.set_xticks(ticks, [f"{t:g}x" for t in ticks])
    axes.xaxis.set_minor_formatter(NullFormatter())


def _legend_label(method: str, points: list[Point]) -> str:
    backends = sorted({p.backend for p in points if p.method == method and p.backend})
    return inert_line(f"{method} ({'/'.join(backends)})" if backends else method)


def draw_tradeoff(cells: Cells, device_label: str, path: Path) -> Path | None:
    """One panel per model: x = latency speed-up %, y = accuracy drop in points, marker area
    = size reduction, the Pareto front as a line. None when no model has two points."""
    by_model = tradeoff_points(cells)
    if not by_model:
        return None
    columns = min(3, len(by_model))
    rows = -(-len(by_model) // columns)
    width, height = max(9.0, 4.6 * columns), 3.9 * rows + 0.8
    figure, grid = plt.subplots(rows, columns, figsize=(width, height), dpi=100, squeeze=False)
    try:
        colours = plt.get_cmap("tab10")
        every = [p for points in by_model.values() for p in points]
        methods = sorted({p.method for p in every}, key=method_order)
        for axes, (model, points) in zip(grid.flat, by_model.items(), strict=False):
            front = pareto_front(points)
            axes.plot([p.speedup_x for p in front], [p.drop_pts for p in front], "-",
                      color="0.35", linewidth=1, zorder=1)
            for p in points:
                axes.scatter(p.speedup_x, p.drop_pts, s=40 * (p.size_reduction_x or 1.0),
                             color=colours(colour_index(p.method)), alpha=0.75, zorder=2,
                             edgecolors="black" if p in front else "none", linewidths=1.2)
                axes.annotate(inert_line(p.method), (p.speedup_x, p.drop_pts), fontsize=6,
                              xytext=(5, 5), textcoords="offset points", zorder=3)
            _log_speedup_axis(axes, [p.speedup_x for p in points])
            axes.axhline(0, color="0.8", linewidth=0.8, zorder=0)
            axes.axvline(1, color="0.8", linewidth=0.8, zorder=0)
            axes.set_title(inert_line(f"{model}, base on {points[0].base_backend}"), fontsize=9)
            axes.set_xlabel("latency speed-up, base / method (log)  → faster", fontsize=8)
            axes.set_ylabel("accuracy drop (points)  ↓ better", fontsize=8)
            axes.tick_params(labelsize=7)
            axes.grid(alpha=0.3)
            axes.margins(y=0.15)
        for axes in list(grid.flat)[len(by_model):]:
            axes.set_visible(False)
        handles = [Line2D([], [], marker="o", linestyle="", markersize=7,
                              color=colours(colour_index(m)), label=_legend_label(m, every))
                   for m in methods]
        handles += [Line2D([], [], marker="o", linestyle="", color="0.6",
                               markersize=(40 * x) ** 0.5, label=f"size ÷{x:g}")
                    for x in (1, 4, 10)]
        handles.append(Line2D([], [], color="0.35", marker="o", markerfacecolor="none",
                              markeredgecolor="black", label="Pareto front (ringed)"))
        figure.legend(handles=handles, loc="lower center", ncols=min(len(handles), 5),
                      fontsize=7, frameon=False)
        figure.suptitle(f"{TRADEOFF_TITLE}\n{device_label}", fontsize=10)
        figure.tight_layout(rect=(0, 0.75 / height, 1, 1))
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
    return path


def draw_all(report: DeviceReport, folder: Path) -> list[Drawn]:
    """The device's figures. Labels, titles, ticks and legends quote results (models, methods,
    backends, the device's CPU and power mode): each goes in through inert_line (a control
    character would reach the terminal too, in matplotlib's missing-glyph warning) and is
    drawn as written, never as mathtext: a '$' in a result would be parsed as TeX, and a bad
    one would fail the whole report (ParseFatalException)."""
    drawn = []
    label = inert_line(f"{report.device.profile}: {report.device.label}")
    # Around the drawing and the saving both: tick labels are made as the figure is saved.
    with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
        for spec in figures_for(report.cells):
            path = draw(spec, report.cells, label,
                        folder / f"{spec.key}-{report.device.slug}.png")
            if path is not None:
                drawn.append(Drawn(spec.title, path, spec.caption))
        path = draw_tradeoff(report.cells, label, folder / f"tradeoff-{report.device.slug}.png")
        if path is not None:
            drawn.append(Drawn(TRADEOFF_TITLE, path, TRADEOFF_CAPTION))
    return drawn
