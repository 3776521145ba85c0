"""Peak memory of the benchmark job at the paper's settings, with whichever checkout's launcher
and jobs run it (the current directory: this one, or an older commit's worktree with its own
.venv, for a before/after): MobileNetV3Small 224 px (make_model, weights=None), 1000 latency
images (digits, 75 % of each class in test/), 2 latency runs, batch 4. Only what every commit
since the first has is used (bench/_common.py, the digits writer, the specs).

    cd CHECKOUT && PYTHONPATH=. .venv/bin/python /path/to/bench/benchmark_memory.py

(PYTHONPATH=.: bench._common and the launcher are the current directory's; in this checkout
`.venv/bin/python -m bench.benchmark_memory` is the same.)
"""
import argparse
import os
import tempfile
from pathlib import Path

from bench._common import artifact, job_runner
from launcher.contract.specs import BenchmarkSpec, InputRef, MakeModelSpec
from launcher.files import tree_digest
from launcher.study.digits import write_digits_folder


def mb(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:.0f}"


def main() -> None:
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    run = job_runner("x86-tf2.12", "memcheck-")
    folder = Path(tempfile.mkdtemp(prefix="memcheck-digits-"))
    digits = write_digits_folder(folder, size=224, split=(0.05, 0.75))
    for where, _dirs, files in os.walk(folder):
        os.chmod(where, 0o755)
        for name in files:
            os.chmod(os.path.join(where, name), 0o644)
    model = artifact(run(MakeModelSpec(architecture="MobileNetV3Small", input_size=224,
                                       num_classes=10)))
    outcome = run(BenchmarkSpec(
        images=InputRef(path="/inputs/images", sha256=tree_digest(digits)),
        model=InputRef(path="/inputs/model", sha256=tree_digest(model)),
        input_size=224, batch_size=4, latency_images=1000, latency_runs=2, warmup_runs=1),
        {"images": digits, "model": model})
    assert outcome.result is not None  # run() stops at a failed job
    res = outcome.result.resources
    print(f"benchmark SavedModel, 224 px, 1000 latency images: peak RSS "
          f"{mb(res.peak_rss_bytes)} MB, cgroup peak {mb(res.cgroup_peak_bytes)} MB")


if __name__ == "__main__":
    main()
