"""The job contract: the one place that defines what a job is asked (spec) and what it answers
(result), plus the launcher's own run record. jobs/ writes plain JSON with the stdlib; these
models are the single source of truth and are exported to ``schema/*.schema.json``.
"""

from __future__ import annotations

import json
import posixpath
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

SCHEMA_VERSION: Literal[1] = 1

# Paths where the launcher mounts things inside the job container.
CONTAINER_SPEC_PATH = "/job/spec.json"
CONTAINER_OUT_DIR = "/job/out"
CONTAINER_INPUTS_DIR = "/inputs"

ARCHITECTURES = (
    "MobileNetV3Small",
    "MobileNetV3Large",
    "EfficientNetB1",
    "EfficientNetB3",
    "DenseNet169",
    "DenseNet201",
)
Architecture = Literal[
    "MobileNetV3Small",
    "MobileNetV3Large",
    "EfficientNetB1",
    "EfficientNetB3",
    "DenseNet169",
    "DenseNet201",
]

NonNegFloat = Annotated[float, Field(ge=0)]
NonNegInt = Annotated[int, Field(ge=0)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Strict(BaseModel):
    """Unknown fields are errors and so are NaN/inf: a result is either exact or rejected."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


# --- specs ---------------------------------------------------------------------------------


class InputRef(Strict):
    """An input the launcher mounts read-only. ``sha256`` is the digest of its content, so a
    job's key changes when its input changes even if the path does not."""

    path: str
    sha256: Sha256

    @field_validator("path")
    @classmethod
    def _inside_inputs(cls, value: str) -> str:
        norm = posixpath.normpath(value)
        if not norm.startswith(CONTAINER_INPUTS_DIR + "/") or norm != value:
            raise ValueError(f"input path must be a normalised path under {CONTAINER_INPUTS_DIR}/")
        return value


class SpecBase(Strict):
    schema_version: Literal[1] = SCHEMA_VERSION


class ProbeSpec(SpecBase):
    """Report the software and hardware a job sees; no parameters."""

    job: Literal["probe"] = "probe"


class MakeModelSpec(SpecBase):
    """Build a keras.applications architecture with a new head and save it as a SavedModel.
    Untrained unless weights are given: it is the small, download-free model of the demo."""

    job: Literal["make_model"] = "make_model"
    architecture: Architecture = "MobileNetV3Small"
    input_size: int = Field(default=224, ge=32, le=1024)
    num_classes: int = Field(default=102, ge=2, le=100_000)
    weights: Literal["imagenet"] | None = None
    seed: int = Field(default=0, ge=0)


class QuantizeSpec(SpecBase):
    """TFLite post-training quantization of a SavedModel."""

    job: Literal["quantize"] = "quantize"
    model: InputRef
    mode: Literal["fp16", "dynamic"] = "fp16"


AnySpec = ProbeSpec | MakeModelSpec | QuantizeSpec
JobSpec = Annotated[AnySpec, Field(discriminator="job")]
JOB_SPEC = TypeAdapter(JobSpec)
JOB_NAMES: tuple[str, ...] = ("probe", "make_model", "quantize")

# --- results -------------------------------------------------------------------------------


class Environment(Strict):
    python: str
    tensorflow: str
    keras: str | None = None
    tfmot: str | None = None
    tfds: str | None = None
    numpy: str | None = None
    machine: str
    cpu_model: str | None = None
    cpu_count: int = Field(ge=1)
    memory_total_bytes: int | None = Field(default=None, ge=0)
    gpus: list[str]
    l4t_release: str | None = None
    board: str | None = None
    power_mode: str | None = None
    image_id: str | None = None


class Timings(Strict):
    """Seconds. ``imports_s`` covers importing TensorFlow and friends; ``job_s`` the job's own
    work; ``total_s`` from the entry point's first line to the result being written."""

    started_at: str
    imports_s: NonNegFloat
    job_s: NonNegFloat
    total_s: NonNegFloat


class Artifact(Strict):
    name: str
    kind: Literal["saved_model", "tflite", "file"]
    path: str
    bytes: NonNegInt

    @field_validator("path")
    @classmethod
    def _relative_inside(cls, value: str) -> str:
        norm = posixpath.normpath(value)
        if (
            not value
            or value.startswith("/")
            or "\\" in value
            or norm != value
            or norm == ".."
            or norm.startswith("../")
        ):
            raise ValueError("artifact path must be relative to the job's output folder, no '..'")
        return value


class ResultBase(Strict):
    schema_version: Literal[1]
    timings: Timings
    environment: Environment
    artifacts: list[Artifact] = []
    samples: dict[str, list[Annotated[float, Field(allow_inf_nan=False)]]] = {}


class ProbeMetrics(Strict):
    gpu_count: NonNegInt


class ProbeResult(ResultBase):
    job: Literal["probe"]
    spec: ProbeSpec
    metrics: ProbeMetrics


class MakeModelMetrics(Strict):
    parameters: int = Field(ge=1)
    saved_model_bytes: int = Field(ge=1)
    build_s: NonNegFloat


class MakeModelResult(ResultBase):
    job: Literal["make_model"]
    spec: MakeModelSpec
    metrics: MakeModelMetrics


class QuantizeMetrics(Strict):
    saved_model_bytes: int = Field(ge=1)
    tflite_bytes: int = Field(ge=1)
    size_ratio: Annotated[float, Field(gt=0)]
    conversion_s: NonNegFloat


class QuantizeResult(ResultBase):
    job: Literal["quantize"]
    spec: QuantizeSpec
    metrics: QuantizeMetrics


JobResult = Annotated[
    ProbeResult | MakeModelResult | QuantizeResult, Field(discriminator="job")
]
JOB_RESULT = TypeAdapter(JobResult)

# --- the launcher's record of one run --------------------------------------------------------


class JobStatus(str, Enum):
    succeeded = "succeeded"
    failed = "failed"
    timeout = "timeout"
    oom = "oom"
    killed = "killed"
    canceled = "canceled"
    invalid_result = "invalid_result"


class RunRecord(Strict):
    """Written by the launcher as ``status.json`` after every attempt, whatever its end."""

    schema_version: Literal[1] = SCHEMA_VERSION
    key: str
    job: str
    status: JobStatus
    reason: str | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    image: str
    image_id: str
    started_at: str
    finished_at: str
    wall_s: NonNegFloat
    deadline_s: NonNegFloat
    inputs: dict[str, str] = {}


def json_schemas() -> dict[str, dict[str, Any]]:
    """The exported JSON Schemas, by file name."""
    return {
        "job-spec.schema.json": JOB_SPEC.json_schema(),
        "job-result.schema.json": JOB_RESULT.json_schema(),
        "run-record.schema.json": RunRecord.model_json_schema(),
    }


def render_json_schema(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
