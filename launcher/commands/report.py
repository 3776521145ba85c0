"""edgecompress report: the paper's tables and figures from the stored results."""

from __future__ import annotations

import argparse
from pathlib import Path

from launcher.commands._options import add_store
from launcher.console import console
from launcher.report.render import write_report
from launcher.store import Store
from launcher.views import escape


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("report", help="tables, figures, Markdown, HTML and CSV from "
                                 "the campaigns' results, grouped by device")
    add_store(parser)
    parser.add_argument("--out", type=Path, help="output folder (default: STORE/report)")
    parser.add_argument("--campaign", action="append", metavar="NAME",
                        help="only this campaign (name or name@profile); repeatable")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    out = args.out or args.store / "report"
    with console.status("writing the report"):
        written = write_report(Store(args.store), out, args.campaign)
    console.print(f"report of {written.results} results on {written.devices} device(s):")
    for path in (written.markdown, written.html):
        console.print(f"  {escape(str(path))}")
    console.print(escape(f"  {out / 'csv'}/ ({len(written.csvs)} tables), {out / 'figures'}/ "
                         f"({len(written.figures)} figures)"))
    return 0
