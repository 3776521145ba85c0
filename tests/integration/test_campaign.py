"""The quick campaign for real, as a user runs it: the command line in a subprocess, jobs in
the real engine. Interrupted mid-job with SIGINT (Ctrl-C), run again: it finishes, no job ran
twice except the interrupted one, nothing finished is lost, no container is left; a third run
starts no container; status says done; the report holds the results' numbers."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from launcher.docker_client import Engine, label
from launcher.study.campaign import preset_text

from .conftest import TEST_PROFILE

pytestmark = pytest.mark.docker
INTERRUPTED_JOB = 4  # decode, train, its benchmark, then this one (fp16) is stopped


def edgecompress(*args: str) -> list[str]:
    return [sys.executable, "-m", "launcher", *args]


def job_folders(store: Path) -> list[Path]:
    return sorted(p for p in (store / "jobs").iterdir() if (p / "spec.json").exists())


def record(folder: Path) -> dict | None:
    path = folder / "status.json"
    return json.loads(path.read_text()) if path.exists() else None


def our_containers(engine: Engine, store: Path) -> list[dict]:
    """Job containers of this store's jobs (other tests may run jobs of their own)."""
    keys = {f.name.rsplit("-", 1)[1] for f in job_folders(store)}
    return [c for c in engine.containers({label("kind"): "job"})
            if c["Labels"].get(label("key"), "")[:16] in keys]


@dataclass
class Runs:
    store: Path
    interrupted: subprocess.CompletedProcess[str]
    after_interrupt: dict[str, dict | None]  # folder -> status.json right after the interrupt
    results_after_interrupt: dict[str, bytes]
    containers_after_interrupt: list[dict]
    resumed: subprocess.CompletedProcess[str]
    rerun: subprocess.CompletedProcess[str]
    rerun_s: float
    mtimes_before_rerun: dict[str, float]
    holder: dict  # the lock file's text while the resume ran
    refused: subprocess.CompletedProcess[str]  # a second launcher meanwhile
    waited: subprocess.CompletedProcess[str]  # a third, with --wait


def run_interrupted(store: Path, engine: Engine) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        edgecompress("campaign", "run", "quick", "--profile", TEST_PROFILE, "--store",
                     str(store)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "200"})
    deadline = time.monotonic() + 600
    running_since: float | None = None
    while True:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the campaign never reached the job to interrupt"
        folders = job_folders(store) if (store / "jobs").exists() else []
        if len(folders) >= INTERRUPTED_JOB and our_containers(engine, store):
            running_since = running_since or time.monotonic()
            if time.monotonic() - running_since > 4:  # mid-job: started and working
                break
        time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture(scope="module")
def runs(engine, image_id, tmp_path_factory) -> Runs:
    store = tmp_path_factory.mktemp("campaign") / "store"
    interrupted = run_interrupted(store, engine)
    after = {f.name: record(f) for f in job_folders(store)}
    results = {f.name: (f / "out" / "result.json").read_bytes() for f in job_folders(store)
               if (after[f.name] or {}).get("status") == "succeeded"}
    containers = our_containers(engine, store)
    command = edgecompress("campaign", "run", "quick", "--profile", TEST_PROFILE, "--store",
                           str(store))
    # A second launcher while the resume runs: one without --wait is refused at once, one
    # with it waits for the store and then finds every job done (launcher/store_lock.py).
    resuming = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    holder = wait_for_holder(store, resuming)
    refused = subprocess.run(command, capture_output=True, text=True, timeout=300)
    waiting = subprocess.Popen([*command, "--wait"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    out, err = resuming.communicate(timeout=900)
    resumed = subprocess.CompletedProcess(command, resuming.returncode, out, err)
    out, err = waiting.communicate(timeout=300)
    waited = subprocess.CompletedProcess(command, waiting.returncode, out, err)
    mtimes = {f.name: (f / "status.json").stat().st_mtime for f in job_folders(store)}
    started = time.monotonic()
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    return Runs(store, interrupted, after, results, containers, resumed, rerun,
                time.monotonic() - started, mtimes, holder, refused, waited)


def wait_for_holder(store: Path, proc: subprocess.Popen[str]) -> dict:
    """What the store's lock file says once ``proc`` holds it."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            holder = json.loads((store / ".lock").read_text() or "{}")
        except (OSError, ValueError):
            holder = {}
        if holder.get("pid") == proc.pid:
            return holder
        time.sleep(0.2)
    raise AssertionError("the resumed campaign never took the store's lock")


def test_first_ctrl_c_stops_the_campaign_cleanly(runs):
    assert runs.interrupted.returncode == 130, runs.interrupted.stderr
    assert "interrupted:" in runs.interrupted.stderr
    assert "Traceback" not in runs.interrupted.stderr
    statuses = [r["status"] if r else None for r in runs.after_interrupt.values()]
    assert statuses.count("canceled") == 1, runs.after_interrupt
    assert statuses.count("succeeded") == INTERRUPTED_JOB - 1
    assert runs.containers_after_interrupt == [], "no container left behind"


def test_resume_finishes_and_redoes_only_the_interrupted_job(runs):
    assert runs.resumed.returncode == 0, runs.resumed.stdout + runs.resumed.stderr
    (canceled,) = [name for name, r in runs.after_interrupt.items()
                   if r and r["status"] == "canceled"]
    for folder in job_folders(runs.store):
        current = record(folder)
        assert current is not None and current["status"] == "succeeded", folder.name
        attempts = sorted((folder / "attempts").glob("*")) if (
            folder / "attempts").exists() else []
        if folder.name == canceled:
            assert [a.name for a in attempts] == ["1"]
            assert record(attempts[0])["status"] == "canceled"
        else:
            assert attempts == [], f"{folder.name} ran twice"
    # Nothing finished before the interrupt was touched.
    for name, result in runs.results_after_interrupt.items():
        assert (runs.store / "jobs" / name / "out" / "result.json").read_bytes() == result
        assert record(runs.store / "jobs" / name) == runs.after_interrupt[name]
    assert our_containers(Engine.connect(), runs.store) == []


def test_a_second_launcher_is_refused_in_one_line_naming_the_holder(runs):
    assert runs.refused.returncode == 2, runs.refused.stdout + runs.refused.stderr
    lines = runs.refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), runs.refused.stderr
    assert f"pid {runs.holder['pid']}" in lines[0] and "--wait" in lines[0]
    assert "campaign run quick" in lines[0]
    assert "Traceback" not in runs.refused.stderr


def test_a_waiting_launcher_finds_everything_done(runs):
    assert runs.waited.returncode == 0, runs.waited.stdout + runs.waited.stderr
    assert "waiting for" in runs.waited.stderr
    assert "0 job(s) ran" in runs.waited.stdout, runs.waited.stdout
    # No job ran twice: only the interrupted one has an earlier attempt.
    attempts = [f for f in job_folders(runs.store) if (f / "attempts").exists()]
    assert len(attempts) == 1, attempts


def test_a_finished_campaign_starts_no_container(runs):
    assert runs.rerun.returncode == 0, runs.rerun.stderr
    assert "0 job(s) ran" in runs.rerun.stdout
    mtimes = {f.name: (f / "status.json").stat().st_mtime for f in job_folders(runs.store)}
    assert mtimes == runs.mtimes_before_rerun, "no status was rewritten"
    assert runs.rerun_s < 20


def test_status_says_every_job_is_done(runs):
    proc = subprocess.run(edgecompress("status", "quick", "--store", str(runs.store)),
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads(next((runs.store / "campaigns").glob("quick@*.json")).read_text())
    assert len(manifest["nodes"]) == len(job_folders(runs.store))


def test_report_from_the_real_results(runs, tmp_path):
    out = tmp_path / "report"
    proc = subprocess.run(edgecompress("report", "--store", str(runs.store), "--out", str(out)),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    figures = sorted((out / "figures").glob("*.png"))
    assert {f.name.split("-x86")[0].split("-nano")[0].split("-xavier")[0] for f in figures} >= {
        "fig2-accuracy", "fig3-latency", "fig4-size", "fig5-compression-time"}
    for figure in figures:
        assert figure.stat().st_size > 1000
        with Image.open(figure) as image:
            assert image.format == "PNG" and min(image.size) > 100
    manifest = json.loads(next((runs.store / "campaigns").glob("quick@*.json")).read_text())

    def result(node: str) -> dict:
        folder = runs.store / "jobs" / manifest["nodes"][node]["folder"]
        return json.loads((folder / "out" / "result.json").read_text())

    with open(out / "csv" / "accuracy.csv") as handle:
        accuracy = {(r["model"], r["method"]): r for r in csv.DictReader(handle)}
    with open(out / "csv" / "latency.csv") as handle:
        latency = {(r["model"], r["method"]): r for r in csv.DictReader(handle)}
    with open(out / "csv" / "compression_time.csv") as handle:
        timing = {(r["model"], r["method"]): r for r in csv.DictReader(handle)}
    model = "MobileNetV3Small"
    for method, subject in (("base", "train"), ("fp16", "fp16"), ("int8", "int8"),
                            ("prune50", "prune50"), ("distill", "distill")):
        bench = result(f"benchmark/{subject}/{model}/copy1")["metrics"]
        assert float(accuracy[(model, method)]["mean %"]) == pytest.approx(
            100 * bench["top1_accuracy"])
        assert float(latency[(model, method)]["mean"]) == pytest.approx(
            bench["latency_ms_mean"])
        assert float(latency[(model, method)]["p90"]) == pytest.approx(bench["latency_ms_p90"])
    pruned = result("prune50/MobileNetV3Small/copy1")["metrics"]
    row = timing[(model, "prune50")]
    assert float(row["compression mean"]) == pytest.approx(statistics.mean([pruned["prune_s"]]))
    # The prune loaded the base's .h5 copy: the total counts the SavedModel load its train
    # job timed instead, as the paper's compression time starts by loading the SavedModel.
    assert pruned["input_format"] == "h5"
    base_load = result("train/MobileNetV3Small/copy1")["metrics"]["saved_model_load_s"]
    assert float(row["total mean"]) == pytest.approx(
        pruned["compression_total_s"] - pruned["input_load_s"] + base_load, rel=1e-3)
    assert float(row["total mean"]) > float(row["compression mean"])
    # The models learned: the study's numbers mean something even on the quick campaign.
    assert float(accuracy[(model, "base")]["mean %"]) > 60
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(figures)


def test_diff_flags_a_slower_benchmark_setting(runs, tmp_path):
    """Issue 23: the finished quick campaign's store copied, and the quick campaign run into the
    copy again under another name with Keras predict() as its timing method, fp16 only. Only
    the two copy-1 benchmarks whose spec changed run (decode, train and quantize are reused),
    and diff of the two campaigns flags the base's latency, names the timing method, and lists
    the methods the variant did not run as unpaired."""
    store = tmp_path / "store"
    shutil.copytree(runs.store, store, symlinks=True)
    config = tmp_path / "quick-predict.toml"
    config.write_text(preset_text("quick").replace('name = "quick"', 'name = "quick-predict"')
                      .replace("[benchmark]\n", '[benchmark]\nlatency_method = "predict"\n'))
    ran = subprocess.run(edgecompress("campaign", "run", str(config), "--methods", "fp16",
                                      "--profile", TEST_PROFILE, "--store", str(store)),
                         capture_output=True, text=True, timeout=900)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "2 job(s) ran (2 succeeded), 3 already done" in ran.stdout, ran.stdout

    proc = subprocess.run(edgecompress("diff", f"{runs.store}::quick", f"{store}::quick-predict",
                                       "--json", "--fail-on", "latency:1.1"),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    document = json.loads(proc.stdout)
    base = next(p for p in document["pairs"] if p["method"] == "base")
    assert base["latency"]["ratio"] > 1.1 and base["latency"]["significant"], base["latency"]
    assert base["latency"]["basis"] == "images" and base["gate"], base
    assert [(d["setting"], d["a"], d["b"]) for d in base["differences"]] == [
        ("timing method", "call", "predict")]
    # A .tflite has no predict(): fp16 is timed by call on both sides, and so not marked.
    fp16 = next(p for p in document["pairs"] if p["method"] == "fp16")
    assert fp16["differences"] == [] and fp16["a"]["folder"] != fp16["b"]["folder"]
    assert {(u["side"], u["method"]) for u in document["unpaired"]} == {
        ("a", "int8"), ("a", "prune50"), ("a", "distill")}


def test_failed_jobs_wait_for_retry_failed(engine, image_id, tmp_path):
    """A job that fails is reported with its reason, what needs it waits, a plain re-run
    leaves it alone (no container), --retry-failed runs it again."""
    one_class = tmp_path / "one-class" / "only"
    one_class.mkdir(parents=True)
    for index in range(3):
        Image.new("RGB", (32, 32), (index * 40, 0, 0)).save(one_class / f"{index}.png")
    for path in (tmp_path, tmp_path / "one-class", one_class, *one_class.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)  # jobs run as uid 1000 under root
    config = tmp_path / "broken.toml"
    config.write_text('name = "broken"\nmodels = ["MobileNetV3Small"]\nmethods = ["fp16"]\n'
                      'copies = 1\ninput_size = 32\nweights = "none"\n'
                      'epochs = 1\n[dataset]\nsource = "images"\npath = "one-class"\n')
    store = tmp_path / "store"
    command = edgecompress("campaign", "run", str(config), "--profile", TEST_PROFILE,
                           "--store", str(store))
    first = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "failed: train/MobileNetV3Small/copy1: failed:" in first.stderr
    assert "class folder" in first.stderr, "the job's own reason is shown"
    # The decode job fails on the same folder; a failed cache blocks nothing (the train job
    # ran, and failed on its own).
    decode, folder = job_folders(store)
    assert decode.name.startswith("decode-") and folder.name.startswith("train-")
    written = (folder / "status.json").stat().st_mtime_ns

    status = subprocess.run(edgecompress("status", str(config), "--store", str(store)),
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "COLUMNS": "200"})
    assert status.returncode == 1
    assert "failed" in status.stdout and "after train/MobileNetV3Small/copy1" in status.stdout

    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 1 and "0 job(s) ran" in again.stdout
    assert "--retry-failed" in again.stderr
    assert (folder / "status.json").stat().st_mtime_ns == written, "no container started"

    retried = subprocess.run([*command, "--retry-failed"], capture_output=True, text=True,
                             timeout=300)
    assert retried.returncode == 1 and "2 job(s) ran" in retried.stdout  # decode and train
    assert [p.name for p in (folder / "attempts").iterdir()] == ["1"]
    assert our_containers(engine, store) == []


INDEPENDENT_VALIDATION = """
import json
import numpy as np
from jobs import compat, data, models
tf = compat.import_tensorflow(); keras = compat.keras_module(tf)
spec = json.load(open('/job/spec.json'))
splits = data.load_splits(tf, spec)
model = models.load_keras(keras, '/pruned')
right = seen = 0
for images, labels in data.batches(tf, splits.validation, spec['input_size'], 64):
    predicted = np.argmax(model(images, training=False).numpy(), axis=-1)
    right += int(np.sum(predicted == labels.numpy())); seen += len(predicted)
print(json.dumps({'accuracy': right / seen, 'examples': seen}))
"""


def test_pruning_at_half_keeps_the_bases_accuracy_and_records_how(runs, image_id):
    """Issue 24: the quick preset's prune50 stays within 2 points of its base; its record shows
    the first mask at tfmot's step 1 (the 25-point drop came from a first mask at the last step
    of the first epoch) and the fit's recovery, and its final validation accuracy is what the
    saved model scores when evaluated apart."""
    from .in_image import python_in_image

    manifest = json.loads(next((runs.store / "campaigns").glob("quick@*.json")).read_text())

    def folder(node: str) -> Path:
        return runs.store / "jobs" / manifest["nodes"][node]["folder"]

    def top1(node: str) -> float:
        return json.loads((folder(node) / "out" / "result.json").read_text())[
            "metrics"]["top1_accuracy"]

    base, pruned = (top1(f"benchmark/{n}/MobileNetV3Small/copy1") for n in ("train", "prune50"))
    # The target, on this one copy: within 2 points of the base. With the quick
    # preset's regime (all) four copies measured ended 0.00 to 1.79 points *above* their base
    # (docs/benchmarks.md, "Pruning on every twin"); pruned_layers, on one copy, ranged from
    # 2.87 below to 6.09 above, which is why the preset changed.
    assert base > 0.5, base  # chance is 0.1
    assert 100 * (base - pruned) <= 2.0, (base, pruned)
    prune = folder("prune50/MobileNetV3Small/copy1")
    result = json.loads((prune / "out" / "result.json").read_text())
    metrics, samples = result["metrics"], result["samples"]
    assert metrics["regime"] == "all" and result["spec"]["learning_rate"] == 1e-3
    # Three epochs of 39 steps: masks at tfmot's step 1 and 40, the last an epoch and more
    # before the end; the thresholds moved at planned steps only.
    assert metrics["mask_steps_planned"] == [1, 40] and metrics["mask_steps"][0] == 1
    assert set(metrics["mask_steps"]) <= set(metrics["mask_steps_planned"])
    assert metrics["validation_accuracy_first_mask"] < metrics["validation_accuracy_before"]
    assert samples["val_accuracy"][-1] == metrics["final_validation_accuracy"]
    spec = json.loads((prune / "spec.json").read_text())
    inputs = json.loads((prune / "status.json").read_text())["inputs"]
    mounts = {Path(host): spec[name]["path"] for name, host in inputs.items()}
    mounts[prune / "spec.json"] = "/job/spec.json"
    mounts[prune / "out" / "model.h5"] = "/pruned"
    seen = json.loads(python_in_image(image_id, INDEPENDENT_VALIDATION, mounts))
    assert abs(seen["accuracy"] - metrics["final_validation_accuracy"]) <= 1 / seen["examples"]


def test_a_chain_quantizes_the_pruned_model_and_recommend_reads_it(runs, tmp_path):
    """Issue 21: the finished quick campaign's store copied, and a campaign with the chain
    prune50+int8 beside int8 and prune50 run into the copy. Only the chain's quantize job and
    its benchmark run (the pruning job is the quick campaign's own, reused by key); the chain's
    .tflite is smaller under gzip than prune50's SavedModel and than int8 alone (the pruned
    zeros stay zeros in int8); the report has its rows; recommend names a method for a budget
    anything meets and, for 0 points, whatever loses nothing or none with the closest."""
    store = tmp_path / "store"
    shutil.copytree(runs.store, store, symlinks=True)
    config = tmp_path / "quick-chains.toml"
    config.write_text(preset_text("quick").replace('name = "quick"', 'name = "quick-chains"')
                      .replace('methods = ["fp16", "int8", "prune50", "distill"]',
                               'methods = ["int8", "prune50", "prune50+int8"]')
                      + "\n[goal]\nmax_accuracy_drop = 100\nminimize = \"size\"\n")
    ran = subprocess.run(edgecompress("campaign", "run", str(config), "--profile", TEST_PROFILE,
                                      "--store", str(store)),
                         capture_output=True, text=True, timeout=900)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "2 job(s) ran (2 succeeded), 7 already done" in ran.stdout, ran.stdout
    manifest = json.loads((store / "campaigns" / f"quick-chains@{TEST_PROFILE}.json")
                          .read_text())

    def metrics(node: str) -> dict:
        folder = store / "jobs" / manifest["nodes"][node]["folder"]
        return json.loads((folder / "out" / "result.json").read_text())["metrics"]

    model = "MobileNetV3Small"
    chain = metrics(f"benchmark/prune50+int8/{model}/copy1")
    pruned = metrics(f"benchmark/prune50/{model}/copy1")
    alone = metrics(f"benchmark/int8/{model}/copy1")
    assert chain["format"] == "tflite" and chain["top1_accuracy"] is not None
    assert chain["gzip_bytes"] < pruned["gzip_bytes"], (chain, pruned)
    assert chain["gzip_bytes"] < alone["gzip_bytes"], (chain, alone)
    quantized = metrics(f"prune50+int8/{model}/copy1")
    assert quantized["saved_model_bytes"] == pruned["bytes"]  # it converted the pruned model

    out = tmp_path / "report"
    proc = subprocess.run(edgecompress("report", "--store", str(store), "--campaign",
                                       "quick-chains", "--out", str(out)),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    with open(out / "csv" / "size.csv") as handle:
        sizes = {r["method"]: r for r in csv.DictReader(handle)}
    assert float(sizes["prune50+int8"]["gzip MB"]) == pytest.approx(chain["gzip_bytes"] / 1e6)
    assert (out / "report.md").read_text().startswith("# edgecompress report")
    assert "## Recommendation" in (out / "report.md").read_text()

    def recommend(*args: str) -> dict:
        proc = subprocess.run(edgecompress("recommend", "quick-chains", "--store", str(store),
                                           "--json", *args),
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        (found,) = json.loads(proc.stdout)["recommendations"]
        return found

    generous = recommend()  # the campaign's goal: 100 points, size
    assert generous["method"] == "prune50+int8", generous  # the smallest under gzip
    strict = recommend("--max-drop", "0")
    lossless = [c["method"] for c in strict["candidates"] if c["judged_drop_pts"] <= 0]
    if lossless:  # one copy: a method that lost nothing meets a budget of 0
        assert strict["method"] in lossless
    else:
        assert strict["method"] is None and strict["closest"] is not None, strict
