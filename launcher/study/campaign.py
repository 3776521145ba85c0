"""Campaigns: the study as a small TOML file, validated with pydantic.

A campaign says which models, which compression methods, how many trained copies (each
copy's compression is one timed compression), on which data and with which benchmark
settings. ``launcher/study/presets/`` holds
``paper`` (the paper's Section 2.5, exactly) and ``quick`` (no download, a few minutes on a
laptop CPU); a path to a ``.toml`` file of the same shape is a campaign of one's own.
Expansion into jobs is launcher/study/plan.py; this module only reads and checks the config.

A model is a keras.applications architecture the study trains (a name), or a model of one's
own (a ``[[models]]`` table: launcher/study/user_models.py), given as trained files.
"""

from __future__ import annotations

import re
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from launcher.applications import all_names
from launcher.contract.specs import BenchmarkSettings
from launcher.contract.vocabulary import (
    PAPER_ARCHITECTURES,
    Architecture,
    LatencyMethod,
    LearningRateDecay,
    PruneRegime,
    TrainingRegime,
    default_regime,
)
from launcher.device.profiles import PROFILES
from launcher.errors import UserError, describe_validation_error
from launcher.limits import MAX_DEADLINE_S, Limits
from launcher.study.methods import METHOD_PATTERN, METHODS_HELP
from launcher.study.user_models import UserModel, check_files, resolve_paths

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 has no tomllib: tomli is the same parser, released separately.
    import tomli as tomllib

PRESETS = ("paper", "quick")

# METHOD_PATTERN: single methods and chains such as prune50+int8 (launcher/study/methods.py).
Method = Annotated[str, Field(pattern=METHOD_PATTERN)]
QUANTIZE_MODES = {"fp16": "fp16", "int8": "int8"}


def prune_sparsity(method: str) -> float | None:
    """``prune50`` -> 0.5; anything else -> None."""
    found = re.fullmatch(r"prune([1-9][0-9]?)", method)
    return int(found.group(1)) / 100 if found else None


class Config(BaseModel):
    """Unknown keys are errors: a misspelt setting must not silently fall back to a default."""

    # Every number here comes from a user's file: 'inf' and 'nan' are refused, not run.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DatasetConfig(Config):
    source: Literal["tfds", "images", "digits"] = Field(
        default="tfds", description="tfds: a tfds dataset by name; images: an image folder "
        "(one subfolder per class, or train/ validation/ test/); digits: scikit-learn's "
        "digits, written by the launcher as an image folder (no download)")
    name: str = Field(default="oxford_flowers102", pattern=r"^[a-z0-9_]+(:[0-9.]+)?$",
                      description="tfds dataset name")
    path: Path | None = Field(default=None, description="the image folder (source = images); "
                              "relative paths are relative to the campaign file")
    mock_examples: int | None = Field(
        default=None, ge=1, le=100_000,
        description="tfds only: random examples from tfds.testing.mock_data, no download")
    validation_fraction: float = Field(default=0.15, gt=0, lt=0.5)
    test_fraction: float = Field(default=0.15, gt=0, lt=0.5)

    @model_validator(mode="after")
    def _source_fields(self) -> DatasetConfig:
        if self.source == "images" and self.path is None:
            raise ValueError("source 'images' needs path = the image folder")
        if self.source != "images" and self.path is not None:
            raise ValueError(f"path is for source 'images', not {self.source!r}")
        if self.source != "tfds" and self.mock_examples is not None:
            raise ValueError("mock_examples is for source 'tfds'")
        return self


class DistillConfig(Config):
    student: Architecture = "MobileNetV3Small"
    temperature: float = Field(default=10.0, gt=0, le=1000)
    alpha: float = Field(default=0.1, ge=0, le=1)
    # The paper's teachers are the models larger than the student (Mob-L to D201): a
    # teacher of the student's own architecture is skipped unless this says otherwise.
    self_distill: bool = False


class TrainingConfig(Config):
    """What each training job trains (TrainingRegime, launcher/contract/vocabulary.py). The
    scratch baseline and the distillation student share one setting: the baseline is the
    student trained without its teacher, so anything else would compare two regimes, not
    distillation."""

    base: TrainingRegime | None = Field(
        default=None, description="the trained copies (train): head, full or full_bn_frozen; "
        "default: head with weights, full without")
    students: TrainingRegime | None = Field(
        default=None, description="the scratch baseline and the distillation student; default: "
        "the base's regime")

    def regimes(self, weights: str | None) -> tuple[TrainingRegime, TrainingRegime]:
        """(base, students), resolved for the campaign's weights."""
        base = self.base or default_regime(weights)
        return base, self.students or base


class PruningConfig(Config):
    """How the pruning jobs fine-tune (jobs/prune.py; PruneRegime in
    launcher/contract/vocabulary.py)."""

    regime: PruneRegime = Field(
        default="pruned_layers", description="what trains while pruning: pruned_layers (the "
        "default: the pruned layers, BatchNormalization frozen), all (every layer, "
        "BatchNormalization in training mode), as_restored (the restored model's own flags: "
        "a frozen backbone pruned without retraining, the paper's likely procedure)")
    learning_rate: float = Field(default=1e-3, gt=0, lt=10)
    learning_rate_decay: LearningRateDecay = Field(
        default="constant", description="constant, cosine (down to 0 at the last step) or "
        "cosine_after_masks (constant while the masks change, then down to 0)")


class BenchmarkConfig(BenchmarkSettings):
    """The benchmark job's settings (the same fields and checks: one definition), plus the
    campaign's choice of timing methods: ``latency_methods`` times copy 1's SavedModels once
    per method, each a benchmark of its own (launcher/study/plan.py)."""

    latency_methods: list[LatencyMethod] | None = Field(
        default=None, min_length=1, description="time copy 1's SavedModels by each of these "
        "(call, predict), one benchmark per method; the first is the one whose benchmark also "
        "measures accuracy and keeps the node id a single latency_method would have. A "
        ".tflite is benchmarked once (by call: it has no predict). Unset: latency_method alone")

    @model_validator(mode="before")
    @classmethod
    def _one_list(cls, data: Any) -> Any:
        """``latency_methods`` sets ``latency_method`` to its first: a campaign gives one of
        the two (both only when they agree, as a dumped config does)."""
        if not isinstance(data, dict) or not data.get("latency_methods"):
            return data
        methods = data["latency_methods"]
        if not isinstance(methods, list):
            return data  # the field's own check says what is wrong
        single = data.get("latency_method")
        if single is not None and single != methods[0]:
            raise ValueError("give latency_method or latency_methods, not both")
        return {**data, "latency_method": methods[0]}

    @field_validator("latency_methods")
    @classmethod
    def _each_once(cls, value: list[LatencyMethod] | None) -> list[LatencyMethod] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists each method once")
        return value

    @property
    def timing_methods(self) -> tuple[LatencyMethod, ...]:
        """The methods copy 1's SavedModels are timed by, the first the main one."""
        return tuple(self.latency_methods or (self.latency_method,))

Objective = Literal["latency", "size", "energy"]


class GoalConfig(Config):
    """What the recommendation (launcher/report/recommend.py) looks for: the compression
    within the accuracy budget that is best on the objective."""

    max_accuracy_drop: float = Field(
        default=1.0, ge=0, le=100, description="the most top-1 a compression may lose against "
        "its base, in points, judged with the uncertainty over copies")
    minimize: Objective = Field(
        default="latency", description="latency (copy 1's mean ms per image), size (gzip "
        "bytes) or energy (mJ per inference, where a Jetson sampled power); a latency timed "
        "both ways is read by call, the model's own time")
    search: bool = Field(
        default=False, description="add pruning levels between the ones measured, by "
        "bisection, until the budget's edge is found within search_resolution points of "
        "sparsity; every probe is an ordinary keyed prune job and its benchmark")
    search_resolution: int = Field(default=5, ge=1, le=50,
                                   description="points of sparsity the search stops within")


def _model_kind(value: Any) -> str:
    return "architecture" if isinstance(value, str) else "own"


# A name or a table, told apart before validating, so that an error names one kind's problem.
ModelEntry = Annotated[
    Annotated[Architecture, Tag("architecture")] | Annotated[UserModel, Tag("own")],
    Discriminator(_model_kind)]


class CampaignConfig(Config):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    description: str = ""
    profile: str | None = Field(default=None, description="device profile; --profile wins")
    train_profile: str | None = Field(
        default=None, description="the profile the train and scratch jobs are keyed and run "
        "on, when not the device's (e.g. x86-tf2.7 for nano): same TensorFlow minor version; "
        "--train-profile wins")
    models: list[ModelEntry] = Field(
        min_length=1, description="architecture names (trained by the study) and [[models]] "
        "tables (your own trained files: launcher/study/user_models.py)")
    methods: list[Method] = Field(min_length=1)
    copies: int = Field(default=5, ge=1, le=100, description="independently trained copies")
    seed: int = Field(default=0, ge=0, description="copy N trains with seed + N - 1")
    dataset: DatasetConfig = DatasetConfig()
    input_size: int = Field(default=224, ge=32, le=1024)
    batch_size: int = Field(default=4, ge=1, le=4096)
    weights: Literal["imagenet"] | None = "imagenet"
    canonical: bool = Field(
        default=False, description="build every network as Keras >= 2.10 does, on every stack "
        "(on TF 2.7: MobileNetV3 without Conv_2, EfficientNet's ImageNet input correction); "
        "default: what each stack builds, which is what the paper's Nano ran")
    bn_momentum: float | None = Field(default=None, gt=0, lt=1)
    epochs: int = Field(default=10, ge=1, le=10_000, description="training epochs")
    compress_epochs: int = Field(default=5, ge=1, le=10_000,
                                 description="pruning, distillation and scratch epochs")
    calibration_images: int = Field(default=128, ge=1, le=100_000)
    training: TrainingConfig = TrainingConfig()
    distill: DistillConfig = DistillConfig()
    pruning: PruningConfig = PruningConfig()
    benchmark: BenchmarkConfig = BenchmarkConfig()
    goal: GoalConfig | None = Field(default=None, description="the recommendation's budget "
                                    "and objective; none: 1 point and latency")
    timeout_s: float | None = Field(default=None, gt=0, le=MAX_DEADLINE_S,
                                    description="per-job deadline; default: generous per job "
                                                "kind")
    limits: Limits = Field(default=Limits(), description="what each job container may use; "
                           "unset fields: the profile's (launcher/limits.py)")
    parallel: int | None = Field(default=None, ge=1, le=64,
                                 description="jobs at once on this machine (benchmarks always "
                                 "alone); default: 1 on a Jetson, one per two cores on an x86 "
                                 "twin; --parallel overrides")

    @field_validator("weights", mode="before")
    @classmethod
    def _none_word(cls, value: Any) -> Any:
        # TOML has no null: "none" spells "no pretrained weights".
        return None if isinstance(value, str) and value.lower() == "none" else value

    @field_validator("profile", "train_profile")
    @classmethod
    def _known_profile(cls, value: str | None) -> str | None:
        if value is not None and value not in PROFILES:
            raise ValueError(f"unknown profile; choose one of {', '.join(sorted(PROFILES))}")
        return value

    @field_validator("models", mode="before")
    @classmethod
    def _model_kinds(cls, value: Any) -> Any:
        # One message per kind: pydantic's for the union would list both kinds' errors.
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str) and item not in all_names():
                    raise ValueError(f"unknown architecture {item!r}: name a keras.applications "
                                     "network (`edgecompress run train --help` lists each "
                                     "stack's), or give your own model as a [[models]] table "
                                     "with name and path")
        return value

    @field_validator("models")
    @classmethod
    def _unique_models(cls, value: list[str | UserModel]) -> list[str | UserModel]:
        names = [model_name(model) for model in value]
        if len(set(names)) != len(names):
            raise ValueError("lists each model once (by name)")
        return value

    @field_validator("methods")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists each entry once")
        return value

    @model_validator(mode="after")
    def _something_to_search(self) -> CampaignConfig:
        if self.goal is not None and self.goal.search and not any(
                re.fullmatch(r"prune[0-9]+", method) for method in self.methods):
            raise ValueError("[goal] search bisects pruning levels: add a pruneNN method (e.g. "
                             "prune50) to methods, or set search = false")
        return self

    @property
    def model_names(self) -> list[str]:
        return [model_name(model) for model in self.models]


def model_name(model: str | UserModel) -> str:
    return model if isinstance(model, str) else model.name


def preset_text(name: str) -> str:
    return resources.files("launcher.study").joinpath("presets").joinpath(f"{name}.toml").read_text(
        "utf-8")


def parse_config(text: str, where: str, base_dir: Path | None = None) -> CampaignConfig:
    """TOML text -> a validated config; errors are one line naming the setting."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{where} is not valid TOML: {error}") from None
    try:
        config = CampaignConfig.model_validate(data)
    except ValidationError as error:
        raise UserError(f"{where}: {describe_validation_error(error)}") from None
    path = config.dataset.path
    if path is not None and base_dir is not None and not path.is_absolute():
        config = config.model_copy(update={"dataset": config.dataset.model_copy(
            update={"path": (base_dir / path).resolve()})})
    if any(isinstance(model, UserModel) for model in config.models):
        models = [model if isinstance(model, str) else resolve_paths(model, base_dir)
                  for model in config.models]
        for model in models:
            if isinstance(model, UserModel):
                check_files(model, where)
        config = config.model_copy(update={"models": models})
    return config


def load_campaign(name_or_path: str) -> CampaignConfig:
    """A preset by name (``paper``, ``quick``) or a path to a TOML file."""
    if name_or_path in PRESETS:
        return parse_config(preset_text(name_or_path), f"preset {name_or_path}")
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise UserError(f"campaign {name_or_path!r} is neither a preset "
                        f"({', '.join(PRESETS)}) nor a TOML file: check the name or path")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot read {path}: {error}") from None
    return parse_config(text, str(path), path.parent)


def with_overrides(config: CampaignConfig, *, models: list[str] | None = None,
                   methods: list[str] | None = None, copies: int | None = None,
                   train_profile: str | None = None) -> CampaignConfig:
    """The command line's narrowing of a campaign, validated like the file itself."""
    data = config.model_dump()
    if models is not None:
        # A name on the command line picks the campaign's own model of that name, if any.
        own = {model.name: model.model_dump() for model in config.models
               if isinstance(model, UserModel)}
        data["models"] = [own.get(name, name) for name in models]
    for field, value in (("methods", methods), ("copies", copies),
                         ("train_profile", train_profile)):
        if value is not None:
            data[field] = value
    try:
        return CampaignConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "campaign"
        hint = (f" (the paper's: {', '.join(PAPER_ARCHITECTURES)})" if field == "models" else
                f" (methods: {METHODS_HELP})" if field == "methods"
                else "")
        raise UserError(f"invalid --{field}: {first['msg']}{hint}") from None
