"""Per-job fixed overhead of the launcher.

Side by side, alternating, on the same image: the wall time of
  A: edgecompress run probe --force          (CLI start, spec, store, container, validation)
  B: docker run --rm IMAGE python3 -c "import tensorflow"   (the floor: a container + TF import)
Prints both distributions and the ratio of medians. Target: A/B <= 1.25.

    .venv/bin/python -m bench.overhead [--profile x86-tf2.12] [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile

from bench._common import summary, timed
from launcher.device.profiles import get_profile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="x86-tf2.12")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    image = get_profile(args.profile).image
    store = tempfile.mkdtemp(prefix="bench-store-")
    launcher = [sys.executable, "-m", "launcher", "run", "probe", "--force",
                "--profile", args.profile, "--store", store]
    bare = ["docker", "run", "--rm", "--entrypoint", "python3", image, "-c",
            "import tensorflow"]
    timed(launcher), timed(bare)  # warm the page cache for both
    a, b = [], []
    for _ in range(args.runs):
        a.append(timed(launcher))
        b.append(timed(bare))
    ratio = statistics.median(a) / statistics.median(b)
    print(f"image {image}")
    print(f"A edgecompress run probe: {summary(a)}")
    print(f"B docker run + import tensorflow: {summary(b)}")
    print(f"ratio A/B of medians: {ratio:.3f} (target <= 1.25)")


if __name__ == "__main__":
    main()
