"""A campaign's run as the API returns it (``CampaignRun``), and the further rounds a
``[goal] search`` adds (launcher/report/sparsity_search.py picks each round's levels): every
round is the campaign again with more pruneNN methods, its jobs ordinary keyed ones."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from launcher.contract.record import JobStatus
from launcher.execution.schedule import Summary
from launcher.report.cells import build_cells
from launcher.report.recommend import Recommendation, recommend
from launcher.report.results import load as load_results
from launcher.report.sparsity_search import next_levels
from launcher.store import Store
from launcher.study.campaign import CampaignConfig, GoalConfig
from launcher.study.plan import Plan


@dataclass(frozen=True)
class CampaignRun:
    """What ``run_campaign`` did: the campaign, its plan, where it ran and the summary."""

    config: CampaignConfig
    plan: Plan
    store: Path
    profile: str
    image: str
    slots: int  # jobs at once on this machine; 1 per board on a fleet
    fleet: str | None
    summary: Summary
    searched: tuple[str, ...] = ()  # the pruneNN methods a [goal] search added, in order

    @property
    def status(self) -> Literal["complete", "interrupted", "incomplete"]:
        if self.summary.canceled is not None:
            return "interrupted"
        return "complete" if self.summary.complete else "incomplete"


def judge(store: Path, config: CampaignConfig, profile: str) -> list[Recommendation]:
    """The recommendation for each model of ``config`` on ``profile``, from the store."""
    measured = [item for item in load_results(Store(store), [config.name]).measured
                if item.device.profile == profile]
    goal = config.goal or GoalConfig()
    return [found for cells in build_cells(measured).values()
            for found in recommend(cells, goal)]


MAX_SEARCH_ROUNDS = 12  # 99 points of sparsity halve to 1 in 7 rounds: a guard, not a limit


def search_pruning(done: CampaignRun, run_round: Callable[[CampaignConfig], CampaignRun],
                   say: Callable[[str], None], judged: Callable[[CampaignRun], list[Recommendation]]
                   = lambda run: judge(run.store, run.config, run.profile)) -> CampaignRun:
    """``[goal] search``: while a model's budget edge is not bracketed within the resolution,
    the campaign runs again with the midpoints as pruneNN methods (launcher/report/
    sparsity_search.py): ordinary keyed jobs, so a re-run reuses every probe. The last run's
    config lists every level measured."""
    assert done.config.goal is not None
    for _round in range(MAX_SEARCH_ROUNDS):
        if done.status != "complete":
            break
        wanted = next_levels(judged(done), done.config.goal.search_resolution)
        new = [f"prune{level}" for level in sorted(set(wanted.values()))
               if f"prune{level}" not in done.config.methods]
        if not new:
            break
        say("search: " + ", ".join(f"{model} next at {level} %"
                                   for model, level in sorted(wanted.items())))
        earlier = done
        done = run_round(done.config.model_copy(
            update={"methods": [*done.config.methods, *new]}))
        done = dataclasses.replace(done, summary=after(earlier.summary, done.summary),
                                   searched=(*earlier.searched, *new))
    return done


def after(earlier: Summary, later: Summary) -> Summary:
    """Two rounds of one campaign as one: what ran in either, what the last found done
    before it started, its failures; the wall time of both."""
    return dataclasses.replace(
        later, ran=[*earlier.ran, *later.ran],
        reused=max(0, later.reused - sum(1 for o in earlier.ran
                                         if o.record.status is JobStatus.succeeded)),
        wall_s=earlier.wall_s + later.wall_s,
        most_running=max(earlier.most_running, later.most_running))
