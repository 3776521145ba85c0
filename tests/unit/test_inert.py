"""Text from jobs and stores is inert (launcher/inert.py): no control character or bidi
override reaches a terminal, whichever way the launcher prints it."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from rich.console import Console

from launcher.console import InertConsole, escape
from launcher.contract.record import JobStatus, RunRecord
from launcher.inert import inert, inert_line
from launcher.runner import JobOutcome
from launcher.store import StoredJob
from launcher.study.plan import Node
from launcher.study.progress import CampaignProgress
from launcher.study.resolve import Assessment, State
from launcher.views import outcome_table, results_table, status_tables

OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # writes the clipboard
CLEAR = "\x1b[2J"  # clears the screen
OSC8 = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"  # a hidden link
CSI_C1 = "\x9b2J"  # the same clear in one C1 byte
BIDI = "txt.\u202eexe"  # shows as "txt.exe" reversed
HOSTILE = f"bad {OSC52}{CLEAR}{OSC8}{CSI_C1}{BIDI} end"
# Anything a terminal or a bidi renderer would act on; newline and tab are layout.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(("raw", "shown"), [
    (OSC52, "\\x1b]52;c;ZWNobyBwd25lZA==\\x07"),
    (CLEAR, "\\x1b[2J"),
    (OSC8, "\\x1b]8;;http://evil.example/\\x1b\\click\\x1b]8;;\\x1b\\"),
    (CSI_C1, "\\x9b2J"),
    ("\x85 \x7f \x00", "\\x85 \\x7f \\x00"),
    (BIDI, "txt.\\u202eexe"),
    ("\u202a\u202b\u202c\u202d", "\\u202a\\u202b\\u202c\\u202d"),
    ("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"),
    ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
    ("\ud800", "\\ud800"),  # a lone surrogate: no UTF-8 output could write it
])
def test_each_control_is_shown_as_a_visible_escape(raw, shown):
    assert inert(raw) == shown
    assert inert_line(raw) == shown


def test_multi_line_text_keeps_newlines_and_tabs_but_not_a_lone_carriage_return():
    assert inert("a\n\tb\r\nc") == "a\n\tb\nc"
    assert inert("safe\rEVIL") == "safe\\x0dEVIL"  # a CR would overwrite the line


def test_one_line_text_has_line_breaks_and_tabs_as_spaces():
    assert inert_line("a\nb\r\nc\rd\te\u2028f\u2029g") == "a b c d e f g"


@pytest.mark.parametrize("text", [
    "Jetson Xavier NX", "latency 12.5 µs ± 0.3", "MAXN (0)", "Größe ÷ 4 → faster",
    "名前 مرحبا", "tf-gpu / tflite-cpu", "[bold]not markup[/]", "$\\foo{$", "",
])
def test_ordinary_text_is_untouched(text):
    assert inert(text) is text and inert_line(text) is text


def test_inert_is_idempotent():
    assert inert(inert(HOSTILE)) == inert(HOSTILE)
    assert inert_line(inert_line(HOSTILE + "\n")) == inert_line(HOSTILE + "\n")


def test_large_text_is_fast():
    clean = "x" * 10_000_000
    dirty = "abcdefghi\x1b" * 100_000
    started = time.perf_counter()
    assert inert(clean) is clean
    assert inert(dirty).count("\\x1b") == 100_000
    assert time.perf_counter() - started < 2.0


# --- the console --------------------------------------------------------------------------


def record(reason: str = HOSTILE) -> RunRecord:
    return RunRecord(key="k" * 64, job="probe", status=JobStatus.failed, reason=reason,
                     exit_code=2, image="i", image_id="sha256:" + "0" * 64, started_at="t",
                     finished_at="t", wall_s=1.0, deadline_s=60.0)


def test_a_record_keeps_its_reason_inert_and_on_one_line():
    reason = record(HOSTILE + "\nsecond line").reason
    assert reason is not None and not CONTROL.search(reason) and "\n" not in reason
    assert "\\x1b[2J" in reason and "second line" in reason


def printed(*renderables: object, **print_options: object) -> str:
    out = io.StringIO()
    console = InertConsole(file=out, width=300, force_terminal=True)
    for item in renderables:
        console.print(item, **print_options)  # type: ignore[arg-type]
    return out.getvalue()


def without_styles(text: str) -> str:
    """rich's own styling (SGR sequences) is the launcher's, not the job's."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.parametrize("markup", [True, False])
def test_the_console_prints_any_string_inert(markup):
    text = printed(f"failed: x: {HOSTILE}", markup=markup, soft_wrap=True)
    assert not CONTROL.search(without_styles(text)), repr(text)
    assert "\\x1b[2J" in text and "txt.\\u202eexe" in text


def test_the_console_keeps_its_own_colours_and_job_emoji_codes_as_written():
    text = printed("[red]failed[/] :smile:")
    assert "\x1b[31m" in text and ":smile:" in text


def test_tables_from_job_text_print_inert():
    node = Node(id="probe/x", job="probe", params={}, inputs=(), model="m", method="base",
                copy=1, role="train")
    stored = StoredJob(Path("/store/jobs/probe-0123"), record(), None, None)
    tables = [outcome_table(JobOutcome(Path("/store/jobs/x"), record(), None)),
              results_table("results", [stored]),
              *status_tables("status", [Assessment(node, State.failed, HOSTILE, None, record())],
                             show_done=True)]
    # A plain rich Console: the tables themselves carry inert text, whoever prints them.
    out = io.StringIO()
    console = Console(file=out, width=400, force_terminal=True)
    for table in tables:
        console.print(table)
    assert not CONTROL.search(without_styles(out.getvalue())), repr(out.getvalue())
    assert out.getvalue().count("txt.\\u202eexe") == 3  # outcome, results, status rows


def test_campaign_progress_prints_inert_on_any_console():
    out = io.StringIO()
    progress = CampaignProgress(Console(file=out, width=300, force_terminal=True),
                                verbose=True)
    node = Node(id="probe/x", job="probe", params={}, inputs=(), model="m", method="base",
                copy=1, role="train")
    with progress:
        progress.started(node)
        progress.line(node, HOSTILE)
        progress.finished(node, Assessment(node, State.failed, HOSTILE, None, record()),
                          ran=True)
    # Progress redraws with cursor controls of its own: only the job's text is checked.
    lines = [line for line in out.getvalue().split("\n") if "bad " in line]
    assert len(lines) >= 2
    for line in lines:
        shown = line[line.index("bad "):line.index(" end") + 4]
        assert not CONTROL.search(without_styles(shown)), repr(shown)


def test_campaign_failure_lines_print_inert(capsys):
    from launcher.commands.campaign import warn

    warn(f"failed: train/x: exit 2: {HOSTILE} (log: /store/jobs/x/log.txt)")
    captured = capsys.readouterr()
    assert "\\x1b]52;c;" in captured.err and not CONTROL.search(captured.err)


def test_escape_makes_text_inert_and_markup_literal():
    assert escape("[bold]x\x1b[2J[/bold]") == "\\[bold]x\\x1b[2J\\[/bold]"
