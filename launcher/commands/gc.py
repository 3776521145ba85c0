"""edgecompress gc: remove job containers left behind by launchers that are gone.

A job container records its launcher (host, pid, the process's start time: launcher/owner.py).
gc removes those whose launcher no longer runs on this host, and never a live launcher's
job; containers of other hosts (a shared engine) and containers with no owner that still
run are left alone unless ``--all``.
"""

from __future__ import annotations

import argparse
import socket

from launcher.commands.fleet import fleet_url
from launcher.console import console
from launcher.docker_client import Engine, label
from launcher.fleet import cleanup
from launcher.fleet.connect import manager
from launcher.owner import should_remove


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("gc", help="remove job containers whose launcher is gone")
    parser.add_argument("--all", action="store_true",
                        help="also containers of other hosts and of unknown owners")
    parser.add_argument("--fleet", metavar="MANAGER_URL", default=None,
                        help="instead of this engine's containers: the services (jobs and "
                        "their helpers) launchers left on this Docker Swarm (tcp://HOST:2375)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Only when asked for on the line: EDGECOMPRESS_FLEET in the environment must not turn a
    # plain 'gc' away from this engine's containers.
    url = fleet_url(args) if args.fleet else None
    if url:
        # A fleet's jobs are services on its manager, not containers of this engine.
        removed, kept = cleanup.sweep(manager(url), everything=args.all)
        console.print(f"fleet {url}: removed {removed} leftover service(s) (jobs, power "
                      "companions, network keepers)"
                      + (f"; kept {kept} of live launchers or other hosts (--all removes "
                         "them)" if kept else ""), markup=False)
        return 0
    engine = Engine.connect()
    host = socket.gethostname()
    removed = kept = 0
    for container in engine.containers({label("kind"): "job"}):
        labels = dict(container.get("Labels") or {})
        if should_remove(labels, str(container.get("State", "")), host, args.all):
            engine.remove_container(container["Id"])
            removed += 1
        else:
            kept += 1
    console.print(f"removed {removed} leftover job container(s)"
                  + (f"; kept {kept} of live launchers or other hosts (--all removes them)"
                     if kept else ""))
    return 0
