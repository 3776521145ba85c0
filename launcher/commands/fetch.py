"""edgecompress fetch CAMPAIGN: bring in what the campaign needs from outside (the ImageNet
weights of each architecture it starts from, on each profile's stack) so that its jobs run
with no network. On a connected machine, then carry the cache to an offline board
(docs/campaigns.md, "Offline boards")."""

from __future__ import annotations

import argparse

from launcher.commands.campaign import (
    add_campaign_arguments,
    campaign_config,
    campaign_profile,
    warn,
)
from launcher.console import console
from launcher.device.profiles import get_profile
from launcher.study.fetch import weights_needed
from launcher.study.plan import expand
from launcher.views import escape
from launcher.weights_cache import WeightsCache


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "fetch", help="fetch what a campaign needs from outside (ImageNet weights) into the "
        "cache, so that its jobs run offline")
    add_campaign_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = campaign_config(args)
    profile = campaign_profile(args, config)
    needed = weights_needed(expand(config), get_profile(profile).tensorflow,
                            get_profile(config.train_profile).tensorflow
                            if config.train_profile else None)
    cache = WeightsCache.from_settings(warn)
    if not needed:
        console.print(escape(f"campaign {config.name} on {profile} needs nothing from outside "
                             "(no ImageNet weights)"), soft_wrap=True)
        return 0
    for need in needed:
        path = cache.ensure(need.file)
        how = "fetched" if need.file.name in cache.fetched else "in the cache"
        lane = (f" (training on {config.train_profile})"
                if need.training and config.train_profile else "")
        console.print(escape(f"{need.architecture}{lane}: {need.file.name} {how}: {path}"),
                      soft_wrap=True)
    files = {need.file.name for need in needed}
    console.print(escape(f"{len(cache.fetched)} fetched, {len(files) - len(cache.fetched)} "
                         f"already in {cache.root}"), soft_wrap=True)
    return 0
