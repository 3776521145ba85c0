"""edgecompress schema [--check]: write (or check) the files generated from the contract
(launcher/contract/): the JSON Schemas in schema/ and the container side's vocabulary,
jobs/_contract.py."""

from __future__ import annotations

import argparse

from launcher import images
from launcher.console import console
from launcher.contract.export import generated_files, stale_files
from launcher.errors import UserError


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "schema", help="write or check the exported JSON Schemas and jobs/_contract.py")
    parser.add_argument("--check", action="store_true",
                        help="fail if schema/ or jobs/_contract.py is stale")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    root = images.repo_root()
    files = generated_files()
    stale = stale_files(root, files)
    if args.check:
        if stale:
            verb = "is" if len(stale) == 1 else "are"
            raise UserError(f"{', '.join(stale)} {verb} stale: run 'edgecompress schema'")
        console.print("schema/ and jobs/_contract.py are up to date")
        return 0
    for relpath in stale:
        path = root / relpath
        path.parent.mkdir(exist_ok=True)
        path.write_text(files[relpath], encoding="utf-8")
    console.print(f"wrote {', '.join(stale)}" if stale
                  else "schema/ and jobs/_contract.py are up to date")
    return 0
