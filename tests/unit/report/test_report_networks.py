"""The report on which network a model name stood for: listed per device, differences across
devices named, and no ratio to the paper where ours is not the network the paper's stack
builds. Synthetic cells, no store."""

from __future__ import annotations

from launcher.contract.results import Fingerprint
from launcher.contract.vocabulary import PAPER_ARCHITECTURES
from launcher.report.beside import paper_table
from launcher.report.cells import Cell, Cells
from launcher.report.networks import PAPER_NETWORKS, differs_from_papers, network_table
from launcher.report.paper import MOB_S, PaperDevice
from launcher.report.results import Device

from .test_report_compare import paper_row, rows, study

NANO = Device("nano", "NVIDIA Jetson Nano Developer Kit, TF 2.7.0")
XAVIER = Device("xavier", "NVIDIA Jetson Xavier NX Developer Kit, TF 2.12.0")
OTHER = Fingerprint(parameters=1_000, layers=10, sha256="0" * 64)


def papers(device: PaperDevice, model: str) -> Fingerprint:
    return Fingerprint(parameters=1_000, layers=10, sha256=PAPER_NETWORKS[device][model])


def with_networks(cells: Cells, networks: dict[str, Fingerprint]) -> Cells:
    for model, fingerprint in networks.items():
        cell = cells.setdefault((model, "base"), Cell(model, "base"))
        cell.networks[fingerprint.sha256] = fingerprint
    return cells


def test_the_paper_stacks_build_different_mobilenets_and_efficientnets():
    assert set(PAPER_NETWORKS["nano"]) == set(PAPER_NETWORKS["xavier"]) == set(PAPER_ARCHITECTURES)
    for model in PAPER_ARCHITECTURES:
        same = PAPER_NETWORKS["nano"][model] == PAPER_NETWORKS["xavier"][model]
        assert same is model.startswith("DenseNet"), model


def test_a_network_the_papers_stack_builds_keeps_its_ratio():
    cells = with_networks(study(), {MOB_S: papers("xavier", MOB_S)})
    assert differs_from_papers(cells, MOB_S, "xavier") is None
    row = paper_row(paper_table(XAVIER, cells), "accuracy_drop_pts", "int8", MOB_S)
    assert row["ours / paper"] is not None


def test_another_network_gets_no_ratio_and_says_why():
    # The Nano's network measured on the Xavier (or a 32 px / 10-class one): no ratio.
    for fingerprint in (papers("nano", MOB_S), OTHER):
        cells = with_networks(study(), {MOB_S: fingerprint})
        why = differs_from_papers(cells, MOB_S, "xavier")
        assert why is not None and "not the network the paper's stack" in why
        row = paper_row(paper_table(XAVIER, cells), "accuracy_drop_pts", "int8", MOB_S)
        assert row["ours / paper"] is None and row["compared"].startswith("no ratio: our")
        mean = [r for r in rows(paper_table(XAVIER, cells)) if r["model"] == "mean over models"]
        assert mean and all(r["ours / paper"] is None for r in mean)
    # Not recorded (results from before fingerprints): nothing to tell, as before.
    assert differs_from_papers(study(), MOB_S, "xavier") is None


def test_devices_that_ran_different_networks_under_one_name_are_named():
    nano = with_networks({}, {MOB_S: papers("nano", MOB_S)})
    xavier = with_networks({}, {MOB_S: papers("xavier", MOB_S)})
    everywhere = {NANO: nano, XAVIER: xavier}
    (row,) = rows(network_table(XAVIER, xavier, everywhere))
    assert row["model"] == MOB_S and row["the paper's stack that builds it"] == (
        "Jetson Xavier NX")
    assert row["on the other devices here"] == "another network on nano"
    alone = rows(network_table(XAVIER, xavier, {XAVIER: xavier}))
    assert alone[0]["on the other devices here"] == "no other device ran it"
    same = {NANO: xavier, XAVIER: xavier}
    assert rows(network_table(XAVIER, xavier, same))[0]["on the other devices here"] == (
        "the same")
