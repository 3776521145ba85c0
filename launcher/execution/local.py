"""This machine as a site: N slots on its Docker engine.

Benchmark jobs run alone: while one times, no other job of the campaign runs, so its
latencies are what one job on the machine measures (docs/methodology.md). With one slot the
plan's order is kept; with more, the jobs that are not benchmarks go first (each benchmark is
a leaf: nothing waits for it), and a benchmark starts once nothing else runs or is ready.

How many slots: ``parallel`` from the command line or the campaign, else ``default_parallel``:
1 on a Jetson (its cores and memory are the measurement's), on an x86 twin one job per two
cores. Each job keeps its own memory limit, and the slots' limits must fit the host together:
``fit_parallel`` lowers N, with one line saying why.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from launcher.device.profiles import Profile
from launcher.docker_client import Engine
from launcher.execution.cancel import Cancel
from launcher.execution.site import Lost, Running, Slot
from launcher.limits import DEFAULT_HOST_SHARE, Limits, MiB
from launcher.runner import JobOutcome, JobRequest, run_job
from launcher.study.plan import Node
from launcher.target import Target

BENCHMARK = "benchmark"
MIN_MEMORY_MB = 64  # launcher/limits.py's floor


@dataclass(frozen=True)
class Training:
    """Training placed on another profile: the image id that keys its jobs and, where that
    image is on this machine, the target that runs them."""

    profile: str
    image_id: str
    target: Target | None

    def missing(self, node: Node) -> str:
        return (f"placed on {self.profile}, whose image is not here: run the campaign with "
                f"--profile {self.profile} where it is, then 'edgecompress merge' that store "
                "into this one")


def default_parallel(is_jetson: bool, cores: int) -> int:
    """Jobs at once when neither the command line nor the campaign says: 1 on a Jetson; on
    an x86 twin one per two cores (TensorFlow spreads one job over several cores; a second
    job fills what its single-threaded stretches leave: input pipeline, saving, Python)."""
    return 1 if is_jetson else max(1, cores // 2)


def fit_parallel(wanted: int, memory_bytes: int | None, host_memory_bytes: int
                 ) -> tuple[int, str | None]:
    """``wanted`` slots, lowered until their jobs' memory limits fit the host together;
    the line saying why when it was lowered."""
    if memory_bytes is None or memory_bytes <= 0 or wanted * memory_bytes <= host_memory_bytes:
        return wanted, None
    fits = max(1, host_memory_bytes // memory_bytes)
    return fits, (f"--parallel {wanted} lowered to {fits}: each job may use "
                  f"{memory_bytes / 1024 / MiB:.1f} GiB and the host has "
                  f"{host_memory_bytes / 1024 / MiB:.1f} GiB (lower --memory-mb to run more)")


def share_memory(limits: Limits, profile: Profile, slots: int, host_memory_bytes: int
                 ) -> Limits:
    """``limits`` with each job's memory a 1/``slots`` share of the host's default, where
    neither the user nor the profile set it (an x86 twin: 90 % of the host for one job)."""
    if slots <= 1 or limits.memory_mb is not None or profile.memory_mb is not None:
        return limits
    share = int(host_memory_bytes * DEFAULT_HOST_SHARE) // slots // MiB
    return limits.model_copy(update={"memory_mb": max(share, MIN_MEMORY_MB)})


def place(ready: Sequence[Node], running: Sequence[Running], slots: int
          ) -> list[tuple[Node, Slot]]:
    """Pure: which ready jobs start in which free slots (numbers 0..slots-1)."""
    if any(job.node.job == BENCHMARK for job in running):
        return []  # a benchmark is timing: nothing starts beside it
    free = [slot for slot in range(slots) if slot not in {job.slot for job in running}]
    order = list(ready) if slots == 1 else sorted(ready, key=lambda n: n.job == BENCHMARK)
    chosen: list[tuple[Node, Slot]] = []
    for node in order:
        if len(chosen) == len(free):
            break
        if node.job == BENCHMARK:
            if not running and not chosen:
                chosen.append((node, free[0]))
            break  # it waits until it can run alone
        chosen.append((node, free[len(chosen)]))
    return chosen


class LocalSite:
    """This engine, ``slots`` jobs at a time; ``training``: where train and scratch jobs are
    keyed and run when the campaign places them on another profile."""

    def __init__(self, engine: Engine, target: Target, slots: int = 1,
                 training: Training | None = None) -> None:
        self.engine, self.target, self.slots, self.training = engine, target, slots, training
        self.training_image_id = training.image_id if training else None

    def session(self) -> AbstractContextManager[object]:
        return contextlib.nullcontext()

    def target_for(self, node: Node) -> Target:
        if node.role == "train" and self.training is not None and self.training.target:
            return self.training.target
        return self.target

    def sharing(self, node: Node) -> int:
        return 1 if node.job == BENCHMARK else self.slots

    def refuse(self, node: Node) -> str | None:
        if node.role == "train" and self.training is not None and self.training.target is None:
            # Its image is not here: the training comes by a merge, or not at all.
            return self.training.missing(node)
        return None

    def place(self, ready: Sequence[Node], running: Sequence[Running]
              ) -> list[tuple[Node, Slot]]:
        return place(ready, running, self.slots)

    def run(self, node: Node, slot: Slot, request: JobRequest, on_line: Callable[[str], None],
            cancel: Cancel) -> JobOutcome:
        return run_job(self.engine, self.target.store, request, on_line, cancel)

    def lost(self, node: Node, slot: Slot, attempts: int) -> Lost:
        return Lost.stop  # this machine's engine went away: nothing else can run either

    def idle(self, now: float, running: int) -> None:
        return None

    def slot_name(self, slot: Slot) -> str | None:
        return None
