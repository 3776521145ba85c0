"""The job contract: the one place that defines what a job is asked (spec) and what it answers
(result), plus the launcher's own run record. jobs/ writes plain JSON with the stdlib; these
models are the single source of truth and are exported to ``schema/*.schema.json``.
"""

from __future__ import annotations

import json
import posixpath
from enum import Enum
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)

from launcher.inert import inert_line

# --- the seam's vocabulary -------------------------------------------------------------------
# Everything the launcher and jobs/ must agree on besides the models below. jobs/ cannot import
# pydantic, so ``edgecompress schema`` writes these (and the names derived from the models at
# the end of the specs section) as literals into jobs/_contract.py (launcher/contract.py).

SCHEMA_VERSION: Literal[1] = 1

# Paths where the launcher mounts things inside the job container.
CONTAINER_SPEC_PATH = "/job/spec.json"
CONTAINER_OUT_DIR = "/job/out"
CONTAINER_INPUTS_DIR = "/inputs"  # an input field ``model`` is mounted at /inputs/model
CONTAINER_TFDS_DIR = "/data/tfds"  # tfds's download cache: writable, not part of any key
RESULT_NAME = "result.json"  # what a job writes in CONTAINER_OUT_DIR

# Environment variables the launcher sets inside job containers; jobs record them in the
# result's Environment.
ENV_IMAGE_ID = "EDGECOMPRESS_IMAGE_ID"  # the job image's id (Environment.image_id)
ENV_POWER_MODE = "EDGECOMPRESS_POWER_MODE"  # a Jetson's nvpmodel mode, e.g. "MAXN (0)"
ENV_JETPACK = "EDGECOMPRESS_JETPACK"  # the JetPack release of the host's L4T
ENV_JETSON_CLOCKS = "EDGECOMPRESS_JETSON_CLOCKS"  # "1": CPU clocks pinned, "0": they scale
# "1": a job writes its SavedModel in a fresh process (jobs/contract.py; launcher/limits.py)
ENV_SAVE_APART = "EDGECOMPRESS_SAVE_APART"

# A job that refuses its spec or an input prints one stderr line starting with this and exits
# 2; the launcher reports the rest of that line as the failure's reason (launcher/outcome.py).
ERROR_PREFIX = "error: "

Architecture = Literal[
    "MobileNetV3Small",
    "MobileNetV3Large",
    "EfficientNetB1",
    "EfficientNetB3",
    "DenseNet169",
    "DenseNet201",
]
ARCHITECTURES: tuple[str, ...] = get_args(Architecture)

# Post-training quantization: the calibrated modes read training images (and so a dataset).
UncalibratedMode = Literal["float32", "fp16", "dynamic"]
CalibratedMode = Literal["int8", "full_int8"]
QuantizeMode = Literal[UncalibratedMode, CalibratedMode]
QUANTIZE_MODES: tuple[str, ...] = get_args(QuantizeMode)
CALIBRATED_QUANTIZE_MODES: tuple[str, ...] = get_args(CalibratedMode)

# What a training job (train, scratch, the distillation student) trains; jobs/architectures.py
# applies it. head: the new head only, every other layer frozen (so BatchNormalization runs in
# inference mode); full: every layer, BatchNormalization in training mode (batch statistics,
# moving averages at the model's momentum or bn_momentum); full_bn_frozen: every layer but
# BatchNormalization, which stays in inference mode with the statistics, scale and offset it
# starts with. A spec without one gets the default for its weights: head when the backbone
# starts from pretrained weights, full when it does not (there is nothing to keep).
TrainingRegime = Literal["head", "full", "full_bn_frozen"]
TRAINING_REGIMES: tuple[str, ...] = get_args(TrainingRegime)
# What trains while a model is pruned (jobs/prune.py): pruned_layers: the pruned layers (Conv2D,
# Dense: kernels and biases), every other layer frozen, BatchNormalization in inference mode;
# all: every layer, BatchNormalization in training mode; as_restored: the trainable flags the
# loaded model restored (a transfer-learned base: its backbone pruned and never retrained, the
# paper's likely procedure).
PruneRegime = Literal["pruned_layers", "all", "as_restored"]
PRUNE_REGIMES: tuple[str, ...] = get_args(PruneRegime)
LearningRateDecay = Literal["constant", "cosine"]


def default_regime(weights: str | None) -> TrainingRegime:
    return "head" if weights is not None else "full"


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


def _check_total(total: float | None, parts: tuple[float | None, ...], names: str) -> None:
    if total is not None and None not in parts:
        expected = sum(part for part in parts if part is not None)
        if abs(total - expected) > 1e-6 * max(1.0, expected):
            raise ValueError(f"compression_total_s must be {names}")

# How the benchmark times one image. call: one call of the model (a tf.function for a
# SavedModel, Interpreter.invoke for .tflite) with its output fetched to the host before the next
# image. predict: Keras's Model.predict per image (the paper's likely method; Keras's machinery
# included). A .tflite model has no predict: it is timed by ``call`` whatever is asked.
LatencyMethod = Literal["call", "predict"]
LATENCY_METHODS: tuple[str, ...] = get_args(LatencyMethod)

NonNegFloat = Annotated[float, Field(ge=0)]
NonNegInt = Annotated[int, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
# Why a run ended as it did: often the job's own log line (launcher/outcome.py), so one line
# with no control character (launcher/inert.py), as written and as read back from any store.
Reason = Annotated[str, AfterValidator(inert_line)]


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


WEIGHTS_FILE_DESCRIPTION = (
    "the architecture's notop ImageNet weights file, mounted read-only (weights imagenet); "
    "left out, the launcher fetches Keras's own file into its cache and passes that")


def _weights_file_needs_imagenet(data: Any, weights: str, weights_file: str) -> None:
    if isinstance(data, dict) and data.get(weights_file) is not None \
            and data.get(weights) != "imagenet":
        raise ValueError(f"{weights_file} is given but {weights} is not 'imagenet'")


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
    weights_file: InputRef | None = Field(default=None, description=WEIGHTS_FILE_DESCRIPTION)
    seed: int = Field(default=0, ge=0)

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
    tfds_name: str = Field(default="oxford_flowers102", pattern=r"^[a-z0-9_]+(:[0-9.]+)?$")
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
    """TFLite post-training quantization of a SavedModel."""

    job: Literal["quantize"] = "quantize"
    model: InputRef
    mode: QuantizeMode = "fp16"
    calibration_images: int = Field(
        default=128, ge=1, le=100_000,
        description="training images for INT8 calibration (paper: 128)")


class PruneSpec(DataSpec):
    """tfmot unstructured magnitude pruning, then strip_pruning."""

    job: Literal["prune"] = "prune"
    model: InputRef
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
        "or cosine (from learning_rate down to 0 at the last step)")
    regime: PruneRegime = Field(
        default="pruned_layers", description="what trains while pruning: pruned_layers (the "
        "pruned Conv2D/Dense layers; BatchNormalization frozen), all (every layer, "
        "BatchNormalization in training mode), as_restored (the loaded model's own flags)")


class DistillSpec(DataSpec):
    """Knowledge distillation from a trained teacher into a student."""

    job: Literal["distill"] = "distill"
    teacher: InputRef
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
    latency_runs: int = Field(default=11, ge=2, le=10_000)
    warmup_runs: int = Field(default=1, ge=0, le=100)
    threads: int | None = Field(default=None, ge=1, le=256,
                                description="TFLite interpreter threads (default: TFLite's)")
    eval_batch_size: int = Field(default=32, ge=1, le=4096)
    latency_method: LatencyMethod = Field(
        default="call", description="call: the model's own per-image time, each image's output "
        "on the host before the next; predict: Keras Model.predict per image (SavedModel only; "
        "a .tflite is timed by call)")

    @model_validator(mode="after")
    def _keeps_a_run(self) -> BenchmarkSettings:
        if self.warmup_runs >= self.latency_runs:
            raise ValueError("warmup_runs must be fewer than latency_runs")
        return self


class BenchmarkSpec(DataSpec, BenchmarkSettings):
    """Accuracy on the test split, latency by the paper's rule, and size of any artifact."""

    job: Literal["benchmark"] = "benchmark"
    model: InputRef  # a SavedModel folder or a .tflite file: what is sized
    model_h5: InputRef | None = None  # a SavedModel's .h5 copy: what runs (PruneSpec.model_h5)
    accuracy: bool = True


def needs_tfds_download(spec: BaseModel) -> bool:
    """A job that reads a real tfds dataset: it needs the network (first time) and the cache."""
    return (isinstance(spec, DataSpec) and spec.images is None
            and spec.tfds_mock_examples is None
            and not (isinstance(spec, QuantizeSpec)
                     and spec.mode not in CALIBRATED_QUANTIZE_MODES))


AnySpec = (ProbeSpec | MakeModelSpec | DecodeSpec | TrainSpec | ScratchSpec | QuantizeSpec
           | PruneSpec | DistillSpec | BenchmarkSpec)
JobSpec = Annotated[AnySpec, Field(discriminator="job")]
JOB_SPEC = TypeAdapter(JobSpec)
# Job name -> its spec model, in the union's order: the names are the ``job`` Literals.
SPEC_CLASSES: dict[str, type[AnySpec]] = {
    get_args(cls.model_fields["job"].annotation)[0]: cls for cls in get_args(AnySpec)}
JOB_NAMES: tuple[str, ...] = tuple(SPEC_CLASSES)

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


class ProbeMetrics(Strict):
    gpu_count: NonNegInt


class ProbeResult(ResultBase):
    job: Literal["probe"]
    spec: ProbeSpec
    metrics: ProbeMetrics


class Fingerprint(Strict):
    """What identifies a network across TensorFlow stacks (jobs/architectures.py): the same
    name can build different networks (Keras 2.7's MobileNetV3 keeps Conv_2; its EfficientNet
    lacks the ImageNet input correction), and then the fingerprints differ."""

    parameters: int = Field(ge=1)
    layers: int = Field(ge=1)
    sha256: Sha256  # over every layer's class and output shape, in order


class MakeModelMetrics(Strict):
    parameters: int = Field(ge=1)
    saved_model_bytes: int = Field(ge=1)
    build_s: NonNegFloat
    fingerprint: Fingerprint | None = None  # None: recorded before fingerprints existed


class MakeModelResult(ResultBase):
    job: Literal["make_model"]
    spec: MakeModelSpec
    metrics: MakeModelMetrics


class DecodeMetrics(Strict):
    images: int = Field(ge=1)
    decode_s: NonNegFloat
    pixels_bytes: int = Field(ge=1)


class DecodeResult(ResultBase):
    job: Literal["decode"]
    spec: DecodeSpec
    metrics: DecodeMetrics


# The artifact name of a model's .h5 copy: the launcher hands it on as the ``*_h5`` input of
# the jobs that load the model.
HANDOFF_ARTIFACT = "handoff"
# The file a job loaded a Keras model from: the SavedModel itself, or its .h5 copy (the same
# graph and weights, loaded in a tenth of the time: bench/handoff_formats.py).
InputFormat = Literal["saved_model", "h5"]


class TrainMetrics(Strict):
    train_s: NonNegFloat
    epochs: int = Field(ge=1)
    steps_per_epoch: int = Field(ge=1)
    train_examples: int = Field(ge=1)
    validation_examples: NonNegInt
    num_classes: int = Field(ge=2)
    parameters: int = Field(ge=1)
    saved_model_bytes: int = Field(ge=1)
    # keras.models.load_model of the SavedModel just written, timed once here so that the
    # jobs that load this model's .h5 copy instead can still be given the paper's compression
    # time (which starts by loading the SavedModel). None: recorded before it existed.
    saved_model_load_s: NonNegFloat | None = None
    # What trained (the spec's regime, as applied) and how many parameters that is. jobs/
    # always writes them; None only in results recorded before they existed.
    regime: TrainingRegime | None = None
    trainable_parameters: NonNegInt | None = None
    # Dropout layers (EfficientNet's stochastic depth) of the frozen part kept from firing
    # while the rest trained: frozen means inference mode. None: recorded before.
    frozen_dropout_quieted: NonNegInt | None = None
    fingerprint: Fingerprint | None = None
    final_train_accuracy: Fraction
    final_validation_accuracy: Fraction | None = None


class TrainResult(ResultBase):
    job: Literal["train"]
    spec: TrainSpec
    metrics: TrainMetrics


class ScratchResult(ResultBase):
    job: Literal["scratch"]
    spec: ScratchSpec
    metrics: TrainMetrics


class QuantizeMetrics(Strict):
    saved_model_bytes: int = Field(ge=1)
    tflite_bytes: int = Field(ge=1)
    size_ratio: Annotated[float, Field(gt=0)]
    # Compression time as a user waiting for the model sees it (the paper's): loading, the
    # compression proper, saving. load_s: TFLiteConverter.from_saved_model plus, for the
    # calibrated modes, drawing and decoding the calibration images (calibration_load_s);
    # conversion_s: converter.convert() alone (calibration runs included); save_s: writing the
    # .tflite file; compression_total_s = load_s + conversion_s + save_s. jobs/ always writes
    # them; None only in results recorded before they existed.
    load_s: NonNegFloat | None = None
    calibration_load_s: NonNegFloat | None = None
    conversion_s: NonNegFloat
    save_s: NonNegFloat | None = None
    compression_total_s: NonNegFloat | None = None
    calibration_images: NonNegInt = 0
    # Calibration images per class (class name -> images), drawn at random (seeded) from the
    # training split; {} for the modes without calibration (None: recorded before it existed).
    calibration_class_histogram: dict[str, NonNegInt] | None = None

    @model_validator(mode="after")
    def _total_is_the_sum(self) -> QuantizeMetrics:
        parts = (self.load_s, self.conversion_s, self.save_s)
        if self.compression_total_s is not None and None not in parts:
            total = sum(part for part in parts if part is not None)
            if abs(self.compression_total_s - total) > 1e-6 * max(1.0, total):
                raise ValueError("compression_total_s must be load_s + conversion_s + save_s")
        if self.calibration_class_histogram and (
                sum(self.calibration_class_histogram.values()) != self.calibration_images):
            raise ValueError("calibration_class_histogram must count calibration_images")
        return self


class QuantizeResult(ResultBase):
    job: Literal["quantize"]
    spec: QuantizeSpec
    metrics: QuantizeMetrics


class PruneMetrics(Strict):
    # Compression time, as the paper's: load_s loads the base model; prune_s is the compression
    # proper (wrapping the prunable layers, the pruning fit with its per-epoch validation, and
    # strip_pruning); save_s writes the SavedModel; compression_total_s is their sum. What
    # trained while pruning (regime) and how many parameters; among the non-zero kernel weights
    # of the pruned layers other than the head, the fraction whose value differs from the
    # base's (near 0: the backbone was pruned but never fine-tuned). jobs/ always writes them;
    # None only in results recorded before they existed.
    load_s: NonNegFloat | None = None
    prune_s: NonNegFloat
    # What load_s loaded and how long the model alone took (InputFormat).
    input_format: InputFormat | None = None
    input_load_s: NonNegFloat | None = None
    save_s: NonNegFloat | None = None
    compression_total_s: NonNegFloat | None = None
    regime: PruneRegime | None = None
    trainable_parameters: NonNegInt | None = None
    backbone_survivors_changed: Fraction | None = None
    target_sparsity: Fraction
    achieved_sparsity: Fraction  # zeros among the weights of the pruned layers' kernels
    overall_sparsity: Fraction  # zeros among all weights of the model
    wrapped_layers: int = Field(ge=1)
    pruned_parameters: int = Field(ge=1)
    parameters: int = Field(ge=1)
    saved_model_bytes: int = Field(ge=1)
    gzip_bytes: int = Field(ge=1)
    base_saved_model_bytes: int = Field(ge=1)
    base_gzip_bytes: int = Field(ge=1)
    final_validation_accuracy: Fraction | None = None
    # The evidence of how it got there (None: recorded before it existed, or no validation
    # split): validation accuracy of the base, and right after the first mask (before any
    # fine-tuning); the fit's per-epoch figures are the result's samples. tfmot's step count
    # (the first training step is 1) at which the masks were planned to change (mask_plan in
    # jobs/prune.py) and at which their thresholds did move.
    validation_accuracy_before: Fraction | None = None
    validation_accuracy_first_mask: Fraction | None = None
    steps_per_epoch: int | None = Field(default=None, ge=1)
    total_steps: int | None = Field(default=None, ge=1)
    mask_steps_planned: list[Annotated[int, Field(ge=0)]] | None = Field(
        default=None, max_length=100_000)
    mask_steps: list[Annotated[int, Field(ge=0)]] | None = Field(
        default=None, max_length=100_000)

    @model_validator(mode="after")
    def _total_is_the_sum(self) -> PruneMetrics:
        _check_total(self.compression_total_s, (self.load_s, self.prune_s, self.save_s),
                     "load_s + prune_s + save_s")
        return self


class PruneResult(ResultBase):
    job: Literal["prune"]
    spec: PruneSpec
    metrics: PruneMetrics


class DistillMetrics(Strict):
    # Compression time, as the paper's: load_s loads the teacher and sets up the student (the
    # paper: "the teacher model will be loaded into memory, and then the student model will be
    # set up"); distill_s is the distillation loop (every epoch's training and validation);
    # save_s writes the SavedModel; compression_total_s is their sum. The student's regime and
    # trainable parameters; where the teacher's logits are read: head: the pre-softmax output
    # of its Dense "head" (head.input @ kernel + bias, whatever its activation); softmax_input:
    # the input of a final Softmax layer; output: the model's output, which is not a softmax.
    # jobs/ always writes them; None only in results recorded before they existed (whose
    # student trained every layer, BatchNormalization included, from log(p) "logits").
    load_s: NonNegFloat | None = None
    distill_s: NonNegFloat
    input_format: InputFormat | None = None  # the teacher's (PruneMetrics)
    input_load_s: NonNegFloat | None = None
    save_s: NonNegFloat | None = None
    compression_total_s: NonNegFloat | None = None
    student_regime: TrainingRegime | None = None
    trainable_parameters: NonNegInt | None = None
    frozen_dropout_quieted: NonNegInt | None = None  # as TrainMetrics'
    fingerprint: Fingerprint | None = None  # the student's, softmax included
    teacher_logits: Literal["head", "softmax_input", "output"] | None = None
    epochs: int = Field(ge=1)
    teacher_parameters: int = Field(ge=1)
    student_parameters: int = Field(ge=1)
    saved_model_bytes: int = Field(ge=1)
    final_validation_accuracy: Fraction | None = None

    @model_validator(mode="after")
    def _total_is_the_sum(self) -> DistillMetrics:
        _check_total(self.compression_total_s, (self.load_s, self.distill_s, self.save_s),
                     "load_s + distill_s + save_s")
        return self


class DistillResult(ResultBase):
    job: Literal["distill"]
    spec: DistillSpec
    metrics: DistillMetrics


class BenchmarkMetrics(Strict):
    format: Literal["saved_model", "tflite"]
    input_format: InputFormat | None = None  # for a SavedModel: the file the job loaded
    backend: str  # e.g. "tf-cpu", "tf-gpu", "tflite-cpu"
    threads: int | None = None
    input_dtype: str
    # How each image was timed (a .tflite: always call); None: recorded before it existed,
    # when a SavedModel's run waited for its outputs once per run, not per image.
    latency_method: LatencyMethod | None = None
    top1_accuracy: Fraction | None = None
    test_examples: NonNegInt | None = None
    latency_images: int = Field(ge=1)
    latency_runs_kept: int = Field(ge=1)
    latency_ms_mean: NonNegFloat  # the paper's figure: mean of the kept runs
    latency_ms_median: NonNegFloat
    latency_ms_p90: NonNegFloat
    latency_ms_std: NonNegFloat
    latency_ms_min: NonNegFloat
    latency_ms_max: NonNegFloat
    bytes: int = Field(ge=1)
    gzip_bytes: int = Field(ge=1)
    parameters: int | None = Field(default=None, ge=1)
    nonzero_parameters: NonNegInt | None = None


class BenchmarkResult(ResultBase):
    job: Literal["benchmark"]
    spec: BenchmarkSpec
    metrics: BenchmarkMetrics


JobResult = Annotated[
    ProbeResult | MakeModelResult | DecodeResult | TrainResult | ScratchResult | QuantizeResult
    | PruneResult | DistillResult | BenchmarkResult,
    Field(discriminator="job"),
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
    output_limit = "output_limit"  # wrote more into out/ than its limit allows: stopped
    lost = "lost"  # the Docker engine went away while it ran: not the job's doing, run again


class PowerMeasurement(Strict):
    """What the launcher measured of the device's power while a benchmark's timed runs ran
    (launcher/power.py): tegrastats on the host, samples inside the kept runs only."""

    source: str  # the sampler's command line
    interval_ms: int = Field(ge=1)
    samples: NonNegInt  # samples with an input rail inside the kept runs
    rail: str | None = None  # the module's input rail: VDD_IN (Xavier NX), POM_5V_IN (Nano)
    timed_s: NonNegFloat | None = None  # total length of the kept runs
    average_power_mw: NonNegFloat | None = None
    energy_per_inference_mj: NonNegFloat | None = None
    # Before the job's container started: the board's idle draw, and the energy of one
    # inference above it (what the inference itself costs; noise can make it negative).
    idle_samples: NonNegInt = 0
    idle_power_mw: NonNegFloat | None = None
    energy_above_idle_per_inference_mj: float | None = None
    reason: Reason | None = None  # why there is no number, when there is none


class RunRecord(Strict):
    """Written by the launcher as ``status.json`` after every attempt, whatever its end."""

    schema_version: Literal[1] = SCHEMA_VERSION
    key: str
    job: str
    status: JobStatus
    reason: Reason | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    image: str
    image_id: str
    started_at: str
    finished_at: str
    wall_s: NonNegFloat
    deadline_s: NonNegFloat
    inputs: dict[str, str] = {}
    power: PowerMeasurement | None = None  # benchmark jobs on a Jetson (or a given sampler)


def json_schemas() -> dict[str, dict[str, Any]]:
    """The exported JSON Schemas, by file name."""
    return {
        "job-spec.schema.json": JOB_SPEC.json_schema(),
        "job-result.schema.json": JOB_RESULT.json_schema(),
        "run-record.schema.json": RunRecord.model_json_schema(),
    }


def render_json_schema(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
