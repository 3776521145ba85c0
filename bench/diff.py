"""How long ``edgecompress diff`` takes: on the recorded 2-copy quick store
(tests/data/campaign-quick-2copies, 24 jobs) against itself, and on two synthetic stores of the
``paper`` preset's shape (420 jobs each: 6 models x 5 copies, every method, 210 benchmarks).

The synthetic stores hold one job folder per node of the paper plan, each a valid result of
its job kind cloned from the recorded store (what diff reads: the benchmarks' latency runs and
accuracy, the builders' fingerprints), with seeded noise on latency and accuracy so that the
two stores differ. Each diff runs as a user runs it (a subprocess: Python start and imports
included), --repeats times; the in-process split (loading both sides, comparing) is printed
too.

    .venv/bin/python -m bench.diff [--repeats 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import summary, timed
from jobs.benchmark import summarise, write_samples
from launcher.compare.diff import compare
from launcher.compare.gate import parse_fail_on
from launcher.compare.sides import load_side, parse_selection
from launcher.contract.vocabulary import (
    LATENCY_SAMPLES_ARTIFACT,
    LATENCY_SAMPLES_FILE,
    LATENCY_SAMPLES_FORMAT,
    PAPER_ARCHITECTURES,
)
from launcher.study.campaign import load_campaign
from launcher.study.manifest import Manifest, ManifestNode, write_manifest
from launcher.study.plan import expand

ROOT = Path(__file__).resolve().parent.parent

RECORDED = ROOT / "tests" / "data" / "campaign-quick-2copies"
PROFILE = "x86-tf2.12"
PAPER_IMAGES, PAPER_KEPT_RUNS = 1000, 10
# A recorded folder of each job kind: (job, copy 1 or later) -> folder.
TEMPLATES = {("train", 1): "train-f03a275f967e5e83", ("scratch", 1): "scratch-93815d6638d4fd78",
             ("quantize", 1): "quantize-b51ffe1a6d2f66b3", ("prune", 1): "prune-2f2c4f1e08819278",
             ("distill", 1): "distill-ff7ec59d4afd50d9",
             ("benchmark", 1): "benchmark-e2e576bcda63d1a5",
             ("benchmark", 2): "benchmark-67b634a119010b1e"}


def template(job: str, copy: int) -> Path:
    return RECORDED / "jobs" / TEMPLATES.get((job, min(copy, 2)), TEMPLATES[(job, 1)])


def synthetic_store(root: Path, seed: int) -> Path:
    """The paper plan's 420 nodes as valid results, in a store at ``root``: timed by call
    alone, the shape docs/benchmarks.md measured (the preset now adds 30 predict benchmarks)."""
    rng = random.Random(seed)
    config = load_campaign("paper")
    config = config.model_copy(update={"benchmark": config.benchmark.model_copy(
        update={"latency_methods": None})})
    plan = expand(config)
    nodes = {}
    for node in plan.nodes:
        folder = f"{node.job}-{hashlib.sha256(node.id.encode()).hexdigest()[:16]}"
        target = root / "jobs" / folder
        shutil.copytree(template(node.job, node.copy), target)
        result_path = target / "out" / "result.json"
        result = json.loads(result_path.read_text())
        metrics = result["metrics"]
        if node.job in ("train", "scratch", "distill"):
            sha = hashlib.sha256(f"{node.model}-{node.method}".encode()).hexdigest()
            metrics["fingerprint"] = {"parameters": metrics.get("parameters") or metrics[
                "student_parameters"], "layers": 200, "sha256": sha}
        if node.job == "benchmark":
            scale = 1 + 0.5 * PAPER_ARCHITECTURES.index(node.model)  # a latency per model
            runs = [v * scale * rng.uniform(0.97, 1.03)
                    for v in result["samples"]["latency_ms_per_image_all_runs"]]
            if node.copy == 1:  # the latency benchmark: the paper's 10 x 1000 images
                runs = add_images(result, target / "out", runs, rng)
            result["samples"] = {"latency_ms_per_image_all_runs": runs}
            metrics.update(summarise(runs, result["spec"]["warmup_runs"]))
            metrics["top1_accuracy"] = min(1.0, max(0.0, metrics["top1_accuracy"]
                                                    + rng.uniform(-0.02, 0.02)))
        result_path.write_text(json.dumps(result))
        nodes[node.id] = ManifestNode(folder=folder, job=node.job, model=node.model,
                                      method=node.method, copy_label=node.copy,
                                      role=node.role)
    record = json.loads((template("train", 1) / "status.json").read_text())
    write_manifest(root, Manifest(name=config.name, profile=PROFILE, image=record["image"],
                                  image_id=record["image_id"], config=config, nodes=nodes))
    return root


def add_images(result: dict[str, Any], out: Path, runs: list[float],
               rng: random.Random) -> list[float]:
    """The paper preset's per-image side file (10 kept runs x 1000 images) around the runs'
    means, named in the result as a job names it; the runs become the files' means."""
    warmups = result["spec"]["warmup_runs"]
    mean = sum(runs[warmups:]) / len(runs[warmups:])
    table = [[mean * rng.lognormvariate(0.0, 0.1) for _ in range(PAPER_IMAGES)]
             for _ in range(PAPER_KEPT_RUNS)]
    write_samples(str(out / LATENCY_SAMPLES_FILE), table)
    result["spec"]["latency_runs"] = warmups + PAPER_KEPT_RUNS
    result["metrics"].update(latency_images=PAPER_IMAGES,
                             latency_samples_format=LATENCY_SAMPLES_FORMAT)
    result["artifacts"] = [a for a in result["artifacts"]
                           if a["name"] != LATENCY_SAMPLES_ARTIFACT] + [
        {"name": LATENCY_SAMPLES_ARTIFACT, "kind": "file", "path": LATENCY_SAMPLES_FILE,
         "bytes": 4 * PAPER_IMAGES * PAPER_KEPT_RUNS}]
    (out.parent / "spec.json").write_text(json.dumps(result["spec"], indent=1))
    return runs[:warmups] + [sum(run) / len(run) for run in table]


def in_process(a: str, b: str) -> str:
    started = time.perf_counter()
    side_a, side_b = load_side(parse_selection(a)), load_side(parse_selection(b))
    loaded = time.perf_counter()
    document = compare(side_a, side_b, parse_fail_on("latency:1.1,accuracy:0.5"))
    done = time.perf_counter()
    return (f"in process: load {loaded - started:.3f} s, compare {done - loaded:.3f} s "
            f"({len(document.pairs)} pairs, {len(document.unpaired)} unpaired)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the synthetic stores here and keep "
                        "them")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-diff-"))
    started = time.perf_counter()
    a = synthetic_store(work / "paper-a", seed=1)
    b = synthetic_store(work / "paper-b", seed=2)
    print(f"built two synthetic 420-job stores in {time.perf_counter() - started:.1f} s "
          f"({work})")
    cases = {"recorded 2-copy store (24 jobs) against itself": (str(RECORDED), str(RECORDED)),
             "synthetic paper-size stores (420 jobs each)": (str(a), str(b))}
    start_up = [timed([sys.executable, "-m", "launcher", "--version"])
                for _ in range(args.repeats)]
    print(f"start-up alone (python -m launcher --version): {summary(start_up)}")
    for name, (left, right) in cases.items():
        for output in ((), ("--json",)):
            command = [sys.executable, "-m", "launcher", "diff", left, right, *output]
            samples = [timed(command) for _ in range(args.repeats)]
            print(f"{name}, {' '.join(output) or 'table'}: {summary(samples)}")
        print(f"  {in_process(left, right)}")
    if args.keep is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
