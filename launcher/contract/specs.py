"""What a job is asked: one spec model per job, the union the launcher validates a spec.json
with, and the job names derived from it."""

from __future__ import annotations

import posixpath
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field, TypeAdapter, field_validator, model_validator

from launcher.contract.vocabulary import (
    CALIBRATED_QUANTIZE_MODES,
    CONTAINER_INPUTS_DIR,
    MAX_LATENCY_RUNS,
    SCHEMA_VERSION,
    Architecture,
    LatencyMethod,
    LearningRateDecay,
    PruneRegime,
    QuantizeMode,
    Sha256,
    Strict,
    TrainingRegime,
    default_regime,
)


def _fill_regime(cls: type[BaseModel], data: Any, field: str, weights_field: str) -> Any:
    """A spec's regime left out (or None) becomes the default for its weights, so every spec
    (and its key) names the regime it trains with. A spec written before regimes existed says
    ``freeze_backbone`` instead (train, scratch): true was head, false full, null the default."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    frozen = data.pop("freeze_backbone", None) if field == "regime" else None
    if data.get(field) is None:
        weights = data.get(weights_field, cls.model_fields[weights_field].default)
        data[field] = (default_regime(weights) if frozen is None
                       else "head" if frozen else "full")
    return data


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


WEIGHTS_FILE_DESCRIPTION = (
    "the architecture's notop ImageNet weights file, mounted read-only (weights imagenet); "
    "left out, the launcher fetches Keras's own file into its cache and passes that")


def _weights_file_needs_imagenet(data: Any, weights: str, weights_file: str) -> None:
    if isinstance(data, dict) and data.get(weights_file) is not None \
            and data.get(weights) != "imagenet":
        raise ValueError(f"{weights_file} is given but {weights} is not 'imagenet'")


MODEL_DESCRIPTION = ("the model: a SavedModel folder, a .keras file (Keras >= 2.12) or an .h5 "
                     "file")
CUSTOM_OBJECTS_DESCRIPTION = (
    "a Python file defining the model's custom layers (its ``custom_objects`` dict, else every "
    "class it defines), mounted read-only and imported inside the job's container, never on "
    "the host")


class SpecBase(Strict):
    schema_version: Literal[1] = SCHEMA_VERSION


CANONICAL_DESCRIPTION = (
    "build the network Keras >= 2.10 builds, on any Keras: on TF 2.7, MobileNetV3 without "
    "Conv_2 and EfficientNet's ImageNet input correction (docs/methodology.md, 'Networks')")


class ProbeSpec(SpecBase):
    """Report the software and hardware a job sees; no parameters."""

    job: Literal["probe"] = "probe"


TFDS_NAME_PATTERN = r"^[a-z0-9_]+(:[0-9.]+)?$"


class PrepareSpec(SpecBase):
    """Download a tfds dataset and prepare it in the launcher's tfds cache: the one job that
    has the network; every job that reads the dataset afterwards runs without it."""

    job: Literal["prepare"] = "prepare"
    tfds_name: str = Field(default="oxford_flowers102", pattern=TFDS_NAME_PATTERN,
                           description="the tfds dataset, optionally name:version")


class MakeModelSpec(SpecBase):
    """Build a keras.applications architecture with a new head and save it as a SavedModel.
    Untrained unless weights are given: it is the small, download-free model of the demo."""

    job: Literal["make_model"] = "make_model"
    architecture: Architecture = "MobileNetV3Small"
    input_size: int = Field(default=224, ge=32, le=1024)
    num_classes: int = Field(default=102, ge=2, le=100_000)
    weights: Literal["imagenet"] | None = None
    weights_file: InputRef | None = Field(default=None, description=WEIGHTS_FILE_DESCRIPTION)
    seed: int = Field(default=0, ge=0)
    canonical: bool = Field(default=False, description=CANONICAL_DESCRIPTION)

    @model_validator(mode="after")
    def _weights_file(self) -> MakeModelSpec:
        _weights_file_needs_imagenet(self.__dict__, "weights", "weights_file")
        return self


class DataSpec(SpecBase):
    """Where a job's images come from and how they are shaped. An image folder (``images``)
    wins over tfds; tfds (default: the paper's oxford_flowers102) reads its splits as given."""

    images: InputRef | None = Field(
        default=None, description="image folder: one subfolder per class, or train/, "
        "validation/, test/ each with one subfolder per class")
    tfds_name: str = Field(default="oxford_flowers102", pattern=TFDS_NAME_PATTERN)
    tfds_mock_examples: int | None = Field(
        default=None, ge=1, le=100_000,
        description="generate this many random examples with tfds.testing.mock_data (no "
        "download; for tests and dry runs)")
    validation_fraction: float = Field(default=0.15, gt=0, lt=0.5)
    test_fraction: float = Field(default=0.15, gt=0, lt=0.5)
    input_size: int = Field(default=224, ge=32, le=1024)
    batch_size: int = Field(default=4, ge=1, le=4096)
    seed: int = Field(default=0, ge=0)
    decoded: InputRef | None = Field(
        default=None, description="the image folder decoded at input_size by the decode job "
        "(jobs/decoded.py), read instead of decoding every file: a cache of images, so it is "
        "not part of the job's key (launcher/keys.py)")


class DecodeSpec(SpecBase):
    """Decode an image folder once at one input size, for every job of a campaign."""

    job: Literal["decode"] = "decode"
    images: InputRef
    input_size: int = Field(default=224, ge=32, le=1024)


class TrainingSpec(DataSpec):
    architecture: Architecture = "MobileNetV3Small"
    weights: Literal["imagenet"] | None = "imagenet"
    weights_file: InputRef | None = Field(default=None, description=WEIGHTS_FILE_DESCRIPTION)
    epochs: int = Field(default=10, ge=1, le=10_000)
    learning_rate: float = Field(default=1e-3, gt=0, lt=10)
    copy_label: int = Field(default=1, ge=1, le=1000,
                            description="the paper's labeled copy number (1..5)")
    regime: TrainingRegime | None = Field(
        default=None, description="what trains: head, full, or full_bn_frozen (every layer "
        "but BatchNormalization); default: head with weights, full without")
    bn_momentum: float | None = Field(
        default=None, gt=0, lt=1, description="override BatchNormalization momentum "
        "(MobileNetV3's 0.999 leaves short from-scratch runs at chance)")
    canonical: bool = Field(default=False, description=CANONICAL_DESCRIPTION)

    @model_validator(mode="before")
    @classmethod
    def _default_regime(cls, data: Any) -> Any:
        return _fill_regime(cls, data, "regime", "weights")

    @model_validator(mode="after")
    def _weights_file(self) -> TrainingSpec:
        _weights_file_needs_imagenet(self.__dict__, "weights", "weights_file")
        return self


class TrainSpec(TrainingSpec):
    """Transfer learning: a keras.applications backbone with a new head, trained on the data."""

    job: Literal["train"] = "train"


class ScratchSpec(TrainingSpec):
    """The distillation student trained on labels alone with the same budget: the baseline."""

    job: Literal["scratch"] = "scratch"
    epochs: int = Field(default=5, ge=1, le=10_000)


class QuantizeSpec(DataSpec):
    """TFLite post-training quantization of a SavedModel, .keras or .h5 model."""

    job: Literal["quantize"] = "quantize"
    model: InputRef = Field(description=MODEL_DESCRIPTION)
    custom_objects: InputRef | None = Field(default=None, description=CUSTOM_OBJECTS_DESCRIPTION)
    mode: QuantizeMode = "fp16"
    calibration_images: int = Field(
        default=128, ge=1, le=100_000,
        description="training images for INT8 calibration (paper: 128)")


class PruneSpec(DataSpec):
    """tfmot unstructured magnitude pruning, then strip_pruning."""

    job: Literal["prune"] = "prune"
    model: InputRef = Field(description=MODEL_DESCRIPTION)
    custom_objects: InputRef | None = Field(default=None, description=CUSTOM_OBJECTS_DESCRIPTION)
    # The same model as an .h5 file (HANDOFF in jobs/models.py), loaded instead of the
    # SavedModel when given: seconds instead of tens of seconds, the same outputs.
    model_h5: InputRef | None = None
    target_sparsity: float = Field(default=0.5, gt=0, lt=1)
    schedule: Literal["constant", "polynomial"] = "constant"
    epochs: int = Field(default=5, ge=1, le=10_000)
    # Adam's default, as tfmot's pruning guide fine-tunes: at 1e-4 a 50 % mask on the quick
    # preset's base did not recover in its two epochs (docs/methodology.md, "Pruning").
    learning_rate: float = Field(default=1e-3, gt=0, lt=10)
    learning_rate_decay: LearningRateDecay = Field(
        default="constant", description="the learning rate over the fine-tuning: constant, "
        "cosine (from learning_rate down to 0 at the last step), or cosine_after_masks "
        "(learning_rate while the masks change, then down to 0)")
    regime: PruneRegime = Field(
        default="pruned_layers", description="what trains while pruning: pruned_layers (the "
        "pruned Conv2D/Dense layers; BatchNormalization frozen), all (every layer, "
        "BatchNormalization in training mode), as_restored (the loaded model's own flags)")


class DistillSpec(DataSpec):
    """Knowledge distillation from a trained teacher into a student."""

    job: Literal["distill"] = "distill"
    teacher: InputRef = Field(description=MODEL_DESCRIPTION)
    custom_objects: InputRef | None = Field(
        default=None, description="the teacher's custom layers: " + CUSTOM_OBJECTS_DESCRIPTION)
    teacher_h5: InputRef | None = None  # as PruneSpec.model_h5
    student: Architecture = "MobileNetV3Small"
    student_weights: Literal["imagenet"] | None = "imagenet"
    student_weights_file: InputRef | None = Field(default=None,
                                                  description=WEIGHTS_FILE_DESCRIPTION)
    temperature: float = Field(default=10.0, gt=0, le=1000)
    alpha: float = Field(default=0.1, ge=0, le=1)
    epochs: int = Field(default=5, ge=1, le=10_000)
    learning_rate: float = Field(default=1e-3, gt=0, lt=10)
    copy_label: int = Field(default=1, ge=1, le=1000)
    student_regime: TrainingRegime | None = Field(
        default=None, description="what of the student trains (as scratch's regime); default: "
        "head with student_weights, full without")
    bn_momentum: float | None = Field(default=None, gt=0, lt=1)
    canonical: bool = Field(default=False, description="the student as Keras >= 2.10 "
                            "builds it: " + CANONICAL_DESCRIPTION)

    @model_validator(mode="before")
    @classmethod
    def _default_regime(cls, data: Any) -> Any:
        return _fill_regime(cls, data, "student_regime", "student_weights")

    @model_validator(mode="after")
    def _weights_file(self) -> DistillSpec:
        _weights_file_needs_imagenet(self.__dict__, "student_weights", "student_weights_file")
        return self


class BenchmarkSettings(Strict):
    """How a model is measured: the paper's latency rule by default. Shared by the benchmark
    job's spec and a campaign's ``[benchmark]`` table."""

    latency_images: int = Field(default=1000, ge=1, le=1_000_000)
    latency_runs: int = Field(default=11, ge=2, le=MAX_LATENCY_RUNS)
    warmup_runs: int = Field(default=1, ge=0, le=100)
    threads: int | None = Field(
        default=None, ge=1, le=256,
        description="threads of the TFLite interpreter and of TensorFlow's intra-op pool "
        "(inter-op: 1); default: the CPUs the job's container may use")
    eval_batch_size: int = Field(default=32, ge=1, le=4096)
    latency_method: LatencyMethod = Field(
        default="call", description="call: the model's own per-image time, each image's output "
        "on the host before the next; predict: Keras Model.predict per image (SavedModel only; "
        "a .tflite is timed by call)")
    # Added after stores were written: at their defaults they are left out of a job's key
    # (launcher/keys.py, KEYED_WHEN_SET), so a benchmark that does not use them keeps its key.
    min_duration_s: float = Field(
        default=0.0, ge=0, le=3600,
        description="LoadGen's min_duration: after latency_runs, timed runs go on until the "
        "kept runs' timed seconds reach this too (at most MAX_LATENCY_RUNS runs in all); 0: "
        "the paper's run count alone")
    cooldown_c: float | None = Field(
        default=None, gt=0, le=150,
        description="before each timed run, wait until the hottest thermal zone is below "
        "this (degrees Celsius), at most cooldown_timeout_s; default: no wait")
    cooldown_timeout_s: float = Field(
        default=300.0, gt=0, le=3600,
        description="the longest wait for cooldown_c before one run; then the run starts "
        "anyway and the result says the cap was hit")

    @model_validator(mode="after")
    def _keeps_a_run(self) -> BenchmarkSettings:
        if self.warmup_runs >= self.latency_runs:
            raise ValueError("warmup_runs must be fewer than latency_runs")
        return self


class BenchmarkSpec(DataSpec, BenchmarkSettings):
    """Accuracy on the test split, latency by the paper's rule, and size of any artifact."""

    job: Literal["benchmark"] = "benchmark"
    model: InputRef = Field(description=MODEL_DESCRIPTION + ", or a .tflite file: what is sized")
    custom_objects: InputRef | None = Field(default=None, description=CUSTOM_OBJECTS_DESCRIPTION)
    model_h5: InputRef | None = None  # a SavedModel's .h5 copy: what runs (PruneSpec.model_h5)
    accuracy: bool = True


class InspectSpec(DataSpec):
    """Load a user's model file and check it against the data: input size, class count."""

    job: Literal["inspect"] = "inspect"
    model: InputRef = Field(description=MODEL_DESCRIPTION)
    custom_objects: InputRef | None = Field(default=None, description=CUSTOM_OBJECTS_DESCRIPTION)
    # The name the user gave the file: inside the container it is /inputs/model, and the one
    # line a refusal prints must name the file the user can fix. Part of the key, so a
    # renamed file is inspected again (a second or so), never compressed again.
    file_name: str = Field(default="model", min_length=1, max_length=255,
                           pattern=r"^[^/\x00-\x1f]+$")
    needs_keras2: bool = Field(
        default=False, description="the campaign prunes or distils this model: a file only "
        "Keras 3 loads is refused here, in one line, before anything of it runs")


def tfds_read(spec: BaseModel) -> str | None:
    """The real tfds dataset a job reads, or None: it reads it from the tfds cache, prepared
    beforehand by a prepare job, read-only and with no network."""
    if (isinstance(spec, DataSpec) and spec.images is None and spec.tfds_mock_examples is None
            and not (isinstance(spec, QuantizeSpec)
                     and spec.mode not in CALIBRATED_QUANTIZE_MODES)):
        return spec.tfds_name
    return None


AnySpec = (ProbeSpec | PrepareSpec | MakeModelSpec | DecodeSpec | TrainSpec | ScratchSpec
           | QuantizeSpec | PruneSpec | DistillSpec | BenchmarkSpec | InspectSpec)
JobSpec = Annotated[AnySpec, Field(discriminator="job")]
JOB_SPEC = TypeAdapter(JobSpec)
# Job name -> its spec model, in the union's order: the names are the ``job`` Literals.
SPEC_CLASSES: dict[str, type[AnySpec]] = {
    get_args(cls.model_fields["job"].annotation)[0]: cls for cls in get_args(AnySpec)}
JOB_NAMES: tuple[str, ...] = tuple(SPEC_CLASSES)
