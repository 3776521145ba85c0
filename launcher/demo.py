"""The demo: the job chain on a model it makes itself, so nothing is downloaded.

probe -> make_model (untrained MobileNetV3Small, 102-class head) -> quantize fp16 and dynamic.
The campaign runner's ``quick`` preset will replace this with the trained study on small data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from launcher.docker_client import Engine
from launcher.errors import UserError
from launcher.files import tree_digest
from launcher.runner import JobOutcome, JobRequest, run_job
from launcher.schema import AnySpec, InputRef, JobResult, MakeModelSpec, ProbeSpec, QuantizeSpec
from launcher.store import Store

DEMO_MODEL = MakeModelSpec(architecture="MobileNetV3Small", input_size=224, num_classes=102)


def run_demo(engine: Engine, store: Store, image: str, image_id: str,
             on_outcome: Callable[[JobOutcome], None]) -> list[JobOutcome]:
    def run(spec: AnySpec, inputs: dict[str, Path] | None = None) -> JobResult:
        request = JobRequest(spec=spec, image=image, image_id=image_id,
                             inputs=inputs or {}, deadline_s=1800)
        outcome = run_job(engine, store, request)
        outcomes.append(outcome)
        on_outcome(outcome)
        if outcome.result is None:
            raise UserError(f"demo stopped: {spec.job} ended {outcome.record.status.value} "
                            f"({outcome.record.reason}); its log is {outcome.folder}/log.txt")
        return outcome.result

    outcomes: list[JobOutcome] = []
    run(ProbeSpec())
    made = run(DEMO_MODEL)
    model_dir = outcomes[-1].folder / "out" / made.artifacts[0].path
    model = InputRef(path="/inputs/model", sha256=tree_digest(model_dir))
    for mode in ("fp16", "dynamic"):
        run(QuantizeSpec(model=model, mode=mode), {"model": model_dir})
    return outcomes
