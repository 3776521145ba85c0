"""Latency as a distribution over images (issue 22): MobileNetV3Small at 224 px, its FP16 and
INT8 .tflite, each benchmarked by the real job at 1 and at 2 threads, in one run, through the
Python API. For each: p50/p90/p99 over every timed image, the 95 % interval widths of the
mean and the p90 (bootstrap over runs, launcher/report/latency_stats.py), MLPerf's
early-stopping p90 and p99, the cold start, and the first inference against the warm median.

The model is untrained (``weights=None``): a network's latency does not depend on its weights'
values, and INT8 calibrates on the digits written at 224 px.

    .venv/bin/python -m bench.latency_distribution [--profile x86-tf2.12] [--images 1000]
        [--runs 11] [--threads 1,2]
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from bench._common import artifact, bench_session, digits_input, result_of
from launcher.contract.results import BenchmarkResult
from launcher.contract.specs import AnySpec, BenchmarkSpec, InputRef, MakeModelSpec, QuantizeSpec
from launcher.files import tree_digest
from launcher.latency_samples import read_samples
from launcher.report.latency_stats import latency_stats
from launcher.runner import JobOutcome

SIZE = 224


def seconds(outcome: JobOutcome) -> float:
    record = outcome.record
    return (dt.datetime.fromisoformat(record.finished_at)
            - dt.datetime.fromisoformat(record.started_at)).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="x86-tf2.12")
    parser.add_argument("--images", type=int, default=1000, help="timed images per run")
    parser.add_argument("--runs", type=int, default=11, help="runs, the warm-up included")
    parser.add_argument("--threads", default="1,2")
    args = parser.parse_args()
    session = bench_session(args.profile, "bench-distribution-")
    # Enough test images for the pool (15 % of the folder); the job cycles a smaller pool.
    digits, images = digits_input(SIZE, per_class=40)

    def run(spec: AnySpec, inputs: dict[str, Path]) -> JobOutcome:
        outcome = session.run(spec, inputs, timeout_s=4 * 3600)
        if outcome.result is None:
            raise SystemExit(f"{spec.job} ended {outcome.record.status.value}: "
                             f"{outcome.record.reason} (log: {outcome.folder}/log.txt)")
        return outcome

    model = artifact(run(MakeModelSpec(architecture="MobileNetV3Small", input_size=SIZE,
                                       weights=None), {}))
    print(f"profile {session.target.profile}, MobileNetV3Small {SIZE} px, {args.images} images"
          f" x {args.runs} runs (warm-up 1), ms per image", flush=True)
    print("| model | threads | p50 | p90 | p99 | mean | mean 95 % CI width | p90 95 % CI width "
          "| early-stopping p90 / p99 | load s | allocate s | first inference / warm p50 "
          "| XNNPACK | job s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for mode in ("fp16", "int8"):
        quantized = run(QuantizeSpec(images=images, input_size=SIZE, calibration_images=100,
                                     model=InputRef(path="/inputs/model",
                                                    sha256=tree_digest(model)), mode=mode),
                        {"images": digits, "model": model})
        tflite = artifact(quantized)
        for threads in (int(t) for t in args.threads.split(",")):
            outcome = run(BenchmarkSpec(
                images=images, input_size=SIZE, accuracy=False, latency_images=args.images,
                latency_runs=args.runs, warmup_runs=1, threads=threads,
                model=InputRef(path="/inputs/model", sha256=tree_digest(tflite))),
                {"images": digits, "model": tflite})
            result = result_of(outcome, BenchmarkResult)
            per_image = read_samples(outcome.folder / "out", result)
            assert per_image is not None, "the benchmark kept no per-image samples"
            stats = latency_stats(per_image)
            metrics = result.metrics
            first = (metrics.cold_first_inference_ms or 0.0) / stats.p50
            early = " / ".join("-" if value is None else f"{value:.3f}"
                               for value in (stats.early_stopping_p90,
                                             stats.early_stopping_p99))
            print(f"| {mode} | {metrics.threads} | {stats.p50:.3f} | {stats.p90:.3f} | "
                  f"{stats.p99:.3f} | {stats.mean:.3f} | "
                  f"{stats.mean_ci[1] - stats.mean_ci[0]:.4f} | "
                  f"{stats.p90_ci[1] - stats.p90_ci[0]:.4f} | {early} | "
                  f"{metrics.cold_load_s:.3f} | {metrics.cold_allocate_s:.3f} | "
                  f"{first:.2f}x | {metrics.xnnpack} | {seconds(outcome):.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
