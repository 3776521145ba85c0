"""Errors a person can act on. The CLI prints them as one line and exits non-zero.

Standard library only at run time (pydantic for type checking alone): launcher.device.profiles
imports this, and the Makefile runs that module with the system Python before the virtualenv
exists (``python -m launcher.device.profiles local-base-env``).
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class UserError(Exception):
    """What is wrong and how to fix it, in one line."""

    exit_code = 2


class EngineError(UserError):
    """The Docker engine cannot be reached or refuses a request."""

    exit_code = 3


class TrackingError(UserError):
    """An experiment tracker (MLflow's tracking server) cannot be reached or refuses a
    request: like the engine, a service the launcher depends on."""

    exit_code = 3


def describe_validation_error(error: ValidationError, limit: int = 3) -> str:
    """A pydantic error as one line: where and what, for the first few problems."""
    parts = []
    for item in error.errors()[:limit]:
        where = ".".join(str(p) for p in item["loc"]) or "document"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - limit
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


# What to do about a file system that refuses a write, by errno.
STORAGE_FIXES = {
    errno.EROFS: "the file system is read-only: remount it read-write, or choose another "
                 "--store",
    errno.ENOSPC: "the disk is full: free space (docker system prune, old results), or choose "
                  "another --store",
    errno.EDQUOT: "the disk quota is used up: free space, or choose another --store",
    errno.EACCES: "permission denied: fix the folder's owner or mode, or choose another "
                  "--store",
    errno.EPERM: "operation not permitted: fix the folder's owner or mode, or choose another "
                 "--store",
}


def storage_error(error: OSError, path: object = None) -> UserError:
    """A file system error as one line: the path, what happened, how to fix it."""
    where = error.filename if error.filename is not None else path or "a file"
    fix = STORAGE_FIXES.get(error.errno or 0, "check the path and the disk")
    return UserError(f"cannot write {where}: {error.strerror or error}; {fix}")
