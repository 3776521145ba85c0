"""edgecompress run JOB: one job in a container, its result validated and filed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from launcher import api, applications, jobspecs
from launcher.commands._options import (
    add_limits,
    add_profile,
    add_store,
    add_wait,
    deadline_seconds,
    limits_from,
)
from launcher.console import console, errors
from launcher.contract.record import JobStatus
from launcher.errors import UserError
from launcher.files import tree_digest
from launcher.store_lock import command_line
from launcher.views import escape, outcome_table

NETWORK_NAMES = {field for field, _weights in applications.NETWORK_FIELDS}


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("run", help="run one job in a container and file its result")
    jobs = parser.add_subparsers(dest="job", required=True, metavar="JOB")
    for job in jobspecs.SPEC_CLASSES:
        sub = jobs.add_parser(job, help=(jobspecs.spec_class(job).__doc__ or "").split("\n")[0])
        for name, info in jobspecs.parameter_fields(job).items():
            metavar = "PATH" if jobspecs.is_input_field(info) else name.upper()
            default = "" if jobspecs.is_input_field(info) else f" (default: {info.default})"
            if name in NETWORK_NAMES:
                default += f"; keras.applications networks {applications.listing()}"
            sub.add_argument(jobspecs.option_name(name), dest=f"param_{name}", metavar=metavar,
                             help=(info.description or "") + default)
        sub.add_argument("--spec-file", type=Path,
                         help="JSON file of parameters (inputs as host paths); options win")
        add_profile(sub)
        sub.add_argument("--timeout", type=deadline_seconds, help="deadline in seconds")
        add_store(sub)
        add_wait(sub)
        sub.add_argument("--force", action="store_true", help="run even if a valid result exists")
        sub.add_argument("--verbose", "-v", action="store_true", help="print the job's log")
        add_limits(sub)
    parser.set_defaults(handler=run)


def job_params(args: argparse.Namespace) -> dict[str, str]:
    """The spec file's parameters, then the options on the line over them."""
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


def warn(line: str) -> None:
    errors.print(line, markup=False, soft_wrap=True)


def run(args: argparse.Namespace) -> int:
    spec, inputs = jobspecs.build_spec(args.job, job_params(args), tree_digest)
    # Before the engine is asked: a weights file that cannot be had is one line, nothing starts.
    spec, inputs = api.prepare_job(spec, inputs, args.profile, warn)
    with api.open_session(args.profile, args.store, limits=limits_from(args), warn=warn,
                          wait=args.wait, holder=command_line()) as session, \
            console.status(f"[bold]{args.job}[/] starting") as status:
        def show(line: str) -> None:
            if args.verbose:
                console.print(line, style="dim", markup=False, soft_wrap=True)
            elif line.strip():
                status.update(f"[bold]{args.job}[/] " + escape(line.strip()[:100]))

        outcome = session.run(spec, inputs, timeout_s=args.timeout, force=args.force,
                              on_line=show)
    console.print(outcome_table(outcome))
    return 0 if outcome.record.status is JobStatus.succeeded else 1
