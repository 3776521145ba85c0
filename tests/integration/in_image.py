"""Python run in a job image, as the job user, with no network: for tests that check what a
job wrote with the job image's own TensorFlow."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path


def python_in_image(image_id: str, script: str, mounts: Mapping[Path, str],
                    writable: Mapping[Path, str] | None = None, timeout_s: float = 600) -> str:
    """The last line ``script`` prints; ``mounts``: host path -> where it is, read-only;
    ``writable``: the same, read-write (the folder must be writable by uid 1000)."""
    volumes = [arg for host, inside in mounts.items() for arg in ("-v", f"{host}:{inside}:ro")]
    volumes += [arg for host, inside in (writable or {}).items()
                for arg in ("-v", f"{host}:{inside}")]
    proc = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--user", "1000", *volumes,
         "--entrypoint", "python3", image_id, "-c", script],
        capture_output=True, text=True, timeout=timeout_s)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()[-1]
