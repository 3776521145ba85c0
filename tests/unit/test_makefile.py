"""The Makefile: `make help` lists every target, and what it needs from the profiles' table
(LOCAL_BASE's Debian suites and base image variables) comes from launcher/device/profiles.py."""

import os
import re
import subprocess
import sys

import pytest

from launcher import images
from launcher.device.profiles import PROFILES

ROOT = images.REPO_ROOT
MAKEFILE = ROOT / "Makefile"


def make(*args, **env):
    environ = {k: v for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "LOCAL_BASE", "PROFILE")
               and not k.startswith("EDGECOMPRESS_BASE_")}
    environ.update(env)
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)


def phony_targets():
    text = re.sub(r"\\\n", " ", MAKEFILE.read_text())
    names = []
    for line in text.splitlines():
        if line.startswith(".PHONY:"):
            names += line.split(":", 1)[1].split()
    return names


def help_targets(output):
    """'  make nano | xavier   description' -> {'nano': 'description', 'xavier': ...}."""
    listed = {}
    for line in output.splitlines():
        match = re.match(r"^  make (\S+(?: \| \S+)*)\s{2,}(\S.*)$", line)
        if match:
            for name in match.group(1).split(" | "):
                listed[name] = match.group(2)
    return listed


def test_help_lists_every_phony_target_with_a_description():
    proc = make("-s", "help")
    assert proc.returncode == 0, proc.stderr
    listed = help_targets(proc.stdout)
    phony = phony_targets()
    assert len(phony) > 15 and {"lint", "unit", "matrix", "emulate-binfmt"} <= set(phony)
    missing = [name for name in phony if name not in listed]
    assert not missing, f"make help does not list {missing}: add '## what it does' to each"
    assert set(listed) <= set(phony), "make help lists a target .PHONY does not declare"
    assert all(len(description) > 5 for description in listed.values())


def test_profiles_table_runs_without_site_packages():
    """The Makefile runs it with the plain python3, before the virtualenv exists."""
    proc = subprocess.run([sys.executable, "-S", "-m", "launcher.device.local_base",
                           "local-base-env"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"{p.base_env_var}={p.local_base_image}" for p in PROFILES.values()
        if p.local_base_suite]
    assert "EDGECOMPRESS_BASE_X86_TF2_7=edgecompress/base:bullseye" in proc.stdout.splitlines()


@pytest.mark.parametrize("profile", [p for p in PROFILES.values() if p.local_base_suite],
                         ids=lambda p: p.name)
def test_local_base_of_an_x86_twin(profile):
    proc = subprocess.run([sys.executable, "-S", "-m", "launcher.device.local_base",
                           "local-base", profile.name], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    # The arguments of docker/base/make-base-image.sh: SUITE IMAGE_TAG.
    assert proc.stdout.split() == [profile.local_base_suite,
                                   f"edgecompress/base:{profile.local_base_suite}"]


def test_make_exports_the_local_bases_from_the_table():
    show = "show-base: ; @env | grep ^EDGECOMPRESS_BASE_ | sort"
    proc = make("-s", "--eval", show, "show-base", LOCAL_BASE="1",
                EDGECOMPRESS_BASE_X86_TF2_21="mine:latest")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "EDGECOMPRESS_BASE_X86_TF2_12=edgecompress/base:bookworm",
        "EDGECOMPRESS_BASE_X86_TF2_21=mine:latest",  # the environment's value wins
        "EDGECOMPRESS_BASE_X86_TF2_7=edgecompress/base:bullseye"]
    assert make("-s", "--eval", show, "show-base").stdout == ""  # not without LOCAL_BASE=1


@pytest.mark.parametrize("profile", ["nano", "xavier"])
def test_local_base_for_a_jetson_profile_says_why_not(profile):
    # base-image asks the table before it touches Docker: this needs no engine.
    proc = make("base-image", f"PROFILE={profile}", "LOCAL_BASE=1",
                f"PYTHON={sys.executable} -S")
    assert proc.returncode != 0
    (line,) = [line for line in proc.stderr.splitlines() if not line.startswith("make")]
    assert line.startswith(f"error: LOCAL_BASE=1 cannot build {profile}: Jetson profiles "
                           "build on NVIDIA's L4T base images (nvcr.io/nvidia/")
    assert "x86 twins only (x86-tf2.12, x86-tf2.7, x86-tf2.21)" in line
    assert "make-base-image.sh" not in proc.stdout
