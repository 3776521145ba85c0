"""An installed launcher outside the checkout: pip install . (not editable) into a fresh venv,
then that venv's `edgecompress build` from a folder elsewhere reuses the image the checkout
built, by the same content tag."""

from __future__ import annotations

import os
import subprocess

import pytest

from launcher import images
from launcher.device.profiles import resolve_base_image
from tests.packaging import copy_sources, fresh_venv, install

pytestmark = pytest.mark.docker


def test_an_installed_copy_reuses_the_checkouts_image(tmp_path, profile, image_id):
    base = resolve_base_image(profile)
    plan = images.plan_build(profile, base, images.read_sources(profile))
    source = copy_sources(tmp_path / "src")
    copied = images.plan_build(profile, base, images.read_sources(profile, source))
    assert copied.content_image == plan.content_image, "jobs/ or docker/ changed meanwhile"
    python = fresh_venv(tmp_path / "venv")
    install(source, python)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("PYTHONPATH", None)

    where = subprocess.run(
        [str(python), "-c", "from launcher import images; print(images.sources_root())"],
        cwd=elsewhere, capture_output=True, text=True, env=env, timeout=60)
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(tmp_path / "venv")), where.stdout

    proc = subprocess.run([str(python.parent / "edgecompress"), "build", profile.name],
                          cwd=elsewhere, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert plan.content_image in proc.stdout
    assert f"reused {plan.image} = {image_id[:19]}" in proc.stdout, proc.stdout
