"""Chained compressions (prune50+int8, distill+fp16): the method names a campaign accepts, and
their expansion into one keyed job per link (launcher/study/methods.py, plan.py)."""

from __future__ import annotations

import pytest

from launcher.contract.specs import QuantizeSpec
from launcher.errors import UserError
from launcher.report.cells import family_of, method_order
from launcher.report.paper import paper_backend
from launcher.study.campaign import load_campaign, parse_config, with_overrides
from launcher.study.methods import split_chain
from launcher.study.plan import expand, resolve_spec
from tests.unit.study.test_plan import resolve_all


def quick(*methods: str, copies: int = 1):
    return expand(with_overrides(load_campaign("quick"), methods=list(methods), copies=copies))


@pytest.mark.parametrize("method, links", [
    ("prune50+int8", ("prune50", "int8")), ("prune75+fp16", ("prune75", "fp16")),
    ("distill+int8", ("distill", "int8")), ("prune5+fp16", ("prune5", "fp16")),
    ("int8", None), ("prune50", None), ("distill", None)])
def test_chains_split_into_their_links(method, links):
    assert split_chain(method) == links


@pytest.mark.parametrize("method", [
    "int8+prune50", "prune50+distill", "scratch+int8", "fp16+int8", "prune50+int8+fp16",
    "prune0+int8", "prune100+int8", "prune50+", "+int8", "prune50 + int8", "prune50+dynamic"])
def test_other_combinations_are_one_line_errors(method):
    with pytest.raises(UserError, match=r"invalid --methods: .*chains A\+B"):
        with_overrides(load_campaign("quick"), methods=[method])
    with pytest.raises(UserError, match="methods"):
        parse_config(f'name = "x"\nmodels = ["MobileNetV3Small"]\nmethods = ["{method}"]\n',
                     "x.toml")


def test_a_chains_quantize_node_reads_the_prune_nodes_model():
    plan = quick("prune50", "prune50+int8", copies=2)
    for copy in (1, 2):
        chain = plan.node(f"prune50+int8/MobileNetV3Small/copy{copy}")
        prune = plan.node(f"prune50/MobileNetV3Small/copy{copy}")
        assert chain.job == "quantize" and chain.params["mode"] == "int8"
        assert chain.upstream == (prune.id,)
        # The SavedModel, never the .h5 copy: the converter reads SavedModels.
        assert ("model", prune.id) in chain.inputs and ("model_h5", prune.id) not in chain.inputs
        assert chain.role == "compress" and chain.method == "prune50+int8"
        assert plan.node(f"benchmark/{chain.id}").upstream == (chain.id,)
    ids = [node.id for node in plan.nodes]
    assert len(ids) == len(set(ids)), "prune50 is one node, shared by the chain"
    assert plan.counts() == {"decode": 1, "train": 2, "prune": 2, "quantize": 2,
                             "benchmark": 6}


def test_every_link_has_its_own_key_and_the_chain_differs_from_int8_alone():
    plan = quick("int8", "prune50", "prune50+int8", "distill+fp16")
    keys = resolve_all(plan)
    assert len(set(keys.values())) == len(keys)
    chain = plan.node("prune50+int8/MobileNetV3Small/copy1")
    alone = plan.node("int8/MobileNetV3Small/copy1")
    assert chain.params == alone.params  # the same conversion: only its input differs
    assert keys[chain.id] != keys[alone.id]
    spec = plan.node("distill+fp16/MobileNetV3Small/copy1")
    assert spec.upstream == ("distill/MobileNetV3Small/copy1",)
    digests = {"model": "a" * 64, "images": "b" * 64}
    assert isinstance(resolve_spec(spec, digests), QuantizeSpec)


def test_a_first_link_not_asked_for_runs_unbenchmarked():
    plan = quick("prune75+fp16")
    assert [n.id for n in plan.nodes if n.job != "decode"] == [
        "train/MobileNetV3Small/copy1", "benchmark/train/MobileNetV3Small/copy1",
        "prune75/MobileNetV3Small/copy1", "prune75+fp16/MobileNetV3Small/copy1",
        "benchmark/prune75+fp16/MobileNetV3Small/copy1"]


def test_chains_come_after_the_single_methods_whatever_the_order_listed():
    plan = quick("prune50+int8", "prune50")
    order = [n.id for n in plan.nodes]
    assert order.index("prune50/MobileNetV3Small/copy1") < order.index(
        "prune50+int8/MobileNetV3Small/copy1")
    assert "benchmark/prune50/MobileNetV3Small/copy1" in order


def test_no_distill_chain_where_distillation_does_not_apply():
    config = with_overrides(load_campaign("paper"), models=["MobileNetV3Small"],
                            methods=["distill+int8", "prune25+int8"], copies=1)
    assert not any(n.method.startswith("distill") for n in expand(config).nodes)


def test_the_report_orders_chains_after_their_links_and_keeps_them_from_the_paper():
    methods = ["scratch", "prune50+int8", "distill+int8", "int8", "base", "prune25+fp16",
               "prune50", "distill", "prune50+fp16", "fp16"]
    assert sorted(methods, key=method_order) == [
        "base", "fp16", "int8", "prune50", "distill", "prune25+fp16", "prune50+fp16",
        "prune50+int8", "distill+int8", "scratch"]
    assert family_of("prune50+int8") == family_of("distill+fp16") == "chained"
    assert family_of("prune50") == "pruning"
    assert paper_backend("prune50+int8") is None and paper_backend("prune50") == "tf-gpu"


def test_a_chain_on_a_model_of_ones_own(tmp_path):
    """[[models]] tables (launcher/study/user_models.py): the chain quantizes the pruning of
    the user's own file like that of a trained copy."""
    from tests.unit.study.test_user_models import campaign, load

    plan = load(campaign(tmp_path, '[{name = "mynet", path = "a.keras"}]',
                            '["prune50+int8"]'))
    chain = plan.node("prune50+int8/mynet/copy1")
    prune = plan.node("prune50/mynet/copy1")
    assert chain.job == "quantize" and chain.upstream == (prune.id,)
    assert prune.upstream == ("inspect/mynet/copy1",)
    assert f"benchmark/{prune.id}" not in {n.id for n in plan.nodes}
