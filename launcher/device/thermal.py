"""The board's temperatures and clocks over a benchmark's kept runs, and whether a run was
throttled (pure; launcher/device/power.py hands in the samples of each run).

The rule (docs/methodology.md, "Power and energy"):
- Clocks pinned (jetson_clocks, as the device preflight recorded it in the job's environment):
  every CPU core, the GPU (GR3D) and the memory controller (EMC) is held at its maximum, so a
  kept run in which one of them reads below the highest it showed anywhere in the job's
  samples (the idle samples before the job included), by more than ``CLOCK_TOLERANCE``, was
  slowed by the board, not by the model: that run is throttled.
- Clocks not pinned: the governor (DVFS) lowers clocks whenever load drops, between images as
  well as under heat, so a lower clock is no evidence: ``throttled`` is None. No temperature
  decides it either: the throttling trip points differ by board and BSP, and none was verified
  from NVIDIA's documents for this project, so none is invented here.
- Clocks pinned but no clock printed (the older Nano format "GR3D_FREQ 0%" with no "@MHz" and,
  here, no CPU clock either): None.

A CPU core that is "off" has no clock and is not a drop: jetson_clocks keeps every core of the
power mode online. The PMIC "zone" prints a fixed 50 or 100 C on every recorded line
(tests/data/jetson/, idle boards at 25-45 C included): it is no sensor, so it is kept among the
zones but never taken for the hottest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from launcher.contract.record import ClockRange, RunThermal, ThermalSummary
from launcher.device.tegrastats import Sample

# A clock counts as below its reference only past this fraction of it. A stated choice, not a
# measured one: it keeps a read-out that wanders by a few MHz at a fixed clock from counting
# as throttling, and a clock under 1 % lower slows a run by less than that.
CLOCK_TOLERANCE = 0.01
# Zones whose reading is a constant, not a temperature (see above).
NOT_SENSORS = frozenset({"PMIC"})
# At most this many runs are named in throttle_reason; the rest are counted.
NAMED_RUNS = 3
# Each run's detail is kept for this many kept runs; the verdict and throttled_runs cover them
# all. A spec may ask for 10,000 runs, and their detail, every clock below its reference in
# each, would take 3.5 MB of status.json against the store's 4 MiB read limit.
DETAILED_RUNS = 1_000

NOT_PINNED = "clocks not pinned: throttling cannot be told from DVFS"
PINNING_UNKNOWN = "whether the clocks were pinned is not recorded: throttling cannot be told"
NO_CLOCKS = "tegrastats printed no clock frequencies: throttling cannot be told"
NO_SAMPLES = "no tegrastats line fell inside the kept runs"


def hottest(zones: Mapping[str, float]) -> tuple[str, float] | None:
    sensors = [(c, zone) for zone, c in zones.items() if zone.upper() not in NOT_SENSORS]
    if not sensors:
        return None
    c, zone = max(sensors)
    return zone, c


def _zone_maxima(samples: Sequence[Sample]) -> dict[str, float]:
    maxima: dict[str, float] = {}
    for sample in samples:
        for zone, c in sample.temperatures_c.items():
            maxima[zone] = max(c, maxima.get(zone, c))
    return maxima


def _clock_extremes(samples: Sequence[Sample]) -> dict[str, tuple[int, int]]:
    extremes: dict[str, tuple[int, int]] = {}
    for sample in samples:
        for clock, mhz in sample.clocks_mhz.items():
            low, high = extremes.get(clock, (mhz, mhz))
            extremes[clock] = (min(low, mhz), max(high, mhz))
    return extremes


def summarise(runs: Sequence[Sequence[Sample]], everything: Sequence[Sample],
              clocks_pinned: bool | None) -> ThermalSummary:
    """``runs``: each kept run's samples, in run order; ``everything``: every sample of the
    job's log (the clocks' reference is the highest each showed in it)."""
    reference = {clock: high for clock, (_, high) in _clock_extremes(everything).items()}
    timed = [sample for run in runs for sample in run]
    per_run = []
    for index, samples in enumerate(runs):
        top = hottest(_zone_maxima(samples))
        below = {clock: low for clock, (low, _) in _clock_extremes(samples).items()
                 if low < reference.get(clock, low) * (1 - CLOCK_TOLERANCE)}
        per_run.append(RunThermal(
            run=index, samples=len(samples), max_c=top[1] if top else None,
            hottest_zone=top[0] if top else None, clocks_below_mhz=below,
            throttled=bool(below) if clocks_pinned and reference else None))
    zones = _zone_maxima(timed)
    top = hottest(zones)
    clocks = {clock: ClockRange(min_mhz=low, max_mhz=high, reference_mhz=reference[clock])
              for clock, (low, high) in sorted(_clock_extremes(timed).items())}
    throttled_runs = [run.run for run in per_run if run.throttled]
    throttled, reason = _verdict(per_run, throttled_runs, clocks, bool(timed), clocks_pinned)
    return ThermalSummary(
        clocks_pinned=clocks_pinned, samples=len(timed), kept_runs=len(per_run),
        max_c=top[1] if top else None, hottest_zone=top[0] if top else None,
        zones_max_c=dict(sorted(zones.items())), clocks_mhz=clocks,
        runs=per_run[:DETAILED_RUNS], throttled_runs=throttled_runs, throttled=throttled,
        throttle_reason=reason)


def _verdict(per_run: Sequence[RunThermal], throttled_runs: Sequence[int],
             clocks: Mapping[str, ClockRange], sampled: bool,
             clocks_pinned: bool | None) -> tuple[bool | None, str]:
    if not sampled:
        return None, NO_SAMPLES
    if clocks_pinned is None:
        return None, PINNING_UNKNOWN
    if not clocks_pinned:
        return None, NOT_PINNED
    if not clocks:
        return None, NO_CLOCKS
    if not throttled_runs:
        return False, (f"every pinned clock ({len(clocks)}) stayed at its maximum in all "
                       f"{len(per_run)} kept run(s)")
    named = []
    for index in throttled_runs[:NAMED_RUNS]:
        below = per_run[index].clocks_below_mhz
        drops = ", ".join(f"{clock} {mhz} < {clocks[clock].reference_mhz} MHz"
                          for clock, mhz in sorted(below.items()))
        named.append(f"run {index}: {drops}")
    more = len(throttled_runs) - NAMED_RUNS
    return True, (f"{len(throttled_runs)} of {len(per_run)} kept run(s) throttled, pinned "
                  f"clocks below their maximum: {'; '.join(named)}"
                  + (f"; and {more} more" if more > 0 else ""))
