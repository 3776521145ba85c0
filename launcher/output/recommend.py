"""The document ``edgecompress recommend --json`` prints (schema/recommend-output.schema.json),
filled from launcher/report/recommend.py's recommendations; the table view reads it too, so the
two cannot disagree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from launcher.output.base import Document, Out
from launcher.report.recommend import RULE_TEXT, UNITS, Judged, Recommendation
from launcher.study.campaign import GoalConfig, Objective


class Goal(Out):
    max_accuracy_drop_pts: float = Field(ge=0, le=100)
    minimize: Objective
    unit: str = Field(description="the objective's unit: ms (copy 1's mean latency per "
                      "image), bytes (gzip) or mJ (energy per inference)")
    source: Literal["campaign", "default", "command line"] = Field(
        description="where the budget and objective came from: the campaign's [goal], the "
        "default (1 point, latency), or --max-drop / --minimize")


class Candidate(Out):
    method: str
    drop_pts: float = Field(description="base mean - method mean top-1 over copies, points")
    judged_drop_pts: float = Field(description="what is held against the budget: the upper "
                                   "end of a one-sided 95 % t interval, or the point drop with "
                                   "one copy")
    rule: Literal["paired t", "welch t", "one copy"]
    base_copies: int = Field(ge=1)
    copies: int = Field(ge=1)
    meets: bool = Field(description="judged drop within the budget")
    objective: float | None = Field(description="the objective's value; null: not measured")


class ModelRecommendation(Out):
    profile: str
    device: str = Field(description="board or CPU, TensorFlow version, power mode")
    model: str
    method: str | None = Field(description="the recommended method; null: none meets the "
                               "budget (or none has the objective measured)")
    closest: str | None = Field(description="when none meets the budget: the candidate with "
                                "the smallest judged drop")
    base_objective: float | None
    note: str
    candidates: list[Candidate]


class RecommendDocument(Document):
    command: Literal["recommend"] = "recommend"
    store: str
    campaign: str
    goal: Goal
    rule: str = Field(description="how the accuracy drop is judged against the budget")
    recommendations: list[ModelRecommendation]


def candidate(judged: Judged) -> Candidate:
    return Candidate(method=judged.method, drop_pts=judged.drop_pts,
                     judged_drop_pts=judged.judged_drop_pts, rule=judged.rule,
                     base_copies=judged.base_copies, copies=judged.copies, meets=judged.meets,
                     objective=judged.objective)


GoalSource = Literal["campaign", "default", "command line"]


def recommend_document(store: str, campaign: str, goal: GoalConfig, source: GoalSource,
                       found: Sequence[tuple[str, str, Recommendation]]) -> RecommendDocument:
    """``found``: (profile, device, recommendation) per model and device."""
    return RecommendDocument(
        store=store, campaign=campaign, goal=Goal(
            max_accuracy_drop_pts=goal.max_accuracy_drop, minimize=goal.minimize,
            unit=UNITS[goal.minimize], source=source), rule=RULE_TEXT, recommendations=[
            ModelRecommendation(
                profile=profile, device=device, model=r.model, method=r.method,
                closest=r.closest.method if r.closest else None,
                base_objective=r.base_objective, note=r.note,
                candidates=[candidate(j) for j in r.candidates])
            for profile, device, r in found])
