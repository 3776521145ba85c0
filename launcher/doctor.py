"""edgecompress doctor: is this machine ready to run jobs? Checks are pure functions over
what the engine and the disk report; ``run_checks`` is the edge that gathers them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from launcher.checks import Check
from launcher.docker_client import Engine
from launcher.errors import EngineError
from launcher.power import check_sampler, sampling_for
from launcher.profiles import PROFILES

MIN_FREE_BYTES = 10 * 1024**3  # one job image plus a study's artifacts


def check_engine(info: dict[str, Any] | None, error: str | None) -> Check:
    if info is None:
        return Check("docker engine", "fail", error or "not reachable")
    return Check("docker engine", "ok",
                 f"{info.get('ServerVersion', '?')}, {info.get('Driver', '?')} storage, "
                 f"cgroup v{info.get('CgroupVersion', '1')}")


def check_runtimes(info: dict[str, Any], needs_nvidia: bool) -> Check:
    runtimes = sorted((info.get("Runtimes") or {}).keys())
    if needs_nvidia and "nvidia" not in runtimes:
        return Check("runtimes", "fail", "the nvidia runtime is not registered with the engine: "
                     "install nvidia-container-runtime (JetPack) and restart docker")
    return Check("runtimes", "ok", ", ".join(runtimes) or "none listed")


def check_disk(path: Path, free_bytes: int) -> Check:
    gib = free_bytes / 1024**3
    if free_bytes < MIN_FREE_BYTES:
        return Check("disk", "warn", f"{gib:.1f} GiB free at {path}: images and models need "
                     f"about {MIN_FREE_BYTES // 1024**3} GiB; free some space")
    return Check("disk", "ok", f"{gib:.1f} GiB free at {path}")


def check_images(present: dict[str, str | None]) -> Check:
    built = [name for name, image_id in present.items() if image_id]
    missing = [name for name, image_id in present.items() if not image_id]
    if not built:
        return Check("job images", "warn", "none built yet: run 'edgecompress build' "
                     "(or make image)")
    detail = "built: " + ", ".join(built)
    if missing:
        detail += "; not built: " + ", ".join(missing)
    return Check("job images", "ok", detail)


def existing_parent(path: Path) -> Path:
    path = path.resolve()
    while not path.exists():
        path = path.parent
    return path


def run_checks(store: Path | None = None) -> list[Check]:
    store = store or Path(os.environ.get("EDGECOMPRESS_STORE", "results"))
    disk_path = existing_parent(store)
    checks = []
    try:
        engine = Engine.connect(timeout=10)
        info = engine.info()
    except EngineError as error:
        return [check_engine(None, str(error)),
                check_disk(disk_path, shutil.disk_usage(disk_path).free)]
    checks.append(check_engine(info, None))
    needs_nvidia = any(p.runtime == "nvidia" for p in PROFILES.values()) and os.path.exists(
        "/etc/nv_tegra_release")
    checks.append(check_runtimes(info, needs_nvidia))
    checks.append(check_disk(disk_path, shutil.disk_usage(disk_path).free))
    checks.append(check_images({name: engine.image_id(p.image) for name, p in PROFILES.items()}))
    if os.path.exists("/etc/nv_tegra_release"):
        checks += jetson_checks(info, store)
    return checks


def jetson_checks(info: dict[str, Any], store: Path) -> list[Check]:
    """On a Jetson: the preflight of the device profile made for this host's L4T line."""
    from launcher import preflight

    facts = preflight.gather(store=store, docker_info=info, nvpmodel=preflight.query_nvpmodel())
    release = preflight.parse_l4t_release(facts.tegra_release)
    matching = [p for p in PROFILES.values()
                if p.is_jetson and release is not None and p.l4t_major == release.line]
    if not matching:
        return [Check("device profile", "fail", f"no device profile for L4T {release}: "
                      "edgecompress supports R32.7 (JetPack 4.6) and R35 (JetPack 5.1)")]
    return [*(c for c in preflight.preflight(matching[0], facts, store) if c.name != "disk"),
            check_sampler(sampling_for(True))]
