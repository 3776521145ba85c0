"""ImageNet weights as job inputs: which file each architecture loads on each TensorFlow line,
where it comes from, and which specs need one. Pure: fetching is launcher/weights_cache.py.

Jobs run without a network, so a spec with ``weights = "imagenet"`` gets its architecture's
notop weights file as an input (``weights_file``, ``student_weights_file`` for a distillation
student), fetched once on the host, checked against Keras's published hash, and digested into
the job's key like any input. The job builds the network that ``weights="imagenet"`` builds and
answers Keras's download request with that file (jobs/pretrained.py).

The table is Keras's own: file names, locations and md5 hashes as each Keras line asks for them
(``tests/integration/test_pretrained.py`` checks it against the Keras inside every twin). The
lines differ: from Keras 2.10 MobileNetV3's notop files are ``*_no_top_v2.h5`` (no Conv_2).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from launcher.contract.specs import AnySpec
from launcher.contract.vocabulary import ARCHITECTURES, CONTAINER_INPUTS_DIR
from launcher.errors import UserError

# Where Keras downloads each family's files from.
_KERAS = "https://storage.googleapis.com/"
_MOBILENET_V3 = _KERAS + "tensorflow/keras-applications/mobilenet_v3/"
_EFFICIENTNET = _KERAS + "keras-applications/"
_DENSENET = _KERAS + "tensorflow/keras-applications/densenet/"


@dataclass(frozen=True)
class WeightsFile:
    architecture: str
    name: str  # Keras's file name: the cache's and a mirror's too
    base: str  # Keras's location, the name appended
    md5: str  # Keras's published hash of the file

    @property
    def origin(self) -> str:
        return self.base + self.name


def _line(pairs: dict[str, tuple[str, str, str]]) -> dict[str, WeightsFile]:
    return {arch: WeightsFile(arch, name, base, md5) for arch, (name, base, md5) in pairs.items()}


_DENSENETS = {
    "DenseNet169": ("densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5", _DENSENET,
                    "b8c4d4c20dd625c148057b9ff1c1176b"),
    "DenseNet201": ("densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5", _DENSENET,
                    "c13680b51ded0fb44dff2d8f86ac8bb1"),
}
_EFFICIENTNETS = {
    "EfficientNetB1": ("efficientnetb1_notop.h5", _EFFICIENTNET,
                       "74c4e6b3e1f6a1eea24c589628592432"),
    "EfficientNetB3": ("efficientnetb3_notop.h5", _EFFICIENTNET,
                       "af6d107764bb5b1abb91932881670226"),
}
_MOBILENETS_V2_NOTOP = {
    "MobileNetV3Small": ("weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5", _MOBILENET_V3,
                         "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "MobileNetV3Large": ("weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5", _MOBILENET_V3,
                         "07fb09a5933dd0c8eaafa16978110389"),
}
_MOBILENETS_KERAS_2_7 = {
    "MobileNetV3Small": ("weights_mobilenet_v3_small_224_1.0_float_no_top.h5", _MOBILENET_V3,
                         "be7100780f875c06bcab93d76641aa26"),
    "MobileNetV3Large": ("weights_mobilenet_v3_large_224_1.0_float_no_top.h5", _MOBILENET_V3,
                         "037116398e07f018c0005ffcb0406831"),
}

# TensorFlow line (major.minor) -> architecture -> the file its Keras loads.
TABLE: dict[str, dict[str, WeightsFile]] = {
    "2.7": _line({**_MOBILENETS_KERAS_2_7, **_EFFICIENTNETS, **_DENSENETS}),
    "2.12": _line({**_MOBILENETS_V2_NOTOP, **_EFFICIENTNETS, **_DENSENETS}),
    "2.21": _line({**_MOBILENETS_V2_NOTOP, **_EFFICIENTNETS, **_DENSENETS}),
}
assert all(set(files) == set(ARCHITECTURES) for files in TABLE.values())


def tensorflow_line(version: str) -> str:
    """'2.7.0+nv22.1' -> '2.7'."""
    return ".".join(version.split("+")[0].split(".")[:2])


def weights_file(architecture: str, tensorflow: str) -> WeightsFile:
    line = TABLE.get(tensorflow_line(tensorflow))
    if line is None:
        raise UserError(f"no ImageNet weights table for TensorFlow {tensorflow}: "
                        f"edgecompress knows {', '.join(TABLE)}")
    if architecture not in line:
        raise UserError(f"no ImageNet weights for {architecture} on TensorFlow {tensorflow}")
    return line[architecture]


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
