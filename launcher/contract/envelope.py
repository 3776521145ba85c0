"""What every job's result.json holds around its metrics: where it ran (environment), how
long it took (timings), its peak memory (resources) and the files it wrote (artifacts)."""

from __future__ import annotations

import posixpath
from typing import Annotated, Literal

from pydantic import Field, field_validator

from launcher.contract.vocabulary import NonNegFloat, NonNegInt, Strict


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
    jetpack: str | None = None
    jetson_clocks: bool | None = None  # CPU clocks pinned at their maximum
    image_id: str | None = None


class Timings(Strict):
    """Seconds. ``imports_s`` covers importing TensorFlow and friends; ``job_s`` the job's own
    work; ``total_s`` from the entry point's first line to the result being written."""

    started_at: str
    imports_s: NonNegFloat
    job_s: NonNegFloat
    total_s: NonNegFloat


class Resources(Strict):
    """Peak memory of the job: the process's own peak RSS and, where the container's cgroup
    tells it, the peak of everything charged to the container (page cache included)."""

    peak_rss_bytes: NonNegInt | None = None
    cgroup_peak_bytes: NonNegInt | None = None
    # The SavedModel was written by a fresh process from the .h5 copy, to fit a small memory
    # limit (jobs/contract.py); None: the job writes no SavedModel, or predates this.
    saved_apart: bool | None = None


# The most artifacts one result may list (a job writes a handful): a result.json naming a
# million made every load of the store take 14 s; validation refuses it instead.
MAX_ARTIFACTS = 1000


class Artifact(Strict):
    name: str
    kind: Literal["saved_model", "tflite", "file", "decoded_images"]
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
    resources: Resources = Resources()
    artifacts: list[Artifact] = Field(default=[], max_length=MAX_ARTIFACTS)
    samples: dict[str, list[Annotated[float, Field(allow_inf_nan=False)]]] = {}
