"""edgecompress diff A B: two stores, campaigns or devices compared model by model and method
by method (launcher/compare/; docs/diff.md). Exit 1 when ``--fail-on`` is crossed, so a CI job
on a board can gate a merge; bad input is exit 2 with one line."""

from __future__ import annotations

import argparse
import sys

from launcher.commands._options import add_json
from launcher.compare.diff import compare
from launcher.compare.gate import parse_fail_on
from launcher.compare.render import markdown
from launcher.compare.sides import load_side, parse_selection
from launcher.console import console
from launcher.output.base import emit
from launcher.output.diff import Threshold
from launcher.views import diff_tables

SYNTAX = "STORE, STORE::CAMPAIGN, STORE::CAMPAIGN@PROFILE or STORE::@PROFILE"


def thresholds(text: str) -> list[Threshold]:
    try:
        return parse_fail_on(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "diff", help="compare two stores, campaigns or devices: accuracy, latency, size, "
        "energy, with significance", description="Compare B against A, row by row (model x "
        f"method). A and B are each {SYNTAX}.")
    parser.add_argument("a", metavar="A", help=f"the baseline: {SYNTAX}")
    parser.add_argument("b", metavar="B", help="what is compared with it, the same way")
    parser.add_argument("--fail-on", type=thresholds, default=[], metavar="THRESHOLDS",
                        help="exit 1 when a significant change crosses one: e.g. "
                        "latency:1.1,accuracy:0.5 (B 10 %% slower, 0.5 points less "
                        "accurate); also size:RATIO and unpaired")
    formats = parser.add_mutually_exclusive_group()
    formats.add_argument("--markdown", action="store_true", help="print Markdown")
    add_json(formats, "diff-output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    side_a = load_side(parse_selection(args.a))
    side_b = load_side(parse_selection(args.b))
    document = compare(side_a, side_b, args.fail_on)
    if args.json:
        emit(document)
    elif args.markdown:
        sys.stdout.write(markdown(document))
    else:
        for shown in diff_tables(document):
            console.print(shown, soft_wrap=isinstance(shown, str))
    return 1 if document.failed else 0
