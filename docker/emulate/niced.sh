#!/usr/bin/env bash
# Run a command at low CPU priority, emulated arm64 programs included.
# `nice edgecompress build` lowers the launcher only: docker build and docker run start their
# processes from dockerd, at dockerd's priority. Under binfmt emulation every one of those
# processes is the qemu-aarch64 interpreter, so while the command runs this renices each
# process whose executable is that interpreter, once, to the same level (EMULATE_NICE, default
# 19). That covers every emulated arm64 program on this host during the run, not only this
# command's; native ones (dockerd committing a layer, for one) keep their priority.
# Usage: niced.sh COMMAND [ARGS...]
set -euo pipefail
level=${EMULATE_NICE:-19}
[ "$#" -gt 0 ] || { echo "usage: niced.sh COMMAND [ARGS...]" >&2; exit 2; }

interpreter=$(sed -n 's/^interpreter //p' /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null || true)

renice_emulated() {
  local -A done=()
  local exe pid
  while kill -0 "$1" 2>/dev/null; do
    for exe in /proc/[0-9]*/exe; do
      pid=${exe#/proc/}
      pid=${pid%/exe}
      # -ef: the same file, symlinks followed (aarch64-binfmt-P -> qemu-aarch64-static).
      if [ -z "${done[$pid]:-}" ] && [ "$exe" -ef "$interpreter" ]; then
        renice -n "$level" -p "$pid" >/dev/null 2>&1 || true
        done[$pid]=1
      fi
    done
    sleep 2
  done
}

if [ -n "$interpreter" ] && [ -e "$interpreter" ]; then
  renice_emulated "$$" &
  watcher=$!
  trap 'kill "$watcher" 2>/dev/null || true' EXIT
fi
# In the foreground, so Ctrl-C reaches the command (the launcher's first Ctrl-C cancels a job).
nice -n "$level" "$@"
