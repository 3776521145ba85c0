"""``--fail-on latency:1.1,accuracy:0.5``: the thresholds a CI job gates a merge with, and the
pairs that cross them. Pure.

A pair crosses a threshold when its change is past the limit AND significant, so noise alone
never fails a build:
- latency:R   B's median over A's above R, and the ratio's interval wholly above 1;
- accuracy:P  B's mean top-1 more than P percentage points under A's, with Welch's p < alpha;
- size:R      B's model file above R times A's (a size is one exact measurement: no test);
- unpaired    any row of either side without a partner (a model or method gone missing, or
              measured otherwise, is not a pass).
"""

from __future__ import annotations

import math

from launcher.output.diff import Metric, Pair, Threshold

RATIO_METRICS = ("latency", "size")
USAGE = "latency:RATIO, accuracy:POINTS, size:RATIO or unpaired, comma-separated"


def parse_fail_on(text: str) -> list[Threshold]:
    """The thresholds in ``text``; ValueError (one line) when it is not a list of them."""
    thresholds: dict[str, Threshold] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        metric, colon, value = item.partition(":")
        metric = metric.strip().lower()
        if metric == "unpaired" and not colon:
            thresholds[metric] = Threshold(metric="unpaired", limit=None)
            continue
        if metric not in ("latency", "accuracy", "size") or not colon:
            raise ValueError(f"{item!r} is not a threshold ({USAGE})")
        try:
            limit = float(value)
        except ValueError:
            raise ValueError(f"{item!r}: {value!r} is not a number") from None
        if not math.isfinite(limit):
            raise ValueError(f"{item!r}: the limit must be a finite number")
        if metric in RATIO_METRICS and limit <= 1:
            raise ValueError(f"{item!r}: a {metric} limit is a ratio above 1 (1.1: 10 % worse)")
        if metric == "accuracy" and limit < 0:
            raise ValueError(f"{item!r}: an accuracy limit is a drop in points, 0 or more")
        if metric in thresholds:
            raise ValueError(f"{metric} is given twice")
        kind: Metric = "latency" if metric == "latency" else (
            "size" if metric == "size" else "accuracy")
        thresholds[metric] = Threshold(metric=kind, limit=limit)
    if not thresholds:
        raise ValueError(f"no threshold given ({USAGE})")
    return list(thresholds.values())


def crossed(pair: Pair, thresholds: list[Threshold]) -> list[str]:
    """What the pair crosses, one phrase each (empty: it passes)."""
    found = []
    for threshold in thresholds:
        limit = threshold.limit
        if limit is None:
            continue
        latency, accuracy, size = pair.latency, pair.accuracy, pair.size
        if threshold.metric == "latency" and latency is not None:
            if latency.ratio > limit and latency.ci_low is not None and latency.ci_low > 1:
                found.append(f"latency {latency.ratio:.3g}x > {limit:g}x")
        elif threshold.metric == "accuracy" and accuracy is not None:
            drop = accuracy.difference_pts
            if drop is not None and -drop > limit and accuracy.significant:
                found.append(f"accuracy {drop:+.3g} pts, more than {limit:g} down")
        elif threshold.metric == "size" and size is not None and size.ratio > limit:
            found.append(f"size {size.ratio:.3g}x > {limit:g}x")
    return found


def fails_on_unpaired(thresholds: list[Threshold]) -> bool:
    return any(t.metric == "unpaired" for t in thresholds)
