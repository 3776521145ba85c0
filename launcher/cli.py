"""edgecompress: the command line. Parses, calls the pieces, prints with rich.

Errors a person can act on are one line on stderr and a non-zero exit; ``--debug`` (or
EDGECOMPRESS_DEBUG=1) shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from launcher import images, jobspecs
from launcher.console import console, errors
from launcher.deadlines import deadline_for
from launcher.docker_client import Engine, label
from launcher.errors import UserError
from launcher.files import tree_digest
from launcher.power import check_sampler, sampling_for
from launcher.profiles import (
    DEFAULT_PROFILE,
    PROFILES,
    Profile,
    get_profile,
    resolve_base_image,
)
from launcher.runner import JobOutcome, JobRequest, run_job
from launcher.schema import (
    CONTAINER_TFDS_DIR,
    JobStatus,
    json_schemas,
    needs_tfds_download,
    render_json_schema,
)
from launcher.store import Store

if TYPE_CHECKING:
    from launcher.campaign import CampaignConfig

SCHEMA_DIR = images.REPO_ROOT / "schema"


def tfds_cache() -> Path:
    default = Path.home() / ".cache" / "edgecompress" / "tfds"
    return Path(os.environ.get("EDGECOMPRESS_TFDS_DIR", default))


def default_store() -> Path:
    return Path(os.environ.get("EDGECOMPRESS_STORE", "results"))


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


class OneLineParser(argparse.ArgumentParser):
    """argparse, but its errors are one line like every other error of the tool."""

    def error(self, message: str) -> Any:
        errors.print(f"error: {message} (see {self.prog} --help)", markup=False, soft_wrap=True)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="edgecompress", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    build = commands.add_parser("build", help="build (or reuse) the job image of a profile")
    build.add_argument("profile", nargs="?", default=DEFAULT_PROFILE, choices=sorted(PROFILES))
    build.add_argument("--base-image", help="base image (default: the profile's, or "
                       "EDGECOMPRESS_BASE_<PROFILE>)")
    build.add_argument("--extra-ca", default=os.environ.get("EDGECOMPRESS_EXTRA_CA"),
                       help="extra CA bundle for pip during the build; not kept in the image")
    build.add_argument("--force", action="store_true", help="rebuild even if the image exists")

    run = commands.add_parser("run", help="run one job in a container and file its result")
    jobs = run.add_subparsers(dest="job", required=True, parser_class=OneLineParser,
                              metavar="JOB")
    for job in jobspecs.SPEC_CLASSES:
        sub = jobs.add_parser(job, help=(jobspecs.spec_class(job).__doc__ or "").split("\n")[0])
        for name, info in jobspecs.parameter_fields(job).items():
            metavar = "PATH" if jobspecs.is_input_field(info) else name.upper()
            default = "" if jobspecs.is_input_field(info) else f" (default: {info.default})"
            sub.add_argument(jobspecs.option_name(name), dest=f"param_{name}", metavar=metavar,
                             help=(info.description or "") + default)
        sub.add_argument("--spec-file", type=Path,
                         help="JSON file of parameters (inputs as host paths); options win")
        sub.add_argument("--profile", default=DEFAULT_PROFILE, choices=sorted(PROFILES))
        sub.add_argument("--timeout", type=positive_float, help="deadline in seconds")
        sub.add_argument("--store", type=Path, default=default_store())
        sub.add_argument("--force", action="store_true", help="run even if a valid result exists")
        sub.add_argument("--verbose", "-v", action="store_true", help="print the job's log")

    demo = commands.add_parser("demo", help="run probe, make a model, quantize it (no download)")
    demo.add_argument("--profile", default=DEFAULT_PROFILE, choices=sorted(PROFILES))
    demo.add_argument("--store", type=Path, default=default_store())

    results = commands.add_parser("results", help="list the jobs in a results store")
    results.add_argument("--store", type=Path, default=default_store())

    campaign = commands.add_parser(
        "campaign", help="the study as a campaign: a preset (paper, quick) or a TOML file")
    actions = campaign.add_subparsers(dest="action", required=True, parser_class=OneLineParser,
                                      metavar="ACTION")
    campaign_run = actions.add_parser(
        "run", help="run what is not done yet: done jobs are reused, an interrupted campaign "
        "resumes, failed jobs are left failed unless --retry-failed")
    add_campaign_arguments(campaign_run)
    campaign_run.add_argument("--retry-failed", action="store_true",
                              help="run the jobs whose last attempt failed again")
    campaign_run.add_argument("--timeout", type=positive_float,
                              help="per-job deadline in seconds (default: the campaign's, "
                              "else generous per job kind)")
    campaign_run.add_argument("--verbose", "-v", action="store_true",
                              help="print every job's log")
    campaign_plan = actions.add_parser("plan", help="list the jobs a campaign expands to "
                                       "(no engine needed, nothing runs)")
    add_campaign_arguments(campaign_plan)
    campaign_plan.add_argument("--list", action="store_true", help="list every job")

    status = commands.add_parser("status", help="done / to do / failed per job of a campaign")
    add_campaign_arguments(status)
    status.add_argument("--all", action="store_true", help="list done jobs too")

    report = commands.add_parser("report", help="tables, figures, Markdown, HTML and CSV from "
                                 "the campaigns' results, grouped by device")
    report.add_argument("--store", type=Path, default=default_store())
    report.add_argument("--out", type=Path, help="output folder (default: STORE/report)")
    report.add_argument("--campaign", action="append", metavar="NAME",
                        help="only this campaign (name or name@profile); repeatable")

    merge = commands.add_parser("merge", help="copy another machine's results into this store "
                                "(no duplicates; conflicts reported, never overwritten)")
    merge.add_argument("source", type=Path, metavar="SRC_STORE")
    merge.add_argument("--into", type=Path, default=default_store(), metavar="DST_STORE",
                       help="the store to merge into (default: ./results or "
                       "$EDGECOMPRESS_STORE)")

    for name, verb in (("pull", "pull a profile's prebuilt image from a registry"),
                       ("push", "push a profile's image to a registry")):
        transfer = commands.add_parser(name, help=verb)
        transfer.add_argument("profile", nargs="?", default=DEFAULT_PROFILE,
                              choices=sorted(PROFILES))
        transfer.add_argument("--registry", help="HOST[:PORT][/NAMESPACE] (default: "
                              "$EDGECOMPRESS_REGISTRY)")
        transfer.add_argument("--store", type=Path, default=default_store(),
                              help="where images.jsonl records the tag and digest")

    commands.add_parser("doctor", help="check the Docker engine, runtimes, disk and images")
    commands.add_parser("gc", help="remove containers left behind by killed launchers")

    schema = commands.add_parser("schema", help="write or check the exported JSON Schemas")
    schema.add_argument("--check", action="store_true", help="fail if schema/ is stale")
    return parser


def names(text: str) -> list[str]:
    """--models A B or --models A,B (the Makefile passes one comma-separated word)."""
    return [part for part in text.split(",") if part]


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
    parser.add_argument("--repeats", type=int, metavar="N", help="timed compressions")
    parser.add_argument("--store", type=Path, default=default_store(),
                        help="the results store (default: ./results or $EDGECOMPRESS_STORE)")


# --- commands -------------------------------------------------------------------------------


def cmd_build(args: argparse.Namespace) -> int:
    profile = get_profile(args.profile)
    base = resolve_base_image(profile, args.base_image)
    plan = images.plan_build(profile, base, images.read_sources(images.REPO_ROOT, profile))
    extra_ca = images.read_extra_ca(args.extra_ca)
    engine = Engine.connect()
    console.print(f"[bold]build[/] {plan.content_image} (base {base})")
    image_id, reused = images.build_image(
        engine, plan, extra_ca, lambda line: console.print(f"[dim]{line}[/]", markup=True,
                                                           soft_wrap=True),
        force=args.force)
    verb = "reused" if reused else "built"
    console.print(f"[green]{verb}[/] {plan.image} = {image_id[:19]}")
    return 0


def job_params(args: argparse.Namespace) -> dict[str, str]:
    params: dict[str, str] = {}
    if args.spec_file:
        try:
            loaded = json.loads(args.spec_file.read_text())
        except (OSError, ValueError) as error:
            raise UserError(f"cannot read spec file {args.spec_file}: {error}") from None
        if not isinstance(loaded, dict):
            raise UserError(f"spec file {args.spec_file} must hold a JSON object of parameters")
        loaded.pop("job", None)
        loaded.pop("schema_version", None)
        params.update({k: "null" if v is None else str(v) for k, v in loaded.items()})
    for name, value in vars(args).items():
        if name.startswith("param_") and value is not None:
            params[name[len("param_"):]] = value
    return params


def device_preflight(engine: Engine, profile: Profile, store: Path) -> dict[str, str]:
    """On a Jetson profile: refuse a host that cannot run its image, warn about what spoils
    measurements, and return what the jobs should record about the device's setup."""
    if not profile.is_jetson:
        return {}
    from launcher import preflight
    from launcher.checks import raise_on_failure

    nvpmodel = preflight.query_nvpmodel()
    facts = preflight.gather(store=store, docker_info=engine.info(), nvpmodel=nvpmodel)
    checks = [*preflight.preflight(profile, facts, store),
              check_sampler(sampling_for(profile.is_jetson))]
    for check in checks:
        if check.state == "warn":
            errors.print(f"warning: {check.name}: {check.detail}", markup=False,
                         soft_wrap=True)
    raise_on_failure(checks)
    return preflight.device_environment(facts)


def connect_with_image(profile_name: str) -> tuple[Engine, Profile, str]:
    profile = get_profile(profile_name)
    engine = Engine.connect()
    image_id = engine.image_id(profile.image)
    if image_id is None:
        raise UserError(f"image {profile.image} is missing: build it with "
                        f"'edgecompress build {profile.name}' (or 'make image')")
    return engine, profile, image_id


def cmd_run(args: argparse.Namespace) -> int:
    spec, inputs = jobspecs.build_spec(args.job, job_params(args), tree_digest)
    power = sampling_for(get_profile(args.profile).is_jetson)  # bad settings fail before Docker
    engine, profile, image_id = connect_with_image(args.profile)
    device_env = device_preflight(engine, profile, args.store)
    downloads = needs_tfds_download(spec)
    request = JobRequest(
        spec=spec, image=profile.image, image_id=image_id, inputs=inputs,
        deadline_s=deadline_for(args.job, args.timeout),
        runtime=profile.runtime, force=args.force, network=downloads,
        caches={CONTAINER_TFDS_DIR: tfds_cache()} if downloads else {},
        environment=device_env, power=power,
    )
    with console.status(f"[bold]{args.job}[/] starting") as status:
        def show(line: str) -> None:
            if args.verbose:
                console.print(f"[dim]{line}[/]", soft_wrap=True)
            elif line.strip():
                status.update(f"[bold]{args.job}[/] {line.strip()[:100]}")

        outcome = run_job(engine, Store(args.store), request, on_line=show)
    print_outcome(outcome)
    return 0 if outcome.record.status is JobStatus.succeeded else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from launcher.demo import run_demo

    engine, profile, image_id = connect_with_image(args.profile)
    console.print(f"[bold]demo[/] on {profile.image}, results in {args.store}")
    with console.status("demo running"):
        run_demo(engine, Store(args.store), profile.image, image_id, print_outcome)
    return cmd_results(args)


def print_outcome(outcome: JobOutcome) -> None:
    record = outcome.record
    colour = "green" if record.status is JobStatus.succeeded else "red"
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("job", record.job + (" (already done: reused)" if outcome.reused else ""))
    table.add_row("status", f"[{colour}]{record.status.value}[/]")
    if record.reason:
        table.add_row("reason", record.reason)
    table.add_row("wall", f"{record.wall_s:.2f} s")
    table.add_row("folder", str(outcome.folder))
    if outcome.result is not None:
        for name, value in outcome.result.metrics.model_dump().items():
            table.add_row(name, format_value(value))
        timings = outcome.result.timings
        table.add_row("imports", f"{timings.imports_s:.2f} s")
        for artifact in outcome.result.artifacts:
            table.add_row(f"artifact {artifact.name}",
                          f"out/{artifact.path} ({artifact.bytes:,} bytes)")
    else:
        table.add_row("log", str(outcome.folder / "log.txt"))
    power = record.power
    if power is not None and power.average_power_mw is not None:
        table.add_row("power", f"{power.average_power_mw / 1000:.2f} W on {power.rail} "
                      f"({power.samples} samples)")
        table.add_row("energy", f"{power.energy_per_inference_mj:.3g} mJ per inference")
        if power.idle_power_mw is not None:
            table.add_row("above idle", f"{power.energy_above_idle_per_inference_mj:.3g} mJ "
                          f"per inference (idle {power.idle_power_mw / 1000:.2f} W)")
    elif power is not None:
        table.add_row("power", f"not measured: {power.reason}")
    console.print(table)


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def cmd_results(args: argparse.Namespace) -> int:
    store = Store(args.store)
    table = Table(title=f"results in {args.store}")
    for column in ("job", "key", "status", "wall s", "detail"):
        table.add_column(column)
    count = 0
    for folder in store.folders():
        stored = store.load(folder)
        count += 1
        record = stored.record
        status = record.status.value if record else "to do"
        if record and record.status is JobStatus.succeeded and stored.result is None:
            status = "invalid_result"
        detail = stored.problem or (record.reason if record else "") or ""
        if stored.result is not None:
            detail = ", ".join(f"{k}={format_value(v)}"
                               for k, v in stored.result.metrics.model_dump().items())
            power = record.power if record else None
            if power is not None and power.energy_per_inference_mj is not None:
                detail += (f", power_w={format_value((power.average_power_mw or 0) / 1000)}"
                           f", energy_mj={format_value(power.energy_per_inference_mj)}")
        table.add_row(folder.name.split("-")[0] if record is None else record.job,
                      folder.name.rsplit("-", 1)[-1], status,
                      f"{record.wall_s:.1f}" if record else "", detail)
    if count == 0:
        console.print(f"no jobs in {args.store}")
        return 0
    console.print(table)
    return 0


def cmd_transfer(args: argparse.Namespace) -> int:
    from launcher import registry

    profile = get_profile(args.profile)
    prefix = registry.registry_prefix(args.registry)
    engine = Engine.connect()
    move = registry.pull if args.command == "pull" else registry.push
    with console.status(f"{args.command} {profile.image} ({prefix})") as status:
        transfer = move(engine, profile, prefix, lambda line: status.update(line[:100]))
    registry.record_transfer(args.store, args.command, transfer)
    console.print(f"[green]{args.command}ed[/] {transfer.remote} = {transfer.image_id[:19]}, "
                  f"digest {transfer.digest or 'unknown'}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from launcher import doctor

    checks = doctor.run_checks()
    table = Table(title="edgecompress doctor")
    for column in ("check", "state", "detail"):
        table.add_column(column)
    style = {"ok": "green", "warn": "yellow", "fail": "red"}
    for check in checks:
        table.add_row(check.name, f"[{style[check.state]}]{check.state}[/]", check.detail)
    console.print(table)
    return 1 if any(c.state == "fail" for c in checks) else 0


def cmd_gc(args: argparse.Namespace) -> int:
    engine = Engine.connect()
    leftovers = engine.containers({label("kind"): "job"})
    for container in leftovers:
        engine.remove_container(container["Id"])
    console.print(f"removed {len(leftovers)} leftover job container(s)")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    stale = []
    for name, schema in json_schemas().items():
        path = SCHEMA_DIR / name
        text = render_json_schema(schema)
        current = path.read_text() if path.exists() else None
        if current != text:
            stale.append(name)
            if not args.check:
                path.parent.mkdir(exist_ok=True)
                path.write_text(text)
    if args.check and stale:
        raise UserError(f"schema/ is stale ({', '.join(stale)}): run 'edgecompress schema'")
    console.print("schema/ is up to date" if not stale or args.check
                  else f"wrote {', '.join(stale)}")
    return 0


# --- campaigns ------------------------------------------------------------------------------


def campaign_config(args: argparse.Namespace, from_store: bool = False) -> CampaignConfig:
    """The campaign file or preset, narrowed by the options. For ``status`` a bare name may
    also be a campaign last run into the store: its recorded config (options included) and
    the profile it ran with."""
    from launcher.campaign import PRESETS, load_campaign, with_overrides
    from launcher.manifest import find_manifests

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
    return with_overrides(
        config, models=flatten(args.models), methods=flatten(args.methods),
        copies=args.copies, repeats=args.repeats)


def flatten(groups: list[list[str]] | None) -> list[str] | None:
    return None if groups is None else [item for group in groups for item in group]


def campaign_profile(args: argparse.Namespace, config: CampaignConfig) -> str:
    return str(args.profile or config.profile or DEFAULT_PROFILE)


def cmd_campaign(args: argparse.Namespace) -> int:
    return {"run": cmd_campaign_run, "plan": cmd_campaign_plan}[args.action](args)


def cmd_campaign_plan(args: argparse.Namespace) -> int:
    from launcher.plan import expand

    plan = expand(campaign_config(args))
    counts = plan.counts()
    console.print(f"campaign {plan.config.name}: {len(plan.nodes)} jobs "
                  f"({plan.config.copies} copies, {plan.config.repeats} timed compressions)")
    table = Table()
    table.add_column("job")
    table.add_column("count", justify="right")
    for job in ("train", "quantize", "prune", "distill", "scratch", "benchmark"):
        if job in counts:
            table.add_row(job, str(counts[job]))
    console.print(table)
    if args.list:
        for node in plan.nodes:
            console.print(node.id, markup=False)
    return 0


def cmd_campaign_run(args: argparse.Namespace) -> int:
    from launcher.execute import Target, run_plan
    from launcher.plan import expand
    from launcher.progress import CampaignProgress

    config = campaign_config(args)
    plan = expand(config)
    power = sampling_for(get_profile(campaign_profile(args, config)).is_jetson)
    engine, profile, image_id = connect_with_image(campaign_profile(args, config))
    environment = device_preflight(engine, profile, args.store)
    target = Target(store=Store(args.store), profile=profile.name, image=profile.image,
                    image_id=image_id, runtime=profile.runtime, environment=environment,
                    tfds_cache=tfds_cache(), power=power)
    console.print(f"[bold]campaign[/] {config.name}: {len(plan.nodes)} jobs on "
                  f"{profile.image}, results in {args.store}", soft_wrap=True)
    with CampaignProgress(console, verbose=args.verbose) as progress:
        summary = run_plan(engine, plan, target, progress, retry_failed=args.retry_failed,
                           deadline_s=args.timeout or config.timeout_s)
    ran_ok = sum(1 for o in summary.ran if o.record.status is JobStatus.succeeded)
    console.print(
        f"{config.name}: {len(summary.ran)} job(s) ran ({ran_ok} succeeded), "
        f"{summary.reused} already done, {len(summary.failed)} failed, "
        f"{len(summary.waiting)} waiting on a failed job; {summary.wall_s:.1f} s",
        soft_wrap=True)
    for item in summary.failed:
        log = f" (log: {item.folder / 'log.txt'})" if item.folder else ""
        errors.print(f"failed: {item.node.id}: {item.reason}{log}", markup=False,
                     soft_wrap=True)
    if summary.canceled is not None:
        errors.print(f"interrupted: {summary.canceled.node.id} was canceled; run the same "
                     "command again to resume", markup=False, soft_wrap=True)
        return 130
    if summary.failed and not args.retry_failed:
        errors.print("failed jobs are not retried by default: add --retry-failed",
                     markup=False)
    if summary.complete:
        console.print(f"complete: 'edgecompress report --store {args.store}' writes the "
                      "report", soft_wrap=True)
        return 0
    return 1


def cmd_status(args: argparse.Namespace) -> int:
    from launcher.execute import Resolver, State, dataset_folder
    from launcher.manifest import find_manifests
    from launcher.plan import expand

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
    resolver = Resolver(plan, store, image_id, dataset_folder(plan, store, create=False))
    assessments = resolver.assess_all()
    by_job: dict[str, dict[State, int]] = {}
    for item in assessments:
        counts = by_job.setdefault(item.node.job, {})
        counts[item.state] = counts.get(item.state, 0) + 1
    states = list(State)
    summary = Table(title=f"campaign {config.name} on {profile.name} ({store.root})")
    summary.add_column("job")
    for state in states:
        summary.add_column(state.value, justify="right")
    for job, counts in by_job.items():
        summary.add_row(job, *(str(counts.get(state, 0)) or "" for state in states))
    summary.add_row("[bold]all[/]", *(
        f"[bold]{sum(1 for a in assessments if a.state is state)}[/]" for state in states))
    console.print(summary)
    shown = [a for a in assessments if args.all or a.state is not State.done]
    if shown:
        table = Table(show_edge=False)
        table.add_column("job", overflow="fold")
        table.add_column("state", no_wrap=True)
        table.add_column("detail", overflow="fold")
        table.add_column("wall s", justify="right", no_wrap=True)
        colour = {State.done: "green", State.failed: "red", State.interrupted: "yellow"}
        for item in shown:
            shown_state = item.state.value
            if item.state in colour:
                shown_state = f"[{colour[item.state]}]{shown_state}[/]"
            detail = item.reason
            if item.state is State.failed and item.folder is not None:
                detail += f" (log: {item.folder / 'log.txt'})"
            table.add_row(item.node.id, shown_state, detail,
                          f"{item.record.wall_s:.1f}" if item.record else "")
        console.print(table)
    return 0 if all(a.state is State.done for a in assessments) else 1


def current_image_id(profile: Profile) -> str | None:
    from launcher.errors import EngineError

    try:
        return Engine.connect().image_id(profile.image)
    except EngineError:
        return None


def cmd_report(args: argparse.Namespace) -> int:
    from launcher.render import write_report

    out = args.out or args.store / "report"
    with console.status("writing the report"):
        written = write_report(Store(args.store), out, args.campaign)
    console.print(f"report of {written.results} results on {written.devices} device(s):")
    for path in (written.markdown, written.html):
        console.print(f"  {path}")
    console.print(f"  {out / 'csv'}/ ({len(written.csvs)} tables), {out / 'figures'}/ "
                  f"({len(written.figures)} figures)")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from launcher.merge import merge

    report = merge(args.source, args.into)
    console.print(
        f"merged {args.source} into {args.into}: {len(report.copied)} copied, "
        f"{len(report.updated)} updated (done there, not here), {len(report.same)} already "
        f"here, {len(report.kept)} kept ours; campaigns: {len(report.manifests_copied)} "
        f"copied, {len(report.manifests_extended)} extended")
    for name, why in report.conflicts:
        errors.print(f"conflict: {name}: {why}; kept ours", markup=False, soft_wrap=True)
    return 1 if report.conflicts else 0


COMMANDS = {"pull": cmd_transfer, "push": cmd_transfer,
            "build": cmd_build, "run": cmd_run, "demo": cmd_demo, "results": cmd_results,
            "doctor": cmd_doctor, "gc": cmd_gc, "schema": cmd_schema, "campaign": cmd_campaign,
            "status": cmd_status, "report": cmd_report, "merge": cmd_merge}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = args.debug or os.environ.get("EDGECOMPRESS_DEBUG") == "1"
    try:
        return COMMANDS[args.command](args)
    except UserError as error:
        if debug:
            raise
        errors.print(f"error: {error}", markup=False, soft_wrap=True)
        return error.exit_code
    except KeyboardInterrupt:
        errors.print("interrupted")
        return 130


def entry() -> None:
    sys.exit(main())

