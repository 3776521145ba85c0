"""edgecompress campaign run|plan CAMPAIGN: the study as a preset (paper, quick) or a TOML
file, expanded into jobs; ``run`` runs what is not done yet, ``plan`` only lists."""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from pathlib import Path

from launcher import api, settings
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
from launcher.device.profiles import DEFAULT_PROFILE, PROFILES
from launcher.errors import UserError
from launcher.execution.local import (
    default_parallel,
)
from launcher.output.base import emit
from launcher.output.build import plan_document
from launcher.store_lock import command_line
from launcher.study.campaign import PRESETS, CampaignConfig, load_campaign, with_overrides
from launcher.study.manifest import find_manifests
from launcher.study.plan import expand
from launcher.study.progress import CampaignProgress
from launcher.views import counts_table, escape

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


def warn(line: str) -> None:
    errors.print(line, markup=False, soft_wrap=True)


def run(args: argparse.Namespace) -> int:
    config = campaign_config(args)
    with ExitStack() as showing:
        with ExitStack() as preflight:
            on_preflight = api.quiet
            if url := fleet_url(args):
                shown = preflight.enter_context(console.status(escape(f"fleet {url}: preflight")))
                on_preflight = lambda line: shown.update(escape(line[:100]))  # noqa: E731
            connected = api.connect_campaign(
                config, store=args.store, profile=campaign_profile(args, config),
                parallel=args.parallel, limits=limits_from(args), fleet=url,
                registry=args.registry, say=say, warn=warn, on_preflight=on_preflight)
        progress = CampaignProgress(console, verbose=args.verbose)

        def announce(headline: str) -> None:  # the display starts once the store is ours
            console.print("[bold]campaign[/] " + escape(headline), soft_wrap=True)
            showing.enter_context(progress)

        done = connected.run(progress, retry_failed=args.retry_failed, timeout_s=args.timeout,
                             wait=args.wait, warn=warn, holder=command_line(),
                             announce=announce, say=say)
    return conclude(done, args.retry_failed)


def say(line: str) -> None:
    console.print(escape(line), soft_wrap=True)


def conclude(done: api.CampaignRun, retry_failed: bool) -> int:
    """The summary lines and the exit code: 0 complete, 130 interrupted, else 1."""
    summary, store = done.summary, done.store
    if done.searched:
        console.print(f"search added {', '.join(done.searched)}: 'edgecompress recommend "
                      f"{done.config.name} --store {store}' reads them", markup=False,
                      soft_wrap=True)
    ran_ok = sum(1 for o in summary.ran if o.record.status is JobStatus.succeeded)
    console.print(
        f"{done.config.name}: {len(summary.ran)} job(s) ran ({ran_ok} succeeded), "
        f"{summary.reused} already done, {len(summary.failed)} failed, "
        f"{len(summary.waiting)} waiting on a failed job; {summary.wall_s:.1f} s",
        markup=False, soft_wrap=True)
    if done.fleet:
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
    if summary.failed and not retry_failed:
        warn("failed jobs are not retried by default: add --retry-failed")
    if summary.complete:
        console.print(f"complete: 'edgecompress report --store {store}' writes the "
                      "report", markup=False, soft_wrap=True)
        return 0
    return 1
