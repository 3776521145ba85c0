"""edgecompress recommend CAMPAIGN: per model and device, the compression within the accuracy
budget that is best on the objective (launcher/report/recommend.py), as a table or as one JSON
document (schema/recommend-output.schema.json). Reads the store only: no engine."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import get_args

from launcher.commands._options import add_json, add_store
from launcher.console import console
from launcher.errors import UserError
from launcher.output.base import emit
from launcher.output.recommend import GoalSource, recommend_document
from launcher.report.cells import build_cells
from launcher.report.recommend import recommend, with_overrides
from launcher.report.results import load
from launcher.store import Store
from launcher.study.campaign import PRESETS, CampaignConfig, Objective, load_campaign
from launcher.study.manifest import find_manifests
from launcher.views import recommend_tables


def budget_points(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a drop from 0 to 100 points")
    return value


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "recommend", help="per model and device, the compression within an accuracy budget "
        "that is fastest, smallest or least energy", description="Per model and device of a "
        "campaign's results: the compression whose accuracy drop is within the budget (judged "
        "with the uncertainty over copies: docs/campaigns.md, 'Recommendation') and is best on "
        "the objective; when none is, the closest.")
    parser.add_argument("campaign", metavar="CAMPAIGN", help="quick, paper, a .toml file, or "
                        "the name of a campaign run into the store (its [goal] is the default)")
    add_store(parser)
    parser.add_argument("--profile", help="only this profile's results")
    parser.add_argument("--max-drop", type=budget_points, metavar="POINTS",
                        help="the budget: top-1 points a compression may lose (default: the "
                        "campaign's [goal] max_accuracy_drop, else 1)")
    parser.add_argument("--minimize", choices=get_args(Objective),
                        help="the objective (default: the campaign's [goal] minimize, else "
                        "latency)")
    add_json(parser, "recommend-output")
    parser.set_defaults(handler=run)


def campaign_of(name: str, store: Path, profile: str | None) -> CampaignConfig:
    """A .toml file or a preset as given; a bare name the store has run: its recorded config
    (a preset's name too, since that is what ran)."""
    if not Path(name).suffix:
        found = find_manifests(store, name, profile)
        if found:
            return found[0].config
        if name not in PRESETS:
            raise UserError(f"no campaign {name!r} in {store} and no such preset "
                            f"({', '.join(PRESETS)}): check the name or --store")
    return load_campaign(name)


def run(args: argparse.Namespace) -> int:
    config = campaign_of(args.campaign, args.store, args.profile)
    goal = with_overrides(config.goal, args.max_drop, args.minimize)
    source: GoalSource = ("command line" if args.max_drop is not None
                          or args.minimize is not None
                          else "campaign" if config.goal is not None else "default")
    loaded = load(Store(args.store), [config.name])
    if not loaded.campaigns:
        raise UserError(f"campaign {config.name} has not run into {args.store}: run it with "
                        f"'edgecompress campaign run {args.campaign}' (or pass --store)")
    measured = [m for m in loaded.measured
                if args.profile is None or m.device.profile == args.profile]
    found = [(device.profile, device.label, recommendation)
             for device, cells in build_cells(measured).items()
             for recommendation in recommend(cells, goal)]
    document = recommend_document(str(args.store), config.name, goal, source, found)
    if args.json:
        emit(document)
    else:
        for shown in recommend_tables(document):
            console.print(shown)
    return 0
