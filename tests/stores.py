"""Stores made for diff from the recorded real one (tests/data/campaign-quick-2copies): copied,
then results altered or added, each still valid against the contract (a result's spec echo is
edited with its spec.json; latency metrics are recomputed from the runs by the job's own
``summarise``). Used by the unit tests and bench/diff.py."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobs.benchmark import summarise, write_samples
from launcher.contract.vocabulary import (
    LATENCY_SAMPLES_ARTIFACT,
    LATENCY_SAMPLES_FILE,
    LATENCY_SAMPLES_FORMAT,
)

RECORDED = Path(__file__).parent / "data" / "campaign-quick-2copies"
MANIFEST = "quick@x86-tf2.12.json"
MODEL = "MobileNetV3Small"
SUBJECTS = {"base": "train"}  # a benchmark node's id names its subject: train for the base


def copy_store(target: Path) -> Path:
    shutil.copytree(RECORDED, target)
    return target


def manifest(store: Path, name: str = MANIFEST) -> dict[str, Any]:
    return json.loads((store / "campaigns" / name).read_text())


def write_manifest(store: Path, data: dict[str, Any], name: str = MANIFEST) -> None:
    (store / "campaigns" / name).write_text(json.dumps(data, indent=1))


def benchmark_node(method: str, copy: int, model: str = MODEL) -> str:
    return f"benchmark/{SUBJECTS.get(method, method)}/{model}/copy{copy}"


def folder(store: Path, node: str, name: str = MANIFEST) -> Path:
    return store / "jobs" / manifest(store, name)["nodes"][node]["folder"]


def edit_result(store: Path, node: str, change: Callable[[dict[str, Any]], None],
                name: str = MANIFEST) -> None:
    """``change`` edits the result (a dict); a change to its spec is made to spec.json too."""
    where = folder(store, node, name)
    path = where / "out" / "result.json"
    result = json.loads(path.read_text())
    change(result)
    path.write_text(json.dumps(result, indent=1))
    # The recorded spec.json files are the results' echoes, key for key.
    (where / "spec.json").write_text(json.dumps(result["spec"], indent=1))


def set_runs(result: dict[str, Any], kept: list[float], warmup: float = 50.0) -> None:
    """The benchmark's kept runs (per-image ms each) and the metrics the job derives from them."""
    warmups = result["spec"]["warmup_runs"]
    runs = [warmup] * warmups + list(kept)
    result["spec"]["latency_runs"] = len(runs)
    result["samples"] = {"latency_ms_per_image_all_runs": runs}
    result["metrics"].update(summarise(runs, warmups))


def set_images(store: Path, node: str, table: list[list[float]], name: str = MANIFEST) -> None:
    """Every timed image of the benchmark's kept runs (runs x images), written as the job
    writes them (jobs/benchmark.py write_samples) and named in its result; the runs' means
    and the metrics follow from them."""
    out = folder(store, node, name) / "out"
    write_samples(str(out / LATENCY_SAMPLES_FILE), table)

    def change(result: dict[str, Any]) -> None:
        set_runs(result, [sum(run) / len(run) for run in table])
        result["metrics"].update(latency_images=len(table[0]),
                                 latency_samples_format=LATENCY_SAMPLES_FORMAT)
        result["artifacts"] = [a for a in result["artifacts"]
                               if a["name"] != LATENCY_SAMPLES_ARTIFACT] + [
            {"name": LATENCY_SAMPLES_ARTIFACT, "kind": "file", "path": LATENCY_SAMPLES_FILE,
             "bytes": (out / LATENCY_SAMPLES_FILE).stat().st_size}]

    edit_result(store, node, change, name)


def set_top1(result: dict[str, Any], value: float) -> None:
    result["metrics"]["top1_accuracy"] = value


def set_accuracy(store: Path, method: str, values: list[float], name: str = MANIFEST) -> None:
    """Copy N's top-1 is values[N - 1]; copies past the store's are synthesized from copy 2's
    benchmark (a new folder and manifest node each)."""
    data = manifest(store, name)
    for copy, value in enumerate(values, start=1):
        node = benchmark_node(method, copy)
        if node not in data["nodes"]:
            template = data["nodes"][benchmark_node(method, 2)]
            key = hashlib.sha256(f"{name}{node}{store}".encode()).hexdigest()[:16]
            new = f"benchmark-{key}"
            shutil.copytree(store / "jobs" / template["folder"], store / "jobs" / new)
            data["nodes"][node] = {**template, "folder": new, "copy_label": copy}
            write_manifest(store, data, name)
        edit_result(store, node, functools.partial(set_top1, value=value), name)


def set_fingerprint(store: Path, node: str, sha: str, name: str = MANIFEST) -> None:
    edit_result(store, node, lambda r: r["metrics"].update(
        fingerprint={"parameters": r["metrics"]["parameters"], "layers": 200, "sha256": sha}),
        name)


def drop_nodes(store: Path, method: str, name: str = MANIFEST) -> None:
    data = manifest(store, name)
    data["nodes"] = {k: v for k, v in data["nodes"].items() if v["method"] != method}
    write_manifest(store, data, name)
