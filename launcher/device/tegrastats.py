"""tegrastats lines as samples, and their average input power (pure).

Two formats matter (samples in tests/data/jetson/):
- Jetson Nano, L4T R32: no timestamp; rails as "POM_5V_IN 2284/2284" (now/average, in mW);
  GPU as "GR3D_FREQ 0%" or "GR3D_FREQ 0%@76".
- Jetson Xavier NX, L4T R35: "MM-DD-YYYY HH:MM:SS" first; rails as "VDD_IN 4736mW/4736mW";
  GPU as "GR3D_FREQ 0%@[114]".
The first number of a rail is the instantaneous reading; the second is tegrastats' own running
average since it started, which says nothing about a window, so it is not used.

Temperatures are "NAME@40.5C" (PLL, CPU, PMIC, GPU, AO, AUX, thermal, ...): every zone the line
names is kept. Clocks are MHz after "@": each CPU core's ("12%@1479", none for a core that is
"off"), the memory controller's ("EMC_FREQ 4%@204") and the GPU's ("GR3D_FREQ 0%@76", or
"0%@[114]" on JetPack 5, one number per GPC inside the brackets). The older Nano format prints
"EMC_FREQ 0% GR3D_FREQ 0%" with no frequency at all: those clocks are then absent, not zero.

The samples are lined up with a job's timed runs by launcher/device/power.py, with the host's
clock: L4T R32 prints no time at all, and R35's whole seconds are too coarse for a run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

# The rail that measures the whole module's input, per board family.
INPUT_RAILS = ("VDD_IN", "POM_5V_IN", "VIN_SYS_5V0")

_TIMESTAMP = re.compile(r"^\s*(\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2})\s")
_RAM = re.compile(r"\bRAM (\d+)/(\d+)MB")
_SWAP = re.compile(r"\bSWAP (\d+)/(\d+)MB")
_CPU = re.compile(r"\bCPU \[([^\]]*)\]")
_GPU = re.compile(r"\bGR3D_FREQ (\d+)%(?:@\[?([\d,]+)\]?)?")
_EMC = re.compile(r"\bEMC_FREQ \d+%@(\d+)")
# "CPU@40.5C", "thermal@28.25C", "PMIC@100C"; the lookbehind keeps "0%@102" (a core's load and
# clock) out, the lookahead "@1479," and the like.
_ZONE = re.compile(r"(?<![\w%])([A-Za-z][A-Za-z0-9_]*)@(-?\d+(?:\.\d+)?)C(?!\w)")
# tegrastats prints -256C for a zone whose sensor is off (seen on Orin's CV zones); colder than
# any board runs, and not a reading.
_NO_READING_C = -40.0
# "VDD_IN 4736mW/4736mW" or "VDD_IN 4736mW"; "POM_5V_IN 2284/2284" (mW, unit implied). The
# lookahead keeps "RAM 2198/3956MB" and "IRAM 0/252kB" out.
_RAIL_MW = re.compile(r"\b([A-Z][A-Z0-9_]*) (\d+)mW(?:/\d+mW)?")
_RAIL_BARE = re.compile(r"\b([A-Z][A-Z0-9_]*) (\d+)/(\d+)(?![\w.])")


class TegrastatsError(ValueError):
    """A line that is not tegrastats output, or a window with nothing to measure."""


@dataclass(frozen=True)
class Sample:
    timestamp: datetime | None
    ram_used_mb: int
    ram_total_mb: int
    swap_used_mb: int | None
    swap_total_mb: int | None
    cpu_loads: tuple[int | None, ...]  # percent per core; None for a core that is off
    gpu_load: int | None  # percent
    rails_mw: Mapping[str, int]  # instantaneous power per rail
    # Defaults: a Sample made by hand (tests, older callers) holds no thermal or clock state.
    temperatures_c: Mapping[str, float] = field(default_factory=dict)  # zone -> degrees C
    cpu_mhz: tuple[int | None, ...] = ()  # per core; None for a core off or without a clock
    gpu_mhz: int | None = None  # GR3D; the fastest GPC where JetPack 5 lists several
    emc_mhz: int | None = None  # the memory controller

    @property
    def clocks_mhz(self) -> dict[str, int]:
        """Every clock the line gave: "CPU0".."CPUn", "GR3D", "EMC"."""
        clocks = {f"CPU{core}": mhz for core, mhz in enumerate(self.cpu_mhz) if mhz is not None}
        if self.gpu_mhz is not None:
            clocks["GR3D"] = self.gpu_mhz
        if self.emc_mhz is not None:
            clocks["EMC"] = self.emc_mhz
        return clocks

    @property
    def input_rail(self) -> str | None:
        return next((rail for rail in INPUT_RAILS if rail in self.rails_mw), None)

    @property
    def power_mw(self) -> int | None:
        """Total input power of the module."""
        rail = self.input_rail
        return self.rails_mw[rail] if rail else None


def parse_line(line: str) -> Sample:
    ram = _RAM.search(line)
    if ram is None:
        raise TegrastatsError(f"not a tegrastats line (no RAM field): {line.strip()[:80]!r}")
    stamp = _TIMESTAMP.search(line)
    swap = _SWAP.search(line)
    cpu = _CPU.search(line)
    gpu = _GPU.search(line)
    emc = _EMC.search(line)
    gpcs = [int(mhz) for mhz in gpu.group(2).split(",") if mhz] if gpu and gpu.group(2) else []
    rails = {name: int(now) for name, now in _RAIL_MW.findall(line)}
    rails.update({name: int(now) for name, now, _avg in _RAIL_BARE.findall(line)})
    return Sample(
        timestamp=datetime.strptime(stamp.group(1), "%m-%d-%Y %H:%M:%S") if stamp else None,
        ram_used_mb=int(ram.group(1)),
        ram_total_mb=int(ram.group(2)),
        swap_used_mb=int(swap.group(1)) if swap else None,
        swap_total_mb=int(swap.group(2)) if swap else None,
        cpu_loads=_cpu_loads(cpu.group(1)) if cpu else (),
        gpu_load=int(gpu.group(1)) if gpu else None,
        rails_mw=rails,
        temperatures_c={zone: float(c) for zone, c in _ZONE.findall(line)
                        if float(c) > _NO_READING_C},
        cpu_mhz=_cpu_clocks(cpu.group(1)) if cpu else (),
        gpu_mhz=max(gpcs) if gpcs else None,
        emc_mhz=int(emc.group(1)) if emc else None,
    )


def _cpu_loads(cores: str) -> tuple[int | None, ...]:
    """'12%@1479,2%@1479,off,off' -> (12, 2, None, None)."""
    loads: list[int | None] = []
    for core in cores.split(","):
        match = re.match(r"\s*(\d+)%", core)
        loads.append(int(match.group(1)) if match else None)
    return tuple(loads)


def _cpu_clocks(cores: str) -> tuple[int | None, ...]:
    """'12%@1479,2%@1479,off,off' -> (1479, 1479, None, None); '2%,1%' (no clock) -> (None,
    None)."""
    clocks: list[int | None] = []
    for core in cores.split(","):
        match = re.match(r"\s*\d+%@(\d+)", core)
        clocks.append(int(match.group(1)) if match else None)
    return tuple(clocks)


def parse_log(text: str) -> list[Sample]:
    """Every tegrastats line of a log; blank lines are skipped, anything else is an error."""
    return [parse_line(line) for line in text.splitlines() if line.strip()]


def average_power_mw(samples: Sequence[Sample]) -> float:
    powers = [s.power_mw for s in samples if s.power_mw is not None]
    if not powers:
        raise TegrastatsError("no sample with an input power rail: nothing to average")
    return sum(powers) / len(powers)
