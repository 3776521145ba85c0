"""Every host setting read from the environment: its name, its default and its check.

Nothing else in the launcher reads ``EDGECOMPRESS_*`` variables. Each reader takes the
environment as a parameter (``os.environ`` when omitted), so the checks are unit-tested on
plain dicts. A bad value is a UserError that names the variable and a good value.
(The variables the launcher sets *inside* job containers are part of the job contract:
``launcher/contract/vocabulary.py``, exported to ``jobs/_contract.py``.)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from launcher.errors import UserError


@dataclass(frozen=True)
class Setting:
    name: str
    default: str  # as a person would read it
    meaning: str


STORE = Setting("EDGECOMPRESS_STORE", "results", "the results store")
TFDS_DIR = Setting("EDGECOMPRESS_TFDS_DIR", "~/.cache/edgecompress/tfds",
                   "tfds download cache, mounted into jobs that read a real tfds dataset")
WEIGHTS_DIR = Setting("EDGECOMPRESS_WEIGHTS_DIR", "~/.cache/edgecompress/weights",
                      "the ImageNet weights cache: each file fetched once, mounted read-only "
                      "into the jobs that load it")
WEIGHTS_URL = Setting("EDGECOMPRESS_WEIGHTS_URL", "Keras's own location",
                      "a mirror of Keras's weights files: a URL base (the file name is "
                      "appended) or a local folder")
WEIGHTS_HASHES = Setting("EDGECOMPRESS_WEIGHTS_HASHES", "Keras's published hashes",
                         "a JSON file of {file name: md5} checked instead of Keras's hashes, "
                         "for files that are not Keras's (tests' stub weights); said on every "
                         "use")
DEBUG = Setting("EDGECOMPRESS_DEBUG", "0", "1: show tracebacks instead of one-line errors")
EXTRA_CA = Setting("EDGECOMPRESS_EXTRA_CA", "", "a CA bundle pip may use during image builds "
                   "(never kept in the image)")
REGISTRY = Setting("EDGECOMPRESS_REGISTRY", "", "HOST[:PORT][/NAMESPACE] of prebuilt images")
TEGRASTATS = Setting("EDGECOMPRESS_TEGRASTATS", "tegrastats on a Jetson profile",
                     "the power sampler's command line, or 'off'")
POWER_INTERVAL_MS = Setting("EDGECOMPRESS_POWER_INTERVAL_MS", "100",
                            "the power sampler's interval, 10..10000 ms")
FLEET = Setting("EDGECOMPRESS_FLEET", "", "a Swarm manager's engine URL (tcp://HOST:2375): "
                "campaigns run on its nodes (docs/fleet.md)")
FLEET_PUSH = Setting("EDGECOMPRESS_FLEET_PUSH", "the fleet's registry",
                     "where the launcher pushes images for a fleet, when it reaches the "
                     "fleet's registry by another address than the nodes do")
IMAGE_REPOSITORY = Setting(
    "EDGECOMPRESS_IMAGE_REPOSITORY", "edgecompress/jobs",
    "the repository of the job images built and run (e.g. one per checkout, so that a build "
    "in one does not change what another runs)")
BASE_IMAGE = Setting("EDGECOMPRESS_BASE_<PROFILE>", "the profile's public base",
                     "the base image of a profile's build, e.g. EDGECOMPRESS_BASE_X86_TF2_12")

SETTINGS = (STORE, TFDS_DIR, WEIGHTS_DIR, WEIGHTS_URL, WEIGHTS_HASHES, DEBUG, EXTRA_CA,
            REGISTRY, TEGRASTATS, POWER_INTERVAL_MS, FLEET, FLEET_PUSH, IMAGE_REPOSITORY,
            BASE_IMAGE)


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def image_repository(environ: Mapping[str, str] | None = None) -> str:
    value = (_env(environ).get(IMAGE_REPOSITORY.name) or "").strip()
    if not value:
        return IMAGE_REPOSITORY.default
    if not re.fullmatch(r"[a-z0-9]+(?:[._/-][a-z0-9]+)*", value):
        raise UserError(f"{IMAGE_REPOSITORY.name}={value!r} is not a repository name: use "
                        "lower-case letters, digits and . _ - /, e.g. edgecompress/jobs-mine")
    return value


def store(environ: Mapping[str, str] | None = None) -> Path:
    return Path(_env(environ).get(STORE.name) or STORE.default)


def tfds_dir(environ: Mapping[str, str] | None = None) -> Path:
    value = _env(environ).get(TFDS_DIR.name)
    return Path(value) if value else Path.home() / ".cache" / "edgecompress" / "tfds"


def weights_dir(environ: Mapping[str, str] | None = None) -> Path:
    value = _env(environ).get(WEIGHTS_DIR.name)
    return Path(value) if value else Path.home() / ".cache" / "edgecompress" / "weights"


def weights_url(environ: Mapping[str, str] | None = None) -> str | None:
    return (_env(environ).get(WEIGHTS_URL.name) or "").strip() or None


def weights_hashes(environ: Mapping[str, str] | None = None) -> Path | None:
    value = (_env(environ).get(WEIGHTS_HASHES.name) or "").strip()
    return Path(value) if value else None


def debug(environ: Mapping[str, str] | None = None) -> bool:
    return _env(environ).get(DEBUG.name) == "1"


def extra_ca(environ: Mapping[str, str] | None = None) -> str | None:
    return _env(environ).get(EXTRA_CA.name) or None


def registry(environ: Mapping[str, str] | None = None) -> str | None:
    return _env(environ).get(REGISTRY.name) or None


def fleet(environ: Mapping[str, str] | None = None) -> str | None:
    value = (_env(environ).get(FLEET.name) or "").strip()
    if value and "://" not in value:
        raise UserError(f"{FLEET.name}={value!r}: give the manager's engine URL, e.g. "
                        "tcp://192.168.1.10:2375")
    return value or None


def fleet_push(environ: Mapping[str, str] | None = None) -> str | None:
    return (_env(environ).get(FLEET_PUSH.name) or "").strip().rstrip("/") or None


def tegrastats_command(environ: Mapping[str, str] | None = None) -> str | None:
    """The configured sampler command line; "off" means none; None: not configured."""
    value = _env(environ).get(TEGRASTATS.name, "").strip()
    return value or None


def power_interval_ms(environ: Mapping[str, str] | None = None) -> int:
    raw = _env(environ).get(POWER_INTERVAL_MS.name, POWER_INTERVAL_MS.default)
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 10 <= value <= 10_000:
        raise UserError(f"{POWER_INTERVAL_MS.name}={raw!r} is not a whole number of "
                        "milliseconds in 10..10000: set it to e.g. 100")
    return value


def base_image_variable(profile: str) -> str:
    """x86-tf2.12 -> EDGECOMPRESS_BASE_X86_TF2_12."""
    return "EDGECOMPRESS_BASE_" + re.sub(r"[^A-Z0-9]+", "_", profile.upper())


def base_image(profile: str, environ: Mapping[str, str] | None = None) -> str | None:
    return _env(environ).get(base_image_variable(profile)) or None
