"""Does sampling power disturb the latency it is measured against?

Side by side, alternating, on one .tflite model in one image: the benchmark job's mean
per-image latency
  A: with the power sampler running on the host (launcher/device/power.py)
  B: without it
Prints both distributions, the ratio of medians A/B (target <= 1.02) and what the sampler
measured. With no Jetson here, the sampler is stand_ins/tegrastats.py replaying a Xavier
NX's recorded line: a Python process, heavier than the real tegrastats, so the ratio is an
upper bound for the device.

    .venv/bin/python -m bench.power_overhead [--profile x86-tf2.12] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace
from pathlib import Path

from bench._common import artifact, bench_target, digits_input, job_runner
from launcher.contract.record import PowerMeasurement
from launcher.contract.results import BenchmarkResult
from launcher.contract.specs import BenchmarkSpec, InputRef, MakeModelSpec, QuantizeSpec
from launcher.device.power import Sampling
from launcher.files import tree_digest
from launcher.runner import run_job
from launcher.target import request_for
from stand_ins import TEGRASTATS

ROOT = Path(__file__).resolve().parent.parent

SIZE = 96


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="x86-tf2.12")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--images", type=int, default=500, help="latency images per run")
    parser.add_argument("--interval-ms", type=int, default=100)
    args = parser.parse_args()

    run = job_runner(args.profile, "bench-power-")
    digits, images = digits_input(SIZE, per_class=20)
    model = artifact(run(MakeModelSpec(architecture="MobileNetV3Small", input_size=SIZE,
                                       num_classes=10)))
    tflite = artifact(run(QuantizeSpec(
        model=InputRef(path="/inputs/model", sha256=tree_digest(model)), mode="fp16",
        input_size=SIZE), {"model": model}))

    engine, target = bench_target(args.profile, "bench-power-store-")
    replay = ROOT / "tests" / "data" / "jetson" / "xavier-nx" / "tegrastats-jp512.log"
    sampling = Sampling((sys.executable, str(TEGRASTATS),
                         "--replay", str(replay), "--interval", str(args.interval_ms)),
                        args.interval_ms)
    spec = BenchmarkSpec(images=images, model=InputRef(path="/inputs/model",
                                                       sha256=tree_digest(tflite)),
                         input_size=SIZE, accuracy=False, latency_images=args.images,
                         latency_runs=6, warmup_runs=1)

    def benchmark(power: Sampling | None) -> tuple[float, PowerMeasurement | None]:
        request = request_for(replace(target, power=power), spec,
                              {"images": digits, "model": tflite}, timeout_s=3600, force=True)
        outcome = run_job(engine, target.store, request)
        if not isinstance(outcome.result, BenchmarkResult):
            raise SystemExit(f"benchmark ended {outcome.record.status.value}: "
                             f"{outcome.record.reason}")
        return outcome.result.metrics.latency_ms_mean, outcome.record.power

    benchmark(None)  # warm the page cache
    with_sampler, without, powers = [], [], []
    for _ in range(args.rounds):
        latency, power = benchmark(sampling)
        with_sampler.append(latency)
        powers.append(power)
        without.append(benchmark(None)[0])
    ratio = statistics.median(with_sampler) / statistics.median(without)
    print(f"image {target.image}, fp16 .tflite MobileNetV3Small {SIZE} px, "
          f"{args.images} images x 5 kept runs, sampler every {args.interval_ms} ms")
    for name, values in (("A with the sampler", with_sampler), ("B without it", without)):
        print(f"{name}: median {statistics.median(values):.4f} ms, "
              f"min {min(values):.4f}, max {max(values):.4f} (n={len(values)})")
    print(f"ratio A/B of medians: {ratio:.3f} (target <= 1.02)")
    first = powers[0]
    if first is None or first.average_power_mw is None:
        raise SystemExit(f"the sampler measured nothing: {first}")
    samples = [p.samples for p in powers if p is not None]
    print(f"samples inside the kept runs per job: {min(samples)}..{max(samples)}; "
          f"average power {first.average_power_mw:.0f} mW (replayed 2763 mW), energy "
          f"{first.energy_per_inference_mj:.3f} mJ per inference")


if __name__ == "__main__":
    main()
