"""Where jobs run, and the one place a JobRequest is made.

A ``Target`` is what every job of a session shares: the store, the profile's image and its
id, the runtime, what the device preflight learned, the power sampler. ``request_for`` turns
a spec and its inputs into the runner's request under the same rules for ``edgecompress
run``, campaigns and the benchmarks (deadline, the network only for the prepare job, the tfds
cache read-only for the others). ``connect`` is the edge: engine, image, device preflight.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from launcher import settings
from launcher.contract.specs import AnySpec, PrepareSpec, tfds_read
from launcher.contract.vocabulary import CONTAINER_TFDS_DIR
from launcher.deadlines import deadline_for
from launcher.device import preflight
from launcher.device.checks import raise_on_failure
from launcher.device.power import Sampling, check_sampler, sampling_for
from launcher.device.profiles import Profile, get_profile
from launcher.docker_client import Engine
from launcher.errors import UserError
from launcher.limits import Limits, Resolved, host_memory_bytes, resolve
from launcher.runner import JobRequest
from launcher.store import Store


@dataclass(frozen=True)
class Target:
    """Where and with what a session's jobs run."""

    store: Store
    profile: str
    image: str
    image_id: str
    runtime: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)  # e.g. the power mode
    tfds_cache: Path | None = None
    power: Sampling | None = None  # how benchmark jobs' power is sampled, where it is
    limits: Resolved | None = None  # what each job may use (launcher/limits.py)


def request_for(target: Target, spec: AnySpec, inputs: Mapping[str, Path],
                timeout_s: float | None = None, force: bool = False) -> JobRequest:
    # Only a prepare job has the network, and the cache to write; a job that reads the
    # dataset gets the cache read-only, so no job but prepare can change what others read.
    downloads = isinstance(spec, PrepareSpec)
    cache = {} if target.tfds_cache is None else {CONTAINER_TFDS_DIR: target.tfds_cache}
    return JobRequest(
        spec=spec, image=target.image, image_id=target.image_id, inputs=dict(inputs),
        deadline_s=deadline_for(spec.job, timeout_s), runtime=target.runtime,
        network=downloads, caches=cache if downloads else {},
        read_caches=cache if tfds_read(spec) is not None else {}, environment=target.environment,
        force=force, power=target.power, limits=target.limits)


def image_id_of(engine: Engine, profile: Profile) -> str:
    image_id = engine.image_id(profile.image)
    if image_id is None:
        raise UserError(f"image {profile.image} is missing: build it with "
                        f"'edgecompress build {profile.name}' (or 'make image')")
    return image_id


def device_preflight(engine: Engine, profile: Profile, store: Path,
                     power: Sampling | None, warn: Callable[[str], None]) -> dict[str, str]:
    """On a Jetson profile: refuse a host that cannot run its image, warn about what spoils
    measurements, and return what the jobs should record about the device's setup."""
    if not profile.is_jetson:
        return {}
    facts = preflight.gather(store=store, docker_info=engine.info(),
                             nvpmodel=preflight.query_nvpmodel())
    checks = [*preflight.preflight(profile, facts, store), check_sampler(power)]
    for check in checks:
        if check.state == "warn":
            warn(f"warning: {check.name}: {check.detail}")
    raise_on_failure(checks)
    return preflight.device_environment(facts)


def profile_limits(profile: Profile) -> Limits:
    return Limits(memory_mb=profile.memory_mb, swap_mb=profile.swap_mb)


def host_memory(meminfo: Path = Path("/proc/meminfo")) -> int:
    try:
        return host_memory_bytes(meminfo.read_text())
    except (OSError, ValueError):
        return 4 * 1024**3  # cannot tell: assume a small board


def job_limits(profile: Profile, chosen: Limits, meminfo: Path = Path("/proc/meminfo")
               ) -> Resolved:
    """``chosen`` (the command line over the campaign's [limits]) over the profile's."""
    return resolve(chosen.over(profile_limits(profile)), host_memory(meminfo))


def connect(profile_name: str, store: Path, warn: Callable[[str], None],
            limits: Limits | None = None) -> tuple[Engine, Target]:
    """Everything a session needs before its first job, in the order that fails fastest:
    the power settings (no Docker needed), the engine, the image, the device preflight."""
    profile = get_profile(profile_name)
    resolved = job_limits(profile, limits or Limits())
    power = sampling_for(profile.is_jetson)
    engine = Engine.connect()
    image_id = image_id_of(engine, profile)
    environment = device_preflight(engine, profile, store, power, warn)
    return engine, Target(store=Store(store), profile=profile.name, image=profile.image,
                          image_id=image_id, runtime=profile.runtime, environment=environment,
                          tfds_cache=settings.tfds_dir(), power=power, limits=resolved)
