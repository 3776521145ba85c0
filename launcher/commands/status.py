"""edgecompress status CAMPAIGN: done / to do / failed per job of a campaign."""

from __future__ import annotations

import argparse

from launcher.commands._options import add_json
from launcher.commands.campaign import add_campaign_arguments, campaign_config, campaign_profile
from launcher.console import console
from launcher.device.profiles import Profile, get_profile
from launcher.docker_client import Engine
from launcher.errors import EngineError, UserError
from launcher.output.base import emit
from launcher.output.build import status_document
from launcher.store import Store
from launcher.study import training_placement
from launcher.study.fetch import cached_weights, weights_needed
from launcher.study.manifest import find_manifests
from launcher.study.plan import expand
from launcher.study.resolve import Resolver, State, dataset_folder
from launcher.views import status_tables
from launcher.weights_cache import WeightsCache


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("status", help="done / to do / failed per job of a campaign")
    add_campaign_arguments(parser)
    parser.add_argument("--all", action="store_true", help="list done jobs too (--json: "
                        "always)")
    add_json(parser, "status-output")
    parser.set_defaults(handler=run)


def current_image_id(profile: Profile) -> str | None:
    try:
        return Engine.connect().image_id(profile.image)
    except EngineError:
        return None


def run(args: argparse.Namespace) -> int:
    config = campaign_config(args, from_store=True)
    profile = get_profile(campaign_profile(args, config))
    plan = expand(config)
    store = Store(args.store)
    image_id = current_image_id(profile)
    if image_id is None:
        recorded = find_manifests(args.store, config.name, profile.name)
        if not recorded:
            raise UserError(f"cannot tell the image id of {profile.image}: start the Docker "
                            f"engine, or run the campaign into {args.store} first")
        image_id = recorded[0].image_id
    train_image_id = None
    if config.train_profile not in (None, profile.name):
        training = get_profile(str(config.train_profile))
        recorded_ids = training_placement.recorded_image_ids(store, training.image)
        train_image_id = current_image_id(training) or next(iter(recorded_ids), None)
    needed = weights_needed(plan, profile.tensorflow,
                            get_profile(str(config.train_profile)).tensorflow
                            if config.train_profile else None)
    resolver = Resolver(plan, store, image_id, dataset_folder(plan, store, create=False),
                        train_image_id, cached_weights(needed, WeightsCache.from_settings()))
    assessments = resolver.assess_all()
    complete = all(a.state is State.done for a in assessments)
    if args.json:
        emit(status_document(config.name, profile.name, store.root, assessments))
        return 0 if complete else 1
    title = f"campaign {config.name} on {profile.name} ({store.root})"
    for table in status_tables(title, assessments, show_done=args.all):
        console.print(table)
    return 0 if complete else 1
