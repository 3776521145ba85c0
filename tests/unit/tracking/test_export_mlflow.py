"""`edgecompress export mlflow` against a real MLflow tracking server on loopback (its own
SQLite backend and artifact folder, started here: no Docker), exporting a copy of the
recorded store tests/data/campaign-quick-2copies with its report; everything is read back
through the MLflow client and held against the store's files.

The server tests need mlflow (`make venv` installs the extra); without it they are skipped
and the tests of the command without mlflow run instead (and always, with mlflow hidden).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from launcher.report.render import write_report
from launcher.store import Store
from tests.paths import RECORDED, ROOT

HAS_MLFLOW = importlib.util.find_spec("mlflow") is not None
needs_mlflow = pytest.mark.skipif(not HAS_MLFLOW, reason="mlflow is not installed: pip "
                                  "install -e '.[dev,mlflow]' (make venv does)")
SERVER_START_S = 90  # some 11 s on 2 cores, most of it the SQLite schema's migrations


def clean_env() -> dict[str, str]:
    """No tracking URI or MLflow setting of the caller's reaches the command."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}


def launcher(*args: str, cwd: Path,
             preamble: str = "") -> subprocess.CompletedProcess[str]:
    code = (f"import sys; {preamble}\nfrom launcher.cli import main\n"
            f"sys.exit(main({list(args)!r}))")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**clean_env(), "PYTHONPATH": str(ROOT)})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def booting(tmp_path_factory):
    """A real `mlflow server` with its own SQLite file and artifact folder, starting: the
    tests that need no server take it as a parameter so that it boots while they run (some
    10 s, most of it imports and the SQLite schema's migrations).
    (process, URI, folder, when it started)."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    started = time.monotonic()
    with (folder / "server.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port",
             str(port), "--workers", "1", "--backend-store-uri",
             f"sqlite:///{folder / 'mlflow.db'}", "--artifacts-destination",
             str(folder / "artifacts")],
            cwd=folder, stdout=log, stderr=subprocess.STDOUT,
            # MLflow 3's server also starts a job runner and its queue consumers, a dozen
            # processes that import mlflow (half the start-up on 2 cores); the export needs
            # none of them.
            env={**clean_env(), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
            start_new_session=True)  # its worker in its own process group, stopped with it
    try:
        yield process, f"http://127.0.0.1:{port}", folder, started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # a throw-away server: no need to wait it out
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def server(booting):
    """The server once it answers: (URI, its folder)."""
    process, uri, folder, started = booting
    while True:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                if answer.status == 200:
                    print(f"mlflow server answered {time.monotonic() - started:.1f} s after "
                          "its start")
                    return uri, folder
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() - started > SERVER_START_S:
            pytest.fail("mlflow server did not start:\n"
                        + (folder / "server.log").read_text()[-3000:])
        time.sleep(0.2)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The recorded store with its report written (the figures the campaign run gets)."""
    root = tmp_path_factory.mktemp("store") / "store"
    shutil.copytree(RECORDED, root)
    write_report(Store(root), root / "report")
    return root


@pytest.fixture
def small_store(store, tmp_path):
    """The same with two of its job folders: a campaign run and two job runs to make."""
    root = tmp_path / "small"
    shutil.copytree(store, root)
    for folder in sorted((root / "jobs").iterdir())[2:]:
        shutil.rmtree(folder)
    return root


def client(uri):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def active_runs(uri, experiment):
    mlflow = client(uri)
    found = mlflow.get_experiment_by_name(experiment)
    return [] if found is None else mlflow.search_runs([found.experiment_id], max_results=1000)


def run_export(uri, store, experiment):
    """The command in this process (mlflow is imported once): (exit code, stdout, stderr).
    What the export sets in the environment is unset again afterwards."""
    from launcher.cli import main
    from launcher.tracking.mlflow_client import HTTP_DEFAULTS

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        for name in HTTP_DEFAULTS:
            patch.delenv(name, raising=False)
        code = main(["export", "mlflow", "--tracking-uri", uri, "--experiment", experiment,
                     "--store", str(store)])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def exported(server, store):
    """The store exported once into the experiment "twice"."""
    started = time.monotonic()
    done = run_export(server[0], store, "twice")
    print(f"first export of the recorded 2-copy store: {time.monotonic() - started:.1f} s")
    return done


def job_files(store):
    """folder -> (status, spec, result document, result bytes), read as plain JSON."""
    found = {}
    for folder in sorted((store / "jobs").iterdir()):
        result = (folder / "out" / "result.json").read_bytes()
        found[folder.name] = (json.loads((folder / "status.json").read_text()),
                              json.loads((folder / "spec.json").read_text()),
                              json.loads(result), result)
    return found


@needs_mlflow
def test_an_unreachable_server_is_one_line_and_leaves_nothing(booting, tmp_path):
    """(The server of the tests below boots meanwhile: this one talks to none.)"""
    port = free_port()  # nothing listens there any more
    started = time.monotonic()
    proc = launcher("export", "mlflow", "--tracking-uri", f"http://127.0.0.1:{port}",
                    "--store", str(RECORDED), cwd=tmp_path)
    assert proc.returncode == 3 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"error: MLflow at http://127.0.0.1:{port} cannot be reached (Connection refused): "
        "start the tracking server, or pass --tracking-uri (or $MLFLOW_TRACKING_URI)"]
    assert list(tmp_path.iterdir()) == []  # no local mlruns/ or mlflow.db instead
    assert time.monotonic() - started < 30  # not MLflow's minutes of retries


NOT_INSTALLED = ("error: MLflow is not installed here: pip install 'edgecompress[mlflow]' "
                 "(or pip install mlflow)")


def test_without_mlflow_the_command_says_so_in_one_line(tmp_path):
    """mlflow hidden from the import system, as in an environment without the extra."""
    proc = launcher("export", "mlflow", "--store", str(RECORDED), cwd=tmp_path,
                    preamble="sys.modules['mlflow'] = None")
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", NOT_INSTALLED + "\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(HAS_MLFLOW, reason="mlflow is installed here: the test above hides it")
def test_in_an_environment_without_mlflow_the_command_says_so(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "launcher", "export", "mlflow", "--store",
                           str(RECORDED)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={**clean_env(), "PYTHONPATH": str(ROOT)})
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", NOT_INSTALLED + "\n")


@needs_mlflow
def test_every_job_is_a_run_under_its_campaign_run_as_the_store_says(
        server, store, exported, tmp_path):
    uri, _ = server
    code, out, err = exported
    assert code == 0, err
    assert "campaign runs: 1 created; job runs: 24 created" in out
    assert err == "" and "View run" not in out  # MLflow's links are not printed
    mlflow = client(uri)
    runs = active_runs(uri, "twice")
    assert len(runs) == 25
    (parent,) = [r for r in runs if r.data.tags["edgecompress.kind"] == "campaign"]
    assert parent.info.run_name == "quick@x86-tf2.12" and parent.info.status == "FINISHED"
    assert parent.data.params["copies"] == "2" and parent.data.params["epochs"] == "6"
    figures = sorted(p.name for p in (store / "report" / "figures").iterdir())
    assert sorted(a.path for a in mlflow.list_artifacts(parent.info.run_id, "report/figures")
                  ) == [f"report/figures/{name}" for name in figures]
    downloaded = Path(mlflow.download_artifacts(parent.info.run_id, "report/figures",
                                                str(tmp_path)))
    for name in figures:
        assert (downloaded / name).read_bytes() == (store / "report" / "figures" / name
                                                    ).read_bytes()
    manifest = json.loads((store / "campaigns" / "quick@x86-tf2.12.json").read_text())
    node_of = {entry["folder"]: node for node, entry in manifest["nodes"].items()}
    files = job_files(store)
    jobs = {r.data.tags["edgecompress.folder"]: r for r in runs if r != parent}
    assert sorted(jobs) == sorted(files)
    for folder, (status, spec, document, result_bytes) in files.items():
        run = jobs[folder]
        tags, params, metrics = run.data.tags, run.data.params, run.data.metrics
        assert tags["mlflow.parentRunId"] == parent.info.run_id
        assert tags["edgecompress.key"] == status["key"] and tags["edgecompress.job"] == spec["job"]
        assert tags["edgecompress.status"] == "succeeded" and run.info.status == "FINISHED"
        assert tags["edgecompress.campaign"] == "quick@x86-tf2.12"
        assert tags["edgecompress.profile"] == "x86-tf2.12"
        assert tags["edgecompress.image_id"] == status["image_id"]
        assert tags["edgecompress.device"] == "x86_64 AMD EPYC, TF 2.12.1"
        assert run.info.run_name == tags["edgecompress.node"] == node_of[folder]
        assert params["seed"] == str(spec["seed"]) and params["job"] == spec["job"]
        for name, value in document["metrics"].items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                assert metrics[name] == pytest.approx(value), (folder, name)
        assert metrics["timings.total_s"] == pytest.approx(document["timings"]["total_s"])
        assert metrics["wall_s"] == pytest.approx(status["wall_s"])
        if spec["job"] == "benchmark":  # the other half: their artifacts are the same kind
            (name, values), = document["samples"].items()
            history = mlflow.get_metric_history(run.info.run_id, f"samples.{name}")
            assert [m.value for m in sorted(history, key=lambda m: m.step)] == values
            copy = Path(mlflow.download_artifacts(run.info.run_id, "result.json",
                                                  str(tmp_path / folder)))
            assert copy.read_bytes() == result_bytes
        else:
            assert [a.path for a in mlflow.list_artifacts(run.info.run_id)] == ["result.json"]


@needs_mlflow
def test_a_second_export_adds_nothing(server, store, exported):
    uri, _ = server
    before = sorted(r.info.run_id for r in active_runs(uri, "twice"))
    started = time.monotonic()
    code, out, err = run_export(uri, store, "twice")
    print(f"second export: {time.monotonic() - started:.1f} s (mlflow already imported)")
    assert code == 0, err
    assert "campaign runs: 1 unchanged; job runs: 24 unchanged" in out
    assert sorted(r.info.run_id for r in active_runs(uri, "twice")) == before


@needs_mlflow
def test_half_made_runs_of_a_dead_export_are_replaced_not_duplicated(
        server, store, exported):
    """An export killed mid-run (or whose cleanup could not reach the server) leaves runs
    without the complete mark: the next export deletes them and makes each job once."""
    uri, _ = server
    mlflow = client(uri)
    runs = active_runs(uri, "twice")
    victim = next(r for r in runs if r.data.tags.get("edgecompress.job") == "train")
    key = victim.data.tags["edgecompress.key"]
    experiment_id = victim.info.experiment_id
    for _ in range(2):  # two half-made runs of one job: one replaced, its twin deleted
        mlflow.create_run(experiment_id,
                          tags={"edgecompress.kind": "job", "edgecompress.key": key})
    mlflow.delete_run(victim.info.run_id)
    code, out, err = run_export(uri, store, "twice")
    assert code == 0, err
    assert "job runs: 1 replaced, 23 unchanged" in out
    assert "1 half-made run(s) of an earlier export deleted" in out
    after = active_runs(uri, "twice")
    assert len(after) == 25
    (remade,) = [r for r in after if r.data.tags.get("edgecompress.key") == key]
    assert remade.data.tags["edgecompress.export"] == "complete"
    assert remade.data.metrics == victim.data.metrics and remade.data.params == victim.data.params


@needs_mlflow
def test_a_server_that_refuses_mid_run_is_one_line_and_leaves_no_half_made_run(
        server, small_store):
    """The server's artifact folder for the experiment is a file: the first upload (the
    campaign run's figures) fails on the server after the run was made and logged."""
    uri, folder = server
    mlflow = client(uri)
    experiment_id = mlflow.create_experiment("refusing")
    blocker = folder / "artifacts" / str(experiment_id)
    blocker.parent.mkdir(exist_ok=True)
    blocker.write_text("not a folder")
    started = time.monotonic()
    code, out, err = run_export(uri, small_store, "refusing")
    assert code == 3 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"error: MLflow at {uri} refused to store the artifact "
                           "report/figures/")
    assert line.endswith("(its half-made run 'quick@x86-tf2.12' was deleted)")
    assert time.monotonic() - started < 30
    assert active_runs(uri, "refusing") == []
    from mlflow.entities import ViewType

    (deleted,) = mlflow.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert deleted.info.run_name == "quick@x86-tf2.12"
    blocker.unlink()
    code, out, err = run_export(uri, small_store, "refusing")
    assert code == 0, err
    assert "campaign runs: 1 created; job runs: 2 created" in out
    assert len(active_runs(uri, "refusing")) == 3
