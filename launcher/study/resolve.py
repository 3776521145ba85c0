"""What the store holds of a campaign's plan: each node's exact spec, key and folder, and
whether it is done, to do, interrupted, waiting on an upstream, or failed.

For a node: digest its inputs (the dataset, the upstream's model artifact), resolve its exact
spec and key, then read its folder: a valid result is done (reused, no container); a failed
attempt stays failed unless retried. No Docker here: the scheduler
(launcher/execution/schedule.py) runs what this says is to do; ``status`` only reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from launcher.contract.record import JobStatus, RunRecord
from launcher.contract.results import JobResult
from launcher.contract.specs import AnySpec
from launcher.contract.vocabulary import HANDOFF_ARTIFACT
from launcher.files import tree_digest
from launcher.keys import job_key
from launcher.store import Store
from launcher.study.digits import ensure_digits_folder
from launcher.study.manifest import (
    ManifestNode,
)
from launcher.study.plan import (
    CUSTOM_OBJECTS,
    DATASET,
    Node,
    Plan,
    handed_on,
    is_cache,
    is_handoff,
    is_user_file,
    is_weights,
    resolve_spec,
    user_file,
    weights_architecture,
)

# (architecture, whether the job is a training job) -> the checked weights file, or None when
# it is not in the cache (launcher/weights_cache.py): training may run on another profile.
WeightsLookup = Callable[[str, bool], "Path | None"]


def no_weights(architecture: str, training: bool) -> Path | None:
    return None


class State(str, Enum):
    done = "done"
    todo = "to do"
    interrupted = "interrupted"  # the last attempt was canceled or lost its engine: to do
    waiting = "waiting"  # an upstream job is not done yet: its key is not known
    failed = "failed"  # the last attempt ended failed, timeout, oom, killed or invalid_result


@dataclass(frozen=True)
class Assessment:
    node: Node
    state: State
    reason: str = ""
    folder: Path | None = None
    record: RunRecord | None = None
    result: JobResult | None = None
    force: bool = False  # done, but its artifact is gone: run it again over the result


def dataset_folder(plan: Plan, store: Store, create: bool = True) -> Path | None:
    """The campaign's image folder; the digits are written into the store the first time
    (None, without ``create``, while they are not)."""
    dataset = plan.config.dataset
    if dataset.source == "images":
        return dataset.path
    if dataset.source == "digits":
        # Written at the campaign's input size: the jobs' resize is then the identity.
        size = plan.config.input_size
        folder = store.root / "datasets" / f"digits-{size}px"
        if not create:
            return folder if folder.is_dir() else None
        return ensure_digits_folder(folder, size,
                                    (dataset.validation_fraction, dataset.test_fraction))
    return None


class Resolver:
    """Nodes -> exact specs and folders, from what the store holds. Digests are computed once
    per run: a model artifact is immutable once its job succeeded."""

    def __init__(self, plan: Plan, store: Store, image_id: str, dataset: Path | None,
                 train_image_id: str | None = None, weights: WeightsLookup = no_weights
                 ) -> None:
        self.plan, self.store, self.image_id, self.dataset = plan, store, image_id, dataset
        self.weights = weights
        # Training placed on another profile (launcher/study/training_placement.py): its image's id
        # keys the train and scratch jobs.
        self.train_image_id = train_image_id or image_id
        self.done: dict[str, tuple[Path, JobResult]] = {}
        self._digests: dict[Path, str] = {}
        self._nodes = {node.id: node for node in plan.nodes}

    def image_for(self, node: Node) -> str:
        return self.train_image_id if node.role == "train" else self.image_id

    def digest(self, path: Path) -> str:
        if path not in self._digests:
            self._digests[path] = tree_digest(path)
        return self._digests[path]

    def artifact(self, node_id: str, name: str = "model") -> Path | None:
        """The model an upstream node made (or its artifact ``name``), once it is done."""
        if node_id not in self.done:
            return None
        given = handed_on(self._nodes[node_id], name)
        if given is not None:  # an inspected model of one's own: the user's file itself
            return Path(given)
        folder, result = self.done[node_id]
        chosen = next((a for a in result.artifacts if a.name == name), None)
        if chosen is None and name == "model":
            chosen = result.artifacts[0] if result.artifacts else None
        return None if chosen is None else folder / "out" / chosen.path

    def inputs(self, node: Node) -> dict[str, Path] | None:
        """Host path of each input, or None while an upstream is not done. A done upstream
        without an .h5 copy (recorded before it wrote one) leaves that input out, and so does
        a cache whose job is not done."""
        paths: dict[str, Path] = {}
        for name, source in node.inputs:
            if is_user_file(source):
                paths[name] = Path(user_file(source))
                continue
            if is_weights(source):
                weights = self.weights(weights_architecture(source), node.role == "train")
                if weights is None:
                    return None
                paths[name] = weights
                continue
            if is_cache(name):
                # Given when its job is done, left out (the job does the work) when not.
                cached = self.artifact(source, name)
                if cached is not None:
                    paths[name] = cached
                continue
            if source != DATASET and is_handoff(name):
                if source not in self.done:
                    return None
                handoff = self.artifact(source, HANDOFF_ARTIFACT)
                if handoff is not None:
                    paths[name] = handoff
                continue
            path = self.dataset if source == DATASET else self.artifact(
                source, CUSTOM_OBJECTS if name == CUSTOM_OBJECTS else "model")
            if path is None:
                return None
            paths[name] = path
        return paths

    def spec(self, node: Node, inputs: Mapping[str, Path]) -> AnySpec:
        return resolve_spec(node, {name: self.digest(path) for name, path in inputs.items()})

    def assess(self, node: Node) -> Assessment:
        inputs = self.inputs(node)
        if inputs is None:
            missing = next((up for up in node.upstream if up not in self.done), None)
            if missing is None and any(is_weights(source) for _, source in node.inputs):
                missing = "its ImageNet weights are fetched (edgecompress fetch)"
            return Assessment(node, State.waiting, f"after {missing or 'the dataset is written'}")
        spec = self.spec(node, inputs)
        folder = self.store.job_folder(node.job, job_key(spec, self.image_for(node)))
        stored = self.store.load(folder)
        if stored.result is not None:
            gone = [a.path for a in stored.result.artifacts
                    if not (folder / "out" / a.path).exists()]
            if gone:
                # A store copied without its models, or a model deleted: the result stands
                # but nothing downstream can use it, so the job runs again (forced).
                return Assessment(node, State.todo, f"artifact {gone[0]} is missing: it will "
                                  "run again", folder, stored.record, force=True)
            self.done[node.id] = (folder, stored.result)
            return Assessment(node, State.done, "", folder, stored.record, stored.result)
        record = stored.record
        if record is None:
            return Assessment(node, State.todo, "never run", folder)
        if record.status in (JobStatus.canceled, JobStatus.lost):
            return Assessment(node, State.interrupted, f"{record.status.value}: it will run "
                              "again", folder,
                              record)
        reason = f"{record.status.value}: {record.reason or stored.problem or ''}".rstrip(": ")
        return Assessment(node, State.failed, reason, folder, record)

    def assess_all(self) -> list[Assessment]:
        return [self.assess(node) for node in self.plan.nodes]


def manifest_entry(node: Node, folder: Path) -> ManifestNode:
    return ManifestNode(folder=folder.name, job=node.job, model=node.model, method=node.method,
                        copy_label=node.copy, role=node.role)
