"""What a job container may use: memory (and swap), processes, /tmp, and what it may leave
behind: the log the launcher keeps and the size of out/.

A job runs model code and pip packages, so nothing it does may exhaust the host: every job
gets these limits. Each profile has defaults (a Jetson Nano has 4 GB shared with its GPU and
needs swap for TensorFlow; a Xavier NX has 8 GB; an x86 twin takes 90 % of the host's
memory), a campaign's ``[limits]`` table overrides them, and the command line overrides both.
Pure: ``resolve`` is given the host's memory.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MiB = 1024**2
# The longest deadline a job may be given: a DenseNet201 transfer fit on a Nano takes hours,
# not weeks, and a record must hold a finite number (an 'inf' deadline never ends).
MAX_DEADLINE_S = 30 * 86400.0


class Limits(BaseModel):
    """Every field None means: the profile's default."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    memory_mb: int | None = Field(default=None, ge=64, le=1_048_576,
                                  description="memory of the job container, MB")
    swap_mb: int | None = Field(default=None, ge=0, le=1_048_576,
                                description="swap it may use beyond memory, MB")
    pids: int | None = Field(default=None, ge=64, le=1_000_000,
                             description="processes and threads")
    tmp_mb: int | None = Field(default=None, ge=16, le=1_048_576,
                               description="size of its /tmp (RAM-backed, counts as memory)")
    log_mb: int | None = Field(default=None, ge=1, le=65_536,
                               description="log kept per job: the first and last halves")
    out_mb: int | None = Field(default=None, ge=1, le=1_048_576,
                               description="what it may write into out/, MB")

    def over(self, other: Limits) -> Limits:
        """These limits where set, else ``other``'s."""
        return Limits(**{**other.model_dump(), **self.model_dump(exclude_none=True)})


class Resolved(BaseModel):
    """Limits in bytes, every one set: what the container is created with."""

    model_config = ConfigDict(frozen=True)

    memory_bytes: int
    memory_swap_bytes: int  # memory + swap: Docker's memswap_limit
    pids: int
    tmp_bytes: int
    log_bytes: int
    out_bytes: int


# What a job may use of the host's memory where no one set its limit (an x86 twin).
DEFAULT_HOST_SHARE = 0.9
# What every profile starts from; profiles set memory (and swap) for their board.
BASE = Limits(swap_mb=0, pids=4096, tmp_mb=1024, log_mb=16, out_mb=4096)


def resolve(limits: Limits, host_memory_bytes: int) -> Resolved:
    full = limits.over(BASE)
    memory = (full.memory_mb * MiB if full.memory_mb is not None
              else int(host_memory_bytes * DEFAULT_HOST_SHARE) // MiB * MiB)
    assert full.swap_mb is not None and full.pids is not None and full.tmp_mb is not None
    assert full.log_mb is not None and full.out_mb is not None
    return Resolved(memory_bytes=memory, memory_swap_bytes=memory + full.swap_mb * MiB,
                    pids=full.pids, tmp_bytes=full.tmp_mb * MiB, log_bytes=full.log_mb * MiB,
                    out_bytes=full.out_mb * MiB)


# Below this memory limit a job writes its SavedModel in a fresh process (jobs/contract.py):
# Keras's SavedModel save of DenseNet201 took 1.7 GB on top of a pruning fit's 3.4 GB, 5.4 GB
# in all, where a fresh process loading the .h5 copy and saving peaked at 2.6 GB
# (docs/benchmarks.md, "Peak memory"). A Nano's job has 3.5 GB, a Xavier's 7 GB.
SAVE_APART_BELOW_BYTES = 6 * 1024 * MiB


def save_apart(limits: Resolved | None) -> bool:
    return limits is not None and limits.memory_bytes < SAVE_APART_BELOW_BYTES


def host_memory_bytes(meminfo: str) -> int:
    """MemTotal from /proc/meminfo's text."""
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    raise ValueError("no MemTotal in /proc/meminfo")
