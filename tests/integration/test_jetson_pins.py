"""The Jetson pins on PyPI: whether every pin exists for the device's Python and platform
(a wheel, or a listed pure-Python sdist) and whether they close over their dependencies.

Needs PyPI, not Docker: it is here so that `make unit` runs without the network; the
integration suite runs it once, in the first profile of `make matrix`.
"""

import json
import os
import subprocess
import sys

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from launcher import images
from launcher.device.profiles import PROFILES

JETSON = [p for p in PROFILES.values() if p.is_jetson]
# Jetson images' emulation stand-ins (no L4T): their pins are resolved like the devices' ones.
EMULATED = [p for p in PROFILES.values() if p.family == "jetson" and not p.is_jetson]


# --- the Jetson pins on PyPI, for the devices' Python and platform ---------------------------

# NVIDIA's TensorFlow wheels are not on PyPI, and only PyPI is reachable from the build
# machines. What the Xavier's wheel depends on is read from PyPI's aarch64 build of the same
# release, made from the same setup.py: the Linaro/AWS tensorflow-cpu-aws 2.12.0.
STAND_INS = {"tensorflow-2.12.0+nv23.05-cp38-cp38-linux_aarch64.whl": "tensorflow-cpu-aws==2.12.0"}
# What the images are for (dill: tfds.testing, the download-free tfds path, imports it); every
# other pin has to be needed by one of these.
ROOTS = {"tensorflow", "tensorflow-model-optimization", "tensorflow-datasets", "scipy", "pillow",
         "dill"}
# Options the machine's pip configuration may add; they must not steer this resolution.
FOREIGN_PIP_SETTINGS = ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT",
                        "PIP_NO_INDEX", "PIP_REQUIREMENT", "PIP_ONLY_BINARY", "PIP_NO_BINARY")


def pip_dry_run(profile, lines, report, binary_rules=True):
    """pip's own view of a list of pins for the device: --no-deps, so it only finds each one.
    binary_rules=False lets it take sdists (the base image's packages are already there)."""
    requirements = report.with_suffix(".txt")
    requirements.write_text("\n".join(lines) + "\n")
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
               "--no-deps", "--quiet", "--target", str(report.parent / "target"),
               "--python-version", profile.python_release, "--implementation", "cp",
               "--report", str(report), "-r", str(requirements)]
    for tag in profile.wheel_platforms:
        command += ["--platform", tag]
    if not binary_rules:
        command.append("--prefer-binary")
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_PIP_SETTINGS}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, f"pip could not find the {profile.name} pins:\n{proc.stderr}"
    return json.loads(report.read_text())["install"]


def target_environment(profile):
    version = profile.python_release
    return {"python_version": ".".join(version.split(".")[:2]), "python_full_version": version,
            "implementation_version": version, "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "platform_machine": "aarch64",
            "platform_system": "Linux", "sys_platform": "linux", "os_name": "posix",
            "platform_release": "", "platform_version": ""}


def applies(requirement, environment, extras):
    if requirement.marker is None:
        return True
    return any(Marker(str(requirement.marker)).evaluate({**environment, "extra": extra})
               for extra in ("", *extras))


@pytest.mark.network
@pytest.mark.parametrize("profile", JETSON + EMULATED, ids=[p.name for p in JETSON + EMULATED])
def test_jetson_pins_resolve_for_the_device(profile, tmp_path):
    lines, stand_in_for = [], {}
    for line in images.render_requirements(profile).splitlines():
        if " @ " in line:  # a direct wheel URL: NVIDIA's TensorFlow
            stand_in = STAND_INS[line.rsplit("/", 1)[-1]]
            stand_in_for[canonicalize_name(Requirement(stand_in).name)] = \
                canonicalize_name(line.split(" @ ")[0])
            line = stand_in
        lines.append(line)
    # Every pin has a wheel for this Python and C library (or is a listed pure-Python sdist).
    pins = {}
    for item in pip_dry_run(profile, lines, tmp_path / "pins.json"):
        name = canonicalize_name(item["metadata"]["name"])
        is_wheel = item["download_info"]["url"].endswith(".whl")
        assert is_wheel or name in profile.source_builds, f"{name} would compile on the device"
        pins[stand_in_for.get(name, name)] = item
    assert len(pins) == len(profile.requirements)

    # What the base image provides, at the newest release PyPI has for the device.
    provided = [r for r in profile.provided if "+nv" not in r]
    base = {canonicalize_name(i["metadata"]["name"]): i for i in
            pip_dry_run(profile, provided, tmp_path / "provided.json", binary_rules=False)}
    versions = {name: Version(i["metadata"]["version"]) for name, i in {**base, **pins}.items()}
    left_out = {canonicalize_name(n) for n in profile.left_out}
    loose = {(canonicalize_name(a), canonicalize_name(b)) for a, b in profile.loose_bounds}

    # Close over declared dependencies with the device's markers (pip evaluates them for the
    # Python running pip, so its own resolution would miss "python_version < '3.7'" ones).
    environment = target_environment(profile)
    problems, needed = [], set()
    todo = [(name, ()) for name in pins if name in ROOTS]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in needed:
            continue
        needed.add((name, extras))
        for text in (pins.get(name) or base[name])["metadata"].get("requires_dist") or []:
            requirement = Requirement(text)
            dep = canonicalize_name(requirement.name)
            if not applies(requirement, environment, extras) or dep in left_out:
                continue
            if dep not in versions:
                problems.append(f"{name} needs {requirement}: neither pinned nor provided")
            elif (name, dep) not in loose and not requirement.specifier.contains(
                    versions[dep], prereleases=True):
                problems.append(f"{name} needs {requirement}, gets {versions[dep]}")
            elif dep in pins:
                todo.append((dep, tuple(sorted(requirement.extras))))
    assert not problems, "\n".join(problems)
    unneeded = set(pins) - {name for name, _ in needed}
    assert not unneeded, f"pinned but needed by nothing: {sorted(unneeded)}"
