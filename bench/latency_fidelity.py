"""Latency fidelity of the benchmark job.

Inside one container of the job image, same model and images, the loops interleaved in blocks
of 10 images, order rotating (bench/container/latency_fidelity.py):
  job       jobs.benchmark's timed loop: uint8 images, each made float32 outside its timed span
  bare      preloaded float32 inputs, the same calls written out by hand
  cast_in   the uint8 -> float32 cast inside the timed loop
  one_sync  the output waited for once per run, not per image (the job before issue 9)
  predict   Keras model.predict() per image (the paper's likely method)
  cast      the uint8 -> float32 input alone (what the job makes outside each timed span)
Prints per-image medians and the ratios. Targets: job/bare within 0.97-1.03; cast_in/bare and
(bare + cast)/bare are what the cast would add to the figure if it were timed.

    .venv/bin/python -m bench.latency_fidelity [--profile x86-tf2.12] [--images 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path

from bench._common import bench_session
from launcher.contract.specs import AnySpec, InputRef, MakeModelSpec, QuantizeSpec
from launcher.files import tree_digest

BENCH = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="x86-tf2.12")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--input-size", type=int, default=224)
    args = parser.parse_args()
    session = bench_session(args.profile, "bench-fidelity-")
    target = session.target

    def run(spec: AnySpec, inputs: Mapping[str, Path] | None = None) -> Path:
        outcome = session.run(spec, inputs)
        assert outcome.result is not None, outcome.record.reason
        return outcome.folder / "out" / outcome.result.artifacts[0].path

    model = run(MakeModelSpec(architecture="MobileNetV3Small", input_size=args.input_size))
    tflite = run(QuantizeSpec(model=InputRef(path="/inputs/model", sha256=tree_digest(model)),
                              mode="float32"), {"model": model})
    output = subprocess.run(
        ["docker", "run", "--rm", "--network", "none",
         "-v", f"{model}:/m/saved_model:ro", "-v", f"{tflite}:/m/model.tflite:ro",
         "-v", f"{BENCH / 'container'}:/bench:ro", "--entrypoint", "python3", target.image_id,
         "/bench/latency_fidelity.py", "/m/saved_model", "/m/model.tflite", str(args.images),
         str(args.rounds)],
        check=True, capture_output=True, text=True).stdout
    report = json.loads(output.strip().splitlines()[-1])
    saved, lite = report["saved_model"], report["tflite"]
    print(f"profile {target.profile}, MobileNetV3Small {args.input_size}x{args.input_size}, "
          f"{args.images} images x {args.rounds} rounds, medians of per-image ms")
    for name, loops in (("SavedModel (tf.function)", saved), ("float32 .tflite", lite)):
        print(f"{name}: " + ", ".join(f"{loop} {ms:.3f} ms" for loop, ms in loops.items()))
        print(f"  job/bare {loops['job'] / loops['bare']:.3f} (target 0.97-1.03), "
              f"cast_in/bare {loops['cast_in'] / loops['bare']:.3f}, "
              f"(bare + cast)/bare {(loops['bare'] + loops['cast']) / loops['bare']:.4f}"
              + (f", one_sync/bare {loops['one_sync'] / loops['bare']:.3f}, "
                 f"predict/job {loops['predict'] / loops['job']:.2f}x"
                 if "predict" in loops else ""))

if __name__ == "__main__":
    main()
