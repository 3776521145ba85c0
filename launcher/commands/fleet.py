"""edgecompress fleet status: the fleet's nodes, their profile, the job each runs, their
health (docs/fleet.md). Campaigns run on a fleet with ``campaign run --fleet URL``."""

from __future__ import annotations

import argparse

from rich.table import Table

from launcher import settings
from launcher.commands._options import add_json
from launcher.console import console
from launcher.docker_client import label
from launcher.errors import EngineError, UserError
from launcher.fleet import status
from launcher.fleet.connect import manager
from launcher.output.base import emit
from launcher.output.build import fleet_document
from launcher.views import escape


def add_fleet_option(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--fleet", metavar="MANAGER_URL", default=None,
                        help=f"{help} (tcp://HOST:2375; default: ${settings.FLEET.name})")


def fleet_url(args: argparse.Namespace) -> str | None:
    url = (args.fleet or "").strip() or settings.fleet()
    if url and "://" not in url:
        raise UserError(f"--fleet {url!r}: give the manager's engine URL, e.g. "
                        "tcp://192.168.1.10:2375")
    return url


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("fleet", help="a Docker Swarm of boards that campaigns run "
                                 "on (campaign run --fleet)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    status_parser = actions.add_parser("status", help="nodes, profiles, current job, health")
    add_fleet_option(status_parser, "the fleet's manager")
    add_json(status_parser, "fleet-status-output")
    status_parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    url = fleet_url(args)
    if not url:
        raise UserError(f"no fleet given: pass --fleet tcp://HOST:2375 or set "
                        f"{settings.FLEET.name}")
    engine = manager(url)
    nodes = engine.nodes()
    jobs: dict[str, str] = {}
    for service in engine.services({label("kind"): "job"}):
        labels = dict((service.get("Spec") or {}).get("Labels") or {})
        what = f"{labels.get(label('job'), '?')} {labels.get(label('key'), '')[:12]}".strip()
        try:
            found = engine.service_tasks(str(service["ID"]))
        except EngineError:
            continue  # the job ended and its service went while we looked
        for task in found:
            if task.state in ("running", "starting", "preparing", "assigned", "accepted"):
                jobs[task.node_id] = what
    rows = status.rows(nodes, jobs)
    if args.json:
        emit(fleet_document(url, rows))
        return 0
    table = Table(title=escape(f"fleet {url}"))
    for column in ("node", "role", "profile", "job", "health"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(escape(cell) for cell in (row.hostname, row.role, row.profile, row.job,
                                                  row.health)))
    console.print(table)
    return 0
