"""Python run in a job image, as the job user, with no network: for tests that check what a
job wrote with the job image's own TensorFlow."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path


def python_in_image(image_id: str, script: str, mounts: Mapping[Path, str]) -> str:
    """The last line ``script`` prints; ``mounts``: host path -> where it is, read-only."""
    volumes = [arg for host, inside in mounts.items() for arg in ("-v", f"{host}:{inside}:ro")]
    proc = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--user", "1000", *volumes,
         "--entrypoint", "python3", image_id, "-c", script],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()[-1]
