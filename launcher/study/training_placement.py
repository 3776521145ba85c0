"""Training placed off the device: a campaign's train and scratch jobs keyed (and run) on
another profile than its compressions and benchmarks, e.g. x86-tf2.7 for a Nano campaign.

The paper's subject is compression and measurement on the device, not training there, and a
workstation trains in minutes what a Nano trains in hours. Keys stay content keys: a train
job's key holds the training image's id, so a model trained on the workstation feeds the
device's jobs by digest. Without a fleet that works through a merge: run the campaign on the
workstation (its profile: the training profile), merge its store onto the device, and run the
campaign there with the same training profile: the training is found done.

Only a profile of the device's TensorFlow minor version may train for it: the SavedModels it
writes must load there. Pure apart from ``recorded_image_ids``, which reads the store.
"""

from __future__ import annotations

from launcher.contract.record import JobStatus
from launcher.device.profiles import Profile
from launcher.errors import UserError
from launcher.store import Store

TRAINING_JOBS = ("train", "scratch")


def tf_minor(profile: Profile) -> tuple[int, int]:
    major, minor = profile.tensorflow.split("+")[0].split(".")[:2]
    return int(major), int(minor)


def check_training_profile(device: Profile, training: Profile) -> None:
    """One line, before anything runs, when ``training`` cannot train for ``device``."""
    if tf_minor(device) != tf_minor(training):
        raise UserError(
            f"training on {training.name} (TensorFlow {training.tensorflow}) for "
            f"{device.name} (TensorFlow {device.tensorflow}): SavedModels must load where "
            "they are compressed, so the training profile needs the device's TensorFlow "
            "minor version; choose a profile of TensorFlow "
            f"{'.'.join(map(str, tf_minor(device)))}")


def recorded_image_ids(store: Store, image: str) -> list[str]:
    """The image ids that succeeded train and scratch jobs in the store ran on under the tag
    ``image`` (a training profile's), newest first: what a merged store's training carries
    when that image is not on this machine."""
    found: dict[str, str] = {}
    for folder in store.folders():
        if not folder.name.startswith(tuple(f"{job}-" for job in TRAINING_JOBS)):
            continue
        record = store.load(folder).record
        if record is None or record.status is not JobStatus.succeeded or record.image != image:
            continue
        found[record.image_id] = max(found.get(record.image_id, ""), record.finished_at)
    return sorted(found, key=lambda image_id: found[image_id], reverse=True)


def training_image_id(training: Profile, local: str | None, recorded: list[str]) -> str:
    """The training image's id: the local image's, else the newest the store's training
    records carry; one line when there is neither."""
    if local is not None:
        return local
    if recorded:
        return recorded[0]
    raise UserError(
        f"training is placed on {training.name}, but its image {training.image} is not here "
        f"and the store holds no training run on it: build it ('edgecompress build "
        f"{training.name}'), or run the campaign with --profile {training.name} where it "
        "is, then 'edgecompress merge' that store into this one")
