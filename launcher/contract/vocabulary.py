"""The seam's vocabulary: what the launcher and jobs/ must agree on besides the models (names,
container paths, environment variables, the error-line prefix, the paper's architectures,
quantize modes, regimes and latency methods), and the building blocks every model of the
contract shares (constrained numbers, ``Reason``, ``Strict``).

jobs/ cannot import pydantic, so ``edgecompress schema`` writes these (and the job names
derived from the specs, launcher/contract/specs.py) as literals into jobs/_contract.py
(launcher/contract/export.py).
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from launcher.applications import all_names
from launcher.inert import inert_line

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
# For tests only: the folder the benchmark reads thermal zones from for its cooldown
# (BenchmarkSettings.cooldown_c) instead of THERMAL_ROOT, e.g. a read-only mount of fake zone
# files. The launcher never sets it.
ENV_THERMAL_ROOT = "EDGECOMPRESS_THERMAL_ROOT"
THERMAL_ROOT = "/sys/class/thermal"  # thermal_zone*/temp: millidegrees Celsius

# A job that refuses its spec or an input prints one stderr line starting with this and exits
# 2; the launcher reports the rest of that line as the failure's reason (launcher/outcome.py).
ERROR_PREFIX = "error: "

# The paper's six networks: the presets' and the report's (in this order).
PaperArchitecture = Literal[
    "MobileNetV3Small",
    "MobileNetV3Large",
    "EfficientNetB1",
    "EfficientNetB3",
    "DenseNet169",
    "DenseNet201",
]
PAPER_ARCHITECTURES: tuple[str, ...] = get_args(PaperArchitecture)


def _known_network(name: str) -> str:
    if name not in all_names():
        raise ValueError(f"{name!r} is a keras.applications network of no stack edgecompress "
                         "knows (`edgecompress run train --help` lists them)")
    return name


# Any keras.applications network of some stack (launcher/applications.py); whether the stack
# that runs a job has it is checked where the profile is known.
Architecture = Annotated[str, AfterValidator(_known_network)]

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
LearningRateDecay = Literal["constant", "cosine", "cosine_after_masks"]

# How the benchmark times one image. call: one call of the model (a tf.function for a
# SavedModel, Interpreter.invoke for .tflite) with its output fetched to the host before the next
# image. predict: Keras's Model.predict per image (the paper's likely method; Keras's machinery
# included). A .tflite model has no predict: it is timed by ``call`` whatever is asked.
LatencyMethod = Literal["call", "predict"]
LATENCY_METHODS: tuple[str, ...] = get_args(LatencyMethod)

# The artifact name of a model's .h5 copy: the launcher hands it on as the ``*_h5`` input of
# the jobs that load the model.
HANDOFF_ARTIFACT = "handoff"

# The benchmark's per-image latencies: an artifact of this name, a file of float32
# little-endian milliseconds, the kept runs one after another (latency_runs_kept x
# latency_images values); the launcher validates it (launcher/latency_samples.py).
LATENCY_SAMPLES_ARTIFACT = "latency_per_image_ms"
LATENCY_SAMPLES_FILE = "latency_per_image_ms.f32"
LATENCY_SAMPLES_FORMAT = "float32-le"
# The most timed runs (warm-up included) a benchmark runs: the most latency_runs may ask for,
# and the cap of the runs min_duration_s adds (the power sampler lines up no more windows).
MAX_LATENCY_RUNS = 10_000


def default_regime(weights: str | None) -> TrainingRegime:
    return "head" if weights is not None else "full"


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
