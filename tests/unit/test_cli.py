"""The command line's errors, run as a user runs it: a subprocess, one line, non-zero exit."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import launcher

RECORDED = Path(__file__).parent.parent / "data" / "campaign-quick-2copies"


def edgecompress(*args, env=None, cwd=None):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "launcher", *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=120)


def assert_one_line_error(proc, code, fragment):
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["run", "nope"], 2, "invalid choice: 'nope'"),
        (["run", "make_model", "--input-size", "5"], 2, "invalid --input-size '5'"),
        (["run", "make_model", "--architecture", "ResNet51"], 2, "invalid --architecture"),
        (["run", "quantize", "--model", "/no/such/dir"], 2, "no such file or folder"),
        (["run", "quantize", "--mode", "int4", "--model", "."], 2, "invalid --mode 'int4'"),
        (["run", "probe", "--timeout", "-3"], 2, "must be greater than 0"),
        (["run", "probe", "--timeout", "inf"], 2, "'inf' is not a finite number"),
        (["run", "probe", "--timeout", "nan"], 2, "'nan' is not a finite number"),
        (["run", "probe", "--timeout", "1e9"], 2, "is over the 2,592,000 s (30 days)"),
        (["campaign", "run", "quick", "--timeout", "inf"], 2, "not a finite number"),
        (["run", "probe", "--profile", "commodore64"], 2, "invalid choice"),
        (["build", "commodore64"], 2, "invalid choice"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(args, code, fragment, tmp_path):
    assert_one_line_error(edgecompress(*args, cwd=tmp_path), code, fragment)


def test_version_is_the_packages_on_one_line(tmp_path):
    proc = edgecompress("--version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"edgecompress {launcher.__version__}\n"
    assert proc.stderr == ""
    packaging_version = pytest.importorskip("packaging.version")
    packaging_version.Version(launcher.__version__)  # a version pip accepts (PEP 440)


def test_daemon_not_running_is_one_line(tmp_path):
    proc = edgecompress("run", "probe", "--store", str(tmp_path),
                        env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    assert_one_line_error(proc, 3, "cannot reach the Docker engine")
    assert not (tmp_path / "jobs").exists(), "nothing is filed when no job could start"


def test_unreadable_spec_file_is_one_line(tmp_path):
    bad = tmp_path / "spec.json"
    bad.write_text("{not json")
    proc = edgecompress("run", "make_model", "--spec-file", str(bad))
    assert_one_line_error(proc, 2, "cannot read spec file")


def test_spec_file_values_are_validated_like_options(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text('{"job": "make_model", "input_size": 4}')
    proc = edgecompress("run", "make_model", "--spec-file", str(spec))
    assert_one_line_error(proc, 2, "invalid --input-size '4'")


def test_a_bad_power_interval_is_one_line_before_docker(tmp_path):
    proc = edgecompress("run", "probe", "--store", str(tmp_path),
                        env={"EDGECOMPRESS_TEGRASTATS": "tegrastats",
                             "EDGECOMPRESS_POWER_INTERVAL_MS": "fast",
                             "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    assert_one_line_error(proc, 2, "EDGECOMPRESS_POWER_INTERVAL_MS='fast'")


def test_results_show_the_power_a_benchmark_recorded(tmp_path):
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)
    (folder,) = [f for f in (store / "jobs").iterdir()
                 if f.name == "benchmark-e2e576bcda63d1a5"]
    status = json.loads((folder / "status.json").read_text())
    status["power"] = {"source": "tegrastats --interval 100", "interval_ms": 100,
                       "samples": 40, "rail": "VDD_IN", "timed_s": 4.0,
                       "average_power_mw": 6120.0, "energy_per_inference_mj": 24.48}
    (folder / "status.json").write_text(json.dumps(status))
    proc = edgecompress("results", "--store", str(store), env={"COLUMNS": "2000"})
    assert proc.returncode == 0, proc.stderr
    (line,) = [line for line in proc.stdout.splitlines() if "e2e576bcda63d1a5" in line]
    assert "power_w=6.12" in line and "energy_mj=24.48" in line


@pytest.mark.parametrize("value", ["inf", "nan", "1e12"])
def test_a_campaign_file_with_an_endless_deadline_is_refused_in_one_line(tmp_path, value):
    campaign = tmp_path / "endless.toml"
    campaign.write_text(f'name = "endless"\nmodels = ["MobileNetV3Small"]\nmethods = ["fp16"]\n'
                        f'timeout_s = {value}\n')
    proc = edgecompress("campaign", "plan", str(campaign), cwd=tmp_path)
    assert_one_line_error(proc, 2, "timeout_s: Input should be")
    assert "models" not in proc.stderr, "only the deadline is wrong"


def test_results_print_job_text_inert(tmp_path):
    """A reason and a metric holding terminal sequences (clipboard, clear screen, link) and a
    bidi override print as visible escapes, also into a pipe."""
    hostile = ("\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\x1b]8;;http://x/\x1b\\link\x1b]8;;\x1b\\"
               "\x9b2J txt.\u202eexe")
    store = tmp_path / "store"
    shutil.copytree(RECORDED, store)
    failed = store / "jobs" / "train-8dc00ef0f4dee621"
    status = json.loads((failed / "status.json").read_text())
    status.update(status="failed", exit_code=2, reason=f"exit 2: {hostile}")
    (failed / "status.json").write_text(json.dumps(status))
    benchmark = store / "jobs" / "benchmark-e2e576bcda63d1a5" / "out" / "result.json"
    result = json.loads(benchmark.read_text())
    result["metrics"]["backend"] = f"tf-cpu {hostile}"
    benchmark.write_text(json.dumps(result))
    proc = edgecompress("results", "--store", str(store), env={"COLUMNS": "3000"})
    assert proc.returncode == 0, proc.stderr
    for stream in (proc.stdout, proc.stderr):
        assert not any(c in stream for c in "\x1b\x07\x9b\u202e"), repr(stream)
    (reason,) = [line for line in proc.stdout.splitlines() if "8dc00ef0f4dee621" in line]
    (backend,) = [line for line in proc.stdout.splitlines() if "e2e576bcda63d1a5" in line]
    for line in (reason, backend):
        assert "\\x1b]52;c;" in line and "txt.\\u202eexe" in line, line
