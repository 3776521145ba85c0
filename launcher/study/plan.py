"""A campaign expanded into a dependency graph of jobs. Pure: no files, no engine.

A job's key includes the content digests of its inputs, so a downstream job's final spec is
only known once its upstream artifact exists. A node therefore holds its spec's parameters
and says where each input comes from (the campaign's dataset, or another node's model); the
executor digests those right before it runs the node, or finds it done, and
``resolve_spec`` turns the node into the exact spec.

    train (model, copy) ─┬─ benchmark
                         ├─ quantize fp16 / int8 ─── benchmark
                         ├─ prune NN % ─┬─────────── benchmark
                         │              └─ quantize (pruneNN+int8) ── benchmark
                         └─ distill (teacher) ────── benchmark
    scratch (student, copy) ──────────────────────── benchmark
    inspect (own model, copy) ─┬─ benchmark
                               ├─ quantize / prune / distill ─── benchmark

A model of one's own (launcher/study/user_models.py) is not trained: copy N is its N-th file.
Its ``inspect`` node loads the file inside a container and checks it against the data; the
jobs that read the file wait for it, and read the file itself (an input by content digest,
so a replaced file re-runs exactly what depends on it), not anything the inspect job wrote.

Copy N of every job trains or compresses with ``seed + N - 1``. Latency is the paper's rule
on copy 1; the other copies' benchmarks measure accuracy (and size) and time one image once.
With ``[benchmark] latency_methods = ["call", "predict"]`` copy 1's SavedModels are
benchmarked once per method (``benchmark/train/X/copy1`` by call, with accuracy;
``benchmark/train/X/copy1/predict`` by Keras predict(), latency alone); a .tflite once.
Compression time: each copy's compression is one timed run, so the paper's five timed
compressions are the five copies' compressions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from launcher.contract.specs import AnySpec
from launcher.contract.vocabulary import CONTAINER_INPUTS_DIR
from launcher.errors import UserError, describe_validation_error
from launcher.jobspecs import spec_class
from launcher.study.campaign import QUANTIZE_MODES, CampaignConfig, prune_sparsity
from launcher.study.methods import split_chain
from launcher.study.user_models import UserModel

DATASET = "dataset"  # an input's source: the campaign's image folder
# An input's source: the ImageNet weights file of an architecture ("imagenet:DenseNet169"),
# from the weights cache for the profile that runs the job (launcher/pretrained.py).
WEIGHTS = "imagenet:"
# An input's source: a file of one's own model, by its absolute host path ("file:/x/my.keras").
USER_FILE = "file:"
CUSTOM_OBJECTS = "custom_objects"  # the spec field of a model's custom layers (.py)
Role = Literal["prepare", "train", "compress", "benchmark"]
# Benchmarks of copies other than 1 measure accuracy; latency is one image timed once.
ACCURACY_ONLY = {"latency_images": 1, "latency_runs": 2, "warmup_runs": 1}


@dataclass(frozen=True)
class Node:
    id: str  # stable and readable: "prune50/DenseNet201/copy3", "benchmark/fp16/..."
    job: str
    params: Mapping[str, Any]  # the spec's fields except the inputs
    inputs: tuple[tuple[str, str], ...]  # (spec field, DATASET or upstream node id)
    model: str  # the model the numbers belong to: the teacher for distill
    method: str  # "base", "fp16", "int8", "pruneNN", "distill", "scratch", "pruneNN+int8"...
    copy: int
    role: Role

    @property
    def upstream(self) -> tuple[str, ...]:
        """The nodes it waits for: those whose models it reads (not the dataset, nor a
        cache: launcher/execution/schedule.py runs a job without a cache that is not done)."""
        return tuple(dict.fromkeys(source for field, source in self.inputs
                                   if source != DATASET and not is_cache(field)
                                   and not is_weights(source) and not is_user_file(source)))


# Jobs whose model artifact is a Keras model, written with its .h5 copy beside it.
KERAS_PRODUCERS = frozenset({"train", "scratch", "prune", "distill", "make_model"})
HANDOFF_SUFFIX = "_h5"


def model_inputs(field: str, upstream: Node, handoff: bool = True
                 ) -> tuple[tuple[str, str], ...]:
    """A model input, and its .h5 copy (``field``_h5) where the upstream writes one (and
    ``handoff``): the job loads the copy, in a tenth of a SavedModel's load time
    (jobs/models.py). From an inspect node: the model file it checked, and its custom layers."""
    if upstream.job == "inspect":
        return ((field, upstream.id),
                *((CUSTOM_OBJECTS, upstream.id) for name, _ in upstream.inputs
                  if name == CUSTOM_OBJECTS))
    # A pruned model keeps the custom layers of the model it was pruned from (a distilled one
    # is the student, an architecture; a .tflite has no Keras layers).
    kept = tuple((name, source) for name, source in upstream.inputs
                 if name == CUSTOM_OBJECTS and upstream.job == "prune")
    if handoff and upstream.job in KERAS_PRODUCERS:
        return ((field, upstream.id), (field + HANDOFF_SUFFIX, upstream.id), *kept)
    return ((field, upstream.id), *kept)


def is_user_file(source: str) -> bool:
    return source.startswith(USER_FILE)


def user_file(source: str) -> str:
    return source[len(USER_FILE):]


def handed_on(node: Node, field: str) -> str | None:
    """The host path an inspect node hands on as its ``model`` (the file it checked) or its
    ``custom_objects``; None for any other node or field."""
    if node.job != "inspect" or field not in ("model", CUSTOM_OBJECTS):
        return None
    return next((user_file(source) for name, source in node.inputs
                 if name == field and is_user_file(source)), None)


def is_handoff(field: str) -> bool:
    return field.endswith(HANDOFF_SUFFIX)


# Inputs that are caches: a job given one reads it instead of doing that work itself, with the
# same result, so it is not part of the key (launcher/keys.py) and a job never waits for it.
DECODED = "decoded"  # the campaign's image folder decoded once at its input size


def is_cache(field: str) -> bool:
    return field == DECODED


def is_weights(source: str) -> bool:
    return source.startswith(WEIGHTS)


def weights_architecture(source: str) -> str:
    return source[len(WEIGHTS):]


def weights_inputs(weights: str | None, field: str, architecture: str
                   ) -> tuple[tuple[str, str], ...]:
    """The weights file input of a job whose backbone starts from ImageNet weights."""
    return ((field, WEIGHTS + architecture),) if weights == "imagenet" else ()


@dataclass(frozen=True)
class Plan:
    config: CampaignConfig
    nodes: tuple[Node, ...]  # in a valid run order: every node after its upstream

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def counts(self) -> dict[str, int]:
        return dict(Counter(node.job for node in self.nodes))


def data_params(config: CampaignConfig, copy: int) -> dict[str, Any]:
    dataset = config.dataset
    params: dict[str, Any] = {
        "input_size": config.input_size,
        "batch_size": config.batch_size,
        # One seed per copy for everything downstream of it: with a folder split by seed,
        # the copy's compressions and benchmarks see the split its training saw.
        "seed": config.seed + copy - 1,
        "validation_fraction": dataset.validation_fraction,
        "test_fraction": dataset.test_fraction,
    }
    if dataset.source == "tfds":
        params["tfds_name"] = dataset.name
        params["tfds_mock_examples"] = dataset.mock_examples
    return params


def decode_node(config: CampaignConfig) -> Node | None:
    """The image folder decoded once at the campaign's input size, for every job that reads
    it (jobs/decode.py); None for tfds, which keeps its own cache."""
    if config.dataset.source == "tfds":
        return None
    return Node(id=f"decode/{config.input_size}px", job="decode",
                params={"input_size": config.input_size}, inputs=(("images", DATASET),),
                model="", method="decode", copy=1, role="prepare")


def dataset_inputs(config: CampaignConfig) -> tuple[tuple[str, str], ...]:
    decode = decode_node(config)
    return () if decode is None else (("images", DATASET), (DECODED, decode.id))


def expand(config: CampaignConfig) -> Plan:
    """Copy-major order: copy 1 of every model (the copy latency is measured on) first, so an
    interrupted campaign already holds a complete first pass. The decode job comes before
    all."""
    decode = decode_node(config)
    nodes: list[Node] = [] if decode is None else [decode]
    data_in = dataset_inputs(config)
    base_regime, student_regime = config.training.regimes(config.weights)

    def add(node: Node) -> None:
        nodes.append(node)
        nodes.extend(benchmark_nodes(config, node, data_in))

    for copy in range(1, config.copies + 1):
        data = data_params(config, copy)
        for model in config.models:
            if isinstance(model, UserModel):
                own = inspect_node(model, copy, data, data_in, needs_keras2=any(
                    method.startswith(("prune", "distill")) for method in config.methods))
                if own is None:
                    continue  # fewer files than the campaign's copies: this one has none
                nodes.append(own)
                nodes.extend(benchmark_nodes(config, own, data_in, method="base"))
                for node, benchmarked in compressions(config, own, data, data_in):
                    if benchmarked:
                        add(node)
                    else:
                        nodes.append(node)
                continue
            train = Node(
                id=f"train/{model}/copy{copy}", job="train", params={
                    **data, "architecture": model, "weights": config.weights,
                    "epochs": config.epochs, "copy_label": copy, "regime": base_regime,
                    "bn_momentum": config.bn_momentum, **canonical(config)},
                inputs=(*data_in, *weights_inputs(config.weights, "weights_file", model)),
                model=model, method="base", copy=copy, role="train")
            add(train)
            for node, benchmarked in compressions(config, train, data, data_in):
                if benchmarked:
                    add(node)
                else:
                    nodes.append(node)
        if "scratch" in config.methods:
            student = config.distill.student
            add(Node(
                id=f"scratch/{student}/copy{copy}", job="scratch", params={
                    **data, "architecture": student, "weights": config.weights,
                    "epochs": config.compress_epochs, "copy_label": copy,
                    "regime": student_regime, "bn_momentum": config.bn_momentum,
                    **canonical(config)},
                inputs=(*data_in, *weights_inputs(config.weights, "weights_file", student)),
                model=student, method="scratch", copy=copy, role="train"))
    return Plan(config, tuple(nodes))


def canonical(config: CampaignConfig) -> dict[str, bool]:
    """``canonical`` where the campaign asks for it: left out at its default, so a campaign
    that does not keeps the keys it had (launcher/keys.py, KEYED_WHEN_SET)."""
    return {"canonical": True} if config.canonical else {}


def compressions(config: CampaignConfig, train: Node, data: Mapping[str, Any],
                 data_in: tuple[tuple[str, str], ...]) -> list[tuple[Node, bool]]:
    """Every compression of one trained copy, each with whether it is benchmarked: the single
    methods first, then the chains (launcher/study/methods.py), each chain's quantize node
    reading its first link's model. A first link the campaign does not list as a method of
    its own still runs (the chain needs its model) but is not benchmarked: nobody asked."""
    made: dict[str, Node] = {}
    found: list[tuple[Node, bool]] = []
    for method in config.methods:
        if split_chain(method) is None and (
                node := compression_node(config, method, train, data, data_in)) is not None:
            made[method] = node
            found.append((node, True))
    for method in config.methods:
        if (links := split_chain(method)) is None:
            continue
        first_method, last_method = links
        first = made.get(first_method)
        if first is None:
            first = compression_node(config, first_method, train, data, data_in)
            if first is None:  # distill of the student itself, not asked for: no chain either
                continue
            made[first_method] = first
            found.append((first, False))
        found.append((Node(
            id=f"{method}/{train.model}/copy{train.copy}", job="quantize", params={
                **data, "mode": QUANTIZE_MODES[last_method],
                "calibration_images": config.calibration_images},
            # The first link's SavedModel: the converter reads SavedModels, never the .h5 copy.
            inputs=(*data_in, ("model", first.id)), model=train.model, method=method,
            copy=train.copy, role="compress"), True))
    return found


def inspect_node(model: UserModel, copy: int, data: Mapping[str, Any],
                 data_in: tuple[tuple[str, str], ...], needs_keras2: bool = False
                 ) -> Node | None:
    """Copy ``copy`` of a model of one's own, checked against the data in a job (the launcher
    never loads it); None when the model has fewer files. ``needs_keras2``: the campaign
    prunes or distils it, so a file only Keras 3 loads is refused there (keyed only when
    set)."""
    if copy > len(model.files):
        return None
    path = model.files[copy - 1]
    objects = model.custom_objects
    return Node(
        id=f"inspect/{model.name}/copy{copy}", job="inspect",
        params={**data, "file_name": path.name,
                **({"needs_keras2": True} if needs_keras2 else {})},
        inputs=(*data_in, ("model", USER_FILE + str(path)),
                *(((CUSTOM_OBJECTS, USER_FILE + str(objects)),) if objects else ())),
        model=model.name, method="inspect", copy=copy, role="prepare")


def compression_node(config: CampaignConfig, method: str, train: Node,
                     data: Mapping[str, Any], data_in: tuple[tuple[str, str], ...]
                     ) -> Node | None:
    """The compression of one trained copy by one method; None where the method does not
    apply (scratch is per student, not per model; no self-distillation unless asked)."""
    model, copy = train.model, train.copy
    if method in QUANTIZE_MODES:
        job, params, model_field = "quantize", {
            "mode": QUANTIZE_MODES[method],
            "calibration_images": config.calibration_images}, "model"
    elif (sparsity := prune_sparsity(method)) is not None:
        job, params, model_field = "prune", {
            "target_sparsity": sparsity, "schedule": "constant",
            "epochs": config.compress_epochs, "regime": config.pruning.regime,
            "learning_rate": config.pruning.learning_rate,
            "learning_rate_decay": config.pruning.learning_rate_decay}, "model"
    elif method == "distill":
        if model == config.distill.student and not config.distill.self_distill:
            return None
        job, params, model_field = "distill", {
            "student": config.distill.student, "student_weights": config.weights,
            "temperature": config.distill.temperature, "alpha": config.distill.alpha,
            "epochs": config.compress_epochs, "copy_label": copy,
            "student_regime": config.training.regimes(config.weights)[1],
            "bn_momentum": config.bn_momentum, **canonical(config)}, "teacher"
    else:
        return None
    return Node(id=f"{method}/{model}/copy{copy}", job=job, params={**data, **params},
                inputs=(*data_in, *model_inputs(model_field, train, handoff=job != "quantize"),
                        *(weights_inputs(config.weights, "student_weights_file",
                                         config.distill.student) if job == "distill" else ())),
                model=model, method=method,
                copy=copy, role="compress")


# Jobs whose model is a .tflite: it has no Keras predict(), so it is timed by call alone.
TFLITE_PRODUCERS = frozenset({"quantize"})


def benchmark_nodes(config: CampaignConfig, subject: Node,
                    data_in: tuple[tuple[str, str], ...], method: str | None = None
                    ) -> list[Node]:
    """The benchmarks of ``subject``'s model: one, and on copy 1 of a SavedModel (or a model
    of one's own) one more for each further timing method of ``[benchmark]
    latency_methods``. The first method's benchmark keeps the id and key a single
    ``latency_method`` gives (existing stores resume); each further one times latency alone
    (its accuracy is the first's) under ``benchmark/<subject>/<method>``."""
    first, *others = config.benchmark.timing_methods
    nodes = [benchmark_node(config, subject, data_in, method, first)]
    if subject.copy == 1 and subject.job not in TFLITE_PRODUCERS:
        nodes.extend(benchmark_node(config, subject, data_in, method, timing, extra=True)
                     for timing in others)
    return nodes


def benchmark_node(config: CampaignConfig, subject: Node,
                   data_in: tuple[tuple[str, str], ...], method: str | None = None,
                   timing: str | None = None, extra: bool = False) -> Node:
    """The benchmark of ``subject``'s model, filed under its method (or ``method``: the
    benchmark of an inspected model of one's own is its ``base``), timed by ``timing``
    (default: ``[benchmark] latency_method``); ``extra``: a further timing method's, latency
    alone, its id suffixed with the method."""
    bench = config.benchmark
    latency = {"latency_images": bench.latency_images, "latency_runs": bench.latency_runs,
               "warmup_runs": bench.warmup_runs,
               "latency_method": timing or bench.latency_method,
               "min_duration_s": bench.min_duration_s, "cooldown_c": bench.cooldown_c,
               "cooldown_timeout_s": bench.cooldown_timeout_s}
    return Node(
        id=f"benchmark/{subject.id}" + (f"/{timing}" if extra else ""), job="benchmark",
        params={
            **data_params(config, subject.copy),
            **(latency if subject.copy == 1 else ACCURACY_ONLY),
            "threads": bench.threads, "eval_batch_size": bench.eval_batch_size,
            "accuracy": not extra},
        inputs=(*data_in, *model_inputs("model", subject)), model=subject.model,
        method=method or subject.method, copy=subject.copy, role="benchmark")


def resolve_spec(node: Node, digests: Mapping[str, str]) -> AnySpec:
    """The node's exact spec, given the content digest of each input (by spec field)."""
    values = dict(node.params)
    for field, _source in node.inputs:
        if field in digests:  # an upstream recorded before it wrote an .h5 copy has none
            values[field] = {"path": f"{CONTAINER_INPUTS_DIR}/{field}", "sha256": digests[field]}
    try:
        return spec_class(node.job).model_validate(values)
    except ValidationError as error:
        raise UserError(f"campaign job {node.id}: {describe_validation_error(error)}") from None
