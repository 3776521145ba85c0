"""What every ``--json`` document shares, and how one is printed: one JSON document on stdout
and nothing else there (progress and warnings go to stderr)."""

from __future__ import annotations

import json
import sys
from typing import Literal, TextIO

from pydantic import BaseModel, ConfigDict

from launcher.contract.vocabulary import SCHEMA_VERSION


class Out(BaseModel):
    """Every part of a document: unknown fields refused, and NaN or infinity too, which JSON
    cannot hold (a measurement out of range is null, not NaN)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Document(Out):
    """A command's whole document: ``command`` names it (each subclass narrows it)."""

    schema_version: Literal[1] = SCHEMA_VERSION
    command: str


def dumps(document: Document) -> str:
    """The document as JSON text. Every non-ASCII character is escaped, and so is DEL: the
    text comes from stores (names, reasons, labels), and escaped it cannot drive a terminal
    the document is printed on (C1 controls, bidi overrides), yet parses back the same."""
    text = json.dumps(document.model_dump(mode="json"), indent=2, ensure_ascii=True)
    return text.replace("\x7f", "\\u007f") + "\n"


def emit(document: Document, out: TextIO | None = None) -> None:
    (out or sys.stdout).write(dumps(document))
