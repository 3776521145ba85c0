"""Building and installing edgecompress as a user does (a wheel, pip install .), offline and
without touching the checkout: from a copy of its sources, with the dev venv's setuptools
(--no-build-isolation, --no-index) and, in a fresh venv, the dev venv's dependencies."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from launcher import images
from launcher.files import SKIPPED_NAMES

ROOT = images.REPO_ROOT
# What a build reads: pyproject.toml (packages, readme), setup.py (the bundle), MANIFEST.in.
PROJECT_FILES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "launcher", "jobs",
                 "docker")
BUNDLED = ("jobs", "docker")  # what setup.py ships as launcher/_bundled/
CACHES = shutil.ignore_patterns("*.pyc", *SKIPPED_NAMES)


def copy_sources(destination: Path) -> Path:
    """The project's sources as a build sees them, modes kept (the build writes build/ and
    *.egg-info beside them: in the copy, not in the checkout)."""
    destination.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=CACHES)
        else:
            shutil.copy2(source, destination / name)
    return destination


def pip(*args: str, python: Path | None = None) -> str:
    """The dev venv's pip, offline; python= runs it for another interpreter (pip --python)."""
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    if python is not None:
        command += ["--python", str(python)]
    proc = subprocess.run([*command, *args, "--no-index"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def build_wheel(source: Path, out: Path) -> Path:
    pip("wheel", "--no-deps", "--no-build-isolation", str(source), "-w", str(out))
    (wheel,) = out.glob("edgecompress-*.whl")
    return wheel


def fresh_venv(path: Path) -> Path:
    """A venv without pip or edgecompress whose dependencies are the dev venv's: one .pth line
    naming the dev venv's site-packages (a plain path: that folder's own .pth files, among
    them the dev venv's editable launcher, are not read). Returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True,
                   timeout=120)
    python = path / "bin" / "python"
    site = subprocess.run([str(python), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "_edgecompress_dev_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def install(source: Path, python: Path) -> None:
    """pip install --no-deps SOURCE (not editable) into python's venv; --ignore-installed:
    the dev venv's edgecompress, visible through the .pth, is not its to uninstall."""
    pip("install", "--no-deps", "--no-build-isolation", "--ignore-installed", str(source),
        python=python)
