"""Errors a person can act on. The CLI prints them as one line and exits non-zero.

Standard library only at run time (pydantic for type checking alone): launcher.device.profiles
imports this, and the Makefile runs that module with the system Python before the virtualenv
exists (``python -m launcher.device.profiles local-base-env``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class UserError(Exception):
    """What is wrong and how to fix it, in one line."""

    exit_code = 2


class EngineError(UserError):
    """The Docker engine cannot be reached or refuses a request."""

    exit_code = 3


def describe_validation_error(error: ValidationError, limit: int = 3) -> str:
    """A pydantic error as one line: where and what, for the first few problems."""
    parts = []
    for item in error.errors()[:limit]:
        where = ".".join(str(p) for p in item["loc"]) or "document"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - limit
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")
