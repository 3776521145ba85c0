"""The export, idempotent: every run is found again by its identity tag before anything is
created (a job by its content key, a campaign by name@profile), so a re-export adds what is
new and duplicates nothing.

What happens to each planned run (``decide``, pure):
- none has its identity: create it;
- one is half-made (no ``edgecompress.export = complete``: an export died before it could
  clean up): replace it;
- one shows another attempt of the job: a succeeded job's run is kept as it is (a store
  merged from another machine may hold another success of the same key), a failed one's is
  replaced by the attempt the store now holds (a job retried since);
- else update it: tags that changed (a campaign's counts, a parent), artifacts that changed
  (the report's figures, by digest), its status and end. Params and metrics of a run are
  never logged twice.

A run is made in steps (create, log, upload, end, mark complete); if a step fails, or Ctrl-C
comes, the half-made run is deleted before the error is reported. If even that fails (the
server went away), it stays unmarked and the next export replaces it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum

from launcher.errors import TrackingError
from launcher.tracking.collect import Collected
from launcher.tracking.mlflow_client import ExistingRun, Tracker
from launcher.tracking.runs import (
    ARTIFACTS,
    ATTEMPT,
    CAMPAIGN,
    COMPLETE,
    EXPORT,
    KEY,
    KIND,
    PARENT,
    STATUS,
    RunPlan,
    batches,
    campaign_plan,
    job_plan,
)


class Action(Enum):
    create = "created"
    replace = "replaced"
    update = "updated"
    keep = "kept"  # another attempt's run, left as it is


@dataclass
class Exported:
    experiment_id: str
    campaigns: dict[str, int] = field(default_factory=dict)  # action (or unchanged) -> runs
    jobs: dict[str, int] = field(default_factory=dict)
    half_made_deleted: int = 0


def decide(existing: ExistingRun | None, plan: RunPlan) -> Action:
    if existing is None:
        return Action.create
    if existing.tags.get(EXPORT) != COMPLETE:
        return Action.replace
    if existing.tags.get(ATTEMPT) != plan.tags.get(ATTEMPT):
        succeeded = existing.tags.get(STATUS) == "succeeded"
        return Action.keep if succeeded else Action.replace
    return Action.update


def index(runs: list[ExistingRun], identity_tag: str
          ) -> tuple[dict[str, ExistingRun], list[str]]:
    """Runs by identity (a complete one before a half-made one, then the first made), and
    the half-made runs beside the chosen ones: to delete."""
    chosen: dict[str, ExistingRun] = {}
    extra: list[str] = []
    for run in sorted(runs, key=lambda r: r.tags.get(EXPORT) != COMPLETE):
        value = run.tags.get(identity_tag)
        if value is None:
            continue
        if value not in chosen:
            chosen[value] = run
        elif run.tags.get(EXPORT) != COMPLETE:
            extra.append(run.run_id)
    return chosen, extra


def changed_tags(existing: ExistingRun, tags: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in tags.items() if existing.tags.get(k) != v}


class Exporter:
    def __init__(self, tracker: Tracker, experiment_id: str,
                 progress: Callable[[str], None] = lambda line: None) -> None:
        self.tracker = tracker
        self.experiment_id = experiment_id
        self.progress = progress

    def make(self, plan: RunPlan, tags: dict[str, str]) -> str:
        """Create the run and fill it; on any failure delete it before reporting."""
        tracker = self.tracker
        # Made with the tags that find it again and place it; the rest in log_batch pieces.
        first = {k: v for k, v in tags.items() if k in (KIND, PARENT, plan.identity[0])}
        run_id = tracker.create(self.experiment_id, plan.name, plan.start_ms, first)
        try:
            rest = {k: v for k, v in tags.items() if k not in first}
            for params, metrics, piece in batches(plan, rest):
                tracker.log(run_id, params, metrics, piece, plan.timestamp_ms)
            if plan.artifacts:
                tracker.upload(run_id, plan.artifacts)
            tracker.finish(run_id, plan.status, plan.end_ms)
            tracker.log(run_id, {}, [], {ARTIFACTS: plan.artifacts_digest, EXPORT: COMPLETE},
                        plan.timestamp_ms)
        except BaseException as failure:  # Ctrl-C too: no half-made run is left behind
            note = self.discard(run_id, plan.name)
            if isinstance(failure, TrackingError):
                raise TrackingError(f"{failure}{note}") from failure
            raise
        return run_id

    def discard(self, run_id: str, name: str) -> str:
        """Delete a half-made run; what became of it, as the end of an error line."""
        try:
            self.tracker.delete(run_id)
        except TrackingError as cleanup:
            return (f"; its half-made run {run_id} could not be deleted either ({cleanup}): "
                    "the next export replaces it")
        return f" (its half-made run {name!r} was deleted)"

    def update(self, existing: ExistingRun, plan: RunPlan, tags: dict[str, str]) -> bool:
        """Bring a complete run up to the plan's mutable parts; False when nothing differed."""
        tracker, run_id = self.tracker, existing.run_id
        changed = changed_tags(existing, tags)
        digest = plan.artifacts_digest
        if existing.tags.get(ARTIFACTS) != digest:
            tracker.upload(run_id, plan.artifacts)
            changed[ARTIFACTS] = digest  # recorded after the upload: a failed one is redone
        ended = existing.status != plan.status or (
            plan.end_ms is not None and existing.end_ms != plan.end_ms)
        if ended:
            tracker.finish(run_id, plan.status, plan.end_ms)
        for _, _, piece in batches(replace(plan, params={}, metrics=()), changed):
            tracker.log(run_id, {}, [], piece, plan.timestamp_ms)
        return bool(changed) or ended

    def sync(self, plan: RunPlan, existing: ExistingRun | None,
             tags: dict[str, str]) -> tuple[str, str]:
        """(what was done, the run's id)."""
        action = decide(existing, plan)
        self.progress(f"{action.name} {plan.name}")
        if action is Action.keep and existing is not None:
            return action.value, existing.run_id
        if action is Action.update and existing is not None:
            return ("updated" if self.update(existing, plan, tags) else "unchanged",
                    existing.run_id)
        if action is Action.replace and existing is not None:
            self.tracker.delete(existing.run_id)
        return action.value, self.make(plan, tags)


def export(tracker: Tracker, experiment: str, collected: Collected,
           progress: Callable[[str], None] = lambda line: None) -> Exported:
    """Campaign runs first (their ids are their jobs' parents), then one run per job."""
    experiment_id = tracker.experiment(experiment)
    done = Exported(experiment_id)
    existing_runs = tracker.runs(experiment_id, KIND)
    campaigns, extra_c = index([r for r in existing_runs if r.tags.get(KIND) == "campaign"],
                               CAMPAIGN)
    jobs, extra_j = index([r for r in existing_runs if r.tags.get(KIND) == "job"],
                          KEY)
    for run_id in extra_c + extra_j:
        tracker.delete(run_id)
        done.half_made_deleted += 1
    exporter = Exporter(tracker, experiment_id, progress)
    parents: dict[str, str] = {}
    for campaign in collected.campaigns:
        members = [j for j in collected.jobs
                   if any(m.campaign == campaign.stem for m in j.memberships)]
        plan = campaign_plan(campaign, members)
        what, parents[campaign.stem] = exporter.sync(plan, campaigns.get(campaign.stem),
                                                     plan.tags)
        done.campaigns[what] = done.campaigns.get(what, 0) + 1
    for job in collected.jobs:
        plan = job_plan(job)
        tags = dict(plan.tags)
        if plan.parent in parents:
            tags[PARENT] = parents[plan.parent]
        what, _ = exporter.sync(plan, jobs.get(plan.identity[1]), tags)
        done.jobs[what] = done.jobs.get(what, 0) + 1
    return done
