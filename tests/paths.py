"""Where the tests find the checkout and its recorded data, however deep a test module sits
(tests/unit/ mirrors the packages' folders)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout
DATA = ROOT / "tests" / "data"
RECORDED = DATA / "campaign-quick-2copies"  # a real quick campaign, two copies
JETSON = DATA / "jetson"  # what real Jetson boards printed (SOURCES.md)
