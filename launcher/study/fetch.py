"""What a campaign needs from outside, brought in before any job runs: the ImageNet weights
of every architecture it starts from, for each profile that runs its jobs.

``edgecompress fetch CAMPAIGN`` does this on its own (on a connected machine, before carrying
the cache to an offline board); ``campaign run`` does it first, so its jobs run with no network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from launcher.applications import check_fields
from launcher.pretrained import WeightsFile, weights_file
from launcher.study.plan import Plan, is_weights, weights_architecture
from launcher.study.resolve import WeightsLookup
from launcher.weights_cache import WeightsCache


@dataclass(frozen=True)
class Needed:
    architecture: str
    training: bool  # a train or scratch job: the training profile's stack
    file: WeightsFile


def check_networks(plan: Plan, tensorflow: str, training_tensorflow: str | None = None) -> None:
    """Before anything runs: every network the plan builds exists on the stack that builds it,
    at the campaign's input size (one line naming the stacks that have it). Pure."""
    for node in plan.nodes:
        training = node.role == "train"
        check_fields(node.params, training_tensorflow if training and training_tensorflow
                     else tensorflow)


def weights_needed(plan: Plan, tensorflow: str, training_tensorflow: str | None = None
                   ) -> list[Needed]:
    """Each (architecture, lane) of the plan that starts from ImageNet weights, with its file
    on the stack that runs it; every network checked first (``check_networks``). Pure."""
    check_networks(plan, tensorflow, training_tensorflow)
    seen: dict[tuple[str, bool], Needed] = {}
    for node in plan.nodes:
        for _field, source in node.inputs:
            if not is_weights(source):
                continue
            training = node.role == "train"
            arch = weights_architecture(source)
            stack = training_tensorflow if training and training_tensorflow else tensorflow
            size = int(node.params.get("input_size", 224))
            seen.setdefault((arch, training),
                            Needed(arch, training, weights_file(arch, stack, size)))
    return list(seen.values())


def lookup(found: Iterable[tuple[Needed, Path | None]]) -> WeightsLookup:
    table = {(need.architecture, need.training): path for need, path in found}

    def weights(architecture: str, training: bool) -> Path | None:
        return table.get((architecture, training))
    return weights


def fetch_weights(needed: list[Needed], cache: WeightsCache) -> WeightsLookup:
    """Every needed file into the cache (fetched once, checked), as a lookup for the Resolver."""
    return lookup((need, cache.ensure(need.file)) for need in needed)


def cached_weights(needed: list[Needed], cache: WeightsCache) -> WeightsLookup:
    """What the cache already holds, nothing fetched (``status``)."""
    return lookup((need, cache.cached(need.file)) for need in needed)
