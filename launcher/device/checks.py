"""The result of one readiness check, shared by ``doctor`` and the Jetson ``preflight``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from launcher.errors import UserError

CheckState = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    state: CheckState
    detail: str  # one line: what was found and, unless ok, how to fix it


def raise_on_failure(checks: Iterable[Check]) -> None:
    """Refuse to go on with the first failed check's own one-line reason."""
    for check in checks:
        if check.state == "fail":
            raise UserError(f"{check.name}: {check.detail}")
