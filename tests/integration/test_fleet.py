"""Fleet runs on a real multi-node Docker Swarm: a manager and two workers as docker-in-docker
containers (stand_ins/swarm.py), the job image through a real registry, the store
bind-mounted at the same path in every node. One swarm for the whole module; the job image
is the TensorFlow-free stand-in (stand_ins/job_image.py), whose make_model job at
SLEEP_SIZE px sleeps SLEEP_S seconds.

The tests run in this order on purpose: the one that kills a worker comes after those that
need both, and the leak check comes last (it restarts the killed worker to see that its
job's container goes too).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from launcher.contract.record import JobStatus
from launcher.contract.specs import BenchmarkSpec, InputRef
from launcher.device.power import Sampling
from launcher.device.profiles import get_profile
from launcher.docker_client import Engine, label
from launcher.docker_swarm import SwarmEngine
from launcher.errors import EngineError
from launcher.execution.container import SESSION_ID
from launcher.execution.schedule import Silent, Summary, run_plan
from launcher.files import tree_digest
from launcher.fleet import cleanup, preflight
from launcher.fleet.backend import SwarmBackend
from launcher.fleet.connect import prepare, prepare_training
from launcher.fleet.images import remote
from launcher.fleet.node_placement import eligible
from launcher.fleet.site import Fleet, FleetSite
from launcher.keys import job_key
from launcher.limits import Limits, resolve
from launcher.runner import JobRequest, run_job
from launcher.store import Store, load_result
from launcher.study.campaign import load_campaign, with_overrides
from launcher.study.plan import Plan, resolve_spec
from launcher.target import Target
from stand_ins import TEGRASTATS, job_image, swarm
from stand_ins.job_image import make_model_node

pytestmark = pytest.mark.docker
ROOT = Path(__file__).parents[2]
XAVIER_LOG = ROOT / "tests" / "data" / "jetson" / "xavier-nx" / "tegrastats-jp512.log"
BASE = os.environ.get("EDGECOMPRESS_BASE_X86_TF2_12", "edgecompress/base:bookworm")
PROFILE = "x86-tf2.12"


@pytest.fixture(scope="module")
def lab():
    started = time.monotonic()
    made = swarm.start(workers=2, profile=PROFILE)
    print(f"swarm up in {time.monotonic() - started:.1f} s")
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="module")
def stand_in() -> str:
    return job_image.build(BASE)


@pytest.fixture(scope="module")
def fleet(lab, stand_in) -> tuple[Fleet, Target]:
    """What 'campaign run --fleet' prepares: the image pushed, the network, the preflight."""
    engine = SwarmEngine.connect(base_url=lab.manager_url)
    lab.pushed.append(remote(lab.push_registry, job_image.TAG + ":latest"))
    store = lab.store / "results"
    made, target = prepare(engine, Engine.connect(), job_image.TAG + ":latest", stand_in,
                           get_profile(PROFILE), store, lab.registry, lab.push_registry,
                           lambda line: None)
    name, _, digest = made.image.partition("@")
    assert name == f"{lab.registry}/{job_image.TAG}:latest" and digest.startswith("sha256:")
    return made, target


def running_tasks(engine: SwarmEngine) -> list:
    """The job tasks running now; a service removed while we look has none."""
    found = []
    for service in engine.services({label("kind"): "job"}):
        try:
            found += [t for t in engine.service_tasks(str(service["ID"]))
                      if t.state == "running"]
        except EngineError:
            continue
    return found


def leftovers(lab, kind: str = "job") -> dict[str, str]:
    """Containers of ``kind`` (job, power) on each node: none once every service is gone and
    its node knew."""
    found = {}
    for node in lab.running_nodes():
        listed = node.docker("ps", "-a", "-q", "--filter", f"label={label('kind')}={kind}",
                             check=False)
        if listed:
            found[node.name] = listed
    return found


def settle(lab, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (any(leftovers(lab, kind) for kind in cleanup.KINDS)
           and time.monotonic() < deadline):
        time.sleep(0.5)


def plan_of(sizes: list[int]) -> Plan:
    config = with_overrides(load_campaign("paper"), models=["MobileNetV3Small"],
                            methods=["fp16"], copies=1)
    return Plan(config, tuple(make_model_node(size) for size in sizes))


def sleeping(target: Target, size: int, seconds: float) -> Target:
    return dataclasses.replace(target, environment={"SLEEP_S": str(seconds),
                                                    "SLEEP_SIZE": str(size)})


def test_jobs_spread_over_both_workers_with_results_as_a_local_run(lab, fleet, stand_in,
                                                                   tmp_path):
    made, target = fleet
    sizes = [40, 41, 42, 43]
    summary = run_plan(plan_of(sizes), FleetSite(made, sleeping(target, 40, 2)), Silent())
    assert summary.complete, summary
    assert sorted(summary.nodes_used) == sorted(w.name for w in lab.workers), summary.nodes_used
    for outcome in summary.ran:
        assert outcome.record.status is JobStatus.succeeded, outcome.record
        spec = json.loads((outcome.folder / "spec.json").read_text())
        result, problem = load_result(outcome.folder / "out", spec)
        assert problem is None and result is not None
        assert outcome.folder == target.store.job_folder("make_model", outcome.record.key)

    # The same job on this host's engine: the same key (folder) and the same result.
    local_store = Store(tmp_path / "local")
    spec = resolve_spec(make_model_node(41), {})
    local = run_job(Engine.connect(), local_store, JobRequest(
        spec=spec, image=job_image.TAG, image_id=stand_in, deadline_s=120,
        limits=target.limits))
    assert local.record.status is JobStatus.succeeded
    fleet_outcome = next(o for o in summary.ran
                         if json.loads((o.folder / "spec.json").read_text())["input_size"] == 41)
    assert fleet_outcome.record.key == local.record.key == job_key(spec, stand_in)
    fleet_result = json.loads((fleet_outcome.folder / "out" / "result.json").read_text())
    local_result = json.loads((local.folder / "out" / "result.json").read_text())
    assert fleet_result == local_result

    again = run_plan(plan_of(sizes), FleetSite(made, target), Silent())
    assert again.reused == len(sizes) and not again.ran, "done jobs start nothing"
    assert not made.engine.services({label("kind"): "keeper"}), "the run took its keeper"


def test_the_quick_campaign_runs_on_both_workers_as_valid_as_a_local_run(lab, fleet, profile,
                                                                        image_id):
    """Issue 12's test with real TensorFlow, through the command line a lab types: the quick
    campaign with two copies over the fleet, the real job image pushed to the lab's
    registry. To fit the CI's budget it quantizes to FP16 only (9 jobs);
    bench/fleet.py --copies 4 runs every method of it (docs/benchmarks.md, "Fleet").
    Both workers run jobs and every result passes a local run's validation. Then this
    host's engine runs the same campaign on that store: every job is found done by its key,
    and with an FP16 quantization deleted it makes it again, bit for bit the fleet's, so its
    benchmark is found done too."""
    assert profile.name == PROFILE, "the lab's workers carry the image's profile"
    store = lab.store / "quick"
    lab.pushed.append(remote(lab.push_registry, profile.image))

    def campaign(*fleet_options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "launcher", "campaign", "run", "quick", "--copies", "2",
             "--methods", "fp16", "--profile", profile.name, "--store", str(store),
             *fleet_options], capture_output=True, text=True, cwd=ROOT, timeout=1800,
            env={**os.environ, "EDGECOMPRESS_FLEET_PUSH": lab.push_registry,
                 "COLUMNS": "200"})

    on_fleet = campaign("--fleet", lab.manager_url, "--registry", lab.registry)
    assert on_fleet.returncode == 0, on_fleet.stdout[-4000:] + on_fleet.stderr[-4000:]
    assert "9 job(s) ran (9 succeeded)" in on_fleet.stdout, on_fleet.stdout[-2000:]
    (spread,) = [line for line in on_fleet.stdout.splitlines()
                 if line.startswith("jobs per node:")]
    assert all(f"{worker.name} " in spread for worker in lab.workers), spread
    folders = sorted((store / "jobs").iterdir())
    assert len(folders) == 9
    for folder in folders:
        spec = json.loads((folder / "spec.json").read_text())
        result, problem = load_result(folder / "out", spec)
        assert problem is None and result is not None, (folder, problem)
        status = json.loads((folder / "status.json").read_text())
        assert status["status"] == "succeeded" and status["image_id"] == image_id
        assert status["image"].startswith(f"{lab.registry}/{profile.image}@sha256:")
        assert folder.name == f"{spec['job']}-{job_key(spec, image_id)[:16]}"
    assert any(json.loads((f / "out" / "result.json").read_text())["metrics"]
               .get("top1_accuracy", 0) > 0.3 for f in folders if f.name.startswith("bench"))

    on_host = campaign()
    assert on_host.returncode == 0, on_host.stdout[-4000:] + on_host.stderr[-4000:]
    assert "0 job(s) ran (0 succeeded), 9 already done" in on_host.stdout, on_host.stdout

    quantized = sorted(store.glob("jobs/quantize-*"))[0]
    made = tree_digest(quantized / "out" / "model_fp16.tflite")
    shutil.rmtree(quantized)
    again = campaign()
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-4000:]
    assert "1 job(s) ran (1 succeeded), 8 already done" in again.stdout, again.stdout
    assert tree_digest(quantized / "out" / "model_fp16.tflite") == made
    status = json.loads((quantized / "status.json").read_text())
    assert status["image"] == profile.image, "made on this host this time"


def test_a_missing_image_is_not_a_success(lab, fleet, stand_in, tmp_path):
    made, target = fleet
    worker = eligible(made.engine.nodes(), PROFILE)[0]
    backend = SwarmBackend(made.engine, worker, f"{lab.registry}/{job_image.TAG}:missing",
                           made.network)
    outcome = run_job(backend, Store(lab.store / "missing"), JobRequest(
        spec=resolve_spec(make_model_node(50), {}), image=job_image.TAG, image_id=stand_in,
        deadline_s=60, limits=target.limits))
    assert outcome.record.status is JobStatus.failed, outcome.record
    assert outcome.result is None
    assert "could not start" in (outcome.record.reason or ""), outcome.record.reason
    assert worker.hostname in (outcome.record.reason or "")
    assert not (outcome.folder / "out" / "result.json").exists()


def test_a_node_without_the_store_fails_the_preflight_in_one_line(lab, fleet, tmp_path):
    made, _ = fleet
    nodes = eligible(made.engine.nodes(), PROFILE)
    elsewhere = tmp_path / "not-shared"  # exists here, in no node
    problems = preflight.run(made.engine, nodes, made.image, elsewhere, timeout_s=60)
    assert len(problems) == len(nodes), problems
    assert all("is not there" in p and "NFS" in p for p in problems), problems


def test_on_a_jetson_profile_the_preflight_names_a_missing_gpu_runtime_and_a_wrong_l4t(
        lab, fleet):
    """These workers are no Jetsons: each is given an L4T release file (a Nano's, a Xavier's)
    and, like a Jetson whose engine does not run nvidia by default, no GPU device."""
    made, _ = fleet
    releases = {lab.workers[0].name: "# R32 (release), REVISION: 7.1, GCID: 1, BOARD: t210ref",
                lab.workers[1].name: "# R35 (release), REVISION: 2.1, GCID: 1, BOARD: t186ref"}
    for worker in lab.workers:
        swarm.docker("exec", worker.name, "sh", "-c",
                     f"echo '{releases[worker.name]}' > {preflight.L4T_FILE}")
    try:
        problems = preflight.run(made.engine, eligible(made.engine.nodes(), PROFILE),
                                 made.image, lab.store / "results", timeout_s=60,
                                 l4t="R32.7.1")
    finally:
        for worker in lab.workers:
            swarm.docker("exec", worker.name, "rm", "-f", preflight.L4T_FILE)
    by_node = {p.split(":")[0]: p for p in problems}
    assert '"default-runtime": "nvidia"' in by_node[lab.workers[0].name], problems
    assert "L4T R35.2.1" in by_node[lab.workers[1].name], problems


def test_an_unmatched_profile_is_one_line_and_starts_nothing(lab, fleet, tmp_path):
    store = tmp_path / "store"
    ran = subprocess.run(
        [sys.executable, "-m", "launcher", "campaign", "run", "quick", "--profile", "nano",
         "--fleet", lab.manager_url, "--registry", lab.registry, "--store", str(store)],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert ran.returncode == 2, ran.stderr
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and "edgecompress.profile=nano" in lines[0], ran.stderr
    assert not (store / "jobs").exists()
    assert not fleet[0].engine.services({label("kind"): "job"})


def test_a_benchmark_is_sampled_by_a_companion_on_its_own_board(lab, fleet, stand_in):
    """Issue 12, item 4: tegrastats (the stand-in, replaying a Xavier NX's 2763 mW line) runs
    as a companion service on the benchmark's node for the length of the job; its lines,
    stamped with that node's clock, become power.log and the power measurement of a local
    run; the companion goes with the job."""
    made, target = fleet
    tools = lab.store / "power-tools"
    tools.mkdir(exist_ok=True)
    for source in (TEGRASTATS, XAVIER_LOG):
        shutil.copy(source, tools / source.name)
        (tools / source.name).chmod(0o644)
    model = lab.store / "power-model.tflite"
    model.write_bytes(b"stand-in")
    model.chmod(0o644)
    sampling = Sampling(("python3", str(tools / TEGRASTATS.name), "--replay",
                         str(tools / XAVIER_LOG.name), "--interval", "50"), 50)
    worker = eligible(made.engine.nodes(), PROFILE)[1]
    spec = BenchmarkSpec(model=InputRef(path="/inputs/model", sha256=tree_digest(model)),
                         input_size=32, latency_images=10, latency_runs=4, warmup_runs=1,
                         tfds_mock_examples=10)
    seen: set[str] = set()
    done = threading.Event()

    def watch_companions() -> None:
        while not done.is_set():
            for service in made.engine.services({label("kind"): "power"}):
                with contextlib.suppress(EngineError):  # removed while we look
                    seen.update(t.node_id for t in made.engine.service_tasks(str(service["ID"])))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch_companions)
    watcher.start()
    try:
        outcome = run_job(SwarmBackend(made.engine, worker, made.image, made.network),
                          Store(lab.store / "power"), JobRequest(
            spec=spec, image=job_image.TAG, image_id=stand_in, inputs={"model": model},
            deadline_s=120, limits=target.limits, power=sampling,
            environment={"RUN_S": "0.5"}))
    finally:
        done.set()
        watcher.join()
    assert outcome.record.status is JobStatus.succeeded, outcome.record
    assert seen == {worker.id}, "the companion ran on the job's board, and there only"
    power = outcome.record.power
    assert power is not None and power.reason is None, power
    assert power.average_power_mw == pytest.approx(2763)
    assert power.idle_power_mw == pytest.approx(2763) and power.idle_samples >= 5
    # 3 kept runs of 0.5 s at 50 ms: about 30 samples, stamped as they came.
    assert power.samples >= 20, power
    lines = (outcome.folder / "power.log").read_text().splitlines()
    stamps = [float(line.split(" ", 1)[0]) for line in lines]
    assert stamps == sorted(stamps) and len(stamps) >= 30
    assert not made.engine.services({label("kind"): "power"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and leftovers(lab, "power"):
        time.sleep(0.5)
    assert not leftovers(lab, "power")


def test_training_placed_on_another_profile_gives_the_keys_of_a_merge_based_run(
        lab, fleet, stand_in, tmp_path):
    """Issue 12, item 2. Worker 0 stays x86-tf2.12 (the training profile), worker 1 becomes
    xavier-emulated (the device: TensorFlow 2.12 too); the training image is a second
    stand-in of another id. On the fleet, train jobs go to worker 0 keyed with the training
    image, the rest to worker 1 keyed with the device's. The same campaign the merge way
    (train on this host, 'edgecompress merge' the store, the device's run) writes the same
    folders and runs no training on the fleet."""
    made, _ = fleet
    training_tag = job_image.TAG + "-training"
    training_id = job_image.build(BASE, tag=training_tag)
    assert training_id != stand_in
    device = "xavier-emulated"
    trainer, board = lab.workers
    swarm.docker("node", "update", "--label-add", f"edgecompress.profile={device}", board.name,
                 host=lab.manager_url)
    lab.pushed += [remote(lab.push_registry, f"{training_tag}:latest"),
                   remote(lab.push_registry, job_image.TAG + ":latest")]
    try:
        plan = Plan(plan_of([]).config, tuple(
            [make_model_node(size) for size in (60, 61)]
            + [make_model_node(size, role="benchmark") for size in (62, 63)]))

        def placed(store: Path) -> tuple[Fleet, Target]:
            device_fleet, target = prepare(
                made.engine, Engine.connect(), job_image.TAG + ":latest", stand_in,
                # a Jetson stand-in of the tests' own: the twin's profile under another name
                dataclasses.replace(get_profile(PROFILE), name=device), store, lab.registry,
                lab.push_registry, lambda line: None)
            return prepare_training(
                device_fleet, Engine.connect(), f"{training_tag}:latest", training_id,
                get_profile(PROFILE), store, lab.registry, lab.push_registry,
                lambda line: None), target

        on_fleet, target = placed(lab.store / "placed")
        summary = run_plan(plan, FleetSite(on_fleet, target), Silent())
        assert summary.complete and len(summary.ran) == 4, summary
        assert summary.nodes_used == {trainer.name: 2, board.name: 2}, summary.nodes_used
        for outcome in summary.ran:
            spec = json.loads((outcome.folder / "spec.json").read_text())
            image_id = training_id if spec["input_size"] in (60, 61) else stand_in
            assert outcome.record.image_id == image_id
            assert outcome.record.key == job_key(spec, image_id)

        # The merge way: the training on this host's engine, its store merged into the
        # device's, then the device's run on the fleet finds it done.
        workstation = tmp_path / "workstation"
        for size in (60, 61):
            trained = run_job(Engine.connect(), Store(workstation), JobRequest(
                spec=resolve_spec(make_model_node(size), {}), image=training_tag,
                image_id=training_id, deadline_s=120, limits=target.limits))
            assert trained.record.status is JobStatus.succeeded
        merged = lab.store / "merged"
        proc = subprocess.run([sys.executable, "-m", "launcher", "merge", str(workstation),
                               "--into", str(merged)], capture_output=True, text=True,
                              cwd=ROOT, timeout=120)
        assert proc.returncode == 0, proc.stderr
        on_fleet, target = placed(merged)
        after_merge = run_plan(plan, FleetSite(on_fleet, target), Silent())
        assert after_merge.complete and after_merge.reused == 2, after_merge
        assert after_merge.nodes_used == {board.name: 2}, after_merge.nodes_used
        folders = {p.name for p in (lab.store / "placed" / "jobs").iterdir()}
        assert folders == {p.name for p in (merged / "jobs").iterdir()}
    finally:
        swarm.docker("node", "update", "--label-add", f"edgecompress.profile={PROFILE}",
                     board.name, host=lab.manager_url)
        subprocess.run(["docker", "rmi", "-f", f"{training_tag}:latest"], capture_output=True)


DRIVER = r'''
import json, sys
from pathlib import Path
from launcher.docker_swarm import SwarmEngine
from launcher.execution.schedule import run_plan
from launcher.fleet.site import Fleet, FleetSite
from launcher.limits import Limits, resolve
from launcher.store import Store
from launcher.study.campaign import load_campaign, with_overrides
from launcher.study.plan import Plan
from launcher.target import Target
from launcher.execution.schedule import Silent
from stand_ins.job_image import make_model_node

args = json.loads(sys.argv[1])
engine = SwarmEngine.connect(base_url=args["url"])
config = with_overrides(load_campaign("paper"), models=["MobileNetV3Small"], methods=["fp16"],
                        copies=1)
target = Target(store=Store(Path(args["store"])), profile=args["profile"], image=args["image"],
                image_id=args["image_id"], environment={"SLEEP_S": "60", "SLEEP_SIZE": "70"},
                limits=resolve(Limits(), 2 * 1024**3))
summary = run_plan(Plan(config, (make_model_node(70),)),
                   FleetSite(Fleet(engine, args["image"], args["network"]), target), Silent())
print("canceled" if summary.canceled else "not canceled", flush=True)
'''


def test_a_stopped_launcher_leaves_nothing_a_killed_one_is_swept_by_gc(lab, fleet, tmp_path):
    made, target = fleet
    engine = made.engine
    args = json.dumps({"url": lab.manager_url, "store": str(lab.store / "interrupted"),
                       "profile": PROFILE, "image": made.image, "image_id": target.image_id,
                       "network": made.network})

    def launch() -> subprocess.Popen[str]:
        driver = subprocess.Popen([sys.executable, "-c", DRIVER, args], cwd=ROOT, text=True,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)},
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not running_tasks(engine):
            assert time.monotonic() < deadline and driver.poll() is None, driver.communicate()
            time.sleep(0.2)
        return driver

    stopped = launch()
    try:
        # The job's container on its worker has the local run's hardening.
        (config,) = [json.loads(n.docker("inspect", cid))[0] for n in lab.workers
                     for cid in n.docker("ps", "-q", "--filter",
                                         f"label={label('kind')}=job").split()]
        host = config["HostConfig"]
        assert config["Config"]["User"] == "1000:1000" or os.getuid() != 0
        assert host["ReadonlyRootfs"] and host["CapDrop"] == ["ALL"] and host["Init"]
        limits = resolve(Limits(), 2 * 1024**3)  # the driver's
        assert host["Memory"] == limits.memory_bytes and host["PidsLimit"] == limits.pids
        assert list(config["NetworkSettings"]["Networks"]) == [cleanup.NETWORK]
        # Each worker holds the network up with an idle keeper (launcher/fleet/keeper.py),
        # hardened like a job.
        # (An earlier run's keeper may still be on its way out: the running ones count.)
        def keepers() -> dict[str, list[str]]:
            return {n.name: n.docker("ps", "-q", "--filter", f"label={label('kind')}=keeper",
                                     "--filter", "status=running").split()
                    for n in lab.workers}

        swarm.wait_for("a keeper on every worker",
                       lambda: all(len(ids) == 1 for ids in keepers().values()), timeout=30)
        for node in lab.workers:
            (kept,) = json.loads(node.docker("inspect", *keepers()[node.name]))
            assert kept["HostConfig"]["ReadonlyRootfs"] and kept["HostConfig"]["CapDrop"] == ["ALL"]
            assert list(kept["NetworkSettings"]["Networks"]) == [cleanup.NETWORK]
    finally:
        stopped.send_signal(signal.SIGTERM)
    out, err = stopped.communicate(timeout=60)
    assert "canceled" in out and stopped.returncode == 0, err
    assert not engine.services({label("kind"): "job"}), "its service went with it"
    assert not engine.services({label("kind"): "keeper"}), "and its network keeper"
    (status_file,) = (lab.store / "interrupted").glob("jobs/make_model-*/status.json")
    assert json.loads(status_file.read_text())["status"] == "canceled"

    killed = launch()
    killed.kill()  # kill -9: nothing of the launcher runs after this
    killed.communicate(timeout=30)
    assert engine.services({label("kind"): "job"}), "a killed launcher leaves its service"
    assert engine.services({label("kind"): "keeper"}), "and its network keeper"
    gc = subprocess.run([sys.executable, "-m", "launcher", "gc", "--fleet", lab.manager_url],
                        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert gc.returncode == 0, gc.stderr
    assert "removed 2 leftover service(s)" in gc.stdout, gc.stdout
    assert not engine.services({label("kind"): "job"})
    assert not engine.services({label("kind"): "keeper"})


def test_a_worker_killed_mid_job_runs_it_again_on_the_other(lab, fleet):
    made, target = fleet
    engine = made.engine
    # A board that dies within a second or two of a service's removal can keep that exited
    # container when it comes back (Swarm's agent no longer knows the task): let the earlier
    # tests' containers go first, so what is left at the end is this test's doing.
    settle(lab)
    assert not any(leftovers(lab, kind) for kind in cleanup.KINDS)
    sizes = [60, 61]  # 60 goes first, to the first worker (by name), and sleeps
    result: dict[str, Summary] = {}
    runner = threading.Thread(target=lambda: result.setdefault("summary", run_plan(
        plan_of(sizes), FleetSite(made, sleeping(target, 60, 6)), Silent())))
    runner.start()
    first = lab.workers[0]
    first_id = lab.node_id(first)
    deadline = time.monotonic() + 60
    while not any(t.node_id == first_id for t in running_tasks(engine)):
        assert time.monotonic() < deadline and runner.is_alive(), "no job ran on worker 1"
        time.sleep(0.2)
    lab.kill(first)
    runner.join(timeout=120)
    assert not runner.is_alive()
    summary = result["summary"]
    assert summary.complete, summary
    assert summary.lost_attempts == 1
    folders = {json.loads((o.folder / "spec.json").read_text())["input_size"]: o.folder
               for o in summary.ran}
    lost = json.loads((folders[60] / "attempts" / "1" / "status.json").read_text())
    assert lost["status"] == "lost" and first.name in lost["reason"], lost
    done = json.loads((folders[60] / "status.json").read_text())
    assert done["status"] == "succeeded"
    assert summary.nodes_used.get(lab.workers[1].name, 0) >= 2


def test_nothing_is_left_on_any_node(lab, fleet):
    engine = fleet[0].engine
    for node in lab.workers:
        if node not in lab.running_nodes():
            swarm.docker("start", node.name)  # the killed board comes back
    try:
        swarm.wait_for("every node ready", lambda: all(
            n.state == "ready" for n in engine.nodes()), timeout=60)
    except RuntimeError:
        pytest.fail(f"{engine.nodes()}\n" + subprocess.run(
            ["docker", "logs", "--tail", "40", lab.workers[0].name], capture_output=True,
            text=True).stderr)
    assert not engine.services({label("kind"): "job"})

    # A node that was down learns the service is gone when it is back, then removes it.
    settle(lab)
    left = leftovers(lab)
    if left:
        for n in lab.workers:
            print(n.name, n.docker("ps", "-a", "--format", "{{.Names}}|{{.Status}}", check=False))
            logs = subprocess.run(["docker", "logs", n.name], capture_output=True, text=True)
            print("\n".join(line for line in logs.stderr.splitlines()
                            if "kernel parameter" not in line and "grpc" not in line)[-6000:])
    assert left == {}
    assert leftovers(lab, "power") == {} and leftovers(lab, "keeper") == {}
    assert not Engine.connect().containers({label("session"): SESSION_ID}), (
        "the local run's container is removed too")
