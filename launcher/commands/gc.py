"""edgecompress gc: remove job containers left behind by killed launchers."""

from __future__ import annotations

import argparse

from launcher.console import console
from launcher.docker_client import Engine, label


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("gc", help="remove containers left behind by killed launchers")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    engine = Engine.connect()
    leftovers = engine.containers({label("kind"): "job"})
    for container in leftovers:
        engine.remove_container(container["Id"])
    console.print(f"removed {len(leftovers)} leftover job container(s)")
    return 0
