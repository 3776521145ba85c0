"""Before a job runs on a Jetson: is this host the one the profile's image was built for, and is
it set up to measure? Pure functions over what the host's files and Docker report;
``gather`` is the one edge that reads them (paths are parameters, so tests point it at
recorded samples) and nothing is read at import time.

Power modes (nvpmodel -q prints "NV Power Mode: <name>" then the mode id):
- Jetson Nano: MAXN, id 0, is the 10 W maximum; 5W is id 1 (L4T R32.7 power guide).
- Jetson Xavier NX on JetPack 5.x: ids 0-8 are 15 W, 10 W and 20 W modes with 2, 4 or 6 cores
  and no MAXN; MODE_20W_6CORE, id 8, is the highest budget with every core online (the
  GPU's 1.1 GHz cap is the same in all 20 W modes).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from launcher.checks import Check
from launcher.profiles import PROFILES, Profile

GiB = 1024**3
MIN_FREE_BYTES = 2 * GiB  # below this a model save or an image layer fails outright
LOW_FREE_BYTES = 10 * GiB  # one job image plus a study's artifacts
SWAPFILE_FIX = ("add a swapfile: sudo fallocate -l 4G /swapfile && sudo chmod 600 /swapfile && "
                "sudo mkswap /swapfile && sudo swapon /swapfile (and list it in /etc/fstab)")


@dataclass(frozen=True)
class L4tRelease:
    major: int  # 32
    revision: str  # "7.1"
    board: str | None  # the BSP's board family, e.g. t210ref

    def __str__(self) -> str:
        return f"R{self.major}.{self.revision}"

    @property
    def line(self) -> str:
        return f"R{self.major}"


@dataclass(frozen=True)
class PowerMode:
    name: str
    mode_id: int


@dataclass(frozen=True)
class Board:
    name: str
    model_pattern: str  # matched against /proc/device-tree/model
    max_mode: PowerMode
    small_memory: bool  # 4 GB or less: TensorFlow jobs need swap


BOARDS = (
    Board("Jetson Nano", r"\bJetson Nano\b", PowerMode("MAXN", 0), small_memory=True),
    Board("Jetson Xavier NX", r"\bJetson Xavier NX\b", PowerMode("MODE_20W_6CORE", 8),
          small_memory=False),
)


# The JetPack release each L4T release ships in (NVIDIA's JetPack archive); the L4T release is
# what a host can tell, the JetPack name is what people quote.
JETPACK_OF_L4T = {
    "R32.6.1": "4.6", "R32.7.1": "4.6.1", "R32.7.2": "4.6.2", "R32.7.3": "4.6.3",
    "R32.7.4": "4.6.4", "R32.7.5": "4.6.5", "R32.7.6": "4.6.6",
    "R35.1.0": "5.0.2", "R35.2.1": "5.1", "R35.3.1": "5.1.1", "R35.4.1": "5.1.2",
    "R35.5.0": "5.1.3", "R35.6.0": "5.1.4", "R35.6.1": "5.1.5",
}


@dataclass(frozen=True)
class HostFacts:
    """What preflight judges; every field None when the host could not tell."""

    tegra_release: str | None = None  # /etc/nv_tegra_release
    device_model: str | None = None  # /proc/device-tree/model
    meminfo: str | None = None  # /proc/meminfo
    nvpmodel: str | None = None  # `nvpmodel -q` output
    free_disk_bytes: int | None = None  # where images and results live
    docker_info: Mapping[str, Any] | None = None  # the engine's /info
    # (scaling_min_freq, scaling_max_freq) of each online core that has cpufreq
    cpu_freq_bounds: tuple[tuple[int, int], ...] = ()


# --- parsing -------------------------------------------------------------------------------


def parse_l4t_release(text: str | None) -> L4tRelease | None:
    """'# R32 (release), REVISION: 7.1, GCID: ..., BOARD: t210ref, ...' -> R32.7.1."""
    match = re.search(r"#\s*R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)", text or "")
    if not match:
        return None
    board = re.search(r"BOARD:\s*([\w-]+)", text or "")
    return L4tRelease(int(match.group(1)), match.group(2).rstrip("."),
                      board.group(1) if board else None)


def parse_device_model(raw: str | bytes | None) -> str | None:
    """The device tree's model string ends in a NUL byte."""
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text.strip("\x00 \n") or None


def parse_nvpmodel(text: str | None) -> PowerMode | None:
    """`nvpmodel -q`: 'NV Power Mode: MAXN' then the id on a line of its own; warnings and
    'NV Fan Mode' lines may come first."""
    match = re.search(r"NV Power Mode:\s*(\S+)\s*\n\s*(\d+)\s*$", text or "", re.MULTILINE)
    return PowerMode(match.group(1), int(match.group(2))) if match else None


def meminfo_bytes(text: str | None, key: str) -> int | None:
    match = re.search(rf"^{re.escape(key)}:\s+(\d+) kB", text or "", re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def jetpack_of(release: L4tRelease | None) -> str | None:
    return JETPACK_OF_L4T.get(str(release)) if release else None


def clocks_pinned(bounds: tuple[tuple[int, int], ...]) -> bool | None:
    """jetson_clocks pins every core's minimum frequency to its maximum (under the power
    mode's cap), so min == max on every core means it ran; None when nothing tells."""
    return all(low == high for low, high in bounds) if bounds else None


def docker_runtimes(info: Mapping[str, Any] | None) -> tuple[str, ...]:
    return tuple(sorted((info or {}).get("Runtimes") or {}))


def find_board(model: str | None) -> Board | None:
    return next((board for board in BOARDS if re.search(board.model_pattern, model or "")),
                None)


# --- checks --------------------------------------------------------------------------------


def check_l4t(profile: Profile, release: L4tRelease | None) -> Check:
    """An image runs only on the L4T line it was built for: R32 images need R32.7 (the release
    of JetPack 4.6.1's userspace), R35 images any R35."""
    wanted = profile.l4t or ""
    if release is None:
        return Check("L4T", "fail", f"no /etc/nv_tegra_release: this is not a Jetson; profile "
                     f"{profile.name} runs on a Jetson with L4T {profile.l4t_major}")
    if release.line != profile.l4t_major:
        fits = [p.name for p in PROFILES.values() if p.l4t_major == release.line]
        instead = f"use profile {' or '.join(fits)}" if fits else "no profile fits this host"
        return Check("L4T", "fail", f"this host runs L4T {release} but profile {profile.name} "
                     f"is built for {wanted} (JetPack {profile.jetpack}): {instead}, or "
                     f"flash JetPack {profile.jetpack}")
    if release.major == 32 and not release.revision.startswith("7"):
        return Check("L4T", "fail", f"this host runs L4T {release} but profile {profile.name} "
                     "needs R32.7 (JetPack 4.6.1 or later 4.6.x): upgrade JetPack")
    return Check("L4T", "ok", f"{release}" + (f" ({release.board})" if release.board else "")
                 + f", image built for {wanted}")


def check_board(model: str | None) -> Check:
    board = find_board(model)
    if board is None:
        return Check("board", "warn", f"{model or 'unknown board'}: power mode and swap advice "
                     "only know Jetson Nano and Jetson Xavier NX; check them by hand")
    return Check("board", "ok", model or board.name)


def check_runtime(info: Mapping[str, Any] | None) -> Check:
    runtimes = docker_runtimes(info)
    if "nvidia" not in runtimes:
        listed = ", ".join(runtimes) or "none"
        return Check("docker runtime", "fail", "the nvidia runtime is not registered with "
                     f"Docker (runtimes: {listed}): install NVIDIA's container runtime "
                     "(sudo apt install nvidia-container, part of nvidia-jetpack) and restart "
                     "docker")
    default = str((info or {}).get("DefaultRuntime") or "runc")
    return Check("docker runtime", "ok", f"nvidia registered (default {default})")


def check_swap(model: str | None, meminfo: str | None) -> Check:
    swap = meminfo_bytes(meminfo, "SwapTotal")
    memory = meminfo_bytes(meminfo, "MemTotal")
    if swap is None or memory is None:
        return Check("swap", "warn", "cannot read /proc/meminfo: check swap by hand (free -h)")
    board = find_board(model)
    small = board.small_memory if board else memory <= 4 * GiB
    detail = f"{swap / GiB:.1f} GiB swap, {memory / GiB:.1f} GiB memory"
    if small and swap == 0:
        return Check("swap", "fail", f"no swap with {memory / GiB:.1f} GiB of memory: "
                     f"TensorFlow jobs will be killed for memory; {SWAPFILE_FIX}")
    if small and swap + memory < 8 * GiB:
        return Check("swap", "warn", f"{detail}: training and conversion may run out of "
                     f"memory; {SWAPFILE_FIX}")
    return Check("swap", "ok", detail)


def check_disk(path: Path, free_bytes: int | None) -> Check:
    if free_bytes is None:
        return Check("disk", "warn", f"cannot tell the free space at {path}: check it (df -h)")
    gib = free_bytes / GiB
    if free_bytes < MIN_FREE_BYTES:
        return Check("disk", "fail", f"{gib:.1f} GiB free at {path}: image builds and model "
                     f"saves will fail; free at least {LOW_FREE_BYTES // GiB} GiB "
                     "(docker system prune, or results on a USB/NVMe drive)")
    if free_bytes < LOW_FREE_BYTES:
        return Check("disk", "warn", f"{gib:.1f} GiB free at {path}: a job image and a "
                     f"study's models need about {LOW_FREE_BYTES // GiB} GiB; free some space")
    return Check("disk", "ok", f"{gib:.1f} GiB free at {path}")


def check_power_mode(model: str | None, mode: PowerMode | None) -> Check:
    board = find_board(model)
    if mode is None:
        return Check("power mode", "warn", "cannot read the power mode (sudo nvpmodel -q): "
                     "timings depend on it; set the maximum and run sudo jetson_clocks")
    if board is None:
        return Check("power mode", "warn", f"{mode.name} ({mode.mode_id}) on an unknown "
                     "board: make sure it is the maximum, then run sudo jetson_clocks")
    best = board.max_mode
    if mode.mode_id != best.mode_id:
        return Check("power mode", "warn", f"{mode.name} ({mode.mode_id}) caps the clocks on "
                     f"the {board.name}: sudo nvpmodel -m {best.mode_id} ({best.name}) "
                     "&& sudo jetson_clocks")
    return Check("power mode", "ok", f"{mode.name} ({mode.mode_id}), the {board.name}'s "
                 "maximum; run sudo jetson_clocks before timing runs")


def check_clocks(pinned: bool | None) -> Check:
    if pinned is None:
        return Check("clocks", "warn", "cannot read the CPU frequency limits "
                     "(/sys/devices/system/cpu/cpu*/cpufreq): run sudo jetson_clocks before "
                     "timing runs")
    if not pinned:
        return Check("clocks", "warn", "the CPU clocks scale with load, so latency varies "
                     "from run to run: sudo jetson_clocks (it lasts until reboot)")
    return Check("clocks", "ok", "pinned at their maximum (jetson_clocks)")


def device_environment(facts: HostFacts) -> dict[str, str]:
    """What the jobs record about the device's setup (Environment's Jetson fields)."""
    env: dict[str, str] = {}
    mode = parse_nvpmodel(facts.nvpmodel)
    if mode:
        env["EDGECOMPRESS_POWER_MODE"] = f"{mode.name} ({mode.mode_id})"
    jetpack = jetpack_of(parse_l4t_release(facts.tegra_release))
    if jetpack:
        env["EDGECOMPRESS_JETPACK"] = jetpack
    pinned = clocks_pinned(facts.cpu_freq_bounds)
    if pinned is not None:
        env["EDGECOMPRESS_JETSON_CLOCKS"] = "1" if pinned else "0"
    return env


def preflight(profile: Profile, facts: HostFacts, store: Path = Path(".")) -> list[Check]:
    """Every check for running a profile's jobs on this host; fails refuse the run."""
    disk = check_disk(store, facts.free_disk_bytes)
    if not profile.is_jetson:
        return [disk]
    model = parse_device_model(facts.device_model)
    return [
        check_l4t(profile, parse_l4t_release(facts.tegra_release)),
        check_board(model),
        check_runtime(facts.docker_info),
        check_swap(model, facts.meminfo),
        disk,
        check_power_mode(model, parse_nvpmodel(facts.nvpmodel)),
        check_clocks(clocks_pinned(facts.cpu_freq_bounds)),
    ]


# --- the edge ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HostPaths:
    tegra_release: Path = Path("/etc/nv_tegra_release")
    device_model: Path = Path("/proc/device-tree/model")
    meminfo: Path = Path("/proc/meminfo")
    cpus: Path = Path("/sys/devices/system/cpu")


def read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return None


def query_nvpmodel(command: tuple[str, ...] = ("nvpmodel", "-q")) -> str | None:
    """`nvpmodel -q`, or None where there is no nvpmodel (not a Jetson) or it fails."""
    if shutil.which(command[0]) is None:
        return None
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=20,
                                check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def free_bytes(path: Path) -> int | None:
    path = path.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def gather(paths: HostPaths = HostPaths(), store: Path = Path("."),
           docker_info: Mapping[str, Any] | None = None,
           nvpmodel: str | None = None) -> HostFacts:
    """Read the host. The engine's info comes from the caller (docker_client is the one module
    that talks to Docker), and so may `nvpmodel -q` output (query_nvpmodel)."""
    return HostFacts(
        tegra_release=read_text(paths.tegra_release),
        device_model=read_text(paths.device_model),
        meminfo=read_text(paths.meminfo),
        nvpmodel=nvpmodel,
        free_disk_bytes=free_bytes(store),
        docker_info=docker_info,
        cpu_freq_bounds=read_cpu_freq_bounds(paths.cpus),
    )


def read_cpu_freq_bounds(cpus: Path) -> tuple[tuple[int, int], ...]:
    bounds = []
    for folder in sorted(cpus.glob("cpu[0-9]*/cpufreq")):
        low = read_text(folder / "scaling_min_freq")
        high = read_text(folder / "scaling_max_freq")
        if low and high and low.strip().isdigit() and high.strip().isdigit():
            bounds.append((int(low), int(high)))
    return tuple(bounds)
