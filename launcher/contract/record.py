"""The launcher's record of one run (``status.json``): how it ended and, for a benchmark on a
Jetson, what the device drew meanwhile."""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import Field

from launcher.contract.vocabulary import SCHEMA_VERSION, NonNegFloat, NonNegInt, Reason, Strict


class JobStatus(str, Enum):
    succeeded = "succeeded"
    failed = "failed"
    timeout = "timeout"
    oom = "oom"
    killed = "killed"
    canceled = "canceled"
    invalid_result = "invalid_result"
    output_limit = "output_limit"  # wrote more into out/ than its limit allows: stopped
    lost = "lost"  # the Docker engine went away while it ran: not the job's doing, run again


class ClockRange(Strict):
    """One clock over the kept runs, and the most it showed anywhere in the job's samples."""

    min_mhz: NonNegInt
    max_mhz: NonNegInt
    reference_mhz: NonNegInt  # the highest in the whole power.log (idle samples included)


class RunThermal(Strict):
    """One kept latency run's samples (launcher/device/thermal.py)."""

    run: NonNegInt  # 0: the first kept run (after the warm-up runs)
    samples: NonNegInt
    max_c: float | None = None  # the hottest zone (PMIC left out: a fixed value, not a sensor)
    hottest_zone: str | None = None
    # Clocks below their reference in this run, each at the lowest it reached.
    clocks_below_mhz: dict[str, NonNegInt] = {}
    throttled: bool | None = None


class ThermalSummary(Strict):
    """The board's temperatures and clocks over the kept runs, from the same tegrastats lines
    as the power, and whether a run was throttled (docs/methodology.md, "Power and energy")."""

    clocks_pinned: bool | None = None  # jetson_clocks, as the device preflight recorded it
    samples: NonNegInt  # tegrastats lines inside the kept runs
    kept_runs: NonNegInt = 0  # runs judged; ``runs`` details the first 1,000 of them
    max_c: float | None = None  # the hottest zone over every kept run
    hottest_zone: str | None = None
    zones_max_c: dict[str, float] = {}  # every zone tegrastats named, PMIC included
    clocks_mhz: dict[str, ClockRange] = {}  # "CPU0".., "GR3D", "EMC"; absent: not printed
    runs: list[RunThermal] = []
    throttled_runs: list[NonNegInt] = []
    # True: a pinned clock fell below its reference in a kept run; False: none did;
    # None: cannot be told (clocks not pinned, or no clock printed).
    throttled: bool | None = None
    throttle_reason: Reason | None = None  # one line: which runs and clocks, or why None


class PowerMeasurement(Strict):
    """What the launcher measured of the device's power while a benchmark's timed runs ran
    (launcher/device/power.py): tegrastats on the host, samples inside the kept runs only."""

    source: str  # the sampler's command line
    interval_ms: int = Field(ge=1)
    samples: NonNegInt  # samples with an input rail inside the kept runs
    rail: str | None = None  # the module's input rail: VDD_IN (Xavier NX), POM_5V_IN (Nano)
    timed_s: NonNegFloat | None = None  # total length of the kept runs
    average_power_mw: NonNegFloat | None = None
    energy_per_inference_mj: NonNegFloat | None = None
    # Before the job's container started: the board's idle draw, and the energy of one
    # inference above it (what the inference itself costs; noise can make it negative).
    idle_samples: NonNegInt = 0
    idle_power_mw: NonNegFloat | None = None
    energy_above_idle_per_inference_mj: float | None = None
    reason: Reason | None = None  # why there is no number, when there is none
    # MLPerf's window-based figure: the energy over the kept runs' windows (average power x
    # their length) over the images they held. It counts what the job does between timed
    # images, so it is above the latency-based figure. Absent in records before it.
    energy_per_query_window_mj: NonNegFloat | None = None
    thermal: ThermalSummary | None = None  # absent in records from before it


class RunRecord(Strict):
    """Written by the launcher as ``status.json`` after every attempt, whatever its end."""

    schema_version: Literal[1] = SCHEMA_VERSION
    key: str
    job: str
    status: JobStatus
    reason: Reason | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    image: str
    image_id: str
    started_at: str
    finished_at: str
    wall_s: NonNegFloat
    deadline_s: NonNegFloat
    inputs: dict[str, str] = {}
    power: PowerMeasurement | None = None  # benchmark jobs on a Jetson (or a given sampler)
    # How many jobs the launcher let run at once on the machine while this one ran (campaign
    # run --parallel); 1: alone, as every benchmark runs and as the paper's jobs ran.
    parallel: int = Field(default=1, ge=1, le=64)
