"""Which compression should I use on this device? Per model, every method as a point: latency
speed-up against accuracy drop (both vs the model's base), with its size reduction, and the
Pareto front of the two. Pure: cells in, points out; figures.py draws them.

A point is on the front when no other point of the same model is at least as fast and at
least as accurate and strictly better in one of the two. The base itself is a point (no
speed-up, no drop): a method that is slower and less accurate than the base is never on the
front, and a front of the base alone says "do not compress on this device".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from launcher.report.cells import (
    Cells,
    accuracy_drop_pts,
    family_of,
    latency_backend,
    latency_speedup_pct,
    method_order,
    model_order,
    size_reduction_x,
)


@dataclass(frozen=True)
class Point:
    method: str
    speedup_pct: float  # (base - method) / base latency, %: right is faster
    drop_pts: float  # base - method top-1, points: lower is better
    size_reduction_x: float | None  # base size / method size
    backend: str | None  # what ran the method's latency
    base_backend: str | None = None  # what ran the base's

    @property
    def speedup_x(self) -> float:
        """base latency / method latency: 2 is twice as fast, 0.5 twice as slow."""
        return 1 / (1 - self.speedup_pct / 100) if self.speedup_pct < 100 else float("inf")


def dominates(a: Point, b: Point) -> bool:
    return (a.speedup_pct >= b.speedup_pct and a.drop_pts <= b.drop_pts
            and (a.speedup_pct > b.speedup_pct or a.drop_pts < b.drop_pts))


def pareto_front(points: Sequence[Point]) -> list[Point]:
    """The points no other point dominates, by speed-up (slowest first)."""
    front = [p for p in points if not any(dominates(q, p) for q in points)]
    return sorted(front, key=lambda p: (p.speedup_pct, -p.drop_pts, method_order(p.method)))


def tradeoff_points(cells: Cells) -> dict[str, list[Point]]:
    """model -> its base and every compression with both a speed-up and an accuracy drop
    (scratch is the distillation's baseline, not a compression of the model: left out)."""
    models = sorted({m for m, _ in cells}, key=model_order)
    found: dict[str, list[Point]] = {}
    for model in models:
        base_backend = latency_backend(cells, model, "base")
        points = []
        for method in sorted({m for k, m in cells if k == model}, key=method_order):
            if method != "base" and family_of(method) is None:
                continue
            speedup = 0.0 if method == "base" else latency_speedup_pct(cells, model, method)
            drop = 0.0 if method == "base" else accuracy_drop_pts(cells, model, method)
            if speedup is None or drop is None or not (
                    math.isfinite(speedup) and math.isfinite(drop)):
                continue  # no number, or one out of range (results.in_range): no point
            if method == "base" and latency_backend(cells, model, "base") is None:
                continue
            reduction = 1.0 if method == "base" else size_reduction_x(cells, model, method)
            if reduction is not None and not math.isfinite(reduction):
                reduction = None
            points.append(Point(method, speedup, drop, reduction,
                                latency_backend(cells, model, method), base_backend))
        if len(points) > 1:
            found[model] = points
    return found
