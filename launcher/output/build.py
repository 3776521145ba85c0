"""The ``--json`` documents filled from what the commands hold: stored jobs, a campaign's
assessments and plan, the doctor's checks, the fleet's rows. Pure. The text in them comes from
stores and jobs as it is: JSON carries it escaped (launcher/output/base.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from launcher.contract.record import JobStatus
from launcher.device.checks import Check
from launcher.fleet.status import NodeRow
from launcher.output.documents import (
    CheckEntry,
    DoctorDocument,
    FleetNode,
    FleetStatusDocument,
    JobState,
    PlanDocument,
    PlanNode,
    ResultsDocument,
    StatusDocument,
    StatusJob,
    StoredJobEntry,
)
from launcher.store import StoredJob
from launcher.study.plan import Plan
from launcher.study.resolve import Assessment, State

NO_VALUE = "-"  # what fleet status rows show for "none"


def stored_entry(item: StoredJob) -> StoredJobEntry:
    record = item.record
    status = record.status.value if record else "to do"
    if record and record.status is JobStatus.succeeded and item.result is None:
        status = JobStatus.invalid_result.value
    name = item.folder.name
    return StoredJobEntry(
        folder=name, job=record.job if record else name.split("-")[0],
        key=name.rsplit("-", 1)[-1], status=status, wall_s=record.wall_s if record else None,
        detail=item.problem or (record.reason if record else None) or None,
        metrics=item.result.metrics.model_dump(mode="json") if item.result else None,
        power=record.power if record else None)


def results_document(store: Path, stored: Iterable[StoredJob]) -> ResultsDocument:
    return ResultsDocument(store=str(store), jobs=[stored_entry(item) for item in stored])


def _state(state: State) -> JobState:
    return state.value  # State's values are JobState's five strings


def status_document(campaign: str, profile: str, store: Path,
                    assessments: Sequence[Assessment]) -> StatusDocument:
    counts: dict[str, dict[JobState, int]] = {}
    for item in assessments:
        per_job = counts.setdefault(item.node.job, {})
        per_job[_state(item.state)] = per_job.get(_state(item.state), 0) + 1
    jobs = [StatusJob(id=item.node.id, job=item.node.job, model=item.node.model,
                      method=item.node.method, copy_label=item.node.copy,
                      state=_state(item.state), reason=item.reason,
                      folder=item.folder.name if item.folder else None,
                      wall_s=item.record.wall_s if item.record else None)
            for item in assessments]
    return StatusDocument(campaign=campaign, profile=profile, store=str(store), counts=counts,
                          jobs=jobs,
                          complete=all(item.state is State.done for item in assessments))


def plan_document(plan: Plan) -> PlanDocument:
    return PlanDocument(
        campaign=plan.config.name, copies=plan.config.copies, counts=plan.counts(),
        nodes=[PlanNode(id=node.id, job=node.job, model=node.model, method=node.method,
                        copy_label=node.copy, role=node.role, upstream=list(node.upstream))
               for node in plan.nodes])


def doctor_document(checks: Sequence[Check]) -> DoctorDocument:
    return DoctorDocument(
        checks=[CheckEntry(name=c.name, state=c.state, detail=c.detail) for c in checks],
        ok=not any(c.state == "fail" for c in checks))


def fleet_document(url: str, rows: Sequence[NodeRow]) -> FleetStatusDocument:
    def value(text: str) -> str | None:
        return None if text == NO_VALUE else text

    return FleetStatusDocument(fleet=url, nodes=[
        FleetNode(hostname=row.hostname, role=row.role, profile=value(row.profile),
                  job=value(row.job), health=row.health) for row in rows])
