"""ImageNet weights as job inputs: which specs need one, and the spec that carries it. Which
file each network loads on each TensorFlow line is the applications table's
(launcher/applications.py). Pure: fetching is launcher/weights_cache.py.

Jobs run without a network, so a spec with ``weights = "imagenet"`` gets its architecture's
notop weights file as an input (``weights_file``, ``student_weights_file`` for a distillation
student), fetched once on the host, checked against Keras's published hash, and digested into
the job's key like any input. The job builds the network that ``weights="imagenet"`` builds and
answers Keras's download request with that file (jobs/pretrained.py).

The table is Keras's own: file names, locations and hashes as each Keras line asks for them
(``tests/integration/test_applications.py`` checks it against the Keras inside every twin). The
lines differ: from Keras 2.10 MobileNetV3's notop files are ``*_no_top_v2.h5`` (no Conv_2).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from launcher.applications import WeightsFile, tensorflow_line, weights_file
from launcher.contract.specs import AnySpec
from launcher.contract.vocabulary import CONTAINER_INPUTS_DIR

__all__ = ["WeightsFile", "WeightsSlot", "missing_weights", "slots_of", "tensorflow_line",
           "weights_file", "with_weights_file"]


@dataclass(frozen=True)
class WeightsSlot:
    """A spec field that holds the weights file of the architecture in another field, when
    the field ``weights`` says imagenet."""

    weights: str  # "weights" or "student_weights"
    file: str  # "weights_file" or "student_weights_file"
    architecture: str  # the field naming the architecture


SLOTS = (WeightsSlot("weights", "weights_file", "architecture"),
         WeightsSlot("student_weights", "student_weights_file", "student"))


def slots_of(fields: dict[str, Any]) -> Iterator[tuple[WeightsSlot, str]]:
    """(slot, architecture) for each slot of a spec's (or a plan node's) fields that asks for
    ImageNet weights."""
    for slot in SLOTS:
        if fields.get(slot.weights) == "imagenet" and slot.architecture in fields:
            yield slot, str(fields[slot.architecture])


def missing_weights(spec: AnySpec) -> list[tuple[WeightsSlot, str]]:
    """The slots of a spec that ask for ImageNet weights and have no file yet."""
    fields = dict(spec)
    return [(slot, arch) for slot, arch in slots_of(fields) if fields.get(slot.file) is None]


def with_weights_file(spec: AnySpec, slot: WeightsSlot, sha256: str) -> AnySpec:
    """The spec with the weights file as its input ``slot.file`` (mounted at /inputs/...)."""
    data = spec.model_dump()
    data[slot.file] = {"path": f"{CONTAINER_INPUTS_DIR}/{slot.file}", "sha256": sha256}
    return type(spec).model_validate(data)
