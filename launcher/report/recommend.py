"""Which compression to ship: per model and device, the method within the accuracy budget that
is best on the objective (``[goal]`` of a campaign: launcher/study/campaign.py GoalConfig).
Pure: cells in, recommendations out; the report's first table and ``edgecompress recommend``
(launcher/commands/recommend.py) both read them.

The rule for "within the budget" (docs/campaigns.md, "Recommendation"):

- With at least two copies measured on both sides, a method meets the budget when the upper
  end of a one-sided 95 % Student's t interval of its accuracy drop is within the budget: we
  are 95 % sure it loses no more than that. The drop is paired by copy where the copies pair
  up (copy N of a compression is made from copy N of the base, so a copy's luck in training
  cancels out: t on the per-copy differences, n - 1 degrees of freedom); where they do not
  (different copies on each side), Welch's interval on the two means.
- With one copy on either side there is no spread to judge: the point drop is held against the
  budget, and the recommendation is flagged ``one copy`` (run ``--copies 3`` or more).

Candidates are the compressions of the model (single methods and chains; the base is the
reference, not a candidate, and scratch is distillation's baseline, not a compression of the
model). Among those that meet the budget and have the objective measured, the lowest value
wins; ties go to the smaller judged drop, then to the method order of the report. When none
meets the budget the recommendation says so and names the closest: the candidate with the
smallest judged drop.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from launcher.compare.stats import t_quantile
from launcher.report.cells import (
    Cells,
    family_of,
    latency_ms,
    method_order,
    model_order,
    size_bytes,
)
from launcher.study.campaign import GoalConfig, Objective

CONFIDENCE = 0.95  # one-sided: the drop is at most the judged drop with this probability
DEFAULT_GOAL = GoalConfig()
Rule = Literal["paired t", "welch t", "one copy"]
UNITS: dict[Objective, str] = {"latency": "ms", "size": "gzip bytes", "energy": "mJ"}
RULE_TEXT = (
    "a method meets the budget when the upper end of a one-sided 95 % t interval of its "
    "accuracy drop (paired by copy; Welch's where copies do not pair) is within it, with two "
    "or more copies on each side; with one copy, its point drop (flagged 'one copy')")


@dataclass(frozen=True)
class Judged:
    """One candidate: its accuracy drop and how it was judged, and its objective."""

    method: str
    drop_pts: float  # base mean - method mean, top-1 points (positive: the method lost)
    judged_drop_pts: float  # the upper end of the interval, or the point drop (one copy)
    rule: Rule
    base_copies: int
    copies: int
    meets: bool
    objective: float | None  # ms, gzip bytes or mJ; None: not measured


@dataclass(frozen=True)
class Recommendation:
    model: str
    goal: GoalConfig
    chosen: Judged | None  # None: no candidate meets the budget with the objective measured
    closest: Judged | None  # when none is chosen: the candidate with the least judged drop
    base_objective: float | None
    candidates: tuple[Judged, ...]  # in the report's method order
    note: str  # one sentence: what was chosen and why, or why nothing was

    @property
    def method(self) -> str | None:
        return None if self.chosen is None else self.chosen.method


def judged_drop(base: dict[int, float], method: dict[int, float]) -> tuple[float, float, Rule]:
    """(mean drop, judged drop, rule) in points, from each copy's top-1 (fractions)."""
    drop = 100 * (statistics.fmean(base.values()) - statistics.fmean(method.values()))
    paired = sorted(set(base) & set(method))
    if len(paired) >= 2 and len(paired) == len(base) == len(method):
        differences = [100 * (base[c] - method[c]) for c in paired]
        spread = statistics.stdev(differences) / math.sqrt(len(differences))
        upper = drop + t_quantile(CONFIDENCE, len(differences) - 1) * spread
        return drop, upper, "paired t"
    if len(base) >= 2 and len(method) >= 2:
        variance_b = statistics.variance([100 * v for v in base.values()]) / len(base)
        variance_m = statistics.variance([100 * v for v in method.values()]) / len(method)
        spread = math.sqrt(variance_b + variance_m)
        if spread == 0:
            return drop, drop, "welch t"
        df = spread ** 4 / (variance_b ** 2 / (len(base) - 1)
                            + variance_m ** 2 / (len(method) - 1))
        return drop, drop + t_quantile(CONFIDENCE, df) * spread, "welch t"
    return drop, drop, "one copy"


def objective_value(cells: Cells, model: str, method: str, minimize: Objective
                    ) -> float | None:
    if minimize == "latency":
        value = latency_ms(cells, model, method)
    elif minimize == "size":
        size = size_bytes(cells, model, method, gzip=True)
        value = None if size is None else float(size)
    else:
        cell = cells.get((model, method))
        power = cell.power.get(1) if cell else None
        value = power.energy_per_inference_mj if power else None
    return value if value is not None and math.isfinite(value) else None


def candidates(cells: Cells, model: str, goal: GoalConfig) -> list[Judged]:
    base = cells.get((model, "base"))
    if base is None or not base.accuracy:
        return []
    found = []
    for (of, method), cell in sorted(cells.items(), key=lambda item: method_order(item[0][1])):
        if of != model or method == "base" or family_of(method) is None or not cell.accuracy:
            continue
        values = [*base.accuracy.values(), *cell.accuracy.values()]
        if not all(math.isfinite(v) for v in values):
            continue  # an out-of-range result (results.in_range): no judgement
        drop, judged, rule = judged_drop(base.accuracy, cell.accuracy)
        found.append(Judged(method, drop, judged, rule, len(base.accuracy), len(cell.accuracy),
                            # A drop exactly at the budget meets it, float noise aside.
                            judged <= goal.max_accuracy_drop + 1e-9,
                            objective_value(cells, model, method, goal.minimize)))
    return found


def recommend_model(cells: Cells, model: str, goal: GoalConfig) -> Recommendation:
    judged = candidates(cells, model, goal)
    base_value = objective_value(cells, model, "base", goal.minimize)
    within = [j for j in judged if j.meets]
    usable = [j for j in within if j.objective is not None]
    budget = f"{goal.max_accuracy_drop:g} points"
    if usable:
        chosen = min(usable, key=lambda j: (j.objective, j.judged_drop_pts,
                                            method_order(j.method)))
        note = (f"{chosen.method}: the {goal.minimize} least of the {len(within)} "
                f"within {budget}")
        if chosen.rule == "one copy":
            note += " (one copy: the point drop, no uncertainty; run more copies)"
        if base_value is not None and chosen.objective is not None \
                and chosen.objective >= base_value:
            note += f"; the base itself is lower on {goal.minimize}: consider not compressing"
        return Recommendation(model, goal, chosen, None, base_value, tuple(judged), note)
    if not judged:
        return Recommendation(model, goal, None, None, base_value, (), "no compression with an "
                              "accuracy beside its base's on this device")
    if within:
        return Recommendation(model, goal, None, None, base_value, tuple(judged), (
            f"none: {len(within)} within {budget}, but none has its {goal.minimize} measured "
            "here" + (" (energy needs a Jetson's power sampling)"
                      if goal.minimize == "energy" else "")))
    closest = min(judged, key=lambda j: (j.judged_drop_pts, method_order(j.method)))
    return Recommendation(model, goal, None, closest, base_value, tuple(judged), (
        f"none within {budget}; closest: {closest.method}, judged drop "
        f"{closest.judged_drop_pts:.2f} points ({closest.rule})"))


def recommend(cells: Cells, goal: GoalConfig) -> list[Recommendation]:
    """One recommendation per model that has a base, in the report's model order."""
    models = sorted({m for m, method in cells if method == "base"}, key=model_order)
    return [recommend_model(cells, model, goal) for model in models]


def with_overrides(goal: GoalConfig | None, max_drop: float | None = None,
                   minimize: Objective | None = None) -> GoalConfig:
    """The campaign's goal (else the default), with the command line's values over it."""
    chosen = goal or DEFAULT_GOAL
    update: dict[str, object] = {}
    if max_drop is not None:
        update["max_accuracy_drop"] = max_drop
    if minimize is not None:
        update["minimize"] = minimize
    return GoalConfig.model_validate({**chosen.model_dump(), **update})


def report_goal(goals: Iterable[GoalConfig | None]) -> tuple[GoalConfig, str]:
    """The goal a report recommends against, from its campaigns' goals, and a note when it is
    not simply theirs: none set one (the default), or they differ (the first set is used)."""
    distinct: list[GoalConfig] = []
    for goal in goals:
        if goal is not None and goal not in distinct:
            distinct.append(goal)
    if not distinct:
        return DEFAULT_GOAL, "The campaigns set no [goal]: the default, 1 point and latency."
    if len(distinct) > 1:
        return distinct[0], (f"The campaigns set {len(distinct)} different goals: the first "
                             "one's is used here; edgecompress recommend CAMPAIGN gives "
                             "each.")
    return distinct[0], ""

