"""The launcher's one rich console: output to stdout, errors to stderr. Much of what it prints
comes from jobs and stores (reasons, log lines, names), so every string is made inert
(launcher/inert.py) on its way in, markup or not: a job's text cannot drive the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape as escape_markup
from rich.text import Text

from launcher.inert import inert

__all__ = ["InertConsole", "console", "errors", "escape"]


def escape(text: str) -> str:
    """Job or store text as console markup: inert, and its brackets no markup. For the places
    rich parses markup without asking the console (a status line, a progress description)."""
    return escape_markup(inert(text))


class InertConsole(Console):
    """Every string printed, a table cell or title included, goes through ``render_str``:
    the one place to make them inert (rich's own styling is added later, as segments).
    No emoji codes either: a job's ``:name:`` prints as written."""

    def __init__(self, **options: Any) -> None:
        super().__init__(emoji=False, highlight=False, **options)

    def render_str(self, text: str, **options: Any) -> Text:
        # Before markup is parsed: the escapes inert writes end in a letter or digit, so they
        # never join a markup escape's backslashes.
        return super().render_str(inert(text), **options)


console = InertConsole()
errors = InertConsole(stderr=True)
