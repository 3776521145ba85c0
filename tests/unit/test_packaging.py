"""Installs outside a checkout: the wheel carries jobs/ and docker/ (launcher/_bundled/), an
installed launcher reads them there and plans the same images as a checkout, and a checkout
(an editable install) reads its own files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile

import pytest

import launcher
from launcher import images
from launcher.device.profiles import PROFILES
from launcher.errors import UserError
from launcher.files import tree_files
from tests.packaging import BUNDLED, build_wheel, copy_sources

BASE = "base:test"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(a copy of the sources, the wheel built from it)."""
    tmp = tmp_path_factory.mktemp("packaging")
    source = copy_sources(tmp / "src")
    return source, build_wheel(source, tmp / "dist")


def bundled_sources(source):
    """path under launcher/_bundled/ -> the source file, for every file the wheel must carry."""
    return {path.relative_to(source).as_posix(): path
            for name in BUNDLED for path in tree_files(source / name)}


def test_the_wheel_carries_jobs_and_docker(built):
    source, wheel = built
    with zipfile.ZipFile(wheel) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    prefix = "launcher/_bundled/"
    carried = {name.removeprefix(prefix): info for name, info in infos.items()
               if name.startswith(prefix)}
    expected = bundled_sources(source)
    assert set(carried) == set(expected)
    assert {"jobs/__init__.py", "jobs/__main__.py", "docker/x86/Dockerfile",
            "docker/jetson/Dockerfile", "docker/jetson/check_install.py",
            "docker/base/make-base-image.sh", "docker/emulate/niced.sh"} <= set(carried)
    assert {f"jobs/{path.name}" for path in (source / "jobs").glob("*.py")} <= set(carried)
    assert not [name for name in infos if "__pycache__" in name or name.endswith(".pyc")]
    for name, info in carried.items():  # executable bits kept (the scripts under docker/)
        assert (info.external_attr >> 16) & 0o111 == expected[name].stat().st_mode & 0o111, name
    assert (carried["docker/base/make-base-image.sh"].external_attr >> 16) & 0o100


def test_the_wheel_has_the_launchers_version(built):
    _, wheel = built
    assert wheel.name.startswith(f"edgecompress-{launcher.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        lines = archive.read(metadata).decode().splitlines()
    assert f"Version: {launcher.__version__}" in lines


def test_an_installed_copy_reads_its_bundle_and_plans_the_same_images(built, tmp_path):
    source, wheel = built
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    script = (
        "import json, launcher\n"
        "from launcher import images\n"
        "from launcher.device.profiles import PROFILES\n"
        "print(json.dumps({'launcher': launcher.__file__, 'in_checkout': images.in_checkout(),\n"
        "    'root': str(images.sources_root()),\n"
        f"    'digests': {{name: images.plan_build(p, {BASE!r}, images.read_sources(p))\n"
        "                .content_digest for name, p in PROFILES.items()}}))\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(site)})
    assert proc.returncode == 0, proc.stderr
    installed = json.loads(proc.stdout)
    assert installed["launcher"] == str(site / "launcher" / "__init__.py")
    assert not installed["in_checkout"]
    assert installed["root"] == str(site / "launcher" / "_bundled")
    checkout = {name: images.plan_build(profile, BASE, images.read_sources(profile, source))
                .content_digest for name, profile in PROFILES.items()}
    assert installed["digests"] == checkout


def test_the_sdist_carries_what_the_wheel_bundles(built, tmp_path):
    source, _ = built
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from setuptools import build_meta; "
         "print(build_meta.build_sdist(sys.argv[1]))", str(tmp_path)],
        cwd=source, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    name = proc.stdout.strip().splitlines()[-1]
    with tarfile.open(tmp_path / name) as archive:
        members = {member.split("/", 1)[1] for member in archive.getnames() if "/" in member}
    assert {"setup.py", "MANIFEST.in", "pyproject.toml"} <= members
    assert set(bundled_sources(source)) <= members


def test_a_checkout_reads_its_own_files():
    # The tests run from the checkout (make venv: pip install -e): edits take effect.
    assert images.in_checkout()
    assert images.sources_root() == images.REPO_ROOT
    assert images.repo_root() == images.REPO_ROOT


def test_neither_a_checkout_nor_a_bundle_names_both_places(monkeypatch, tmp_path):
    site = tmp_path / "site-packages"
    monkeypatch.setattr(images, "REPO_ROOT", site)
    monkeypatch.setattr(images, "BUNDLED_ROOT", site / "launcher" / "_bundled")
    with pytest.raises(UserError) as error:
        images.read_sources(PROFILES["x86-tf2.12"])
    message = str(error.value)
    assert str(site) + ")" in message and str(site / "launcher" / "_bundled") in message
    assert "\n" not in message
    with pytest.raises(UserError, match="checkout") as error:
        images.repo_root()  # edgecompress schema writes into a checkout only
    assert "\n" not in str(error.value)
