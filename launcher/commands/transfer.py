"""edgecompress push|pull PROFILE: a profile's job image to or from a registry."""

from __future__ import annotations

import argparse

from launcher import registry, settings
from launcher.commands._options import add_profile, add_store
from launcher.console import console
from launcher.device.profiles import get_profile
from launcher.docker_client import Engine
from launcher.views import escape


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    for name, verb in (("pull", "pull a profile's prebuilt image from a registry"),
                       ("push", "push a profile's image to a registry")):
        parser = commands.add_parser(name, help=verb)
        add_profile(parser, positional=True)
        parser.add_argument("--registry", help="HOST[:PORT][/NAMESPACE] (default: "
                            f"${settings.REGISTRY.name})")
        add_store(parser, help="where images.jsonl records the tag and digest")
        parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    profile = get_profile(args.profile)
    prefix = registry.registry_prefix(args.registry)
    engine = Engine.connect()
    move = registry.pull if args.command == "pull" else registry.push
    with console.status(escape(f"{args.command} {profile.image} ({prefix})")) as status:
        transfer = move(engine, profile, prefix,
                        lambda line: status.update(escape(line[:100])))
    registry.record_transfer(args.store, args.command, transfer)
    console.print(f"[green]{args.command}ed[/] " + escape(
        f"{transfer.remote} = {transfer.image_id[:19]}, digest {transfer.digest or 'unknown'}"))
    return 0
