"""Power and energy per inference on a Jetson: tegrastats sampled on the host around a job.

The job records when each timed latency run started and ended (Unix seconds; a container shares
the host's clock). The launcher runs ``tegrastats --interval <ms>`` on the host while the
container runs, stamps each line with the host's clock as it arrives, and keeps the stamped
lines in the job's ``power.log``. Afterwards the samples inside the kept runs give the module's
average input power, and energy per inference = average power x per-image latency. The same
samples give the board's temperatures and clocks per kept run, and whether a run was throttled
(launcher/device/thermal.py).

The sampling needs no privilege inside the container. ``PowerSampler`` is the side effect
(a process, a thread, a file); ``measure`` and the log round trip are pure.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import math
import os
import pty
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from launcher import settings
from launcher.contract.record import PowerMeasurement, ThermalSummary
from launcher.contract.results import BenchmarkResult, JobResult
from launcher.contract.vocabulary import MAX_LATENCY_RUNS
from launcher.device import thermal
from launcher.device.checks import Check
from launcher.device.tegrastats import (
    INPUT_RAILS,
    Sample,
    TegrastatsError,
    average_power_mw,
    parse_line,
)

POWER_LOG = "power.log"
DEFAULT_INTERVAL_MS = 100
# At least this many samples inside the timed runs, or the average means little.
MIN_SAMPLES = 3
# Samples taken before the job container starts: the board's idle draw, the baseline that
# energy above idle is measured against.
IDLE_SAMPLES = 5
# The most latency runs (windows) a job's record may line the samples up with: as many as a
# benchmark may run (MAX_LATENCY_RUNS: latency_runs' limit, and the cap of the runs
# min_duration_s adds). A record with more is not what its spec ran (a 32 MiB result.json can
# hold 1.7 million): its power is not measured at all rather than over some of its windows,
# which would give a number for runs nobody chose. Up to the cap, lining up costs
# O((samples + windows) log samples).
MAX_WINDOWS = MAX_LATENCY_RUNS


@dataclass(frozen=True)
class Sampling:
    """How a job's power is sampled: the whole command line and its interval."""

    command: tuple[str, ...]
    interval_ms: int

    @property
    def source(self) -> str:
        return shlex.join(self.command)


def sampling_for(is_jetson: bool, environ: Mapping[str, str] | None = None) -> Sampling | None:
    """What samples power here, or None when nothing does: EDGECOMPRESS_TEGRASTATS's command,
    else the device's own tegrastats on a Jetson profile, nothing elsewhere."""
    configured = settings.tegrastats_command(environ)
    if configured is not None and configured.lower() == "off":
        return None
    base = tuple(shlex.split(configured)) if configured else (("tegrastats",) if is_jetson
                                                              else ())
    if not base:
        return None
    interval = settings.power_interval_ms(environ)
    return Sampling((*base, "--interval", str(interval)), interval)


def check_sampler(sampling: Sampling | None,
                  which: Callable[[str], str | None] = shutil.which) -> Check:
    """On a Jetson: can benchmark jobs measure power here?"""
    if sampling is None:
        return Check("power sampling", "warn", f"off ({settings.TEGRASTATS.name}=off): "
                     "benchmarks record no power or energy")
    program = sampling.command[0]
    if which(program) is None:
        return Check("power sampling", "warn", f"{program} not found: benchmarks record no "
                     "power or energy; install nvidia-l4t-tools (tegrastats) or set "
                     f"{settings.TEGRASTATS.name} to a sampler command")
    return Check("power sampling", "ok", f"{sampling.source} around benchmark jobs")


def format_line(stamp: float, line: str) -> str:
    return f"{stamp:.6f} {line.rstrip()}\n"


def parse_log(text: str) -> list[tuple[float, Sample]]:
    """power.log -> (host time, sample); lines that are not tegrastats (a start-up message,
    an error) are skipped: the log keeps them for people, the numbers never use them."""
    samples: list[tuple[float, Sample]] = []
    for raw in text.splitlines():
        stamp, _, line = raw.partition(" ")
        try:
            samples.append((float(stamp), parse_line(line)))
        except (ValueError, TegrastatsError):
            continue
    return samples


def measure(samples: Sequence[tuple[float, Sample]], started: Sequence[float],
            ended: Sequence[float], warmup_runs: int, images_per_run: int,
            sampling: Sampling, job_started: float | None = None,
            latency_s: float | None = None,
            clocks_pinned: bool | None = None) -> PowerMeasurement:
    """Average input power over the kept latency runs (the warm-up runs left out, as for the
    latency) and the energy of one inference; with the time the job started, also the idle
    power before it and the energy of one inference above idle. Unmeasurable windows give a
    reason, not a number.

    ``latency_s``: the job's per-image latency, which energy per inference is that power
    times. A run's window also holds what the job does between images outside their timed
    spans (each image's input made ready): without it, the window's share per image.

    ``clocks_pinned``: what the device preflight recorded (the job's environment,
    jetson_clocks); it decides what a clock below its maximum means (launcher/device/thermal.py).
    The thermal summary needs no power rail: it is there whenever there are kept runs.

    A record of more than ``MAX_WINDOWS`` runs (warm-up runs included) is not measured: the
    result says why, with no number, rather than a power over part of its runs."""
    summary: ThermalSummary | None = None

    def unmeasured(reason: str, count: int = 0) -> PowerMeasurement:
        return PowerMeasurement(source=sampling.source, interval_ms=sampling.interval_ms,
                                samples=count, reason=reason, thermal=summary)

    recorded = max(len(started), len(ended))
    if recorded > MAX_WINDOWS:
        return unmeasured(f"the job recorded {recorded:,} latency runs, more than the "
                          f"{MAX_WINDOWS:,} a benchmark's spec allows: its samples were not "
                          "lined up with them")
    runs = list(zip(started, ended, strict=False))[warmup_runs:]
    if not runs:
        return unmeasured("the job recorded no kept latency run to line the samples up with")
    summary = thermal.summarise(per_window(samples, runs), [s for _, s in samples],
                                clocks_pinned)
    inside = inside_windows(samples, runs)
    powered = [sample for sample in inside if sample.power_mw is not None]
    timed_s = sum(end - start for start, end in runs)
    if len(powered) < MIN_SAMPLES:
        rails = ", ".join(INPUT_RAILS)
        why = (f"no input rail ({rails}) in the samples" if inside and not powered else
               f"{len(powered)} sample(s) fell inside the {timed_s:.2f} s of timed runs, "
               f"fewer than {MIN_SAMPLES}: raise latency_images or lower "
               f"{settings.POWER_INTERVAL_MS.name}")
        return unmeasured(why, len(powered))
    average_mw = average_power_mw(powered)
    if latency_s is None:
        latency_s = timed_s / (len(runs) * images_per_run)
    idle = [sample for stamp, sample in samples if job_started is not None
            and stamp < job_started and sample.power_mw is not None]
    idle_mw = average_power_mw(idle) if idle else None
    return PowerMeasurement(
        source=sampling.source, interval_ms=sampling.interval_ms, samples=len(powered),
        rail=powered[0].input_rail, timed_s=timed_s, average_power_mw=average_mw,
        energy_per_inference_mj=average_mw * latency_s, idle_samples=len(idle),
        idle_power_mw=idle_mw,
        energy_above_idle_per_inference_mj=(None if idle_mw is None
                                            else (average_mw - idle_mw) * latency_s),
        # mW x s = mJ: the windows' energy over the images they held.
        energy_per_query_window_mj=average_mw * timed_s / (len(runs) * images_per_run)
        if images_per_run > 0 else None,
        thermal=summary)


def inside_windows(samples: Sequence[tuple[float, Sample]],
                   windows: Sequence[tuple[float, float]]) -> list[Sample]:
    """The samples stamped inside at least one window (start <= stamp <= end, both ends
    included), each once, in the samples' own order (the average's sum stays the same to the
    last bit). The stamps are sorted once and each window's span found by bisection: each
    window adds +1 where its samples start and -1 past their end, and a running sum marks a
    sample inside when it is above 0, whatever the windows' order or overlap. A window that
    ends before it starts holds nothing; nothing is inside a NaN bound, no NaN stamp inside
    a window."""
    order = sorted((i for i, (stamp, _) in enumerate(samples) if not math.isnan(stamp)),
                   key=lambda i: samples[i][0])
    stamps = [samples[i][0] for i in order]
    edges = [0] * (len(stamps) + 1)
    for start, end in windows:
        if not start <= end:  # reversed, or NaN: no stamp is inside
            continue
        first, past = bisect.bisect_left(stamps, start), bisect.bisect_right(stamps, end)
        if first < past:
            edges[first] += 1
            edges[past] -= 1
    covered = [False] * len(samples)
    depth = 0
    for position, index in enumerate(order):
        depth += edges[position]
        covered[index] = depth > 0
    return [sample for (_, sample), inside in zip(samples, covered, strict=True) if inside]


def per_window(samples: Sequence[tuple[float, Sample]],
               windows: Sequence[tuple[float, float]]) -> list[list[Sample]]:
    """Each window's samples (both ends included), in stamp order; the stamps sorted once and
    each window found by bisection, as in ``inside_windows``. Windows that overlap share
    their samples; a reversed or NaN window holds none."""
    ordered = sorted(((stamp, sample) for stamp, sample in samples if not math.isnan(stamp)),
                     key=lambda item: item[0])
    stamps = [stamp for stamp, _ in ordered]
    held: list[list[Sample]] = []
    for start, end in windows:
        if not start <= end:
            held.append([])
            continue
        first, past = bisect.bisect_left(stamps, start), bisect.bisect_right(stamps, end)
        held.append([sample for _, sample in ordered[first:past]])
    return held


class PowerSampler:
    """Runs the sampler command for the length of a ``with`` block and writes its lines,
    stamped on arrival, to ``log_path``.

    tegrastats writes through C stdio, which holds output to a pipe in 4 KB blocks; lines
    that arrive in bursts would carry the wrong times. A pseudo-terminal makes it flush
    every line, as it does on a console."""

    def __init__(self, sampling: Sampling, log_path: Path) -> None:
        self.sampling = sampling
        self.log_path = log_path
        self.error: str | None = None
        self.lines = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._master = -1

    def __enter__(self) -> PowerSampler:
        master, slave = pty.openpty()
        try:
            self._process = subprocess.Popen(
                self.sampling.command, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                close_fds=True, start_new_session=True)
        except OSError as error:
            os.close(master)
            self.error = f"cannot start {self.sampling.source}: {error.strerror or error}"
            with open(self.log_path, "w") as log:
                log.write(f"# {self.error}\n")
            return self
        finally:
            os.close(slave)
        self._master = master
        self._reader = threading.Thread(target=self._pump, name="edgecompress-power",
                                        daemon=True)
        self._reader.start()
        self._wait_for_idle_samples()
        return self

    def _wait_for_idle_samples(self) -> None:
        """Hold the job back until the idle baseline is sampled (or the sampler is silent
        for longer than those samples should take)."""
        give_up = time.monotonic() + (IDLE_SAMPLES + 2) * self.sampling.interval_ms / 1000 + 1
        while (self.lines < IDLE_SAMPLES and time.monotonic() < give_up
               and self._process is not None and self._process.poll() is None):
            time.sleep(0.02)

    def _pump(self) -> None:
        pending = b""
        with open(self.log_path, "w") as log:
            while True:
                try:
                    chunk = os.read(self._master, 4096)
                except OSError:  # EIO: the sampler closed the terminal (it exited)
                    break
                if not chunk:
                    break
                stamp = time.time()
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for line in complete:
                    text = line.decode("utf-8", "replace").rstrip("\r")
                    if text.strip():
                        log.write(format_line(stamp, text))
                        self.lines += 1
                log.flush()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        elif process.returncode:
            self.error = f"{self.sampling.source} exited with {process.returncode}"
        if self._reader is not None:
            self._reader.join(timeout=3)
        with contextlib.suppress(OSError):
            os.close(self._master)

    def measure(self, result: JobResult | None) -> PowerMeasurement | None:
        """The finished job's power, from its power.log; None for a job that times no
        inference (only benchmark does)."""
        if not isinstance(result, BenchmarkResult):
            return None
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        job_started = dt.datetime.fromisoformat(
            result.timings.started_at.replace("Z", "+00:00")).timestamp()
        measured = measure(parse_log(text), result.samples.get("latency_run_started_unix", []),
                           result.samples.get("latency_run_ended_unix", []),
                           result.spec.warmup_runs, result.metrics.latency_images,
                           self.sampling, job_started, result.metrics.latency_ms_mean / 1000,
                           result.environment.jetson_clocks)
        if measured.average_power_mw is None and self.error:
            return measured.model_copy(update={"reason": self.error})
        return measured
