"""Rows of side A paired with rows of side B (launcher/compare/settings.py says which may pair
and which pairing is preferred); every row left over is listed with the reason, never dropped.
Pure.

Greedy on agreement: of every comparable (a, b), the pair agreeing on the most (weighted)
settings is taken first, then the next among rows still free. With the same settings on both
sides (a CI job's baseline against its candidate) every row finds its twin; across two
devices of one store, rows pair device with device before any row pairs across.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from launcher.compare.rows import Row
from launcher.compare.settings import agreement, comparable


@dataclass(frozen=True)
class Pairing:
    pairs: list[tuple[Row, Row]]
    unpaired_a: list[tuple[Row, str]]  # the row and why it has no partner
    unpaired_b: list[tuple[Row, str]]


def pair_rows(a_rows: Sequence[Row], b_rows: Sequence[Row]) -> Pairing:
    candidates = sorted(
        ((-agreement(a, b), i, j) for i, a in enumerate(a_rows)
         for j, b in enumerate(b_rows) if comparable(a, b)))
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j))
    pairs.sort()
    return Pairing(
        [(a_rows[i], b_rows[j]) for i, j in pairs],
        [(row, why_unpaired(row, b_rows, "B")) for i, row in enumerate(a_rows)
         if i not in used_a],
        [(row, why_unpaired(row, a_rows, "A")) for j, row in enumerate(b_rows)
         if j not in used_b])


def why_unpaired(row: Row, others: Sequence[Row], other: str) -> str:
    named = [o for o in others if o.model == row.model and o.method == row.method]
    if not named:
        return f"{other} has no {row.name}"
    sizes = sorted({o.input_size for o in named} - {row.input_size})
    if not any(o.input_size == row.input_size for o in named):
        return f"{other} measured {row.name} at {', '.join(map(str, sizes))} px, not " \
               f"{row.input_size}"
    networks = {o.network[:12] for o in named if o.input_size == row.input_size and o.network}
    if row.network and networks and not any(comparable(row, o) for o in named):
        return (f"{other}'s {row.name} is another network ({', '.join(sorted(networks))}, "
                f"not {row.network[:12]})")
    return f"{other}'s {row.name} rows pair with rows that agree on more settings"
