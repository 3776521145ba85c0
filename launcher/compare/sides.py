"""What each side of ``edgecompress diff A B`` names, and its rows read from the store.

    STORE                      every campaign of the store, on every device
    STORE::CAMPAIGN            one campaign (on every profile it ran with)
    STORE::CAMPAIGN@PROFILE    one campaign on one device profile (its manifest's file name)
    STORE::@PROFILE            every campaign on one device profile

``::`` cannot be mistaken for part of a campaign or profile name (neither may hold a colon) and
rarely appears in a path; a path that exists as written, ``::`` included, is taken whole.
``parse_selection`` is pure; ``load_side`` reads the store (each job folder once, under the
trust rules of ``Store.load``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from launcher.compare.rows import Row, merge_rows, rows_of
from launcher.contract.record import RunRecord
from launcher.contract.results import BenchmarkResult, JobResult
from launcher.errors import UserError
from launcher.inert import inert_line
from launcher.latency_samples import read_samples
from launcher.store import Store
from launcher.study.manifest import NAME_PATTERN, manifests
from launcher.untrusted import Untrusted

SEPARATOR = "::"


@dataclass(frozen=True)
class Selection:
    text: str  # as given on the command line
    store: Path
    campaign: str | None = None
    profile: str | None = None

    def matches(self, name: str, profile: str) -> bool:
        return (self.campaign in (None, name)) and (self.profile in (None, profile))

    @property
    def what(self) -> str:
        if self.campaign is None and self.profile is None:
            return "any campaign"
        return f"campaign {self.campaign or '*'}@{self.profile or '*'}"


def parse_selection(text: str) -> Selection:
    """STORE[::CAMPAIGN][@PROFILE] as a Selection; a one-line UserError when it is not one."""
    path, separator, selector = text, "", ""
    if SEPARATOR in text and not Path(text).exists():
        path, separator, selector = text.rpartition(SEPARATOR)
    if not path:
        raise UserError(f"{inert_line(text)!r}: give a store's folder before '::'")
    campaign, _, profile = selector.partition("@")
    for part, name in ((campaign, "campaign"), (profile, "profile")):
        if part and not re.fullmatch(NAME_PATTERN, part):
            raise UserError(f"{inert_line(text)!r}: {inert_line(part)!r} is not a {name} name "
                            "(STORE, STORE::CAMPAIGN, STORE::CAMPAIGN@PROFILE or "
                            "STORE::@PROFILE)")
    if separator and not (campaign or profile):
        raise UserError(f"{inert_line(text)!r}: name a campaign, a profile or both after '::'")
    return Selection(text, Path(path), campaign or None, profile or None)


@dataclass(frozen=True)
class Side:
    selection: Selection
    campaigns: tuple[str, ...]  # name@profile of every manifest read
    rows: tuple[Row, ...]


def load_side(selection: Selection) -> Side:
    root = selection.store
    if not (root / "jobs").is_dir() and not (root / "campaigns").is_dir():
        raise UserError(f"{inert_line(selection.text)!r}: no results store at {root} "
                        "(a store has jobs/ and campaigns/)")
    found = manifests(root)
    chosen = [(path, manifest) for path, manifest in found
              if selection.matches(manifest.name, manifest.profile)]
    if not chosen:
        held = ", ".join(path.stem for path, _ in found) or "none"
        raise UserError(f"{inert_line(selection.text)!r}: no {selection.what} in {root} "
                        f"(campaigns there: {inert_line(held)})")
    store = Store(root)
    cache: dict[str, tuple[RunRecord, JobResult] | None] = {}

    def load(folder: str) -> tuple[RunRecord, JobResult] | None:
        if folder not in cache:
            stored = store.load(root / "jobs" / folder)
            cache[folder] = (None if stored.record is None or stored.result is None
                             else (stored.record, stored.result))
        return cache[folder]

    def samples(folder: str, result: BenchmarkResult) -> np.ndarray | None:
        try:
            runs = read_samples(root / "jobs" / folder / "out", result)
        except (Untrusted, OSError):
            return None  # Store.load validated it when present: gone or changed since
        return None if runs is None else np.asarray(runs, dtype=np.float64)

    rows = [row for path, manifest in chosen
            for row in rows_of(path.stem, manifest, load, samples)]
    return Side(selection, tuple(path.stem for path, _ in chosen), tuple(merge_rows(rows)))
