"""The image of a docker-in-docker Swarm node, made from Debian packages (no registry is
reachable here): debootstrap with docker.io, plus an entry point that makes the container
able to run a dockerd of its own without --privileged (which fails on these machines:
CAP_SYS_RESOURCE is not in the host's bounding set). Reused when its tag exists.

Run as a script to make it ahead of the tests: python -m stand_ins.swarm_node
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

REPOSITORY = "edgecompress/test-swarm-node"
# The Debian root file system alone (debootstrap: about 2 minutes), and the node image made
# from it with the entry point below (a second): a changed entry point needs no debootstrap.
ROOTFS = f"{REPOSITORY}:bookworm-rootfs"

# /sys and the cgroup v1 hierarchies come read-only into a container that is not privileged;
# a dockerd needs them writable to make its containers' cgroups. /var/run is on the node's own
# root, which outlives a SIGKILL: a node started again finds the pid files of its dead dockerd
# and containerd, and dockerd, seeing "containerd is still running" under a recycled pid,
# waits for a socket that never answers. Nothing under /var/run survives a restart on a host.
ENTRY = r"""#!/bin/sh
mount -o remount,rw /sys 2>/dev/null || true
mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
for point in $(awk '$3 == "cgroup" {print $2}' /proc/mounts); do
  mount -o remount,bind,rw "$point" 2>/dev/null || true
done
rm -rf /var/run/docker /var/run/docker.pid /var/run/docker.sock
exec dockerd --storage-driver overlay2 "$@"
"""
TAG = f"{REPOSITORY}:bookworm-{hashlib.sha256(ENTRY.encode()).hexdigest()[:12]}"


def exists(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True
                          ).returncode == 0


def ensure() -> str:
    """The node image's tag, made first when it is missing."""
    if exists(TAG):
        return TAG
    if not exists(ROOTFS):
        make_rootfs()
    with tempfile.TemporaryDirectory() as folder:
        context = Path(folder)
        (context / "node-entry").write_text(ENTRY)
        (context / "Dockerfile").write_text(
            f"FROM {ROOTFS}\nCOPY node-entry /usr/local/bin/node-entry\n"
            "RUN chmod 755 /usr/local/bin/node-entry\n"
            'ENTRYPOINT ["/usr/local/bin/node-entry"]\n')
        subprocess.run(["docker", "build", "-q", "-t", TAG, str(context)], check=True,
                       capture_output=True)
    return TAG


def make_rootfs() -> None:
    """Debian bookworm with its docker.io, as an image (about 2 minutes)."""
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
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "import", "-", ROOTFS], stdin=tar.stdout, check=True,
                       capture_output=True)
        tar.wait()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    print(ensure())
