"""The typed Python API (launcher/api.py) without Docker: campaigns loaded and narrowed as the
command line narrows them, the slots rule, refusals before any engine is asked (nothing
written to the store), and a connected campaign run over the scheduler's fake site, under the
store's lock, into a CampaignRun."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher import api
from launcher.contract.record import JobStatus
from launcher.contract.specs import MakeModelSpec
from launcher.errors import UserError
from launcher.execution.schedule import Summary
from launcher.store import Store
from launcher.store_lock import store_lock
from launcher.study.plan import expand
from launcher.study.resolve import no_weights

from .execution.test_schedule import FakeSite, Jobs, plan_of, target_in

NOWHERE = "unix:///nonexistent/docker.sock"


def test_load_narrows_a_preset_as_the_options_do():
    config = api.load("quick", methods=["fp16"], copies=3)
    assert (config.name, config.methods, config.copies) == ("quick", ["fp16"], 3)
    assert api.plan(config).nodes == expand(config).nodes
    with pytest.raises(UserError, match="neither a preset"):
        api.load("no-such-campaign")


def test_slots_come_from_the_argument_the_campaign_then_the_profile():
    quick = api.load("quick")
    assert api.slots_wanted(quick, "x86-tf2.12", parallel=3) == 3
    assert api.slots_wanted(quick, "x86-tf2.12", cores=16) == 8  # one per two cores
    assert api.slots_wanted(quick, "nano", cores=16) == 1  # a Jetson times alone
    assert api.slots_wanted(quick.model_copy(update={"parallel": 5}), "nano") == 5


def test_a_network_the_stack_lacks_is_refused_before_any_engine(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)  # asked first, this would be the error
    store = tmp_path / "store"
    with pytest.raises(UserError, match="TensorFlow 2.7 has no ConvNeXtTiny"):
        api.run_job(MakeModelSpec(architecture="ConvNeXtTiny", input_size=32),
                    profile="nano", store=store)
    assert not store.exists()


def test_an_engine_that_is_down_is_one_line_and_nothing_is_written(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    store = tmp_path / "store"
    with pytest.raises(UserError, match="cannot reach the Docker engine"):
        api.run_job(MakeModelSpec(architecture="MobileNetV3Small", input_size=32,
                                  weights=None), store=store)
    with pytest.raises(UserError, match="cannot reach the Docker engine"):
        api.run_campaign("quick", store=store, methods=["fp16"])
    assert not store.exists()
    with pytest.raises(UserError, match="give the manager's engine URL"):
        api.run_campaign("quick", store=store, fleet="192.168.1.10:2375")


def connected(root: Path, jobs: Jobs, slots: int = 2) -> api.ConnectedCampaign:
    plan = plan_of([32, 33])
    return api.ConnectedCampaign(plan.config, plan, root, "x86-tf2.12",
                                 FakeSite(target_in(root), jobs, slots), no_weights)


def test_a_connected_campaign_runs_under_the_lock_into_a_campaign_run(tmp_path):
    jobs = Jobs(Store(tmp_path))
    said: list[str] = []
    done = connected(tmp_path, jobs).run(announce=said.append)
    assert said == [f"paper: 4 jobs on edgecompress/jobs:x86-tf2.12, 2 at a time, "
                    f"results in {tmp_path}"]
    assert (done.status, done.slots, done.fleet) == ("complete", 2, None)
    assert sorted(o.record.status for o in done.summary.ran) == [JobStatus.succeeded] * 4
    again = connected(tmp_path, jobs).run()
    assert (again.status, again.summary.reused, len(again.summary.ran)) == ("complete", 4, 0)


def test_a_held_store_is_refused_naming_its_holder(tmp_path):
    with (store_lock(tmp_path, "edgecompress campaign run paper"),
          pytest.raises(UserError, match="campaign run paper")):
        connected(tmp_path, Jobs(Store(tmp_path))).run()


def test_a_campaign_runs_status_names_what_happened(tmp_path):
    plan = plan_of([32])

    def status(summary: Summary) -> str:
        return api.CampaignRun(plan.config, plan, tmp_path, "x86-tf2.12", "image", 1, None,
                               summary).status

    assert status(Summary()) == "complete"
    failed = Jobs(Store(tmp_path), script={plan.nodes[0].id: ["fail"]})
    run = connected(tmp_path, failed).run()
    assert run.status == "incomplete"
    assert status(Summary(failed=run.summary.failed)) == "incomplete"
