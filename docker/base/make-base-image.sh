#!/usr/bin/env bash
# Make a Debian base image from Debian packages (debootstrap + docker import),
# for machines that cannot pull from a container registry (air-gapped sites, CI here).
# Usage: make-base-image.sh SUITE IMAGE_TAG [ARCH]
#   SUITE: bookworm (Python 3.11) or bullseye (Python 3.9, the one TensorFlow 2.7 installs on)
#   ARCH:  amd64 (default) or arm64 (needs qemu-user-static + binfmt_misc)
# The image is reused when it already exists: delete it to force a rebuild.
set -euo pipefail
suite=${1:?usage: make-base-image.sh SUITE IMAGE_TAG [ARCH]}
tag=${2:?usage: make-base-image.sh SUITE IMAGE_TAG [ARCH]}
arch=${3:-amd64}

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag exists; reusing it"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 2; }

root=$(mktemp -d /tmp/edgecompress-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --arch="$arch" \
  --include=python3,python3-pip,python3-venv,ca-certificates \
  "$suite" "$root" >"$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
# Drop the apt lists and caches: they only make the image bigger.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  - "$tag" >/dev/null
echo "base image $tag made from Debian $suite ($arch)"
