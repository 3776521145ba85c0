"""The last step of `make emulate-xavier`: show the probe's environment block and check it.

Reads the newest probe job of a results store (the launcher filed and validated it), prints
what the job saw and fails unless it succeeded on the expected machine with the expected
TensorFlow. Standard library only.
Usage: python3 check_probe.py STORE [--machine aarch64] [--tensorflow 2.12]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SHOWN = ("machine", "python", "tensorflow", "keras", "tfmot", "tfds", "numpy", "cpu_model",
         "cpu_count", "gpus", "l4t_release", "image_id")


def newest_probe(store: Path) -> Path | None:
    folders = [path for path in (store / "jobs").glob("probe-*")
               if (path / "status.json").is_file()]
    return max(folders, key=lambda path: (path / "status.json").stat().st_mtime, default=None)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--machine", default="aarch64")
    parser.add_argument("--tensorflow", default="2.12", help="version prefix")
    args = parser.parse_args(argv)

    folder = newest_probe(args.store)
    if folder is None:
        print(f"check_probe: no probe job in {args.store}", file=sys.stderr)
        return 1
    status = json.loads((folder / "status.json").read_text())
    result_path = folder / "out" / "result.json"
    if status.get("status") != "succeeded" or not result_path.is_file():
        print(f"check_probe: {folder} {status.get('status')}: {status.get('reason')} "
              f"(log: {folder / 'log.txt'})", file=sys.stderr)
        return 1
    result = json.loads(result_path.read_text())
    environment = result["environment"]
    print(f"probe result {result_path}")
    for name in SHOWN:
        print(f"  {name:12} {environment.get(name)}")
    timings = result["timings"]
    print(f"  {'imports':12} {timings['imports_s']:.1f} s (total in container "
          f"{timings['total_s']:.1f} s)")
    problems = []
    if environment["machine"] != args.machine:
        problems.append(f"machine is {environment['machine']}, not {args.machine}")
    version = environment["tensorflow"]
    if not (version == args.tensorflow or version.startswith(args.tensorflow + ".")):
        problems.append(f"TensorFlow is {version}, not {args.tensorflow}")
    for problem in problems:
        print(f"check_probe: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_probe: ok: {args.machine}, TensorFlow {version}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
