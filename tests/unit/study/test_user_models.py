"""Models of one's own in a campaign: the [[models]] table, its one-line errors, and its
expansion (an inspect node per file, no training, the files as inputs by content digest)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from launcher.errors import UserError
from launcher.files import tree_digest
from launcher.keys import job_key
from launcher.store import Store
from launcher.study.campaign import parse_config, with_overrides
from launcher.study.plan import USER_FILE, Plan, expand
from launcher.study.resolve import Resolver
from launcher.study.user_models import UserModel
from tests.unit.test_cli import assert_one_line_error, edgecompress

IMAGE_ID = "sha256:" + "1" * 64


def campaign(tmp_path: Path, models: str, methods: str = '["fp16", "int8", "prune50"]',
             extra: str = "") -> Path:
    """A campaign file beside two trained copies (any bytes: the launcher never loads them),
    a SavedModel folder and a custom layers file."""
    (tmp_path / "a.keras").write_bytes(b"PK\x03\x04 copy one")
    (tmp_path / "b.h5").write_bytes(b"\x89HDF\r\n\x1a\n copy two")
    (tmp_path / "saved").mkdir(exist_ok=True)
    (tmp_path / "saved" / "saved_model.pb").write_bytes(b"graph")
    (tmp_path / "layers.py").write_text("class Mine:\n    pass\n")
    path = tmp_path / "mine.toml"
    path.write_text(f'name = "mine"\nmodels = {models}\nmethods = {methods}\ncopies = 3\n'
                    f'input_size = 40\nweights = "none"\n{extra}[dataset]\nsource = "digits"\n')
    return path


def load(path: Path) -> Plan:
    return expand(parse_config(path.read_text(), str(path), path.parent))


MIXED = ('["MobileNetV3Small", {name = "mynet", paths = ["a.keras", "b.h5"], '
         'custom_objects = "layers.py"}]')


def test_a_table_names_files_relative_to_the_campaign(tmp_path):
    path = campaign(tmp_path, MIXED)
    config = parse_config(path.read_text(), str(path), tmp_path)
    assert config.models[0] == "MobileNetV3Small"
    own = config.models[1]
    assert isinstance(own, UserModel)
    assert own.files == (tmp_path / "a.keras", tmp_path / "b.h5")
    assert own.custom_objects == tmp_path / "layers.py"
    assert config.model_names == ["MobileNetV3Small", "mynet"]


def test_a_savedmodel_folder_is_a_model(tmp_path):
    plan = load(campaign(tmp_path, '[{name = "sm", path = "saved"}]'))
    assert [n.id for n in plan.nodes if n.job == "inspect"] == ["inspect/sm/copy1"]


def test_own_models_skip_training_and_are_compressed_and_benchmarked(tmp_path):
    plan = load(campaign(tmp_path, MIXED, '["fp16", "int8", "prune50", "distill"]'))
    own = [n for n in plan.nodes if n.model == "mynet"]
    assert not [n for n in own if n.job in ("train", "scratch")]
    # Two files, three copies asked: copy N is file N, and there is no copy 3.
    assert {n.copy for n in own} == {1, 2}
    assert {n.id for n in own if n.copy == 1} == {
        "inspect/mynet/copy1", "benchmark/inspect/mynet/copy1",
        "fp16/mynet/copy1", "benchmark/fp16/mynet/copy1",
        "int8/mynet/copy1", "benchmark/int8/mynet/copy1",
        "prune50/mynet/copy1", "benchmark/prune50/mynet/copy1",
        "distill/mynet/copy1", "benchmark/distill/mynet/copy1"}
    assert plan.node("benchmark/inspect/mynet/copy1").method == "base"
    assert plan.node("inspect/mynet/copy1").role == "prepare"  # no numbers of its own
    # Every job of the model waits for its inspection, and reads the user's file, its
    # custom layers with it.
    for method in ("fp16", "prune50", "distill"):
        node = plan.node(f"{method}/mynet/copy2")
        assert node.upstream == ("inspect/mynet/copy2",)
        assert ("custom_objects", "inspect/mynet/copy2") in node.inputs
    # The pruned model keeps the custom layers; the quantized and distilled ones have none.
    assert ("custom_objects", "inspect/mynet/copy2") in plan.node(
        "benchmark/prune50/mynet/copy2").inputs
    for method in ("fp16", "distill"):
        assert not [field for field, _ in plan.node(f"benchmark/{method}/mynet/copy2").inputs
                    if field == "custom_objects"]
    assert ("model", USER_FILE + str(tmp_path / "b.h5")) in plan.node(
        "inspect/mynet/copy2").inputs
    # The architecture beside it is trained as before.
    assert plan.node("fp16/MobileNetV3Small/copy3").upstream == ("train/MobileNetV3Small/copy3",)


def test_files_are_inputs_by_content_digest(tmp_path):
    """A replaced file changes the keys of exactly the jobs that read it."""
    path = campaign(tmp_path, MIXED)
    (tmp_path / "data").mkdir()

    def keys() -> dict[str, str]:
        plan = load(path)
        resolver = Resolver(plan, Store(tmp_path / "store"), IMAGE_ID, tmp_path / "data")
        found = {}
        for node in plan.nodes:
            if node.model != "mynet" or node.job != "inspect" and not node.upstream[
                    0].startswith("inspect/"):
                continue  # the jobs reading the user's files (not those of their outputs)
            inputs = resolver.inputs(node)
            if node.job != "inspect" and node.upstream[0] not in resolver.done:
                assert inputs is None  # waits for its inspection
                resolver.done[node.upstream[0]] = (tmp_path, None)  # type: ignore[assignment]
                inputs = resolver.inputs(node)
            assert inputs is not None
            spec = resolver.spec(node, inputs)
            found[node.id] = job_key(spec, IMAGE_ID)
            if node.id == "fp16/mynet/copy1":
                assert inputs["model"] == tmp_path / "a.keras"
                assert spec.model.sha256 == tree_digest(tmp_path / "a.keras")  # type: ignore
                assert inputs["custom_objects"] == tmp_path / "layers.py"
        return found

    before = keys()
    (tmp_path / "b.h5").write_bytes(b"\x89HDF\r\n\x1a\n copy two, retrained")
    after = keys()
    changed = {node for node in before if before[node] != after[node]}
    assert changed == {node for node in before if node.endswith("/copy2")}
    assert {"inspect/mynet/copy2", "prune50/mynet/copy2"} <= changed


def test_narrowing_by_name_keeps_the_table(tmp_path):
    path = campaign(tmp_path, MIXED)
    config = with_overrides(parse_config(path.read_text(), str(path), tmp_path),
                            models=["mynet"], copies=1)
    assert [m.name for m in config.models if isinstance(m, UserModel)] == ["mynet"]
    assert [n.id for n in expand(config).nodes if n.job == "inspect"] == ["inspect/mynet/copy1"]


@pytest.mark.parametrize(("models", "fragment"), [
    ('[{name = "mynet", path = "missing.keras"}]', "missing.keras does not exist"),
    ('[{name = "mynet", path = "layers.py"}]', "is not a .keras or .h5 file"),
    ('[{name = "mynet", path = "."}]', "without saved_model.pb"),
    ('[{name = "mynet"}]', "give path (one file) or paths"),
    ('[{name = "mynet", path = "a.keras", paths = ["b.h5"]}]', "not both or neither"),
    ('[{name = "mynet", path = "a.keras", custom_objects = "b.h5"}]', "is not a .py file"),
    ('[{name = "DenseNet169", path = "a.keras"}]', "give your own model another name"),
    ('[{name = "mynet", path = "a.keras"}, {name = "mynet", path = "b.h5"}]',
     "each model once"),
    ('[{name = "mynet", pth = "a.keras"}]', "pth"),
    ('["MobileNetV3Smal"]', "unknown architecture 'MobileNetV3Smal'"),
])
def test_bad_tables_are_one_line(tmp_path, models, fragment):
    path = campaign(tmp_path, models)
    with pytest.raises(UserError) as caught:
        load(path)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_a_bad_table_on_the_command_line_is_one_line_and_plans_nothing(tmp_path):
    path = campaign(tmp_path, '[{name = "mynet", path = "missing.keras"}]')
    assert_one_line_error(edgecompress("campaign", "plan", str(path), "--store",
                                       str(tmp_path / "store")), 2, "missing.keras does not exist")
    assert not (tmp_path / "store").exists()


# --- the job side's pure helpers, imported on the host without TensorFlow -----------------


def test_the_job_tells_model_formats_by_content_not_name(tmp_path):
    from jobs import models

    with zipfile.ZipFile(tmp_path / "k", "w") as archive:
        archive.writestr("config.json", "{}")
    (tmp_path / "h").write_bytes(b"\x89HDF\r\n\x1a\n rest")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "saved_model.pb").write_bytes(b"")
    (tmp_path / "x").write_bytes(b"TFL3 not a keras model")
    assert [models.keras_format(str(tmp_path / name)) for name in "khsx"] == [
        "keras", "h5", "saved_model", None]
    with pytest.raises(Exception, match="neither a SavedModel folder"):
        models.check_model("teacher", {"path": str(tmp_path / "x")})


def test_the_job_names_why_the_data_cannot_feed_a_model():
    from jobs.inspect_model import shape_problem

    assert shape_problem((None, 40, 40, 3), (None, 10), 40, 10) is None
    assert "has 12 classes out, the dataset has 10" in shape_problem(
        (None, 40, 40, 3), (None, 12), 40, 10)
    assert "set input_size = 32" in shape_problem((None, 32, 32, 3), (None, 10), 40, 10)
    assert "not 3 (RGB)" in shape_problem((None, 40, 40, 1), (None, 10), 40, 10)
    assert "no fixed input size" in shape_problem((None, None, None, 3), (None, 10), 40, 10)
    assert "not one batch of images" in shape_problem([(None, 40, 40, 3)] * 2, (None, 10),
                                                      40, 10)


def test_custom_objects_are_the_files_dict_or_its_classes(tmp_path):
    from jobs import user_code

    # Named as the job sees it: mounted without its .py suffix.
    (tmp_path / "a.py").write_text("class Mine:\n    pass\nimport json\n")
    (tmp_path / "a.py").rename(tmp_path / "custom_objects")
    (tmp_path / "b.py").write_text("def f():\n    pass\ncustom_objects = {'g': f}\n")
    (tmp_path / "c.py").write_text("raise RuntimeError('no GPU here')\n")
    assert list(user_code.custom_objects(
        {"custom_objects": {"path": str(tmp_path / "custom_objects")}})) == ["Mine"]
    assert list(user_code.custom_objects({"custom_objects": {"path": str(tmp_path / "b.py")}})
                ) == ["g"]
    assert user_code.custom_objects({}) is None
    with pytest.raises(Exception, match="RuntimeError: no GPU here"):
        user_code.custom_objects({"custom_objects": {"path": str(tmp_path / "c.py")}})


def test_an_own_h5_files_load_counts_as_the_load():
    """The report replaces the load of a trained model's .h5 handoff copy by its SavedModel's;
    a user's own .h5 file is the model itself, so its load stays what the job measured."""
    from types import SimpleNamespace

    from launcher.report.cells import read_compression_time

    metrics = SimpleNamespace(load_s=2.0, save_s=1.0, compression_total_s=8.0,
                              input_format="h5", input_load_s=1.5)
    own = read_compression_time(metrics, 5.0, None, handoff=False)
    assert (own.load, own.total) == (2.0, 8.0)
    copied = read_compression_time(metrics, 5.0, None)
    assert (copied.load, copied.total) == (None, None)


def test_an_inspection_is_asked_for_keras2_only_where_the_campaign_prunes_or_distils(tmp_path):
    """A Keras 3 file can be quantized and benchmarked, not pruned or distilled: where the
    campaign would, its inspect job refuses it first (needs_keras2). The field is keyed only
    when set, so a campaign that only quantizes keeps its inspect keys."""
    own = '[{name = "mynet", path = "a.keras"}]'
    for methods, needs in (('["fp16", "int8"]', False), ('["fp16", "prune50"]', True),
                           ('["prune50+int8"]', True), ('["distill"]', True)):
        node = load(campaign(tmp_path, own, methods)).node("inspect/mynet/copy1")
        assert node.params.get("needs_keras2", False) is needs, methods
    quantized = load(campaign(tmp_path, own, '["fp16"]')).node("inspect/mynet/copy1")
    assert "needs_keras2" not in quantized.params
