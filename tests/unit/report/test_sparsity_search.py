"""``[goal] search`` (launcher/report/sparsity_search.py, launcher/execution/rounds.py): the
bracket and the next level from measured verdicts, the rounds it runs until the budget's edge
is within the resolution (each round the campaign with the new levels as methods), and the
first probe read from a recorded real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.errors import UserError
from launcher.execution.rounds import CampaignRun, judge, search_pruning
from launcher.execution.schedule import Summary
from launcher.report.recommend import Judged, Recommendation
from launcher.report.sparsity_search import Bracket, bracket, level_of, next_levels
from launcher.study.campaign import GoalConfig, load_campaign, parse_config
from launcher.study.manifest import find_manifests
from launcher.study.plan import expand
from tests.paths import RECORDED

GOAL = GoalConfig(max_accuracy_drop=1.0, search=True)


def recommendation(model: str, meets: dict[int, bool], others: tuple[str, ...] = ()
                   ) -> Recommendation:
    judged = tuple(Judged(f"prune{level}", 0.0, 0.0, "one copy", 1, 1, ok, None)
                   for level, ok in sorted(meets.items()))
    judged += tuple(Judged(method, 9.0, 9.0, "one copy", 1, 1, False, None) for method in others)
    return Recommendation(model, GOAL, None, None, None, judged, "")


def test_levels_are_single_pruning_methods_only():
    assert [level_of(m) for m in ("prune37", "prune5", "prune50+int8", "int8", "prune100")] == [
        37, 5, None, None, None]


def test_the_bracket_is_the_highest_level_within_and_the_lowest_beyond_it():
    assert bracket({25: True, 50: True, 75: False}) == Bracket(50, 75)
    assert bracket({25: False, 50: False}) == Bracket(0, 25)  # the base is within any budget
    assert bracket({25: True, 50: True}) == Bracket(50, None)  # nothing measured fails
    # Not monotonic (one copy's noise): 25 fails, 50 meets: the edge searched is above 50.
    assert bracket({25: False, 50: True, 75: False}) == Bracket(50, 75)
    assert Bracket(50, 75).next_level(5) == 62
    assert Bracket(50, 55).next_level(5) is None  # within the resolution: found
    assert Bracket(50, None).next_level(5) is None


def test_next_levels_per_model_ignore_chains_and_other_methods():
    found = next_levels([recommendation("A", {50: True, 75: False}, ("int8", "prune75+int8")),
                         recommendation("B", {50: True, 75: True}),
                         recommendation("C", {}, ("fp16",))], resolution=5)
    assert found == {"A": 62}


def run_of(methods: list[str], status_ok: bool = True) -> CampaignRun:
    config = load_campaign("quick").model_copy(update={"methods": methods, "goal": GOAL})
    summary = Summary() if status_ok else Summary(canceled=object())  # type: ignore[arg-type]
    return CampaignRun(config, expand(config), Path("/store"), "x86-tf2.12", "image", 1, None,
                       summary)


def edge_at(edge: int):  # type: ignore[no-untyped-def]
    """Verdicts of a model whose pruning meets the budget up to ``edge`` % sparsity."""
    def judged(run: CampaignRun) -> list[Recommendation]:
        return [recommendation("MobileNetV3Small", {
            level: level <= edge for m in run.config.methods if (level := level_of(m))})]
    return judged


def test_the_search_runs_rounds_until_the_edge_is_within_the_resolution():
    rounds: list[list[str]] = []
    said: list[str] = []

    def run_round(config):  # type: ignore[no-untyped-def]
        rounds.append(list(config.methods))
        return run_of(list(config.methods))

    done = search_pruning(run_of(["fp16", "prune50", "prune75"]), run_round, said.append,
                          edge_at(37))
    # 50 fails: [0, 50] -> 25 meets -> [25, 50] -> 37 meets -> [37, 50] -> 43 fails -> [37, 43]
    # -> 40 fails -> [37, 40]: within 5 points.
    assert done.searched == ("prune25", "prune37", "prune43", "prune40")
    assert rounds[-1] == ["fp16", "prune50", "prune75", "prune25", "prune37", "prune43",
                          "prune40"]
    assert said[0] == "search: MobileNetV3Small next at 25 %"
    assert len(rounds) == 4


def test_the_search_stops_on_an_incomplete_round_and_never_repeats_a_level():
    def fails(config):  # type: ignore[no-untyped-def]
        return run_of(list(config.methods), status_ok=False)

    done = search_pruning(run_of(["prune50"]), fails, lambda line: None, edge_at(10))
    assert done.searched == ("prune25",) and done.status == "interrupted"

    def never_measured(run: CampaignRun) -> list[Recommendation]:
        # prune25 ran but has no result (failed): still [0, 50], and 25 is not asked again.
        return [recommendation("MobileNetV3Small", {50: False})]

    calls: list[object] = []
    again = search_pruning(run_of(["prune50", "prune25"]), calls.append, lambda line: None,
                           never_measured)
    assert calls == [] and again.searched == ()


def test_a_search_needs_a_pruning_level_to_bisect():
    with pytest.raises(UserError, match=r"\[goal\] search bisects pruning levels"):
        parse_config('name = "x"\nmodels = ["MobileNetV3Small"]\nmethods = ["fp16"]\n'
                     '[goal]\nsearch = true\n', "x.toml")


def test_the_first_probe_of_a_recorded_store():
    """The recorded quick campaign (two copies): prune50 lost 4.48 points on average, judged
    12.40 with two copies' spread (paired t, 1 degree of freedom), so at a 1-point budget it is
    beyond the edge and the search measures 25 % next; at 13 points it is within and nothing
    above it was measured: nothing to search."""
    (manifest,) = find_manifests(RECORDED, "quick", "x86-tf2.12")
    config = manifest.config.model_copy(update={"goal": GOAL})
    found = judge(RECORDED, config, "x86-tf2.12")
    assert next_levels(found, 5) == {"MobileNetV3Small": 25}
    loose = config.model_copy(update={"goal": GOAL.model_copy(update={"max_accuracy_drop": 13})})
    assert next_levels(judge(RECORDED, loose, "x86-tf2.12"), 5) == {}
