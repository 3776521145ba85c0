"""The document ``edgecompress diff --json`` prints (schema/diff-output.schema.json). The
comparison itself (launcher/compare/) builds it; the table and Markdown views read it too, so
the three outputs cannot disagree."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from launcher.output.base import Document, Out

Metric = Literal["latency", "accuracy", "size", "unpaired"]


class RowRef(Out):
    """One side's row of a pair: where its numbers come from."""

    profile: str
    device: str = Field(description="board or CPU, TensorFlow version, power mode")
    campaigns: list[str] = Field(description="name@profile of the campaigns it was read "
                                 "through")
    network: str | None = Field(description="sha256 of the network's fingerprint; null: not "
                                "recorded")
    folder: str = Field(description="the benchmark job folder latency, size and energy come "
                        "from")
    copy_label: int = Field(ge=1, description="the copy that benchmark measured")
    copies: int = Field(ge=0, description="copies with an accuracy")


class Difference(Out):
    """A setting the two sides differ in, or a condition that makes a side's latency suspect."""

    setting: str
    a: str
    b: str
    invalidates: bool = Field(description="true: the comparison measures the setting as much "
                              "as the change")
    why: str


class AccuracyChange(Out):
    """Top-1 accuracy over copies, in percent; Welch's t-test of B's mean against A's."""

    a_pct: float | None
    b_pct: float | None
    n_a: int = Field(ge=0)
    n_b: int = Field(ge=0)
    difference_pts: float | None = Field(description="mean B - mean A, percentage points")
    ci_low_pts: float | None
    ci_high_pts: float | None
    df: float | None = Field(description="Welch-Satterthwaite degrees of freedom")
    p: float | None = Field(description="two-sided p; null: fewer than 2 copies a side, or "
                            "no spread")
    significant: bool


class LatencyChange(Out):
    """Median latency per image: B / A with a confidence interval."""

    a_median_ms: float = Field(ge=0)
    b_median_ms: float = Field(ge=0)
    ratio: float = Field(ge=0, description="B / A: above 1 is slower")
    ci_low: float | None
    ci_high: float | None
    basis: Literal["images", "runs", "summary", "none"] = Field(
        description="images: medians over every timed image, bootstrap drawing each side's "
        "kept runs whole; runs: medians over the kept runs' means, bootstrap over them; "
        "summary: log-ratio interval from each side's mean, std and run count; none: no "
        "interval (a side with one run)")
    runs_a: int = Field(ge=0)
    runs_b: int = Field(ge=0)
    significant: bool = Field(description="the interval excludes 1")
    bucket: str = Field(description="speed-up bucket at 1.1, 1.2, 1.5, 2, 5 and 10x")


class RatioChange(Out):
    a: float
    b: float
    ratio: float = Field(description="B / A")


class Pair(Out):
    model: str
    method: str
    a: RowRef
    b: RowRef
    accuracy: AccuracyChange | None
    latency: LatencyChange | None
    size: RatioChange | None = Field(description="bytes of the model as benchmarked")
    gzip_size: RatioChange | None
    energy: RatioChange | None = Field(description="mJ per inference, where both sides "
                                       "sampled power")
    differences: list[Difference]
    gate: list[str] = Field(description="the --fail-on thresholds this pair crosses")


class Unpaired(Out):
    side: Literal["a", "b"]
    model: str
    method: str
    row: RowRef
    reason: str


class SideSummary(Out):
    selection: str = Field(description="as given: STORE[::CAMPAIGN][@PROFILE]")
    store: str
    campaign: str | None
    profile: str | None
    campaigns: list[str]
    rows: int = Field(ge=0)


class Threshold(Out):
    metric: Metric
    limit: float | None = Field(description="latency, size: a ratio B / A; accuracy: a drop in "
                                "points; unpaired: none")


class Statistics(Out):
    confidence: float
    alpha: float
    bootstrap_resamples: int
    bootstrap_seed: int


class DiffDocument(Document):
    command: Literal["diff"] = "diff"
    a: SideSummary
    b: SideSummary
    pairs: list[Pair]
    unpaired: list[Unpaired]
    notes: list[str]
    statistics: Statistics
    fail_on: list[Threshold]
    failed: bool = Field(description="a --fail-on threshold was crossed: exit code 1")
