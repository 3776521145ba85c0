"""edgecompress: the command line. This module only assembles the parser from
``launcher/commands/`` and turns errors a person can act on into one line on stderr and a
non-zero exit; ``--debug`` (or EDGECOMPRESS_DEBUG=1) shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from launcher import __version__, settings
from launcher.commands import COMMANDS
from launcher.console import errors
from launcher.errors import UserError, storage_error

DESCRIPTION = ("Run the edge-device model compression study (TFLite PTQ, tfmot pruning, "
               "distillation) as isolated container jobs, and report it.")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but its errors are one line like every other error of the tool. Sub-parsers
    inherit the class (argparse makes them of the parent's type)."""

    def error(self, message: str) -> Any:
        errors.print(f"error: {message} (see {self.prog} --help)", markup=False, soft_wrap=True)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="edgecompress", description=DESCRIPTION)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"edgecompress {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = args.debug or settings.debug()
    try:
        return int(args.handler(args))
    except UserError as error:
        if debug:
            raise
        errors.print(f"error: {error}", markup=False, soft_wrap=True)
        return error.exit_code
    except OSError as error:
        # A store on a full or read-only disk, an unwritable report folder: one line.
        if debug:
            raise
        failure = storage_error(error)
        errors.print(f"error: {failure}", markup=False, soft_wrap=True)
        return failure.exit_code
    except KeyboardInterrupt:
        errors.print("interrupted")
        return 130


def entry() -> None:
    sys.exit(main())
