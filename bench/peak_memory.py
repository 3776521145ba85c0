"""Peak memory of every job kind at the paper's settings, beside the Jetson Nano's memory: 4 GB
shared by CPU and GPU, 3.5 GB for one job container (launcher/device/profiles.py).

224 x 224, batch 4, 1000 latency images, 128 INT8 calibration images; MobileNetV3Small (the
smallest model) and DenseNet201 (the largest), weights=None (memory does not depend on the
weights' values). ``train`` trains every layer (from scratch: the most a training job takes),
``train, head`` the new head only (the paper's transfer learning from ImageNet weights). Each
job reports its own peak RSS and its container's cgroup peak. Training jobs run one epoch
(memory does not grow with epochs), benchmarks 2 latency runs (nor with runs).

The data: scikit-learn's digits at 224 x 224, written twice: for the jobs that train or
calibrate, --train-fraction of each class in train/ (0.6: 1078 images, the paper's has 1020;
the pipelines shuffle file paths, not images, so the peak does not grow with the split:
--check-split trains the first architecture on 1078 images as well); for the benchmarks, 75 %
in test/ (1358 images, so the 1000 latency images are distinct, as the paper's 6149 test
images give). Trained models are handed on as campaigns hand them: the .h5 copy is loaded.

    .venv/bin/python -m bench.peak_memory [--profile x86-tf2.12]
        [--architectures MobileNetV3Small,DenseNet201] [--only train,benchmark]
        [--train-fraction 0.1 --check-split] [--nano-limit]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict

from bench._common import artifact, job_runner
from launcher.contract.specs import (
    AnySpec,
    BenchmarkSpec,
    DistillSpec,
    InputRef,
    MakeModelSpec,
    PruneSpec,
    QuantizeSpec,
    ScratchSpec,
    TrainSpec,
)
from launcher.files import tree_digest
from launcher.runner import JobOutcome
from launcher.study.digits import write_digits_folder

MB = 1024 * 1024
NANO_JOB_MB = 3584  # the nano profile's memory_mb: what one job container may use
KINDS = ("train", "quantize", "prune", "distill", "scratch", "benchmark")


class Common(TypedDict):
    """The spec fields every job here shares."""

    images: InputRef
    input_size: int
    batch_size: int


def megabytes(size: int | None) -> str:
    return f"{size / MB:.0f}" if size else "n/a"


def digits_224(test_fraction: float) -> tuple[Path, InputRef]:
    folder = Path(tempfile.mkdtemp(prefix="bench-digits-"))
    digits = write_digits_folder(folder, size=224, split=(0.05, test_fraction))
    for where, _dirs, files in os.walk(folder):  # the job user reads it
        os.chmod(where, 0o755)
        for name in files:
            os.chmod(os.path.join(where, name), 0o644)
    return digits, InputRef(path="/inputs/images", sha256=tree_digest(digits))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="x86-tf2.12")
    parser.add_argument("--architectures", default="MobileNetV3Small,DenseNet201")
    parser.add_argument("--only", default=",".join(KINDS),
                        help=f"job kinds to measure, of {', '.join(KINDS)}")
    parser.add_argument("--latency-images", type=int, default=1000)
    parser.add_argument("--train-fraction", type=float, default=0.6,
                        help="share of each digit class in train/ (0.6: 1078 images, the "
                        "paper's 1020; 0.1: 180, faster, the same peaks: see --check-split)")
    parser.add_argument("--nano-limit", action="store_true",
                        help=f"run every job under the Nano's memory limit ({NANO_JOB_MB} MB): "
                        "as on a Nano, the jobs write their SavedModel apart (in a fresh "
                        "process); a job that does not fit ends oom")
    parser.add_argument("--check-split", action="store_true",
                        help="also train the first architecture on the paper-sized split")
    args = parser.parse_args()
    kinds = set(args.only.split(","))
    run = job_runner(args.profile, "bench-memory-",
                     NANO_JOB_MB if args.nano_limit else None, failures_ok=args.nano_limit)
    train_digits, train_images = digits_224(0.95 - args.train_fraction)
    test_digits, test_images = digits_224(0.75)  # 1358 in test/
    common: Common = {"images": train_images, "input_size": 224, "batch_size": 4}
    test_common: Common = {**common, "images": test_images}

    def ref(path: Path, name: str = "model") -> InputRef:
        return InputRef(path=f"/inputs/{name}", sha256=tree_digest(path))

    def keras(path: Path, name: str = "model") -> tuple[InputRef, InputRef, dict[str, Path]]:
        """A Keras model as campaigns hand it on: the SavedModel and its .h5 copy, which the
        job loads (the spec's two fields, the mounts)."""
        h5 = path.parent / "model.h5"
        return ref(path, name), ref(h5, f"{name}_h5"), {name: path, f"{name}_h5": h5}

    def measure(name: str, spec: AnySpec, inputs: Mapping[str, Path],
                folder: Path = train_digits) -> JobOutcome | None:
        outcome = run(spec, {**inputs, "images": folder})
        if outcome.result is None:  # under --nano-limit: it did not fit
            status = outcome.record.status.value
            rows.append((f"{name}: **{status}**", None, None, outcome.record.wall_s))
            print(f"  {name}: {status}: {outcome.record.reason}", flush=True)
            return None
        res = outcome.result.resources
        apart = " (SavedModel written apart)" if res.saved_apart else ""
        rows.append((name + apart, res.peak_rss_bytes, res.cgroup_peak_bytes,
                     outcome.record.wall_s))
        print(f"  {name}: peak RSS {megabytes(res.peak_rss_bytes)} MB", flush=True)
        return outcome

    def benchmark(name: str, path: Path) -> None:
        model_h5: InputRef | None
        if path.is_dir():
            model, model_h5, mounts = keras(path)
        else:
            model, model_h5, mounts = ref(path), None, {"model": path}
        measure(name, BenchmarkSpec(latency_images=args.latency_images, latency_runs=2,
                                    warmup_runs=1, model=model, model_h5=model_h5,
                                    **test_common), mounts, test_digits)

    rows: list[tuple[str, int | None, int | None, float]] = []
    if args.check_split and "train" in kinds:
        paper_digits, paper_images = digits_224(0.35)  # 1078 in train/
        paper_common: Common = {**common, "images": paper_images}
        measure(f"{args.architectures.split(',')[0]}: train (1 epoch, 1078 images)", TrainSpec(
            architecture=args.architectures.split(",")[0], weights=None, epochs=1,
            **paper_common), {}, paper_digits)
    for architecture in args.architectures.split(","):
        print(architecture, flush=True)
        if "train" in kinds:
            measure(f"{architecture}: train, head (1 epoch)", TrainSpec(
                architecture=architecture, weights=None, regime="head", epochs=1, **common),
                {})
        trained = (measure(f"{architecture}: train (1 epoch)", TrainSpec(
            architecture=architecture, weights=None, epochs=1, **common), {})
            if kinds & {"train", "prune", "distill"} else None)
        # An untrained copy weighs the same (and stands in for a training that did not fit).
        model = artifact(trained or run(MakeModelSpec(architecture=architecture,
                                                      input_size=224, num_classes=10)))
        tflite: dict[str, Path] = {}
        if kinds & {"quantize", "benchmark"}:
            for mode in ("fp16", "int8"):
                outcome = measure(f"{architecture}: quantize {mode}", QuantizeSpec(
                    model=ref(model), mode=mode, calibration_images=128, **common),
                    {"model": model})
                if outcome is not None:
                    tflite[mode] = artifact(outcome)
        if "prune" in kinds:
            saved, h5, mounts = keras(model)
            measure(f"{architecture}: prune 0.5 (1 epoch)", PruneSpec(
                epochs=1, model=saved, model_h5=h5, **common), mounts)
        if "distill" in kinds:
            saved, h5, mounts = keras(model, "teacher")
            measure(f"{architecture}: distill into MobileNetV3Small (1 epoch)", DistillSpec(
                student_weights=None, epochs=1, teacher=saved, teacher_h5=h5, **common), mounts)
        if "scratch" in kinds and architecture == "MobileNetV3Small":
            measure("MobileNetV3Small: scratch (1 epoch)", ScratchSpec(
                weights=None, epochs=1, **common), {})
        if "benchmark" in kinds:
            benchmark(f"{architecture}: benchmark SavedModel", model)
            for mode, path in tflite.items():
                benchmark(f"{architecture}: benchmark {mode.upper()} .tflite", path)

    print(f"\nprofile {args.profile}, 224x224, batch 4, {args.latency_images} latency images, "
          f"weights=None, train/ {args.train_fraction:.0%} of each class; the Nano's job "
          f"limit {NANO_JOB_MB} MB")
    print(table(rows))


def table(rows: list[tuple[str, int | None, int | None, float]]) -> str:
    lines = ["| job | peak RSS MB | container cgroup peak MB | under the Nano's 3.5 GB | wall s |",
             "|---|---|---|---|---|"]
    for name, rss, cgroup, wall in rows:
        fits = "yes" if max(rss or 0, cgroup or 0) / MB < NANO_JOB_MB else "**no**"
        lines.append(f"| {name} | {megabytes(rss)} | {megabytes(cgroup)} | {fits} | {wall:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
