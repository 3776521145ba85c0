"""The report from results that are schema-valid but hostile or absurd: values out of range
show as n/a and block nothing; job text cannot break the Markdown, inject HTML or links, or
run as a spreadsheet formula."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from launcher.report.render import csv_value, format_value, md_text, write_report
from launcher.store import Store
from tests.paths import RECORDED

HOSTILE_CPU = "=cmd|' /C calc'!A0 | x\n<script>alert(1)</script> [click](javascript:x) *b*"


def edit_results(store: Path, kind: str, change) -> None:  # type: ignore[no-untyped-def]
    for path in sorted(store.glob(f"jobs/{kind}-*/out/result.json")):
        document = json.loads(path.read_text())
        change(document)
        path.write_text(json.dumps(document))


@pytest.fixture
def hostile_store(tmp_path) -> Path:
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)

    def extreme(document: dict) -> None:
        document["metrics"]["latency_ms_mean"] = 1e308
        document["metrics"]["latency_ms_median"] = 1e308

    edit_results(store, "benchmark", extreme)
    text_path = sorted(store.glob("jobs/benchmark-*/out/result.json"))[0]
    document = json.loads(text_path.read_text())
    text = json.dumps(document).replace(f'"bytes": {document["metrics"]["bytes"]}',
                                        '"bytes": ' + "9" * 400)
    text_path.write_text(text)
    edit_results(store, "quantize",
                 lambda d: d["metrics"].__setitem__("conversion_s", 1e308))
    def hostile_environment(document: dict) -> None:
        document["environment"]["machine"] = '=HYPERLINK("http://x")'
        document["environment"]["cpu_model"] = HOSTILE_CPU

    edit_results(store, "train", hostile_environment)
    return store


def test_a_hostile_store_still_gives_a_whole_report(hostile_store, tmp_path):
    written = write_report(Store(hostile_store), tmp_path / "report")
    assert written.results > 0
    markdown = written.markdown.read_text()
    assert "n/a" in markdown
    assert "<script>" not in markdown and "](javascript" not in markdown
    page = written.html.read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    for path in written.csvs:
        for row in csv.reader(path.open()):
            for value in row:
                assert value[:1] not in ("=", "+", "@"), (path.name, value)


def test_markdown_text_is_literal():
    assert md_text("a | b\nc") == "a \\| b c"
    assert md_text("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"
    assert md_text("[x](javascript:y) *z* _w_ `v`") == (
        "\\[x\\]\\(javascript:y\\) \\*z\\* \\_w\\_ \\`v\\`")


def test_spreadsheet_formulas_are_neutralised_and_numbers_kept():
    assert csv_value("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    for text in ("+1", "-1+2", "@SUM(A1)", "\tx"):
        assert str(csv_value(text)).startswith("'")
    assert csv_value(-3.5) == -3.5 and csv_value(12) == 12 and csv_value(None) == ""
    assert csv_value(float("inf")) == "n/a" and csv_value(10**400) == "n/a"


def test_out_of_range_values_print_as_n_a():
    assert format_value(float("nan"), 2) == "n/a"
    assert format_value(1e308, 2) == "n/a"
    assert format_value(10**400, None) == "n/a"
    assert format_value(12.345, 1) == "12.3"


# Mathtext that matplotlib cannot parse, terminal sequences (clipboard, clear, link) and a
# bidi override, in every text a figure or table quotes from a result.
MATH = "$\\foo{$"
CONTROLS = "\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\x1b]8;;http://x/\x1b\\l\x1b]8;;\x1b\\\x9b2J"
BIDI = "\u202e"


@pytest.fixture
def text_store(tmp_path) -> Path:
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)

    def environment(document: dict) -> None:  # every job: one device, so one label
        document["environment"]["cpu_model"] = f"EPYC {MATH} {CONTROLS}{BIDI}cpu"
        document["environment"]["power_mode"] = f"MAXN {MATH}{BIDI} (0)"

    for kind in ("train", "quantize", "prune", "distill", "scratch", "benchmark"):
        edit_results(store, kind, environment)
    edit_results(store, "benchmark",
                 lambda d: d["metrics"].__setitem__("backend", f"tf-cpu {MATH}{CONTROLS}{BIDI}"))
    return store


def test_result_text_is_drawn_plain_and_written_inert(text_store, tmp_path):
    written = write_report(Store(text_store), tmp_path / "report")
    assert written.figures, "the figures were drawn, the mathtext notwithstanding"
    assert any(p.name.startswith("tradeoff-") for p in written.figures)
    for path in (written.markdown, written.html, *written.csvs):
        text = path.read_text()
        assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text, path.name
        assert "\x9b" not in text, path.name
    markdown, page = written.markdown.read_text(), written.html.read_text()
    assert "\\\\x1b\\]52;c;" in markdown and "\\\\u202e" in markdown  # visible, escaped
    assert "\\x1b]52;c;" in page and "\\u202e" in page
    assert any("\\x1b[2J" in path.read_text() for path in written.csvs)


def test_the_report_command_prints_nothing_of_it_raw(text_store, tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "launcher", "report", "--store",
                           str(text_store), "--out", str(tmp_path / "report")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # Not in a missing-glyph warning of matplotlib's either.
    for stream in (proc.stdout, proc.stderr):
        assert "\x1b" not in stream and "\u202e" not in stream, stream
