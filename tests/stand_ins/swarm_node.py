"""The image of a docker-in-docker Swarm node, made from Debian packages (no registry is
reachable here): debootstrap with docker.io, plus an entry point that makes the container
able to run a dockerd of its own without --privileged (which fails on these machines:
CAP_SYS_RESOURCE is not in the host's bounding set). Reused when its tag exists.

Run as a script to make it ahead of the tests: python -m tests.stand_ins.swarm_node
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

TAG = "edgecompress/test-swarm-node:bookworm"

# /sys and the cgroup v1 hierarchies come read-only into a container that is not privileged;
# a dockerd needs them writable to make its containers' cgroups. A stale pid file (a node
# stopped by SIGKILL and started again) would stop dockerd from starting.
ENTRY = r"""#!/bin/sh
mount -o remount,rw /sys 2>/dev/null || true
mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
for point in $(awk '$3 == "cgroup" {print $2}' /proc/mounts); do
  mount -o remount,bind,rw "$point" 2>/dev/null || true
done
rm -f /var/run/docker.pid
exec dockerd --storage-driver overlay2 "$@"
"""


def exists() -> bool:
    return subprocess.run(["docker", "image", "inspect", TAG], capture_output=True
                          ).returncode == 0


def ensure() -> str:
    """The node image's tag, made first when it is missing (about a minute)."""
    if exists():
        return TAG
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is missing: apt-get install -y debootstrap "
                           "(.ci/run does)")
    root = Path(tempfile.mkdtemp(prefix="/tmp/ec-swarm-node-"))
    try:
        made = subprocess.run(
            ["debootstrap", "--variant=minbase",
             "--include=docker.io,iproute2,ca-certificates,procps", "bookworm", str(root)],
            capture_output=True, text=True)
        if made.returncode != 0:
            raise RuntimeError("debootstrap failed:\n" + made.stdout[-2000:] + made.stderr)
        shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
        for deb in (root / "var/cache/apt/archives").glob("*.deb"):
            deb.unlink()
        entry = root / "usr/local/bin/node-entry"
        entry.write_text(ENTRY)
        entry.chmod(0o755)
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "import", "--change", 'ENTRYPOINT ["/usr/local/bin/node-entry"]',
                        "-", TAG], stdin=tar.stdout, check=True, capture_output=True)
        tar.wait()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return TAG


if __name__ == "__main__":
    print(ensure())
