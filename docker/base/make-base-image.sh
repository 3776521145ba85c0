#!/usr/bin/env bash
# Make a Debian base image from Debian packages (debootstrap + docker import),
# for machines that cannot pull from a container registry (air-gapped sites, CI here).
# Usage: make-base-image.sh SUITE IMAGE_TAG [ARCH]
#   SUITE: bookworm (Python 3.11) or bullseye (Python 3.9, the one TensorFlow 2.7 installs on)
#   ARCH:  amd64 (default) or arm64 (needs qemu-user-static + binfmt_misc, see
#          docker/emulate/setup-binfmt.sh: debootstrap runs its second stage under emulation)
# The image is reused when it already exists for ARCH: delete it to force a rebuild.
set -euo pipefail
suite=${1:?usage: make-base-image.sh SUITE IMAGE_TAG [ARCH]}
tag=${2:?usage: make-base-image.sh SUITE IMAGE_TAG [ARCH]}
arch=${3:-amd64}

image_arch() { docker image inspect --format '{{.Architecture}}' "$1" 2>/dev/null; }

# docker import labels an image with the daemon's architecture whatever it holds (Docker 20.10
# ignores `docker import --platform`). An arm64 root file system labelled amd64 still runs under
# binfmt emulation, but the label is wrong wherever the image goes (images built FROM it inherit
# it; registries and arm64 hosts believe it). Relabel it through docker save / docker load: the
# layer stays as it is, only the image config is rewritten.
relabel() {
  local work
  work=$(mktemp -d /tmp/edgecompress-relabel.XXXXXX)
  docker save "$tag" | tar -C "$work" -x
  python3 - "$work" "$tag" "$arch" <<'PYTHON'
import hashlib, json, os, sys
work, tag, arch = sys.argv[1:]
with open(os.path.join(work, "manifest.json")) as handle:
    manifest = json.load(handle)
old = os.path.join(work, manifest[0]["Config"])
with open(old) as handle:
    config = json.load(handle)
config["architecture"] = arch
if arch == "arm64":
    config["variant"] = "v8"
data = json.dumps(config).encode()
os.remove(old)
manifest[0]["Config"] = hashlib.sha256(data).hexdigest() + ".json"
manifest[0]["RepoTags"] = [tag]
with open(os.path.join(work, manifest[0]["Config"]), "wb") as handle:
    handle.write(data)
with open(os.path.join(work, "manifest.json"), "w") as handle:
    json.dump(manifest, handle)
PYTHON
  rm -f "$work/repositories"
  tar -C "$work" -c . | docker load >/dev/null
  rm -rf "$work"
}

existing=$(image_arch "$tag" || true)
if [ "$existing" = "$arch" ]; then
  echo "base image $tag exists; reusing it"
  exit 0
elif [ -n "$existing" ]; then
  echo "base image $tag exists but is labelled $existing, not $arch: making it again"
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 2; }
host_arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
if [ "$arch" = arm64 ] && [ "$host_arch" != arm64 ] \
   && ! grep -qsx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64; then
  echo "error: this $host_arch host cannot run arm64 programs yet: run" \
       "docker/emulate/setup-binfmt.sh (as root) first" >&2
  exit 2
fi

root=$(mktemp -d /tmp/edgecompress-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --arch="$arch" \
  --include=python3,python3-pip,python3-venv,ca-certificates \
  "$suite" "$root" >"$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
# Drop the apt lists and caches: they only make the image bigger.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
imported=$(tar -C "$root" -c . | docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  - "$tag")
if [ "$(image_arch "$tag")" != "$arch" ]; then
  relabel
  docker rmi "$imported" >/dev/null 2>&1 || true  # the mislabelled config; the layer stays
fi
echo "base image $tag made from Debian $suite ($arch)"
