"""Is this host ready to run a profile's jobs, and set up to measure? Every host check of the
launcher lives here: ``preflight`` (before jobs on a device profile) and ``doctor_checks``
(``edgecompress doctor``) pick from the same functions, so both give the same verdict and the
same advice. The checks are pure functions over ``HostFacts``; ``gather`` is the one edge
that reads the host (paths are parameters, so tests point it at recorded samples) and
nothing is read at import time.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from launcher.contract.vocabulary import ENV_JETPACK, ENV_JETSON_CLOCKS, ENV_POWER_MODE
from launcher.device.checks import Check
from launcher.device.jetson import (
    L4tRelease,
    PowerMode,
    clocks_pinned,
    docker_runtimes,
    find_board,
    jetpack_of,
    meminfo_bytes,
    parse_device_model,
    parse_l4t_release,
    parse_nvpmodel,
)
from launcher.device.profiles import PROFILES, Profile

GiB = 1024**3
MIN_FREE_BYTES = 2 * GiB  # below this a model save or an image layer fails outright
LOW_FREE_BYTES = 10 * GiB  # one job image plus a study's artifacts
SWAPFILE_FIX = ("add a swapfile: sudo fallocate -l 4G /swapfile && sudo chmod 600 /swapfile && "
                "sudo mkswap /swapfile && sudo swapon /swapfile (and list it in /etc/fstab)")


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


def check_engine(info: Mapping[str, Any] | None, error: str | None) -> Check:
    if info is None:
        return Check("docker engine", "fail", error or "not reachable")
    return Check("docker engine", "ok",
                 f"{info.get('ServerVersion', '?')}, {info.get('Driver', '?')} storage, "
                 f"cgroup v{info.get('CgroupVersion', '1')}")


def check_runtime(info: Mapping[str, Any] | None, needs_nvidia: bool = True) -> Check:
    """Jetson images need the nvidia runtime (the Jetson runtime refuses --gpus)."""
    runtimes = docker_runtimes(info)
    listed = ", ".join(runtimes) or "none listed"
    if not needs_nvidia:
        return Check("docker runtime", "ok", listed)
    if "nvidia" not in runtimes:
        return Check("docker runtime", "fail", "the nvidia runtime is not registered with "
                     f"Docker (runtimes: {listed}): install NVIDIA's container runtime "
                     "(sudo apt install nvidia-container, part of nvidia-jetpack) and restart "
                     "docker")
    default = str((info or {}).get("DefaultRuntime") or "runc")
    return Check("docker runtime", "ok", f"nvidia registered (default {default})")


def check_images(present: Mapping[str, str | None]) -> Check:
    built = [name for name, image_id in present.items() if image_id]
    missing = [name for name, image_id in present.items() if not image_id]
    if not built:
        return Check("job images", "warn", "none built yet: run 'edgecompress build' "
                     "(or make image)")
    detail = "built: " + ", ".join(built)
    if missing:
        detail += "; not built: " + ", ".join(missing)
    return Check("job images", "ok", detail)


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
        env[ENV_POWER_MODE] = f"{mode.name} ({mode.mode_id})"
    jetpack = jetpack_of(parse_l4t_release(facts.tegra_release))
    if jetpack:
        env[ENV_JETPACK] = jetpack
    pinned = clocks_pinned(facts.cpu_freq_bounds)
    if pinned is not None:
        env[ENV_JETSON_CLOCKS] = "1" if pinned else "0"
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


def profile_for_host(facts: HostFacts) -> Profile | None:
    """The device profile made for this Jetson's L4T line, if any."""
    release = parse_l4t_release(facts.tegra_release)
    return next((p for p in PROFILES.values()
                 if p.is_jetson and release is not None and p.l4t_major == release.line), None)


def doctor_checks(facts: HostFacts, engine_error: str | None,
                  images: Mapping[str, str | None], store: Path) -> list[Check]:
    """``edgecompress doctor``: the engine, the disk and the built images anywhere; on a
    Jetson also the preflight of the profile made for its L4T line."""
    disk = check_disk(store, facts.free_disk_bytes)
    if facts.docker_info is None:
        return [check_engine(None, engine_error), disk]
    on_jetson = facts.tegra_release is not None
    checks = [check_engine(facts.docker_info, None),
              check_runtime(facts.docker_info, needs_nvidia=on_jetson), disk,
              check_images(images)]
    if not on_jetson:
        return checks
    profile = profile_for_host(facts)
    if profile is None:
        release = parse_l4t_release(facts.tegra_release)
        return [*checks, Check("device profile", "fail", f"no device profile for L4T "
                               f"{release}: edgecompress supports R32.7 (JetPack 4.6) and R35 "
                               "(JetPack 5.1)")]
    already = {check.name for check in checks}
    return [*checks, *(c for c in preflight(profile, facts, store) if c.name not in already)]


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
