"""edgecompress schema [--check]: write (or check) the exported contract: the JSON Schemas
in schema/."""

from __future__ import annotations

import argparse

from launcher import images
from launcher.console import console
from launcher.errors import UserError
from launcher.schema import json_schemas, render_json_schema


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("schema", help="write or check the exported JSON Schemas")
    parser.add_argument("--check", action="store_true", help="fail if schema/ is stale")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    schema_dir = images.repo_root() / "schema"
    stale = []
    for name, schema in json_schemas().items():
        path = schema_dir / name
        text = render_json_schema(schema)
        current = path.read_text() if path.exists() else None
        if current != text:
            stale.append(name)
            if not args.check:
                path.parent.mkdir(exist_ok=True)
                path.write_text(text)
    if args.check and stale:
        raise UserError(f"schema/ is stale ({', '.join(stale)}): run 'edgecompress schema'")
    console.print("schema/ is up to date" if not stale or args.check
                  else f"wrote {', '.join(stale)}")
    return 0
