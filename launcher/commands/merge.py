"""edgecompress merge SRC_STORE: another machine's results copied in, never overwriting."""

from __future__ import annotations

import argparse
from pathlib import Path

from launcher import settings
from launcher.commands._options import add_wait
from launcher.console import console, errors
from launcher.merge import merge
from launcher.store_lock import command_line, store_lock


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("merge", help="copy another machine's results into this "
                                 "store (no duplicates; conflicts reported, never overwritten)")
    parser.add_argument("source", type=Path, metavar="SRC_STORE")
    parser.add_argument("--into", type=Path, default=settings.store(), metavar="DST_STORE",
                        help="the store to merge into (default: ./results or "
                        f"${settings.STORE.name})")
    add_wait(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    with store_lock(args.into, command_line(), args.wait,
                    lambda line: errors.print(line, markup=False, soft_wrap=True)):
        report = merge(args.source, args.into)
    console.print(
        f"merged {args.source} into {args.into}: {len(report.copied)} copied, "
        f"{len(report.updated)} updated (done there, not here), {len(report.same)} already "
        f"here, {len(report.kept)} kept ours; campaigns: {len(report.manifests_copied)} "
        f"copied, {len(report.manifests_extended)} extended; {len(report.skipped)} skipped",
        markup=False, soft_wrap=True)
    for name, why in report.conflicts:
        errors.print(f"conflict: {name}: {why}; kept ours", markup=False, soft_wrap=True)
    for name, why in report.skipped:
        errors.print(f"skipped: {name}: {why}", markup=False, soft_wrap=True)
    return 1 if report.conflicts or report.skipped else 0
