"""Campaign expansion: pure, so every property is checked without an engine."""

from __future__ import annotations

import hashlib

import pytest

from launcher.contract.specs import BenchmarkSpec, DistillSpec, PruneSpec, QuantizeSpec, TrainSpec
from launcher.errors import UserError
from launcher.keys import job_key
from launcher.study.campaign import load_campaign, parse_config, with_overrides
from launcher.study.plan import DATASET, Node, Plan, expand, is_weights, resolve_spec

IMAGE_ID = "sha256:" + "1" * 64

# The paper's study (Section 2.5): 6 models x 5 copies trained; each copy compressed by
# FP16, INT8, pruning 25/50/75 % (6 x 5 x 5 = 150) and distilled into MobileNetV3Small by the
# 5 larger teachers (5 x 5 = 25); the student trained from scratch, 5 copies; and every model
# those 210 jobs make benchmarked once (accuracy on every copy, latency on copy 1); copy 1's
# 30 SavedModels (6 bases, 18 pruned, 5 distilled, 1 scratch) once more, timed by predict.
PAPER_COUNTS = {"train": 30, "quantize": 60, "prune": 90, "distill": 25, "scratch": 5,
                "benchmark": 240}
# The quick preset (one timing method) as it was before latency_methods existed.
QUICK_COUNTS = {"decode": 1, "train": 1, "quantize": 2, "prune": 1, "distill": 1,
                "benchmark": 5}


def fake_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def resolve_all(plan: Plan, salt: str = "") -> dict[str, str]:
    """Each node's key, with every input's digest standing in for its content: the digest of
    an upstream artifact is derived from the upstream's own key, as real content would
    differ whenever the job that made it differs."""
    keys: dict[str, str] = {}
    for node in plan.nodes:
        digests = {field: fake_digest(salt + "dataset" if source == DATASET
                                      else source if is_weights(source) else keys[source])
                   for field, source in node.inputs}
        keys[node.id] = job_key(resolve_spec(node, digests), IMAGE_ID)
    return keys


@pytest.fixture(scope="module")
def paper() -> Plan:
    return expand(load_campaign("paper"))


def test_paper_preset_job_counts(paper):
    assert paper.counts() == PAPER_COUNTS
    assert len(paper.nodes) == 450


def test_paper_specs_follow_the_paper(paper):
    digests = {"model": "a" * 64, "teacher": "b" * 64, "images": "c" * 64,
               "model_h5": "d" * 64, "teacher_h5": "e" * 64, "weights_file": "f" * 64,
               "student_weights_file": "f" * 64}
    for node in paper.nodes:
        spec = resolve_spec(node, {f: digests[f] for f, _ in node.inputs})
        assert spec.images is None and spec.tfds_name == "oxford_flowers102"
        assert (spec.input_size, spec.batch_size) == (224, 4)
        if isinstance(spec, TrainSpec):
            assert spec.epochs == 10 and spec.weights == "imagenet"
        if isinstance(spec, QuantizeSpec):
            assert spec.mode in ("fp16", "int8") and spec.calibration_images == 128
        if isinstance(spec, PruneSpec):
            assert spec.target_sparsity in (0.25, 0.5, 0.75) and spec.epochs == 5
            assert spec.schedule == "constant"
        if isinstance(spec, DistillSpec):
            assert (spec.temperature, spec.alpha, spec.epochs) == (10.0, 0.1, 5)
            assert spec.student == "MobileNetV3Small"
        if isinstance(spec, BenchmarkSpec):
            if node.copy == 1:  # the paper's latency: copy 1, 1000 images, 11 runs, 1 dropped
                assert (spec.latency_images, spec.latency_runs, spec.warmup_runs) == (
                    1000, 11, 1)
            else:
                assert spec.latency_images == 1 and spec.accuracy


def test_every_node_runs_after_its_upstream(paper):
    seen: set[str] = set()
    for node in paper.nodes:
        assert all(up in seen for up in node.upstream), node.id
        seen.add(node.id)
    assert len(seen) == len(paper.nodes), "node ids are unique"


def test_dependencies_link_the_right_copies(paper):
    nodes = {n.id: n for n in paper.nodes}
    for node in paper.nodes:
        if node.role == "compress":
            (train,) = node.upstream
            assert nodes[train].job == "train"
            assert (nodes[train].model, nodes[train].copy) == (node.model, node.copy)
            assert node.params["seed"] == nodes[train].params["seed"]
        if node.role == "benchmark":
            (subject,) = node.upstream
            assert (nodes[subject].model, nodes[subject].method, nodes[subject].copy) == (
                node.model, node.method, node.copy)
        if node.job in ("train", "scratch"):
            assert node.upstream == ()
    # Copies differ in their training seed; everything else about them is the same.
    seeds = {n.params["seed"] for n in paper.nodes if n.job == "train"}
    assert seeds == {0, 1, 2, 3, 4}


def test_distillation_teachers_are_the_larger_models(paper):
    teachers = {n.model for n in paper.nodes if n.job == "distill"}
    assert "MobileNetV3Small" not in teachers and len(teachers) == 5
    scratch = [n for n in paper.nodes if n.job == "scratch"]
    assert {n.copy for n in scratch} == {1, 2, 3, 4, 5}
    assert {n.params["architecture"] for n in scratch} == {"MobileNetV3Small"}


def test_latency_only_on_copy_one(paper):
    full = [n for n in paper.nodes if n.job == "benchmark" and n.params["latency_runs"] == 11]
    assert {n.copy for n in full} == {1}
    # 6 base + 30 compressed + 5 distilled + 1 scratch by call; the 30 SavedModels by predict
    assert len(full) == 42 + 30


def test_paper_times_copy_ones_savedmodels_both_ways_and_tflite_once(paper):
    assert paper.config.benchmark.timing_methods == ("call", "predict")
    nodes = {n.id: n for n in paper.nodes}
    timed: dict[str, list[str]] = {}
    for node in paper.nodes:
        if node.role == "benchmark" and node.copy == 1:
            (subject,) = node.upstream
            timed.setdefault(subject, []).append(node.params["latency_method"])
    for subject, methods in timed.items():
        tflite = nodes[subject].job == "quantize"
        assert methods == (["call"] if tflite else ["call", "predict"]), subject
    assert sum(len(m) == 2 for m in timed.values()) == 30
    assert {nodes[s].method for s, m in timed.items() if len(m) == 2} == {
        "base", "prune25", "prune50", "prune75", "distill", "scratch"}
    # The call benchmark keeps the plain id and measures accuracy; the predict one is its
    # own node, suffixed, latency alone, filed under the same model and method.
    call = nodes["benchmark/train/DenseNet201/copy1"]
    predict = nodes["benchmark/train/DenseNet201/copy1/predict"]
    assert (call.params["latency_method"], call.params["accuracy"]) == ("call", True)
    assert (predict.params["latency_method"], predict.params["accuracy"]) == ("predict", False)
    assert (predict.model, predict.method, predict.copy, predict.inputs) == (
        call.model, call.method, call.copy, call.inputs)
    assert "benchmark/fp16/DenseNet201/copy1/predict" not in nodes
    # Other copies: accuracy, one benchmark each, as before.
    assert "benchmark/train/DenseNet201/copy2/predict" not in nodes


def test_a_second_timing_method_leaves_every_existing_key_as_it_was():
    """A store the paper preset ran with one method resumes: each of its nodes has the same
    id and key, and the predict benchmarks are new nodes beside them."""
    both = load_campaign("paper")
    single = both.model_copy(update={"benchmark": both.benchmark.model_copy(
        update={"latency_methods": None})})
    before, after = resolve_all(expand(single)), resolve_all(expand(both))
    assert {n: after[n] for n in before} == before
    added = set(after) - set(before)
    assert len(added) == 30 and all(n.endswith("/copy1/predict") for n in added)
    assert {after[n] for n in added}.isdisjoint(before.values())


def test_quick_preset_keeps_one_benchmark_per_model():
    plan = expand(load_campaign("quick"))
    assert plan.config.benchmark.timing_methods == ("call",)
    assert plan.counts() == QUICK_COUNTS and len(plan.nodes) == 11
    assert not any(n.id.endswith(("/call", "/predict")) for n in plan.nodes)


QUICK_TEXT = 'name = "x"\nmodels = ["MobileNetV3Small"]\nmethods = ["fp16", "prune50"]\n'


def test_latency_methods_or_the_single_latency_method():
    single = parse_config(QUICK_TEXT + '[benchmark]\nlatency_method = "predict"\n', "x.toml")
    assert single.benchmark.timing_methods == ("predict",)
    plan = expand(single)
    assert [n.id for n in plan.nodes if n.role == "benchmark" and n.copy == 1] == [
        "benchmark/train/MobileNetV3Small/copy1", "benchmark/fp16/MobileNetV3Small/copy1",
        "benchmark/prune50/MobileNetV3Small/copy1"]
    # The first listed method is the main one: plain ids, accuracy; the others suffixed.
    listed = parse_config(QUICK_TEXT + '[benchmark]\nlatency_methods = ["predict", "call"]\n',
                          "x.toml")
    assert listed.benchmark.latency_method == "predict"
    ids = {n.id: n.params for n in expand(listed).nodes if n.role == "benchmark"}
    assert ids["benchmark/prune50/MobileNetV3Small/copy1"]["latency_method"] == "predict"
    assert ids["benchmark/prune50/MobileNetV3Small/copy1/call"]["latency_method"] == "call"
    assert "benchmark/fp16/MobileNetV3Small/copy1/call" not in ids
    # A dumped config validates again (command-line overrides dump and re-validate it).
    assert with_overrides(listed, copies=2).benchmark.timing_methods == ("predict", "call")
    for bad, message in (('latency_method = "call"\nlatency_methods = ["predict"]',
                          "not both"),
                         ('latency_methods = ["call", "call"]', "once"),
                         ("latency_methods = []", "latency_methods"),
                         ('latency_methods = ["fast"]', "latency_methods")):
        with pytest.raises(UserError, match=message):
            parse_config(QUICK_TEXT + "[benchmark]\n" + bad + "\n", "x.toml")


def test_keys_are_stable_across_expansions():
    first = resolve_all(expand(load_campaign("paper")))
    second = resolve_all(expand(load_campaign("paper")))
    assert first == second
    assert len(set(first.values())) == len(first), "no two jobs share a key"


def test_changing_the_data_changes_every_key():
    plan = expand(load_campaign("quick"))
    assert set(resolve_all(plan).values()).isdisjoint(resolve_all(plan, salt="x").values())


def test_an_upstream_artifact_changes_its_downstream_keys_only():
    plan = expand(load_campaign("paper"))
    node = plan.node("prune50/DenseNet201/copy2")
    digests = {"model": "a" * 64}
    other = {"model": "b" * 64}
    assert job_key(resolve_spec(node, digests), IMAGE_ID) != job_key(
        resolve_spec(node, other), IMAGE_ID)


def test_a_setting_changes_the_keys_of_the_jobs_it_reaches():
    base = load_campaign("paper")
    before = resolve_all(expand(base))
    more_epochs = resolve_all(expand(base.model_copy(update={"epochs": 11})))
    # Training changes, so does everything made from it (through the artifacts' digests);
    # the scratch baseline does not train for `epochs` and keeps its key.
    changed = {n for n in before if before[n] != more_epochs[n]}
    assert all(not n.startswith("scratch/") for n in changed)
    assert {n for n in before if n.startswith("train/")} <= changed

    bench = base.benchmark.model_copy(update={"latency_images": 500})
    latency = resolve_all(expand(base.model_copy(update={"benchmark": bench})))
    changed = {n for n in before if before[n] != latency[n]}
    assert changed and all(n.startswith("benchmark/") and n.endswith(("copy1", "copy1/predict"))
                           for n in changed)


def test_the_pruning_table_reaches_the_prune_specs_and_only_their_keys():
    base = load_campaign("quick")
    pruning = base.pruning.model_copy(update={"learning_rate_decay": "cosine"})
    cosine = expand(base.model_copy(update={"pruning": pruning}))
    specs = {node.id: node.params for node in cosine.nodes if node.job == "prune"}
    assert specs and all(params["learning_rate_decay"] == "cosine"
                         for params in specs.values())
    before, after = resolve_all(expand(base)), resolve_all(cosine)
    changed = {n for n in before if before[n] != after[n]}
    assert changed == {n for n in before if n.startswith(("prune", "benchmark/prune"))}
    with pytest.raises(UserError, match="learning_rate_decay"):
        parse_config('name = "x"\nmodels = ["MobileNetV3Small"]\nmethods = ["prune50"]\n'
                     '[pruning]\nlearning_rate_decay = "linear"\n', "x.toml")


def test_the_image_is_part_of_the_key():
    node = expand(load_campaign("quick")).nodes[0]
    spec = resolve_spec(node, {"images": "c" * 64})
    assert job_key(spec, IMAGE_ID) != job_key(spec, "sha256:" + "2" * 64)


def test_quick_preset_needs_no_download():
    plan = expand(load_campaign("quick"))
    assert plan.config.dataset.source == "digits"
    assert all(("images", DATASET) in n.inputs for n in plan.nodes)
    assert all(n.params.get("weights", None) is None for n in plan.nodes if n.job == "train")
    assert {n.method for n in plan.nodes} >= {"base", "fp16", "int8", "distill"}


def test_overrides_narrow_the_campaign():
    config = with_overrides(load_campaign("paper"), models=["DenseNet201"],
                            methods=["int8", "distill"], copies=2)
    plan = expand(config)
    # 6 benchmarks, and copy 1's base and distilled model timed by predict as well
    assert plan.counts() == {"train": 2, "quantize": 2, "distill": 2, "benchmark": 8}


def test_repeats_is_no_longer_a_setting():
    # Each copy's compression is one timed compression: a separate count never reached a job.
    with pytest.raises(UserError, match="repeats"):
        parse_config('name = "x"\nmodels = ["MobileNetV3Small"]\nmethods = ["fp16"]\n'
                     'repeats = 3\n', "x.toml")


def test_no_node_for_methods_that_do_not_apply():
    config = with_overrides(load_campaign("quick"), methods=["distill"])
    config = config.model_copy(update={"distill": config.distill.model_copy(
        update={"self_distill": False})})
    plan = expand(config)
    assert [n.job for n in plan.nodes] == ["decode", "train", "benchmark"]


def test_node_upstream_excludes_the_dataset_and_caches():
    node = Node(id="x", job="benchmark", params={}, inputs=(
        ("images", DATASET), ("decoded", "decode/32px"), ("model", "train/a")),
        model="a", method="base", copy=1, role="benchmark")
    assert node.upstream == ("train/a",)


def test_keras_models_are_handed_on_as_h5_and_tflite_models_are_not(paper):
    """Issue 11: every job that loads a Keras model made upstream also gets its .h5 copy from
    the same upstream; a benchmark of a .tflite and a quantization of a base get none (quantize
    converts the SavedModel itself, docs/methodology.md)."""
    by_id = {node.id: node for node in paper.nodes}
    for node in paper.nodes:
        fields = dict(node.inputs)
        for model_field in ("model", "teacher"):
            if model_field not in fields:
                continue
            upstream = by_id[fields[model_field]]
            keras_in = node.job != "quantize" and upstream.job != "quantize"
            assert (fields.get(model_field + "_h5") == upstream.id) is keras_in, node.id
            assert (model_field + "_h5" in fields) is keras_in, node.id
        assert len(node.upstream) == len(set(node.upstream)) <= 1


def test_an_upstream_without_an_h5_copy_leaves_the_field_out(paper):
    """A store recorded before the .h5 copies existed: the job loads the SavedModel, and its
    spec (so its key) is what it would have been with no hand-off field at all."""
    node = next(n for n in paper.nodes if n.job == "prune")
    without = resolve_spec(node, {"model": "a" * 64})
    assert isinstance(without, PruneSpec) and without.model_h5 is None
    with_copy = resolve_spec(node, {"model": "a" * 64, "model_h5": "d" * 64})
    assert isinstance(with_copy, PruneSpec) and with_copy.model_h5 is not None
    assert with_copy.model_h5.path == "/inputs/model_h5"
    assert job_key(without, IMAGE_ID) != job_key(with_copy, IMAGE_ID)


def test_a_folder_is_decoded_once_for_every_job_that_reads_it():
    """Issue 11, item 2: an image-folder campaign starts with one decode job at its input
    size; every job that reads the folder gets its output as ``decoded``. The decoded pixels
    are a cache: their digest is not part of any key. tfds campaigns keep tfds's cache."""
    plan = expand(with_overrides(load_campaign("quick"), copies=2))
    decode = plan.nodes[0]
    assert (decode.job, decode.role, dict(decode.params)) == (
        "decode", "prepare", {"input_size": plan.config.input_size})
    assert [n for n in plan.nodes if n.job == "decode"] == [decode]
    for node in plan.nodes[1:]:
        fields = dict(node.inputs)
        assert ("images" in fields) is ("decoded" in fields), node.id
        if "decoded" in fields:
            assert fields["decoded"] == decode.id
    keys = resolve_all(plan)
    for node in plan.nodes[1:]:
        digests = {field: fake_digest("dataset" if source == DATASET
                                      else source if is_weights(source) else keys[source])
                   for field, source in node.inputs}
        without = {field: digest for field, digest in digests.items() if field != "decoded"}
        spec = resolve_spec(node, digests)
        assert getattr(spec, "decoded", None) is not None, node.id
        assert job_key(spec, IMAGE_ID) == job_key(resolve_spec(node, without), IMAGE_ID)
    assert not [n for n in expand(load_campaign("paper")).nodes if n.job == "decode"]


def test_canonical_reaches_every_network_built_and_changes_only_what_it_reaches():
    """``canonical = true`` is in every spec that builds a keras.applications network (train,
    scratch, the distillation student), so their keys and everything downstream change; left
    at its default it is in no spec, and the keys are the ones stores were written with."""
    plain = with_overrides(load_campaign("paper"), models=["MobileNetV3Small", "EfficientNetB1"],
                           methods=["fp16", "distill", "scratch"], copies=1)
    canonical = plain.model_copy(update={"canonical": True})
    builders = {"train", "scratch", "distill"}
    for node in expand(plain).nodes:
        assert "canonical" not in node.params, node.id
    built = [node for node in expand(canonical).nodes if node.job in builders]
    assert {node.job for node in built} == builders
    assert all(node.params["canonical"] is True for node in built)
    specs = [resolve_spec(node, {field: "0" * 64 for field, _ in node.inputs})
             for node in built]
    assert all(spec.canonical for spec in specs)  # type: ignore[union-attr]
    before, after = resolve_all(expand(plain)), resolve_all(expand(canonical))
    assert before.keys() == after.keys()
    assert all(before[n] != after[n] for n in before if not n.startswith("decode"))
    assert "canonical" in parse_config('name = "x"\nmodels = ["MobileNetV3Small"]\n'
                                       'methods = ["fp16"]\ncanonical = true\n',
                                       "x.toml").model_dump()
