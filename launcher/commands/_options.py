"""Options several commands share, so each is spelt and checked the same everywhere."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from pydantic import ValidationError

from launcher import settings
from launcher.device.profiles import DEFAULT_PROFILE, PROFILES
from launcher.errors import UserError
from launcher.limits import MAX_DEADLINE_S, Limits


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):  # 'inf' and 'nan' parse as floats
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def deadline_seconds(text: str) -> float:
    """--timeout: finite, and at most MAX_DEADLINE_S (a record must hold it)."""
    value = positive_float(text)
    if value > MAX_DEADLINE_S:
        raise argparse.ArgumentTypeError(
            f"{text!r} s is over the {MAX_DEADLINE_S:,.0f} s ({MAX_DEADLINE_S / 86400:g} days) "
            "a job may be given")
    return value


def names(text: str) -> list[str]:
    """--models A B or --models A,B (the Makefile passes one comma-separated word)."""
    return [part for part in text.split(",") if part]


def flatten(groups: list[list[str]] | None) -> list[str] | None:
    return None if groups is None else [item for group in groups for item in group]


def add_store(parser: argparse.ArgumentParser, help: str = "the results store (default: "
              f"./{settings.STORE.default} or ${settings.STORE.name})") -> None:
    parser.add_argument("--store", type=Path, default=settings.store(), help=help)


def add_wait(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true",
                        help="if another launcher is writing the store, wait for it to finish "
                        "instead of stopping")


def add_profile(parser: argparse.ArgumentParser, positional: bool = False) -> None:
    if positional:
        parser.add_argument("profile", nargs="?", default=DEFAULT_PROFILE,
                            choices=sorted(PROFILES))
    else:
        parser.add_argument("--profile", default=DEFAULT_PROFILE, choices=sorted(PROFILES))


LIMIT_OPTIONS = {"memory_mb": "--memory-mb", "swap_mb": "--swap-mb", "pids": "--pids-limit",
                 "tmp_mb": "--tmp-mb", "log_mb": "--log-mb", "out_mb": "--out-mb"}


def add_limits(parser: argparse.ArgumentParser) -> None:
    """The job container's limits (launcher/limits.py); unset: the campaign's, else the
    profile's."""
    group = parser.add_argument_group("limits per job (default: the campaign's [limits], "
                                      "else the profile's)")
    for field, option in LIMIT_OPTIONS.items():
        info = Limits.model_fields[field]
        group.add_argument(option, dest=f"limit_{field}", type=int, metavar="N",
                           help=info.description)


def limits_from(args: argparse.Namespace) -> Limits:
    values = {field: getattr(args, f"limit_{field}") for field in LIMIT_OPTIONS
              if getattr(args, f"limit_{field}", None) is not None}
    try:
        return Limits(**values)
    except ValidationError as error:
        first = error.errors()[0]
        option = LIMIT_OPTIONS[str(first["loc"][0])]
        raise UserError(f"invalid {option}: {first['msg']}") from None


def add_json(parser: argparse._ActionsContainer, schema: str) -> None:
    """--json: one JSON document on stdout and nothing else there (launcher/output/)."""
    parser.add_argument("--json", action="store_true",
                        help=f"print one JSON document on stdout (schema/{schema}.schema.json)")
