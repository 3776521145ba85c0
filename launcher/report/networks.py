"""Which network a model name stood for: the fingerprints the jobs recorded (parameters,
layers, a hash of every layer's class and output shape), against each other across devices and
against the network the paper's stack builds. Pure.

The same name builds different networks on different stacks: Keras 2.7's MobileNetV3 keeps its
1x1 ``Conv_2`` without the top (MobileNetV3Small: 1.63 M parameters against 0.998 M from Keras
2.10 on), and its EfficientNet lacks the ImageNet input correction (a weightless Rescaling, so
the parameters agree and the layers do not). A ratio between two such networks is not the ratio
of one network's two measurements, so the report names the difference instead of dividing.
"""

from __future__ import annotations

from launcher.contract.results import Fingerprint
from launcher.report.cells import Cells
from launcher.report.paper import PAPER_DEVICE_NAMES, PaperDevice
from launcher.report.results import Device
from launcher.report.table import Column, Table

# The paper's setting (ImageNet weights, 224 x 224, a new 102-class head), as each of its
# stacks builds it: Keras 2.7 on the Nano, Keras 2.12 on the Xavier NX. sha256 of
# jobs/architectures.py's fingerprint, measured in the x86 twins (docs/benchmarks.md,
# "Networks").
PAPER_NETWORKS: dict[PaperDevice, dict[str, str]] = {
    "nano": {
        # 1,634,518 parameters, 237 layers
        "MobileNetV3Small": "500443a64c09a82babd3804fe2d11196ac62e509ec067ee981209a502189eb43",
        # 4,357,094 parameters, 271 layers
        "MobileNetV3Large": "56cd633cd943fef63485edc9747e450cce6a362c0d67eb6399dd25b772dd415e",
        # 6,705,901 parameters, 341 layers
        "EfficientNetB1": "395d1c1120f3da7d8a18cb17f792f15186a6d2afdbe6a83a88544c5ad5c45808",
        # 10,940,309 parameters, 386 layers
        "EfficientNetB3": "4d5fcaec333eb213ff86fe12b18b5352841e5adc77524c208b2724fb7d04fc53",
        # 12,812,710 parameters, 598 layers
        "DenseNet169": "1d64fcd1b41b8fc912abc68edd7186f0584b48a56c5336a21d90afb654ed5259",
        # 18,517,926 parameters, 710 layers
        "DenseNet201": "f5a3e6bbca61d49fbdb9d359d75806a0ed00fa5715da759ab7c0933e723f5a62",
    },
    "xavier": {
        # 997,974 parameters, 231 layers
        "MobileNetV3Small": "7027936d0f4ce0254a555952e26d6e52e3b81bd58cc25b4d6c2d3ccbe7e77997",
        # 3,094,374 parameters, 265 layers
        "MobileNetV3Large": "d0ac7a9e3a7faa096a3b9b0b0a35e11829f5bde6797306f2339b76cc7e6f4b59",
        # 6,705,901 parameters, 342 layers
        "EfficientNetB1": "549d4e5415fddfe7e0adb464b4808b314f407a8672524288e9f843ba9c0a6fa0",
        # 10,940,309 parameters, 387 layers
        "EfficientNetB3": "1ca4a6d8892e7dc918b33c6af427e5c4b42e5e931dfa6f3d818f7b6b40474762",
        # 12,812,710 parameters, 598 layers
        "DenseNet169": "1d64fcd1b41b8fc912abc68edd7186f0584b48a56c5336a21d90afb654ed5259",
        # 18,517,926 parameters, 710 layers
        "DenseNet201": "f5a3e6bbca61d49fbdb9d359d75806a0ed00fa5715da759ab7c0933e723f5a62",
    },
}


def short(fingerprint: Fingerprint) -> str:
    return (f"{fingerprint.parameters:,} parameters, {fingerprint.layers} layers, "
            f"{fingerprint.sha256[:12]}")


def base_networks(cells: Cells, model: str) -> dict[str, Fingerprint]:
    cell = cells.get((model, "base"))
    return dict(cell.networks) if cell is not None else {}


def differs_from_papers(cells: Cells, model: str | None, device: PaperDevice | None
                        ) -> str | None:
    """Why our model (every model, for the paper's means) is not the network the paper's stack
    built, or None when it is or cannot be told (no fingerprint recorded)."""
    models = [model] if model else sorted({m for m, method in cells if method == "base"})
    devices: tuple[PaperDevice, ...] = (device,) if device else ("nano", "xavier")
    for name in models:
        ours = base_networks(cells, name)
        papers = {PAPER_NETWORKS[d].get(name) for d in devices} - {None}
        if not ours or not papers:
            continue
        if not set(ours) & papers:
            where = " or ".join(PAPER_DEVICE_NAMES[d] for d in devices)
            return (f"our {name} ({'; '.join(short(f) for f in ours.values())}) is not the "
                    f"network the paper's stack on the {where} builds at its setting")
    return None


def network_table(device: Device, cells: Cells, everywhere: dict[Device, Cells]) -> Table:
    """Each model's network on this device, and the devices of the same report that ran
    another network under the same name."""
    rows = []
    for (model, method), cell in sorted(cells.items()):
        if method != "base" or not cell.networks:
            continue
        compared = {other: theirs for other, their in everywhere.items() if other != device
                    and (theirs := base_networks(their, model))}
        others = sorted(other.label if other.profile == device.profile else other.profile
                        for other, theirs in compared.items()
                        if not set(theirs) & set(cell.networks))
        papers = [d for d, table in PAPER_NETWORKS.items() if table.get(model) in cell.networks]
        rows.append((model, "; ".join(short(f) for f in cell.networks.values()),
                     ", ".join(PAPER_DEVICE_NAMES[d] for d in papers) or "neither",
                     ("another network on " + ", ".join(others)) if others
                     else "the same" if compared else "no other device ran it"))
    return Table("networks", "The networks that ran", (
        Column("model"), Column("network (parameters, layers, fingerprint)"),
        Column("the paper's stack that builds it"), Column("on the other devices here")),
        tuple(rows),
        "A model's name does not fix its network: Keras 2.7 (the Nano's TensorFlow) keeps "
        "MobileNetV3's Conv_2 and builds EfficientNet without the ImageNet input correction "
        "that Keras 2.10 and later add (docs/methodology.md). Where devices ran different "
        "networks, their figures are not one network's; where ours is not the network the "
        "paper's stack builds at its setting (ImageNet weights, 224 px, 102 classes), the "
        "paper comparison gives no ratio.")
