#!/usr/bin/env bash
# Make an x86-64 Linux host run arm64 (aarch64) binaries, in chroots (debootstrap --arch=arm64)
# and in containers (the xavier-emulated job image): qemu-user-static registered with the
# kernel's binfmt_misc with the F (fix-binary) flag, so the interpreter is found even inside a
# chroot or a container that does not hold it. Then it proves it by running an aarch64 program.
#
# Each missing piece needs root once per boot (binfmt_misc is kernel-wide):
#   apt-get install -y qemu-user-static binfmt-support      (Debian/Ubuntu)
#   mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc   (when it is not mounted)
#   update-binfmts --enable qemu-aarch64
# Run as root it does all three; otherwise it says which one is missing. Docker Desktop
# (macOS/Windows) already emulates arm64; on an arm64 host nothing is needed.
# Usage: setup-binfmt.sh
set -euo pipefail

binfmt=/proc/sys/fs/binfmt_misc
handler=$binfmt/qemu-aarch64

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: arm64 emulation is not set up: $1 needs root (run: sudo $0)" >&2
    exit 2
  fi
}

# An aarch64 Linux program of 132 bytes that exits with status 42: a static ELF with one
# segment and three instructions (movz x0, #42; movz x8, #93 (exit); svc #0). Written by the
# host's Python, so no arm64 binary has to be shipped or downloaded.
probe_binary() {
  python3 - "$1" <<'EOF'
import struct, sys
base, code_at = 0x400000, 64 + 56
code = struct.pack("<3I", 0xD2800540, 0xD2800BA8, 0xD4000001)
size = code_at + len(code)
header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
header += struct.pack("<HHIQQQIHHHHHH", 2, 183, 1, base + code_at, 64, 0, 0, 64, 56, 1, 0, 0, 0)
segment = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
with open(sys.argv[1], "wb") as out:
    out.write(header + segment + code)
EOF
  chmod +x "$1"
}

if [ "$(uname -m)" = aarch64 ]; then
  echo "arm64 emulation: not needed, this host is aarch64"
  exit 0
fi

if ! command -v qemu-aarch64-static >/dev/null 2>&1; then
  need_root "installing qemu-user-static and binfmt-support"
  echo "installing qemu-user-static binfmt-support"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static binfmt-support >/dev/null
fi

if [ ! -e "$binfmt/register" ]; then
  need_root "mounting binfmt_misc on $binfmt"
  echo "mounting binfmt_misc on $binfmt"
  mount -t binfmt_misc binfmt_misc "$binfmt"
fi

if [ ! -e "$handler" ]; then
  need_root "registering qemu-aarch64 with binfmt_misc"
  command -v update-binfmts >/dev/null 2>&1 || {
    echo "error: update-binfmts is missing: apt-get install -y binfmt-support" >&2; exit 2; }
  echo "registering qemu-aarch64 with binfmt_misc"
  update-binfmts --enable qemu-aarch64
elif ! grep -qx enabled "$handler"; then
  # Registered, then switched off (echo 0 > handler): update-binfmts --enable leaves it so.
  need_root "enabling the qemu-aarch64 handler"
  echo "enabling the qemu-aarch64 handler"
  echo 1 > "$handler"
fi

# Without F the kernel looks the interpreter up inside the chroot/container, where it is absent.
if ! grep -q '^flags:.*F' "$handler"; then
  echo "error: $handler is registered without the F (fix-binary) flag, so arm64 programs" \
       "cannot run in chroots or containers: re-register it (update-binfmts --disable" \
       "qemu-aarch64, then --enable with qemu-user-static's /usr/share/binfmts/qemu-aarch64)" >&2
  exit 1
fi

program=$(mktemp /tmp/edgecompress-aarch64-probe.XXXXXX)
trap 'rm -f "$program"' EXIT
probe_binary "$program"
status=0
"$program" || status=$?
if [ "$status" -ne 42 ]; then
  echo "error: an aarch64 test program did not run (exit status $status, expected 42);" \
       "$handler says:" >&2
  cat "$handler" >&2
  exit 1
fi
echo "arm64 emulation: ok ($(sed -n 's/^interpreter //p' "$handler"), flags" \
     "$(sed -n 's/^flags: //p' "$handler"))"
