"""edgecompress campaign run|plan CAMPAIGN: the study as a preset (paper, quick) or a TOML
file, expanded into jobs; ``run`` runs what is not done yet, ``plan`` only lists."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from launcher import settings
from launcher.commands._options import (
    add_json,
    add_limits,
    add_store,
    add_wait,
    deadline_seconds,
    flatten,
    limits_from,
    names,
)
from launcher.commands.fleet import add_fleet_option, fleet_url
from launcher.console import console, errors
from launcher.contract.record import JobStatus
from launcher.contract.specs import JOB_NAMES
from launcher.device.profiles import DEFAULT_PROFILE, PROFILES, get_profile
from launcher.docker_client import Engine
from launcher.errors import UserError
from launcher.execution.local import (
    LocalSite,
    Training,
    default_parallel,
    fit_parallel,
    share_memory,
)
from launcher.execution.schedule import run_plan
from launcher.execution.site import Site
from launcher.fleet.connect import connect_fleet
from launcher.fleet.site import FleetSite
from launcher.limits import Limits
from launcher.output.base import emit
from launcher.output.build import plan_document
from launcher.store_lock import command_line, store_lock
from launcher.study import training_placement
from launcher.study.campaign import PRESETS, CampaignConfig, load_campaign, with_overrides
from launcher.study.fetch import fetch_weights, weights_needed
from launcher.study.manifest import find_manifests
from launcher.study.plan import Plan, expand
from launcher.study.progress import CampaignProgress
from launcher.study.resolve import WeightsLookup
from launcher.target import Target, connect, host_memory, job_limits
from launcher.views import counts_table, escape
from launcher.weights_cache import WeightsCache

MAX_PARALLEL = 64


def add_campaign_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("campaign", metavar="CAMPAIGN",
                        help="a preset (paper, quick), a campaign TOML file, or for status "
                        "the name of a campaign run into the store")
    parser.add_argument("--profile", choices=sorted(PROFILES),
                        help="device profile (default: the campaign's, else "
                        f"{DEFAULT_PROFILE})")
    parser.add_argument("--models", nargs="+", type=names, metavar="MODEL",
                        help="only these models")
    parser.add_argument("--methods", nargs="+", type=names, metavar="METHOD",
                        help="only these methods (fp16 int8 pruneNN distill scratch)")
    parser.add_argument("--copies", type=int, metavar="N", help="trained copies")
    parser.add_argument("--train-profile", choices=sorted(PROFILES),
                        help="key and run the train and scratch jobs on this profile (same "
                        "TensorFlow minor version as the device): train on a workstation, "
                        "merge, compress on the device")
    add_store(parser)


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "campaign", help="the study as a campaign: a preset (paper, quick) or a TOML file")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    run_parser = actions.add_parser(
        "run", help="run what is not done yet: done jobs are reused, an interrupted campaign "
        "resumes, failed jobs are left failed unless --retry-failed")
    add_campaign_arguments(run_parser)
    add_wait(run_parser)
    run_parser.add_argument("--retry-failed", action="store_true",
                            help="run the jobs whose last attempt failed again")
    run_parser.add_argument("--timeout", type=deadline_seconds,
                            help="per-job deadline in seconds (default: the campaign's, "
                            "else generous per job kind)")
    run_parser.add_argument("--verbose", "-v", action="store_true",
                            help="print every job's log")
    run_parser.add_argument(
        "--parallel", type=parallel_count, metavar="N",
        help="run up to N jobs at once on this machine; benchmark jobs always run alone "
        "(default: the campaign's 'parallel', else 1 on a Jetson profile and one per two "
        f"cores on an x86 twin: {default_parallel(False, os.cpu_count() or 1)} here). Lowered "
        "when the jobs' memory limits do not fit the host together")
    add_limits(run_parser)
    add_fleet_option(run_parser, "run on this Docker Swarm's nodes of the profile, one job per "
                     "node at a time")
    run_parser.add_argument("--registry", help="with --fleet: the registry the fleet's nodes "
                            f"pull from, HOST:PORT (default: ${settings.REGISTRY.name})")
    run_parser.set_defaults(handler=run)
    plan_parser = actions.add_parser("plan", help="list the jobs a campaign expands to "
                                     "(no engine needed, nothing runs)")
    add_campaign_arguments(plan_parser)
    plan_parser.add_argument("--list", action="store_true", help="list every job")
    add_json(plan_parser, "campaign-plan-output")
    plan_parser.set_defaults(handler=plan)


def parallel_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_PARALLEL:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to "
                                         f"{MAX_PARALLEL}")
    return value


def wanted_slots(args: argparse.Namespace, config: CampaignConfig) -> int:
    """How many jobs should run at once on this machine: the command line's, the
    campaign's, else the profile's default."""
    profile = get_profile(campaign_profile(args, config))
    return int(args.parallel or config.parallel
               or default_parallel(profile.is_jetson, os.cpu_count() or 1))


def fitted_slots(wanted: int, target: Target) -> int:
    """``wanted``, lowered (with one line) until the jobs' memory limits fit the host."""
    memory = target.limits.memory_bytes if target.limits else None
    slots, why = fit_parallel(wanted, memory, host_memory())
    if why is not None:
        warn(why)
    return slots


def campaign_config(args: argparse.Namespace, from_store: bool = False) -> CampaignConfig:
    """The campaign file or preset, narrowed by the options. For ``status`` a bare name may
    also be a campaign last run into the store: its recorded config (options included) and
    the profile it ran with."""
    config: CampaignConfig | None = None
    if from_store and not Path(args.campaign).suffix:
        found = find_manifests(args.store, args.campaign, args.profile)
        if len(found) > 1:
            raise UserError(f"campaign {args.campaign} ran with several profiles in "
                            f"{args.store} ({', '.join(m.profile for m in found)}): "
                            "choose one with --profile")
        if found:
            config = found[0].config
            config = config.model_copy(update={"profile": args.profile or found[0].profile})
        elif args.campaign not in PRESETS:
            raise UserError(f"no campaign {args.campaign!r} in {args.store} and no such "
                            f"preset ({', '.join(PRESETS)}): check the name or --store")
    if config is None:
        config = load_campaign(args.campaign)
    return with_overrides(config, models=flatten(args.models), methods=flatten(args.methods),
                          copies=args.copies, train_profile=args.train_profile)


def campaign_profile(args: argparse.Namespace, config: CampaignConfig) -> str:
    return str(args.profile or config.profile or DEFAULT_PROFILE)


def plan(args: argparse.Namespace) -> int:
    expanded = expand(campaign_config(args))
    if args.json:
        emit(plan_document(expanded))
        return 0
    console.print(escape(f"campaign {expanded.config.name}: {len(expanded.nodes)} jobs "
                         f"({expanded.config.copies} copies)"))
    console.print(counts_table(expanded.counts(), JOB_NAMES))
    if args.list:
        for node in expanded.nodes:
            console.print(node.id, markup=False)
    return 0


def placed_training(config: CampaignConfig, args: argparse.Namespace) -> str | None:
    """The training profile, when the campaign places training off the device's profile."""
    if config.train_profile in (None, campaign_profile(args, config)):
        return None
    return config.train_profile


def training_for(engine: Engine, config: CampaignConfig, target: Target,
                 limits: Limits) -> Training | None:
    """Where the campaign's training is keyed and runs, when placed off the device."""
    if config.train_profile is None or config.train_profile == target.profile:
        return None
    training = get_profile(config.train_profile)
    training_placement.check_training_profile(get_profile(target.profile), training)
    local = engine.image_id(training.image)
    image_id = training_placement.training_image_id(
        training, local, training_placement.recorded_image_ids(target.store, training.image))
    runs_here = None if local is None else dataclasses.replace(
        target, profile=training.name, image=training.image, image_id=local,
        runtime=training.runtime, environment={}, power=None,
        limits=job_limits(training, limits))
    return Training(training.name, image_id, runs_here)


def warn(line: str) -> None:
    errors.print(line, markup=False, soft_wrap=True)


def campaign_weights(plan: Plan, profile: str, train_profile: str | None,
                     fleet_store: Path | None = None) -> WeightsLookup:
    """The ImageNet weights the campaign's jobs load, fetched into the cache first (one line
    per file fetched). A fleet's boards read them from the shared store instead."""
    needed = weights_needed(plan, get_profile(profile).tensorflow,
                            get_profile(train_profile).tensorflow if train_profile else None)
    cache = WeightsCache.from_settings(warn)
    for need in needed:
        if cache.cached(need.file) is None:
            console.print(escape(f"fetching ImageNet weights {need.file.name}"), soft_wrap=True)
    weights = fetch_weights(needed, cache)
    if fleet_store is None:
        return weights
    shared = WeightsCache(fleet_store / "weights", mirror=str(cache.root), hashes=cache.hashes,
                          hashes_from=cache.hashes_from, say=warn)
    return fetch_weights(needed, shared)


def run(args: argparse.Namespace) -> int:
    config = campaign_config(args)
    expanded = expand(config)
    if config.train_profile is not None:  # a wrong pairing fails before the engine is asked
        training_placement.check_training_profile(get_profile(campaign_profile(args, config)),
                                         get_profile(config.train_profile))
    limits = limits_from(args).over(config.limits)
    url = fleet_url(args)
    # Before the engine or the fleet is asked: a missing file is one line and nothing starts.
    weights = campaign_weights(expanded, campaign_profile(args, config), config.train_profile,
                               fleet_store=Path(args.store) if url else None)
    site: Site
    if url:
        with console.status(escape(f"fleet {url}: preflight")) as shown:
            fleet, target = connect_fleet(url, campaign_profile(args, config), args.store,
                                          args.registry,
                                          lambda line: shown.update(escape(line[:100])), limits,
                                          train_profile=placed_training(config, args))
        site = FleetSite(fleet, target)
    else:
        wanted = wanted_slots(args, config)
        # An x86 twin's job may use 90 % of the host by default: N at once share it.
        limits = share_memory(limits, get_profile(campaign_profile(args, config)), wanted,
                              host_memory())
        engine, target = connect(campaign_profile(args, config), args.store, warn, limits)
        site = LocalSite(engine, target, fitted_slots(wanted, target),
                         training_for(engine, config, target, limits))
    # After the engine (or fleet) answers: nothing is written to a store when nothing can
    # run.
    with store_lock(Path(args.store), command_line(), args.wait, warn):
        console.print("[bold]campaign[/] " + escape(
            f"{config.name}: {len(expanded.nodes)} jobs on {target.image}"
            + (f" over the fleet {url}" if url else "")
            + (f", {site.slots} at a time" if isinstance(site, LocalSite) and site.slots > 1
               else "") + f", results in {args.store}"),
            soft_wrap=True)
        with CampaignProgress(console, verbose=args.verbose) as progress:
            summary = run_plan(expanded, site, progress, retry_failed=args.retry_failed,
                               deadline_s=args.timeout or config.timeout_s, weights=weights)
    ran_ok = sum(1 for o in summary.ran if o.record.status is JobStatus.succeeded)
    console.print(
        f"{config.name}: {len(summary.ran)} job(s) ran ({ran_ok} succeeded), "
        f"{summary.reused} already done, {len(summary.failed)} failed, "
        f"{len(summary.waiting)} waiting on a failed job; {summary.wall_s:.1f} s",
        markup=False, soft_wrap=True)
    if url:
        spread = ", ".join(f"{host} {count}" for host, count in sorted(summary.nodes_used.items()))
        console.print(f"jobs per node: {spread or 'none'}"
                      + (f"; {summary.lost_attempts} attempt(s) lost with their node and run "
                         "again" if summary.lost_attempts else ""), markup=False, soft_wrap=True)
    for item in summary.failed:
        log = f" (log: {item.folder / 'log.txt'})" if item.folder else ""
        warn(f"failed: {item.node.id}: {item.reason}{log}")
    if summary.canceled is not None:
        record = summary.canceled.record
        why = "lost the Docker engine" if record and record.status is JobStatus.lost else (
            "was canceled")
        warn(f"interrupted: {summary.canceled.node.id} {why}; run the same command again to "
             "resume")
        return 130
    if summary.failed and not args.retry_failed:
        warn("failed jobs are not retried by default: add --retry-failed")
    if summary.complete:
        console.print(f"complete: 'edgecompress report --store {args.store}' writes the "
                      "report", markup=False, soft_wrap=True)
        return 0
    return 1
