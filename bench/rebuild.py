"""A no-op rebuild of an existing job image.

  reuse:   edgecompress build PROFILE          (content tag exists: nothing is sent to the builder)
  cached:  edgecompress build PROFILE --force  (the classic builder walks every layer from cache)
Target: under 10 s.

    .venv/bin/python -m bench.rebuild [--profile x86-tf2.12] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys

from bench._common import summary, timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="x86-tf2.12")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    build = [sys.executable, "-m", "launcher", "build", args.profile]
    timed(build)  # make sure the image exists before timing the no-op paths
    reuse = [timed(build) for _ in range(args.runs)]
    cached = [timed([*build, "--force"]) for _ in range(args.runs)]
    print(f"profile {args.profile}")
    print(f"reuse (content tag exists): {summary(reuse)}")
    print(f"cached rebuild (--force, layer cache): {summary(cached)}")


if __name__ == "__main__":
    main()
