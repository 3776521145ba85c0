"""A report table: named columns, rows of plain values, a note. Rendered by render.py."""

from __future__ import annotations

from dataclasses import dataclass

from launcher.report.cells import Value


@dataclass(frozen=True)
class Column:
    name: str
    digits: int | None = None  # decimals shown in Markdown/HTML; CSV keeps full precision


@dataclass(frozen=True)
class Table:
    key: str  # file stem of its CSV
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]
    note: str = ""

    def column(self, name: str) -> list[Value]:
        index = [c.name for c in self.columns].index(name)
        return [row[index] for row in self.rows]
