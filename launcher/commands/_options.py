"""Options several commands share, so each is spelt and checked the same everywhere."""

from __future__ import annotations

import argparse
from pathlib import Path

from launcher import settings
from launcher.device.profiles import DEFAULT_PROFILE, PROFILES


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def names(text: str) -> list[str]:
    """--models A B or --models A,B (the Makefile passes one comma-separated word)."""
    return [part for part in text.split(",") if part]


def flatten(groups: list[list[str]] | None) -> list[str] | None:
    return None if groups is None else [item for group in groups for item in group]


def add_store(parser: argparse.ArgumentParser, help: str = "the results store (default: "
              f"./{settings.STORE.default} or ${settings.STORE.name})") -> None:
    parser.add_argument("--store", type=Path, default=settings.store(), help=help)


def add_profile(parser: argparse.ArgumentParser, positional: bool = False) -> None:
    if positional:
        parser.add_argument("profile", nargs="?", default=DEFAULT_PROFILE,
                            choices=sorted(PROFILES))
    else:
        parser.add_argument("--profile", default=DEFAULT_PROFILE, choices=sorted(PROFILES))
