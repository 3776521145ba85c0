"""Everything a fleet run needs before its first job, in the order that fails fastest and
starts nothing when it fails: the manager, a node of the profile, the image (pushed to the
fleet's registry), the network of offline jobs, the preflight on every node."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from launcher import settings
from launcher.device.power import sampling_for
from launcher.device.profiles import Profile, get_profile
from launcher.docker_client import Engine, label
from launcher.docker_swarm import SwarmEngine
from launcher.errors import UserError
from launcher.fleet import cleanup, images, node_placement, preflight
from launcher.fleet.site import Fleet, Lane
from launcher.limits import Limits, resolve
from launcher.store import Store
from launcher.target import Target, image_id_of, profile_limits

# How long a fleet's manager has to answer the launcher's first requests (its API version, a
# ping): an endpoint that accepts the connection and never answers is refused in this time,
# not the client's 60 s per request (64 s in all before). Later calls keep the 60 s.
MANAGER_ANSWER_S = 10.0
# The shared store's copy of the prepared tfds data (launcher/tfds_cache.py): the boards
# read it there, read-only.
FLEET_TFDS_CACHE = "tfds-cache"


def manager(url: str, answer_s: float = MANAGER_ANSWER_S) -> SwarmEngine:
    engine = SwarmEngine.connect(base_url=url, answer_s=answer_s)
    if not engine.swarm_active():
        raise UserError(f"the engine at {url} is not a Swarm manager: run 'docker swarm init' "
                        "there, or give the manager's URL (docs/fleet.md)")
    return engine


def check_profile(engine: SwarmEngine, profile: str) -> None:
    line = node_placement.unmatched(engine.nodes(), profile)
    if line is not None:
        raise UserError(line)


def prepare(engine: SwarmEngine, local: Engine, image: str, image_id: str, profile: Profile,
            store: Path, registry: str, push_registry: str | None,
            on_line: Callable[[str], None], limits: Limits | None = None) -> tuple[Fleet, Target]:
    """Push the image, make the network, sweep services of dead launchers, check every node;
    ``image`` is the launcher's local name of ``image_id``."""
    check_profile(engine, profile.name)
    remote = images.publish(local, image_id, image, registry, push_registry, on_line)
    network = engine.ensure_network(cleanup.NETWORK, {label("kind"): "network"})
    cleanup.sweep(engine)
    target = _checked_target(engine, remote, image_id, profile, store, limits)
    return Fleet(engine=engine, image=remote, network=network), target


def prepare_training(fleet: Fleet, local: Engine, image: str, image_id: str, profile: Profile,
                     store: Path, registry: str, push_registry: str | None,
                     on_line: Callable[[str], None], limits: Limits | None = None) -> Fleet:
    """The training lane (launcher/study/training_placement.py): the training profile's image
    pushed, its nodes checked; its train and scratch jobs go to those nodes."""
    check_profile(fleet.engine, profile.name)
    remote = images.publish(local, image_id, image, registry, push_registry, on_line)
    target = _checked_target(fleet.engine, remote, image_id, profile, store, limits)
    return dataclasses.replace(fleet, training=Lane(remote, target))


def _checked_target(engine: SwarmEngine, remote: str, image_id: str, profile: Profile,
                    store: Path, limits: Limits | None) -> Target:
    """The preflight on every node of the profile, then the target its jobs run with."""
    nodes = node_placement.eligible(engine.nodes(), profile.name)
    l4t = profile.l4t
    # On a Jetson profile, tegrastats as a companion beside each benchmark (fleet/power.py).
    power = sampling_for(l4t is not None)
    problems = preflight.run(engine, nodes, remote, store, l4t=l4t)
    if problems:
        raise UserError("fleet preflight: " + "; ".join(problems))
    # Each job's memory limit must fit the smallest board of the profile.
    smallest = min((n.memory_bytes for n in nodes if n.memory_bytes), default=4 * 1024**3)
    resolved = resolve((limits or Limits()).over(profile_limits(profile)), smallest)
    return Target(store=Store(store), profile=profile.name, image=remote, image_id=image_id,
                  # Swarm has no runtime field: a Jetson node runs the GPU runtime by
                  # default (docs/fleet.md); the shared store's tfds copy.
                  runtime=None, tfds_cache=store.resolve() / FLEET_TFDS_CACHE, limits=resolved,
                  power=power)


def connect_fleet(url: str, profile_name: str, store: Path, registry: str | None,
                  on_line: Callable[[str], None], limits: Limits | None = None,
                  train_profile: str | None = None) -> tuple[Fleet, Target]:
    profile = get_profile(profile_name)
    engine = manager(url)
    check_profile(engine, profile.name)  # one line before anything else happens
    if train_profile is not None:
        check_profile(engine, train_profile)
    prefix = (registry or settings.registry() or "").strip().rstrip("/")
    if not prefix:
        raise UserError(f"a fleet needs a registry its nodes pull from: pass --registry "
                        f"HOST:PORT or set {settings.REGISTRY.name} (docs/fleet.md)")
    local = Engine.connect()
    image_id = image_id_of(local, profile)
    if not store.is_absolute():
        store = store.resolve()
    fleet, target = prepare(engine, local, profile.image, image_id, profile, store,
                            prefix, settings.fleet_push(), on_line, limits)
    if train_profile is not None:
        training = get_profile(train_profile)
        fleet = prepare_training(fleet, local, training.image, image_id_of(local, training),
                                 training, store, prefix, settings.fleet_push(), on_line)
    return fleet, target
