"""Jobs of the study run one by one on the engine, each once per test module, on a digits
folder: the helper test_study_compression.py and test_study_measurement.py share."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from launcher import api
from launcher.contract.record import JobStatus
from launcher.contract.specs import InputRef
from launcher.files import tree_digest
from launcher.runner import JobOutcome
from launcher.store import Store

from .test_jobs_in_containers import assert_valid_on_disk


class Jobs:
    def __init__(self, engine, profile, image_id, store: Store, digits: Path) -> None:
        self.engine, self.profile, self.image_id = engine, profile, image_id
        self.store, self.digits = store, digits
        # Through the Python API, as bench/ and users run jobs (launcher/api.py).
        self.session = api.open_session(profile.name, store.root)
        assert self.session.target.image_id == image_id
        self.images = InputRef(path="/inputs/images", sha256=tree_digest(digits))
        self.outcomes: dict[str, JobOutcome] = {}

    def run(self, name: str, spec, inputs: dict[str, Path],
            environment: dict[str, str] | None = None) -> JobOutcome:
        """The job ``name`` (run the first time it is asked for), which must succeed and
        leave a valid folder; ``environment``: extra variables for its container."""
        if name not in self.outcomes:
            session = self.session
            if environment:
                target = self.session.target
                session = dataclasses.replace(session, target=dataclasses.replace(
                    target, environment={**target.environment, **environment}))
            outcome = session.run(spec, {"images": self.digits, **inputs}, timeout_s=900)
            assert outcome.record.status is JobStatus.succeeded, (
                f"{name}: {outcome.record.status.value}: {outcome.record.reason}")
            assert_valid_on_disk(outcome.folder)
            self.outcomes[name] = outcome
        return self.outcomes[name]

    @staticmethod
    def artifact(outcome: JobOutcome) -> Path:
        assert outcome.result is not None
        return outcome.folder / "out" / outcome.result.artifacts[0].path

    @staticmethod
    def ref(path: Path) -> InputRef:
        return InputRef(path="/inputs/model", sha256=tree_digest(path))
