"""Peak memory of each job kind for MobileNetV3Small at 224 x 224, batch 4 (the Jetson Nano
has 4 GB shared between CPU and GPU). Each job reports its own peak RSS and its container's
cgroup peak. Target: training under 3 GB.

    .venv/bin/python bench/peak_memory.py [--profile x86-tf2.12]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _common import artifact, digits_input, job_runner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from launcher.files import tree_digest  # noqa: E402
from launcher.schema import (  # noqa: E402
    BenchmarkSpec,
    DistillSpec,
    InputRef,
    PruneSpec,
    QuantizeSpec,
    ScratchSpec,
    TrainSpec,
)

MB = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="x86-tf2.12")
    args = parser.parse_args()
    run = job_runner(args.profile, "bench-memory-")
    digits, images = digits_input(size=224, per_class=20)
    common = {"images": images, "input_size": 224, "batch_size": 4}
    data = {"images": digits}

    def ref(path: Path, name: str = "model") -> InputRef:
        return InputRef(path=f"/inputs/{name}", sha256=tree_digest(path))

    rows = []
    trained = run(TrainSpec(weights=None, epochs=1, **common), data)
    rows.append(("train (1 epoch)", trained))
    model = artifact(trained)
    for mode in ("fp16", "int8"):
        rows.append((f"quantize {mode}", run(QuantizeSpec(
            model=ref(model), mode=mode, **common), {**data, "model": model})))
    rows.append(("prune 0.5 (1 epoch)", run(PruneSpec(
        model=ref(model), epochs=1, **common), {**data, "model": model})))
    rows.append(("distill (1 epoch)", run(DistillSpec(
        teacher=ref(model, "teacher"), student_weights=None, epochs=1, **common),
        {**data, "teacher": model})))
    rows.append(("scratch (1 epoch)", run(ScratchSpec(weights=None, epochs=1, **common), data)))
    int8 = artifact(rows[2][1])
    for name, path in (("SavedModel", model), ("INT8 .tflite", int8)):
        rows.append((f"benchmark {name}", run(BenchmarkSpec(
            model=ref(path), latency_images=200, latency_runs=3, **common),
            {**data, "model": path})))

    print(f"profile {args.profile}, MobileNetV3Small 224x224, batch 4, 200 digits images")
    print("| job | peak RSS MB | container cgroup peak MB |")
    print("|---|---|---|")
    for name, outcome in rows:
        res = outcome.result.resources
        cgroup = f"{res.cgroup_peak_bytes / MB:.0f}" if res.cgroup_peak_bytes else "n/a"
        print(f"| {name} | {res.peak_rss_bytes / MB:.0f} | {cgroup} |")


if __name__ == "__main__":
    main()
