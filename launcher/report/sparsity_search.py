"""``[goal] search = true``: which pruning level to measure next, per model, to find where the
accuracy budget's edge lies (docs/campaigns.md, "Recommendation"). Pure: recommendations in,
levels out; ``launcher/api.py`` runs each level as ordinary keyed prune and benchmark jobs.

Bisection over the single pruning levels measured: the highest level that meets the budget (0,
the base itself, when none does) and the lowest level above it that does not bracket the edge.
While they are more than ``resolution`` points of sparsity apart, their midpoint is measured
next. Where drops do not grow with sparsity (one copy's noise can make 25 % lose more than
50 %), the bracket is still well defined and every probe lies strictly inside it, so the search
ends; it then finds an edge, not necessarily the only one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from launcher.report.recommend import Recommendation

PRUNE_LEVEL = re.compile(r"prune([1-9][0-9]?)")


def level_of(method: str) -> int | None:
    """``prune37`` -> 37; a chain or any other method -> None."""
    found = PRUNE_LEVEL.fullmatch(method)
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Bracket:
    """The budget's edge lies above ``within`` (meets it) and at or below ``beyond`` (does
    not); ``beyond`` None: every level measured above ``within`` meets the budget."""

    within: int
    beyond: int | None

    def next_level(self, resolution: int) -> int | None:
        if self.beyond is None or self.beyond - self.within <= resolution:
            return None
        return (self.within + self.beyond) // 2


def bracket(meets: Mapping[int, bool]) -> Bracket:
    """From each measured level's verdict (level -> meets the budget)."""
    within = max((level for level, ok in meets.items() if ok), default=0)
    beyond = min((level for level, ok in meets.items() if not ok and level > within),
                 default=None)
    return Bracket(within, beyond)


def brackets(recommendations: Iterable[Recommendation]) -> dict[str, Bracket]:
    """Per model, the bracket of its single pruning levels judged against the budget."""
    found = {}
    for recommendation in recommendations:
        meets = {level: judged.meets for judged in recommendation.candidates
                 if (level := level_of(judged.method)) is not None}
        if meets:
            found[recommendation.model] = bracket(meets)
    return found


def next_levels(recommendations: Iterable[Recommendation], resolution: int) -> dict[str, int]:
    """Per model whose edge is not yet within ``resolution``, the level to measure next."""
    return {model: level for model, found in brackets(recommendations).items()
            if (level := found.next_level(resolution)) is not None}
