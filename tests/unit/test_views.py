"""Job text is data: reasons, log lines and names with rich markup, pipes or HTML print as
they are and crash nothing (a result the campaign could never get past)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from launcher.contract.record import JobStatus, RunRecord
from launcher.runner import JobOutcome
from launcher.store import StoredJob
from launcher.study.plan import Node
from launcher.study.progress import CampaignProgress
from launcher.study.resolve import Assessment, State
from launcher.views import outcome_table, results_table, status_tables

HOSTILE = "[/red][bold]boom[/bold] | <b>x</b> [link=file:///etc/passwd]y[/link]"


def record(status: JobStatus = JobStatus.failed) -> RunRecord:
    return RunRecord(key="k" * 64, job="probe", status=status, reason=HOSTILE, exit_code=2,
                     image="i", image_id="sha256:" + "0" * 64, started_at="t", finished_at="t",
                     wall_s=1.0, deadline_s=60.0)


def rendered(*renderables: object) -> str:
    console = Console(file=io.StringIO(), width=300, record=True)
    for item in renderables:
        console.print(item)
    return console.export_text()


def test_an_outcome_with_markup_prints_it_verbatim():
    text = rendered(outcome_table(JobOutcome(Path("/store/jobs/x"), record(), None)))
    assert HOSTILE in text


def test_results_and_status_tables_print_markup_verbatim():
    stored = StoredJob(Path("/store/jobs/probe-0123"), record(), None, None)
    assert HOSTILE in rendered(results_table("results", [stored]))
    node = Node(id="probe/x", job="probe", params={}, inputs=(), model="m", method="base",
                copy=1, role="train")
    assessment = Assessment(node, State.failed, HOSTILE, None, record())
    assert HOSTILE in rendered(*status_tables("status", [assessment], show_done=True))


def test_campaign_progress_prints_markup_verbatim():
    out = io.StringIO()
    progress = CampaignProgress(Console(file=out, width=300), verbose=True)
    node = Node(id="probe/x", job="probe", params={}, inputs=(), model="m", method="base",
                copy=1, role="train")
    with progress:
        progress.started(node)
        progress.line(node, HOSTILE)
        progress.finished(node, Assessment(node, State.failed, HOSTILE, None, record()),
                          ran=True)
    assert out.getvalue().count(HOSTILE) == 2


def test_a_job_that_lost_its_engine_runs_again_on_resume(tmp_path):
    from launcher.keys import job_key
    from launcher.store import Store
    from launcher.study.campaign import load_campaign, with_overrides
    from launcher.study.plan import expand
    from launcher.study.resolve import Resolver

    plan = expand(with_overrides(load_campaign("paper"), models=["MobileNetV3Small"],
                                 methods=["fp16"], copies=1))
    store = Store(tmp_path)
    image_id = "sha256:" + "1" * 64
    stub = tmp_path / "weights.h5"  # the paper starts from ImageNet weights: a cached file
    stub.write_bytes(b"weights")
    resolver = Resolver(plan, store, image_id, None, weights=lambda arch, training: stub)
    train = plan.nodes[0]
    inputs = resolver.inputs(train)
    assert inputs is not None
    spec = resolver.spec(train, inputs)
    folder = store.job_folder(train.job, job_key(spec, image_id))
    store.prepare(folder, "{}\n")
    lost = record(JobStatus.lost).model_copy(update={"job": "train"})
    store.write_record(folder, lost)
    assessment = resolver.assess(train)
    assert assessment.state is State.interrupted
    assert assessment.reason == "lost: it will run again"
