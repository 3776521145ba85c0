"""Peak memory of the benchmark job at the paper's settings, with whichever checkout's launcher
and jobs run it (the current directory: this one, or an older commit's worktree with its own
.venv, for a before/after): MobileNetV3Small 224 px (make_model, weights=None), 1000 latency
images (digits, 75 % of each class in test/), 2 latency runs, batch 4. Only what every commit
since the first has is used (bench/_common.py, the digits writer, the specs).

    cd CHECKOUT && .venv/bin/python /path/to/bench/benchmark_memory.py
"""
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.getcwd())
sys.path.insert(0, os.path.join(os.getcwd(), "bench"))
from _common import artifact, job_runner  # noqa: E402

from launcher.contract.specs import BenchmarkSpec, InputRef, MakeModelSpec  # noqa: E402
from launcher.files import tree_digest  # noqa: E402
from launcher.study.digits import write_digits_folder  # noqa: E402

run = job_runner("x86-tf2.12", "memcheck-")
folder = Path(tempfile.mkdtemp(prefix="memcheck-digits-"))
digits = write_digits_folder(folder, size=224, split=(0.05, 0.75))
for where, _dirs, files in os.walk(folder):
    os.chmod(where, 0o755)
    for name in files:
        os.chmod(os.path.join(where, name), 0o644)
model = artifact(run(MakeModelSpec(architecture="MobileNetV3Small", input_size=224,
                                   num_classes=10)))
outcome = run(BenchmarkSpec(images=InputRef(path="/inputs/images", sha256=tree_digest(digits)),
                            model=InputRef(path="/inputs/model", sha256=tree_digest(model)),
                            input_size=224, batch_size=4, latency_images=1000, latency_runs=2,
                            warmup_runs=1), {"images": digits, "model": model})
res = outcome.result.resources
print(f"benchmark SavedModel, 224 px, 1000 latency images: peak RSS "
      f"{res.peak_rss_bytes / 2**20:.0f} MB, cgroup peak {res.cgroup_peak_bytes / 2**20:.0f} MB")
