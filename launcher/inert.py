"""Text from a job or a store made inert before anything shows it: a terminal, a Markdown or
HTML page, a CSV. Control characters drive terminals (ESC starts sequences that clear the
screen, write the clipboard (OSC 52) or hide links (OSC 8); C1 codes do the same in one byte)
and bidi controls reorder what a reader sees (U+202E shows ``exe.txt`` as ``txt.exe``). Each
is replaced by a visible escape (``\\x1b``, ``\\u202e``), so a reader sees that something was
there and what. Lone surrogates go the same way: no UTF-8 output can encode them.
Pure, stdlib only."""

from __future__ import annotations

import re

__all__ = ["inert", "inert_line"]


def _visible(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_UNSAFE = (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *_BIDI, *range(0xD800, 0xE000))

# Multi-line text keeps its newlines and tabs: they are layout, not commands.
_TEXT_TABLE = {code: _visible(code) for code in _UNSAFE if chr(code) not in "\n\t"}
# One line (a table cell, a reason): line breaks and tabs become one space each.
_LINE_TABLE = {**_TEXT_TABLE, **{ord(c): " " for c in "\n\r\t\u2028\u2029"}}


def _class(codes: dict[int, str]) -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(codes)) + "]")


# A search first: most text has nothing to replace, and a regex scan of a large page (the
# report's HTML embeds its figures) is much faster than a translate through a dict.
_TEXT_FIND = _class(_TEXT_TABLE)
_LINE_FIND = _class(_LINE_TABLE)


def inert(text: str) -> str:
    """Multi-line text with every control character but newline and tab shown as an escape.
    A CRLF line end is a newline; a lone CR (which would overwrite the line) is escaped."""
    if _TEXT_FIND.search(text) is None:
        return text
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return text.translate(_TEXT_TABLE)


def inert_line(text: str) -> str:
    """One line: as ``inert``, and each line break (CRLF too) and tab becomes a space."""
    if _LINE_FIND.search(text) is None:
        return text
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return text.translate(_LINE_TABLE)
