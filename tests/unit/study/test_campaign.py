"""Campaign files: presets, validation, one-line errors, and the commands that need no engine."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from launcher.contract.vocabulary import PAPER_ARCHITECTURES
from launcher.errors import UserError
from launcher.study.campaign import (
    PRESETS,
    load_campaign,
    parse_config,
    prune_sparsity,
    with_overrides,
)
from tests.paths import RECORDED
from tests.unit.test_cli import assert_one_line_error, edgecompress

MINIMAL = 'name = "mine"\nmodels = ["MobileNetV3Small"]\nmethods = ["fp16"]\n'


def test_paper_preset_is_the_papers_study():
    config = load_campaign("paper")
    assert config.models == list(PAPER_ARCHITECTURES)
    assert config.methods == ["fp16", "int8", "prune25", "prune50", "prune75", "distill",
                              "scratch"]
    assert config.copies == 5
    assert (config.input_size, config.batch_size, config.epochs) == (224, 4, 10)
    assert (config.compress_epochs, config.calibration_images) == (5, 128)
    assert config.weights == "imagenet"
    assert (config.dataset.source, config.dataset.name) == ("tfds", "oxford_flowers102")
    assert (config.distill.student, config.distill.temperature, config.distill.alpha) == (
        "MobileNetV3Small", 10.0, 0.1)
    bench = config.benchmark
    assert (bench.latency_images, bench.latency_runs, bench.warmup_runs) == (1000, 11, 1)


def test_quick_preset_is_small_and_offline():
    config = load_campaign("quick")
    assert config.dataset.source == "digits" and config.weights is None
    assert len(config.models) == 1 and config.input_size <= 48 and config.epochs <= 10


@pytest.mark.parametrize("name", PRESETS)
def test_presets_round_trip(name):
    config = load_campaign(name)
    assert type(config).model_validate(config.model_dump()) == config


@pytest.mark.parametrize(("text", "fragment"), [
    (MINIMAL + "copeis = 3\n", "copeis: Extra inputs are not permitted"),
    (MINIMAL.replace('"fp16"', '"int4"'), "methods.0: String should match pattern"),
    (MINIMAL.replace("MobileNetV3Small", "ResNet51"), "unknown architecture 'ResNet51'"),
    (MINIMAL + "copies = 0\n", "copies"),
    (MINIMAL + "[dataset]\nsource = \"images\"\n", "needs path"),
    (MINIMAL + "[benchmark]\nlatency_runs = 2\nwarmup_runs = 2\n", "warmup_runs"),
    (MINIMAL + 'profile = "commodore64"\n', "unknown profile"),
    ("name = \n", "not valid TOML"),
])
def test_bad_config_is_one_user_error(text, fragment):
    with pytest.raises(UserError) as caught:
        parse_config(text, "mine.toml")
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_none_weights_and_relative_image_folder(tmp_path):
    text = MINIMAL + 'weights = "none"\n[dataset]\nsource = "images"\npath = "flowers"\n'
    (tmp_path / "mine.toml").write_text(text)
    config = load_campaign(str(tmp_path / "mine.toml"))
    assert config.weights is None
    assert config.dataset.path == (tmp_path / "flowers").resolve()


def test_prune_methods_name_their_sparsity():
    assert prune_sparsity("prune25") == 0.25 and prune_sparsity("prune5") == 0.05
    assert prune_sparsity("fp16") is None


def test_overrides_are_validated():
    with pytest.raises(UserError, match="invalid --methods"):
        with_overrides(load_campaign("quick"), methods=["prune100"])
    with pytest.raises(UserError, match="invalid --copies"):
        with_overrides(load_campaign("quick"), copies=0)


def test_campaign_plan_command_counts_the_paper(tmp_path):
    proc = edgecompress("campaign", "plan", "paper", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for job, count in (("train", 30), ("quantize", 60), ("prune", 90), ("distill", 25),
                       ("scratch", 5), ("benchmark", 240)):
        assert re.search(rf"│ {job} +│ +{count} │", proc.stdout), (job, count)
    assert "450 jobs" in proc.stdout


@pytest.mark.parametrize(("args", "fragment"), [
    (["campaign", "run", "nope"], "neither a preset"),
    (["campaign", "plan", "quick", "--models", "ResNet51"], "invalid --models"),
    (["campaign", "plan", "quick", "--copies", "0"], "invalid --copies"),
    (["status", "nope"], "no campaign 'nope'"),
    (["report"], "no campaign in"),
    (["merge", "nowhere"], "is not a results store"),
])
def test_campaign_commands_fail_in_one_line(args, fragment, tmp_path):
    proc = edgecompress(*args, "--store" if args[0] != "merge" else "--into",
                        str(tmp_path / "store"), cwd=tmp_path)
    assert_one_line_error(proc, 2, fragment)


def test_campaign_run_without_an_engine_is_one_line(tmp_path):
    proc = edgecompress("campaign", "run", "quick", "--store", str(tmp_path / "store"),
                        env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    assert_one_line_error(proc, 3, "cannot reach the Docker engine")
    assert not (tmp_path / "store").exists(), "nothing is written when nothing can run"


def test_status_without_an_engine_reads_the_campaign_from_the_store(tmp_path):
    """The recorded store ran quick on one profile: status finds the campaign (and its
    profile and image id) in the store's manifest, with no engine to ask."""
    recorded = RECORDED
    store = tmp_path / "store"
    shutil.copytree(recorded, store)
    manifest = json.loads((store / "campaigns" / "quick@x86-tf2.12.json").read_text())
    manifest["profile"] = "x86-tf2.7"
    (store / "campaigns" / "quick@x86-tf2.12.json").unlink()
    (store / "campaigns" / "quick@x86-tf2.7.json").write_text(json.dumps(manifest))
    proc = edgecompress("status", "quick", "--store", str(store),
                        env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock",
                             "COLUMNS": "200"})
    assert proc.returncode == 1, proc.stderr  # the digits folder is not in the recorded store
    assert "campaign quick on x86-tf2.7" in proc.stdout
    assert "after the dataset is written" in proc.stdout
    assert re.search(r"│ train +│ +0 │ +0 │ +0 │ +2 │ +0 │", proc.stdout), proc.stdout
