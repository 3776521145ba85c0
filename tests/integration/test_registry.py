"""Prebuilt images through a real registry on loopback (Debian's docker-registry package):
push the job image, delete it locally, pull it back through the CLI, run a job from it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def local_registry(tmp_path_factory):
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.fail("docker-registry is not installed: apt-get install docker-registry "
                    "(.ci/run does)")
    root = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n")
    address = f"127.0.0.1:{port}"
    with open(root / "registry.log", "w") as log:
        process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"http://{address}/v2/", timeout=1)
                    break
                except OSError:
                    assert process.poll() is None, (root / "registry.log").read_text()
                    assert time.monotonic() < deadline, "the registry did not answer in 30 s"
                    time.sleep(0.2)
            yield address
        finally:
            process.terminate()
            process.wait(timeout=10)


def edgecompress(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "launcher", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=900, env=dict(os.environ))


def test_push_delete_pull_run(engine, profile, image_id, local_registry, tmp_path):
    pushed = edgecompress("push", profile.name, "--registry", local_registry,
                          "--store", str(tmp_path), cwd=tmp_path)
    assert pushed.returncode == 0, pushed.stderr
    assert "sha256:" in pushed.stdout, "the pushed digest is reported"

    for tag in engine.image_tags(image_id):
        engine.remove_image(tag)
    assert engine.image_id(profile.image) is None, "the image is gone locally"

    pulled = edgecompress("pull", profile.name, "--registry", local_registry,
                          "--store", str(tmp_path), cwd=tmp_path)
    assert pulled.returncode == 0, pulled.stderr
    assert engine.image_id(profile.image) == image_id, "the same image came back"
    content_tags = [t for t in engine.image_tags(image_id) if t.startswith(profile.image + "-")]
    assert content_tags, "the content tag is restored, so 'build' reuses the pulled image"
    transfers = (tmp_path / "images.jsonl").read_text().splitlines()
    assert len(transfers) == 2 and all("sha256:" in line for line in transfers)

    ran = edgecompress("run", "probe", "--profile", profile.name, "--store", str(tmp_path),
                       cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "succeeded" in ran.stdout


def test_a_missing_tag_is_one_line_with_the_build_fallback(engine, profile, local_registry,
                                                           tmp_path):
    other = next(p for p in registry_profiles() if p.name != profile.name)
    result = edgecompress("pull", other.name, "--registry", local_registry,
                          "--store", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert f"has no {other.image}" in result.stderr
    assert f"edgecompress build {other.name}" in result.stderr


def test_an_unreachable_registry_is_one_line(profile, tmp_path):
    result = edgecompress("pull", profile.name, "--registry", f"127.0.0.1:{free_port()}",
                          "--store", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "cannot pull from" in result.stderr and "edgecompress build" in result.stderr


def registry_profiles():
    from launcher.device.profiles import PROFILES

    return [p for p in PROFILES.values() if not p.is_jetson]
