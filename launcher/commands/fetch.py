"""edgecompress fetch CAMPAIGN: bring in what the campaign needs from outside (the ImageNet
weights of each architecture it starts from, on each profile's stack, and its tfds dataset,
prepared by a prepare job) so that its jobs run with no network. On a connected machine, then
carry the caches to an offline board (docs/campaigns.md, "Offline boards")."""

from __future__ import annotations

import argparse
from pathlib import Path

from launcher import api, settings, tfds_cache
from launcher.commands.campaign import (
    add_campaign_arguments,
    campaign_config,
    campaign_profile,
    warn,
)
from launcher.console import console
from launcher.contract.results import PrepareResult
from launcher.device.profiles import get_profile
from launcher.study.fetch import Needed, weights_needed
from launcher.study.plan import expand
from launcher.views import escape
from launcher.weights_cache import WeightsCache


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "fetch", help="fetch what a campaign needs from outside (ImageNet weights, its tfds "
        "dataset) into the caches, so that its jobs run offline")
    add_campaign_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = campaign_config(args)
    profile = campaign_profile(args, config)
    needed = weights_needed(expand(config), get_profile(profile).tensorflow,
                            get_profile(config.train_profile).tensorflow
                            if config.train_profile else None)
    dataset = api.campaign_dataset(config)
    if not needed and dataset is None:
        console.print(escape(f"campaign {config.name} on {profile} needs nothing from outside "
                             "(no ImageNet weights, no tfds dataset)"), soft_wrap=True)
        return 0
    fetch_weights(needed, config.train_profile)
    if dataset is not None:
        prepare(dataset, profile, args.store)
    return 0


def prepare(dataset: str, profile: str, store: Path) -> None:
    console.print(escape(f"tfds {dataset}: preparing into {settings.tfds_dir()} "
                         f"(a prepare job on {profile}, the one job with the network)")
                  if tfds_cache.prepared_folder(settings.tfds_dir(), dataset) is None
                  else escape(f"tfds {dataset}: in the cache"), soft_wrap=True)
    done = api.prepare_dataset(dataset, profile=profile, store=store, warn=warn)
    if done is not None and isinstance(done.result, PrepareResult):
        metrics = done.result.metrics
        splits = ", ".join(f"{split} {count}" for split, count in metrics.examples.items())
        console.print(escape(f"tfds {dataset}: {metrics.name} {metrics.version} prepared "
                             f"({splits}; {metrics.prepared_bytes / 1e6:.1f} MB) in "
                             f"{metrics.prepare_s:.0f} s"), soft_wrap=True)


def fetch_weights(needed: list[Needed], train_profile: str | None) -> None:
    if not needed:
        return
    cache = WeightsCache.from_settings(warn)
    for need in needed:
        path = cache.ensure(need.file)
        how = "fetched" if need.file.name in cache.fetched else "in the cache"
        lane = (f" (training on {train_profile})" if need.training and train_profile else "")
        console.print(escape(f"{need.architecture}{lane}: {need.file.name} {how}: {path}"),
                      soft_wrap=True)
    files = {need.file.name for need in needed}
    console.print(escape(f"{len(cache.fetched)} fetched, {len(files) - len(cache.fetched)} "
                         f"already in {cache.root}"), soft_wrap=True)
