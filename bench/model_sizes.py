"""Size ratios for the paper's six architectures at 224 x 224 with a 102-class head
(weights=None: size does not depend on the weights' values). SavedModel, float32/FP16/INT8
.tflite, and the ratios, beside the paper's averages (Figure 4 text: FP16 2.75x, INT8 4.72x).

    .venv/bin/python -m bench.model_sizes [--profile x86-tf2.12] [--models ...]
"""

from __future__ import annotations

import argparse

from bench._common import artifact, digits_input, job_runner, result_of
from launcher.contract.results import MakeModelResult, QuantizeResult
from launcher.contract.specs import InputRef, MakeModelSpec, QuantizeSpec
from launcher.contract.vocabulary import PAPER_ARCHITECTURES
from launcher.files import tree_digest

MB = 1e6
PAPER = {"fp16": 2.75, "int8": 4.72}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="x86-tf2.12")
    parser.add_argument("--models", nargs="*", default=list(PAPER_ARCHITECTURES))
    args = parser.parse_args()
    run = job_runner(args.profile, "bench-sizes-")
    digits, images = digits_input(size=224, per_class=13)

    rows = []
    for name in args.models:
        made = run(MakeModelSpec(architecture=name, input_size=224, num_classes=102))
        model = artifact(made)
        ref = InputRef(path="/inputs/model", sha256=tree_digest(model))
        sizes = {"saved_model": result_of(made, MakeModelResult).metrics.saved_model_bytes}
        for mode in ("float32", "fp16", "int8"):
            quantized = run(QuantizeSpec(model=ref, mode=mode, images=images, input_size=224),
                            {"model": model, "images": digits})
            sizes[mode] = result_of(quantized, QuantizeResult).metrics.tflite_bytes
        rows.append((name, result_of(made, MakeModelResult).metrics.parameters, sizes))

    print(f"profile {args.profile}, 224x224, 102-class head, weights=None")
    print("| model | params | SavedModel MB | float32 .tflite MB | FP16 MB | INT8 MB | "
          "SavedModel/FP16 | SavedModel/INT8 | INT8/float32 |")
    print("|---|---|---|---|---|---|---|---|---|")
    ratios: dict[str, list[float]] = {"fp16": [], "int8": []}
    for name, params, s in rows:
        for mode in ratios:
            ratios[mode].append(s["saved_model"] / s[mode])
        print(f"| {name} | {params:,} | {s['saved_model'] / MB:.1f} | {s['float32'] / MB:.1f} "
              f"| {s['fp16'] / MB:.1f} | {s['int8'] / MB:.1f} | "
              f"{s['saved_model'] / s['fp16']:.2f}x | {s['saved_model'] / s['int8']:.2f}x | "
              f"{s['int8'] / s['float32']:.3f} |")
    for mode, paper in PAPER.items():
        ours = sum(ratios[mode]) / len(ratios[mode])
        print(f"average SavedModel/{mode.upper()}: ours {ours:.2f}x, paper {paper:.2f}x, "
              f"ours/paper {ours / paper:.2f}")


if __name__ == "__main__":
    main()
