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
from typing import Any

from rich.table import Table

from launcher import images, jobspecs
from launcher.console import console, errors
from launcher.docker_client import Engine, label
from launcher.errors import UserError
from launcher.files import tree_digest
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

# Generous: the paper's DenseNet201 on a Jetson Nano takes hours per training or pruning run.
DEFAULT_DEADLINES_S = {"probe": 300.0, "make_model": 1800.0, "quantize": 4 * 3600.0,
                       "benchmark": 8 * 3600.0}
TRAINING_DEADLINE_S = 48 * 3600.0
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

    commands.add_parser("doctor", help="check the Docker engine, runtimes, disk and images")
    commands.add_parser("gc", help="remove containers left behind by killed launchers")

    schema = commands.add_parser("schema", help="write or check the exported JSON Schemas")
    schema.add_argument("--check", action="store_true", help="fail if schema/ is stale")
    return parser


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
    checks = preflight.preflight(profile, facts, store)
    for check in checks:
        if check.state == "warn":
            errors.print(f"warning: {check.name}: {check.detail}", markup=False,
                         soft_wrap=True)
    raise_on_failure(checks)
    mode = preflight.parse_nvpmodel(nvpmodel)
    return {"EDGECOMPRESS_POWER_MODE": f"{mode.name} ({mode.mode_id})"} if mode else {}


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
    engine, profile, image_id = connect_with_image(args.profile)
    device_env = device_preflight(engine, profile, args.store)
    downloads = needs_tfds_download(spec)
    request = JobRequest(
        spec=spec, image=profile.image, image_id=image_id, inputs=inputs,
        deadline_s=args.timeout or DEFAULT_DEADLINES_S.get(args.job, TRAINING_DEADLINE_S),
        runtime=profile.runtime, force=args.force, network=downloads,
        caches={CONTAINER_TFDS_DIR: tfds_cache()} if downloads else {},
        environment=device_env,
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
        table.add_row(folder.name.split("-")[0] if record is None else record.job,
                      folder.name.rsplit("-", 1)[-1], status,
                      f"{record.wall_s:.1f}" if record else "", detail)
    if count == 0:
        console.print(f"no jobs in {args.store}")
        return 0
    console.print(table)
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


COMMANDS = {"build": cmd_build, "run": cmd_run, "demo": cmd_demo, "results": cmd_results,
            "doctor": cmd_doctor, "gc": cmd_gc, "schema": cmd_schema}


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

