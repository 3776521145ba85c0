"""Bad inputs that only the job can see end as 'failed' with the reason in the record and the
log, before any training starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.contract.record import JobStatus
from launcher.contract.specs import DistillSpec, InputRef, TrainSpec
from launcher.files import tree_digest
from launcher.runner import JobRequest, run_job
from launcher.store import Store

from ..digits import write_digits_folder

pytestmark = pytest.mark.docker


def run_failing(engine, profile, image_id, tmp_path, spec, inputs):
    outcome = run_job(engine, Store(tmp_path / "store"), JobRequest(
        spec=spec, image=profile.image, image_id=image_id, inputs=inputs, deadline_s=300))
    assert outcome.record.status is JobStatus.failed
    assert outcome.record.exit_code == 2, "an input error, not a crash"
    assert "Traceback" not in (outcome.folder / "log.txt").read_text()
    return outcome.record.reason or ""


def images_ref(folder: Path) -> InputRef:
    return InputRef(path="/inputs/images", sha256=tree_digest(folder))


def test_an_image_folder_with_one_class_is_refused(engine, profile, image_id, tmp_path):
    folder = write_digits_folder(tmp_path / "one-class", classes=1, per_class=10)
    reason = run_failing(engine, profile, image_id, tmp_path,
                         TrainSpec(images=images_ref(folder), weights=None, input_size=32),
                         {"images": folder})
    assert "has 1 class folder(s)" in reason and "at least two" in reason


def test_an_unreadable_image_is_named(engine, profile, image_id, tmp_path):
    folder = write_digits_folder(tmp_path / "broken", classes=2, per_class=5)
    (folder / "digit_1" / "9999.png").write_bytes(b"this is not a picture")
    reason = run_failing(engine, profile, image_id, tmp_path,
                         TrainSpec(images=images_ref(folder), weights=None, input_size=32),
                         {"images": folder})
    assert "digit_1/9999.png is not a JPEG, PNG, GIF or BMP image" in reason


def test_a_teacher_that_is_not_a_model_is_refused(engine, profile, image_id, tmp_path):
    folder = write_digits_folder(tmp_path / "digits", classes=2, per_class=5)
    teacher = tmp_path / "not-a-model"
    teacher.mkdir()
    (teacher / "notes.txt").write_text("hello")
    spec = DistillSpec(images=images_ref(folder), input_size=32,
                       teacher=InputRef(path="/inputs/teacher", sha256=tree_digest(teacher)))
    reason = run_failing(engine, profile, image_id, tmp_path, spec,
                         {"images": folder, "teacher": teacher})
    assert "teacher input '/inputs/teacher' is neither a SavedModel folder" in reason


def test_an_input_the_job_user_cannot_read_is_refused_before_start(engine, profile, image_id,
                                                                   tmp_path):
    import os

    if os.getuid() != 0:
        pytest.skip("only a launcher running as root hands jobs to another uid")
    from launcher.errors import UserError

    folder = write_digits_folder(tmp_path / "private", classes=2, per_class=3)
    folder.chmod(0o700)
    spec = TrainSpec(images=images_ref(folder), weights=None, input_size=32)
    with pytest.raises(UserError, match="not readable by the job's unprivileged user"):
        run_job(engine, Store(tmp_path / "store"), JobRequest(
            spec=spec, image=profile.image, image_id=image_id, inputs={"images": folder}))
