"""edgecompress build [PROFILE]: build the job image of a profile, or reuse it when its
content tag exists."""

from __future__ import annotations

import argparse

from launcher import images, settings
from launcher.commands._options import add_profile
from launcher.console import console
from launcher.device.profiles import get_profile, resolve_base_image
from launcher.docker_client import Engine


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("build", help="build (or reuse) the job image of a profile")
    add_profile(parser, positional=True)
    parser.add_argument("--base-image", help="base image (default: the profile's, or "
                        "EDGECOMPRESS_BASE_<PROFILE>)")
    parser.add_argument("--extra-ca", default=settings.extra_ca(),
                        help="extra CA bundle for pip during the build; not kept in the image")
    parser.add_argument("--force", action="store_true", help="rebuild even if the image exists")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    profile = get_profile(args.profile)
    base = resolve_base_image(profile, args.base_image)
    plan = images.plan_build(profile, base, images.read_sources(profile))
    extra_ca = images.read_extra_ca(args.extra_ca)
    engine = Engine.connect()
    console.print(f"[bold]build[/] {plan.content_image} (base {base})", markup=True)
    image_id, reused = images.build_image(
        engine, plan, extra_ca, lambda line: console.print(line, style="dim", markup=False,
                                                           soft_wrap=True),
        force=args.force)
    verb = "reused" if reused else "built"
    console.print(f"[green]{verb}[/] {plan.image} = {image_id[:19]}")
    return 0
