"""What two rows must share to be compared, what pairing prefers they share, and the
differences a pair is shown with. Pure.

A row pairs only with a row of the same model, method and input size, and of the same network
where both recorded one: anything else is another model. Among those, pairing prefers the row
that agrees on the most settings below (weighted); a pair that still differs is compared, and
each difference is named with why it matters: a comparison across another timing method is a
comparison of timing methods too, and a reader (or a CI gate) must see that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from launcher.compare.rows import Row
from launcher.output.diff import Difference

NOT_RECORDED = "not recorded"
UNTOLD = "cannot be told"  # throttling: clocks not pinned, or no clock printed


def _timing(row: Row) -> str:
    # None: a result from before latency_method existed, whose SavedModel runs waited for
    # their outputs once per run rather than per image.
    return (row.measured.result.metrics.latency_method
            or "call, waited once per run (unrecorded)")


def _threads(row: Row) -> str:
    threads = row.measured.result.metrics.threads
    return "default" if threads is None else str(threads)


def _test_data(row: Row) -> str:
    spec = row.measured.result.spec
    source = (f"images {spec.images.sha256[:12]}" if spec.images is not None
              else f"tfds {spec.tfds_name}" + (f" (mock {spec.tfds_mock_examples})"
                                               if spec.tfds_mock_examples else ""))
    return f"{source}, test {spec.test_fraction:g}, seed {spec.seed}"


@dataclass(frozen=True)
class Setting:
    name: str
    read: Callable[[Row], str]
    weight: int  # how much pairing prefers a row that agrees on it
    invalidates: bool
    why: str


SETTINGS: tuple[Setting, ...] = (
    Setting("device profile", lambda r: r.profile, 16, False,
            "another device: the comparison is of devices"),
    Setting("timing method", _timing, 8, True,
            "predict() times Keras's machinery with the model (5.5x per image on our build "
            "machine); results older than latency_method waited once per run, not per image"),
    Setting("threads", _threads, 8, True, "another TFLite thread count runs another schedule"),
    Setting("TensorFlow", lambda r: r.measured.result.environment.tensorflow, 4, True,
            "another TensorFlow runs other kernels"),
    Setting("power mode", lambda r: r.measured.result.environment.power_mode or NOT_RECORDED,
            4, True, "a Jetson's power mode sets its clocks and online cores"),
    Setting("backend", lambda r: r.measured.result.metrics.backend, 4, True,
            "another engine (CPU, GPU, TFLite) runs the model"),
    Setting("device", lambda r: r.device, 2, False, "another board, CPU or stack"),
    Setting("test data", _test_data, 2, True,
            "accuracy is measured on other images"),
    Setting("latency images", lambda r: str(r.measured.result.metrics.latency_images), 1,
            False, "each run's mean is over another number of images"),
    Setting("latency runs", lambda r: str(r.measured.result.metrics.latency_runs_kept), 1,
            False, "another number of kept runs: the interval's width differs"),
    Setting("accuracy batch", lambda r: str(r.measured.result.spec.eval_batch_size), 1, False,
            "the accuracy pass runs in batches of another size"),
)


def comparable(a: Row, b: Row) -> bool:
    """The same model measured: name, method, input size, and network where both recorded."""
    return (a.model == b.model and a.method == b.method and a.input_size == b.input_size
            and (a.network is None or b.network is None or a.network == b.network))


def agreement(a: Row, b: Row) -> int:
    return sum(s.weight for s in SETTINGS if s.read(a) == s.read(b))


def _clocks(row: Row) -> str:
    pinned = row.measured.result.environment.jetson_clocks
    return NOT_RECORDED if pinned is None else "pinned" if pinned else "not pinned"


def throttling(row: Row) -> str:
    """The row's throttling as its power record's thermal summary says (docs/methodology.md,
    "Power and energy"): NOT_RECORDED without one (no sampler, or a record from before it)."""
    power = row.measured.record.power
    summary = power.thermal if power is not None else None
    if summary is None:
        return NOT_RECORDED
    if summary.throttled:
        runs = ", ".join(str(run) for run in summary.throttled_runs)
        return f"throttled (kept run {runs})"
    return "not throttled" if summary.throttled is False else UNTOLD


def differences(a: Row, b: Row) -> list[Difference]:
    found = [Difference(setting=s.name, a=s.read(a), b=s.read(b), invalidates=s.invalidates,
                        why=s.why)
             for s in SETTINGS if s.read(a) != s.read(b)]
    clocks_a, clocks_b = _clocks(a), _clocks(b)
    if "not pinned" in (clocks_a, clocks_b):
        found.append(Difference(
            setting="clocks", a=clocks_a, b=clocks_b, invalidates=True,
            why="a Jetson's clocks not pinned (jetson_clocks) scale with load: latency "
            "follows the governor"))
    throttled_a, throttled_b = throttling(a), throttling(b)
    if throttled_a.startswith("throttled") or throttled_b.startswith("throttled"):
        found.append(Difference(
            setting="throttled run", a=throttled_a, b=throttled_b, invalidates=True,
            why="a pinned clock fell below its maximum during a kept run: its latency and "
            "energy measure the board's heat as much as the model"))
    if (a.network is None) != (b.network is None):
        found.append(Difference(
            setting="network", a=a.network[:12] if a.network else NOT_RECORDED,
            b=b.network[:12] if b.network else NOT_RECORDED, invalidates=False,
            why="one side recorded no fingerprint: it may be another network under the "
            "same name"))
    return found
