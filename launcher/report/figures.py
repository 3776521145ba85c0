"""PNG figures like the paper's Figures 2-5, one set per device: grouped bars, x = model,
one bar per method, error bars where there is a spread (std over copies).
matplotlib with the Agg backend: no display needed, same pixels everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: never look for a display

import matplotlib.pyplot as plt  # noqa: E402

from launcher.report.cells import MB, Cell, Cells, mean_std, method_order, model_order  # noqa: E402
from launcher.report.tables import DeviceReport  # noqa: E402

Series = Callable[[Cell], tuple[float | None, float | None]]  # cell -> (height, error)


@dataclass(frozen=True)
class FigureSpec:
    key: str
    title: str
    ylabel: str
    series: Series
    log: bool = False


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


FIGURES = (
    FigureSpec("fig2-accuracy", "Figure 2: top-1 accuracy (mean ± std over copies)",
               "top-1 accuracy (%)", _accuracy),
    FigureSpec("fig3-latency", "Figure 3: latency on copy 1 (mean ± std over runs)",
               "ms per image", _latency),
    FigureSpec("fig4-size", "Figure 4: model size", "MB", _size),
    FigureSpec("fig4-size-gzip", "Figure 4 (gzip): model size after gzip", "MB", _gzip),
    FigureSpec("fig5-compression-time",
               "Figure 5: compression time (mean ± std over timed runs)", "seconds",
               _compression),
)


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
    width = 0.8 / len(methods)
    figure, axes = plt.subplots(figsize=(max(6.0, 1.2 + 1.3 * len(models)), 4.2), dpi=100)
    try:
        colours = plt.get_cmap("tab10")
        for index, method in enumerate(methods):
            xs, heights, errors = [], [], []
            for position, model in enumerate(models):
                height, error = values.get((model, method), (None, None))
                if height is None:
                    continue
                xs.append(position - 0.4 + width * (index + 0.5))
                heights.append(height)
                errors.append(error or 0.0)
            axes.bar(xs, heights, width, yerr=errors if any(errors) else None, capsize=2,
                     label=method, color=colours(colour_index(method)))
        axes.set_xticks(range(len(models)), models, rotation=15 if len(models) > 3 else 0)
        axes.set_ylabel(spec.ylabel)
        axes.set_title(f"{spec.title}\n{device_label}", fontsize=10)
        if spec.log:
            axes.set_yscale("log")
        # Below the axes: over the bars it would hide them.
        axes.legend(fontsize=8, ncols=min(len(methods), 7), loc="upper center",
                    bbox_to_anchor=(0.5, -0.14 if len(models) <= 3 else -0.22), frameon=False)
        axes.grid(axis="y", alpha=0.3)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
    return path


def draw_all(report: DeviceReport, folder: Path) -> list[tuple[FigureSpec, Path]]:
    drawn = []
    for spec in FIGURES:
        path = draw(spec, report.cells, f"{report.device.profile}: {report.device.label}",
                    folder / f"{spec.key}-{report.device.slug}.png")
        if path is not None:
            drawn.append((spec, path))
    return drawn
