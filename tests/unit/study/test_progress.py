"""The campaign's estimate of what remains: pure."""

from __future__ import annotations

import pytest

from launcher.study.plan import Node
from launcher.study.progress import estimate_remaining, format_duration


def node(job: str, model: str = "m") -> Node:
    return Node(id=f"{job}/{model}", job=job, params={}, inputs=(), model=model, method="x",
                copy=1, role="train")


def test_nothing_measured_means_no_estimate():
    assert estimate_remaining([node("train")], []) is None


def test_like_jobs_first_then_same_job_then_any():
    measured = [(node("train", "a"), 100.0), (node("train", "b"), 300.0),
                (node("benchmark", "a"), 10.0)]
    assert estimate_remaining([node("train", "a")], measured) == 100.0
    assert estimate_remaining([node("train", "c")], measured) == 200.0
    assert estimate_remaining([node("prune", "a")], measured) == pytest.approx(410 / 3)
    assert estimate_remaining([], measured) == 0.0


def test_durations_read_well():
    assert format_duration(None) == "?"
    assert format_duration(75) == "1m15s"
    assert format_duration(7322) == "2h02m"
