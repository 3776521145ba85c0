"""What a job answers: the result.json of each job (its timings, environment, resources,
artifacts and metrics) and the union the launcher validates one with."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, model_validator

from launcher.contract.envelope import MAX_ARTIFACTS as MAX_ARTIFACTS
from launcher.contract.envelope import Artifact as Artifact
from launcher.contract.envelope import Environment as Environment
from launcher.contract.envelope import Resources as Resources
from launcher.contract.envelope import ResultBase
from launcher.contract.envelope import Timings as Timings
from launcher.contract.specs import (
    BenchmarkSpec,
    DecodeSpec,
    DistillSpec,
    InspectSpec,
    MakeModelSpec,
    PrepareSpec,
    ProbeSpec,
    PruneSpec,
    QuantizeSpec,
    ScratchSpec,
    TrainSpec,
)
from launcher.contract.vocabulary import (
    LATENCY_SAMPLES_ARTIFACT,
    Fraction,
    LatencyMethod,
    NonNegFloat,
    NonNegInt,
    PruneRegime,
    Sha256,
    Strict,
    TrainingRegime,
)


def _check_total(total: float | None, parts: tuple[float | None, ...], names: str) -> None:
    if total is not None and None not in parts:
        expected = sum(part for part in parts if part is not None)
        if abs(total - expected) > 1e-6 * max(1.0, expected):
            raise ValueError(f"compression_total_s must be {names}")


class ProbeMetrics(Strict):
    gpu_count: NonNegInt


class ProbeResult(ResultBase):
    job: Literal["probe"]
    spec: ProbeSpec
    metrics: ProbeMetrics


class PrepareMetrics(Strict):  # what a prepare job left in the tfds cache (jobs/prepare.py)
    name: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1, max_length=50)
    examples: dict[str, NonNegInt]  # split -> examples in it
    prepared_bytes: NonNegInt  # the dataset's folder in the cache, downloads not counted
    already_prepared: bool  # found in the cache: nothing was downloaded
    prepare_s: NonNegFloat


class PrepareResult(ResultBase):
    job: Literal["prepare"]
    spec: PrepareSpec
    metrics: PrepareMetrics


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

# The file a job loaded a Keras model from: the SavedModel itself, or its .h5 copy (the same
# graph and weights, loaded in a tenth of the time: bench/handoff_formats.py).
# A user's own model (an inspect job's input) can be a .keras file too.
InputFormat = Literal["saved_model", "h5", "keras"]


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
    format: Literal["saved_model", "tflite", "keras", "h5"]
    input_format: InputFormat | None = None  # for a SavedModel: the file the job loaded
    backend: str  # e.g. "tf-cpu", "tf-gpu", "tflite-cpu"
    # The threads the model ran with: the spec's, else the CPUs the container may use
    # (threads_source); TFLite's num_threads for a .tflite, TensorFlow's intra-op threads for
    # a SavedModel. None: recorded before it was explicit (TFLite's own default).
    threads: int | None = None
    threads_source: Literal["spec", "container_cpus"] | None = None
    # What tf.config.threading reports after the job set it (0: TensorFlow's own choice).
    tf_intra_op_threads: NonNegInt | None = None
    tf_inter_op_threads: NonNegInt | None = None
    # Whether TFLite applied its XNNPACK delegate: True where the runtime said so (its log
    # line, or a delegate node in the execution plan); None where it could not be told (and
    # for a SavedModel). Never False: TF 2.7 gives no way to tell "not applied".
    xnnpack: bool | None = None
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
    # Every kept run's per-image latencies, in the artifact LATENCY_SAMPLES_ARTIFACT (None:
    # recorded before it existed); validated against latency_runs_kept x latency_images.
    latency_samples_format: Literal["float32-le"] | None = None
    # What was run (None: recorded before min_duration_s existed, when every spec ran exactly
    # latency_runs): the timed runs run, warm-up included (latency_runs, or more where
    # min_duration_s asked for them); the kept runs' timed seconds; the spec's min_duration_s
    # and whether the kept runs reached it (False: MAX_LATENCY_RUNS runs came first).
    latency_runs_run: int | None = Field(default=None, ge=2)
    latency_kept_s: NonNegFloat | None = None
    min_duration_s: NonNegFloat | None = None
    duration_met: bool | None = None
    # The cooldown (spec cooldown_c; None: none asked for, or recorded before it existed):
    # reached: every run started with the hottest zone below cooldown_c; cap hit: at least one
    # run waited cooldown_timeout_s and started anyway (cooldown_caps_hit: how many); no
    # thermal zones: nothing to read, no wait. cooldown_wait_s: the waits' total. Per run, in
    # the samples: cooldown_wait_s and cooldown_start_c (the hottest zone as the run started).
    cooldown: Literal["reached", "cap hit", "no thermal zones"] | None = None
    cooldown_wait_s: NonNegFloat | None = None
    cooldown_caps_hit: NonNegInt | None = None
    # Cold start, before any timed run: loading the deployed file (the SavedModel's .h5 copy
    # or the SavedModel; the .tflite into an Interpreter), TFLite's allocate_tensors (None for
    # a SavedModel), the first inference (tracing included for a tf.function), and the mean
    # per-image latency of the discarded warm-up run(s). None: recorded before they existed.
    cold_load_s: NonNegFloat | None = None
    cold_allocate_s: NonNegFloat | None = None
    cold_first_inference_ms: NonNegFloat | None = None
    warmup_ms_mean: NonNegFloat | None = None
    bytes: int = Field(ge=1)
    gzip_bytes: int = Field(ge=1)
    parameters: int | None = Field(default=None, ge=1)
    nonzero_parameters: NonNegInt | None = None


class BenchmarkResult(ResultBase):
    job: Literal["benchmark"]
    spec: BenchmarkSpec
    metrics: BenchmarkMetrics

    @model_validator(mode="after")
    def _samples_artifact_listed(self) -> BenchmarkResult:
        if self.metrics.latency_samples_format is not None and not any(
                a.name == LATENCY_SAMPLES_ARTIFACT and a.kind == "file"
                for a in self.artifacts):
            raise ValueError(f"latency_samples_format given but no file artifact named "
                             f"{LATENCY_SAMPLES_ARTIFACT!r}")
        return self

    @model_validator(mode="after")
    def _runs_add_up(self) -> BenchmarkResult:
        """The runs run are the warm-up and the kept ones, at least the spec's count."""
        run, spec = self.metrics.latency_runs_run, self.spec
        if run is not None and (run != spec.warmup_runs + self.metrics.latency_runs_kept
                                or run < spec.latency_runs):
            raise ValueError(f"latency_runs_run {run} is not warmup_runs + latency_runs_kept "
                             f"({spec.warmup_runs} + {self.metrics.latency_runs_kept}) of at "
                             f"least latency_runs ({spec.latency_runs})")
        return self


class InspectMetrics(Strict):
    """What a user's model file is, as Keras loaded it inside the job (jobs/inspect.py)."""

    format: InputFormat
    input_shape: list[int | None]  # the model's input shape, None for the batch dimension
    input_size: int = Field(ge=1)
    num_classes: int = Field(ge=2)
    dataset_classes: int = Field(ge=2)
    parameters: int = Field(ge=1)
    fingerprint: Fingerprint
    load_s: NonNegFloat
    model_bytes: int = Field(ge=1)


class InspectResult(ResultBase):
    job: Literal["inspect"]
    spec: InspectSpec
    metrics: InspectMetrics


JobResult = Annotated[
    ProbeResult | PrepareResult | MakeModelResult | DecodeResult | TrainResult | ScratchResult
    | QuantizeResult | PruneResult | DistillResult | BenchmarkResult | InspectResult,
    Field(discriminator="job"),
]
JOB_RESULT = TypeAdapter(JobResult)
