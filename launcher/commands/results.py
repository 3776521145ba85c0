"""edgecompress results: the jobs in a store, with status and metrics."""

from __future__ import annotations

import argparse

from launcher.commands._options import add_json, add_store
from launcher.console import console
from launcher.output.base import emit
from launcher.output.build import results_document
from launcher.store import Store
from launcher.views import escape, results_table


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("results", help="list the jobs in a results store")
    add_store(parser)
    add_json(parser, "results-output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    store = Store(args.store)
    if args.json:
        emit(results_document(args.store, (store.load(f) for f in store.folders())))
        return 0
    table = results_table(f"results in {args.store}", (store.load(f) for f in store.folders()))
    console.print(table if table is not None else escape(f"no jobs in {args.store}"))
    return 0
