"""The typed Python API under the command line, after asv's ``run(conf, ...)`` and
ansible-runner's ``interface.run()``: each function does what one command does, takes values,
returns what happened and prints nothing (``say`` and ``warn`` get its lines, quiet by
default). ``launcher/commands/`` parse arguments, call these and show the result; ``bench/``,
the tests and users' own scripts call them the same way.

    from pathlib import Path
    from launcher import api
    from launcher.contract.specs import MakeModelSpec

    run = api.run_campaign("quick", store=Path("results"), copies=2, parallel=2)
    assert run.summary.complete
    print(api.write_report(Path("results")).markdown)

    with api.open_session("x86-tf2.12", Path("results")) as session:  # jobs one by one
        made = session.run(MakeModelSpec(architecture="MobileNetV3Small", input_size=32))

Errors a person can act on are ``launcher.errors.UserError`` (one line, an exit code);
nothing is written to a store before the engine (or the fleet) has answered.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from launcher import applications, runner, settings, tfds_cache
from launcher.contract.specs import AnySpec, PrepareSpec, tfds_read
from launcher.device.profiles import DEFAULT_PROFILE, get_profile
from launcher.docker_client import Engine
from launcher.errors import UserError
from launcher.execution.local import (
    LocalSite,
    Training,
    default_parallel,
    fit_parallel,
    share_memory,
)
from launcher.execution.rounds import CampaignRun, search_pruning
from launcher.execution.schedule import Events, Silent, run_plan
from launcher.execution.site import Site
from launcher.files import tree_digest
from launcher.fleet.connect import FLEET_TFDS_CACHE, connect_fleet
from launcher.fleet.site import FleetSite
from launcher.limits import Limits
from launcher.report.render import Written
from launcher.report.render import write_report as render_report
from launcher.runner import JobOutcome
from launcher.store import Store
from launcher.store_lock import store_lock
from launcher.study import training_placement
from launcher.study.campaign import CampaignConfig, load_campaign, with_overrides
from launcher.study.fetch import fetch_weights, weights_needed
from launcher.study.plan import Plan, expand
from launcher.study.resolve import WeightsLookup
from launcher.target import Target, connect, host_memory, job_limits, request_for
from launcher.weights_cache import WeightsCache, give_weights

Say = Callable[[str], None]
__all__ = ["CampaignRun", "ConnectedCampaign", "Session", "connect_campaign", "load",
           "open_session", "plan", "prepare_job", "run_campaign", "run_job", "write_report"]
HOLDER = "the edgecompress Python API"  # what a refused second launcher is told holds the store


def quiet(line: str) -> None:
    """The default ``say`` and ``warn``: the API prints nothing of its own."""


# -- one job at a time ------------------------------------------------------------------------

def prepare_job(spec: AnySpec, inputs: Mapping[str, Path] | None, profile: str,
                warn: Say = quiet) -> tuple[AnySpec, dict[str, Path]]:
    """``spec`` checked against the profile's Keras (a network it lacks, an input too small:
    one line), with a file for each slot that asks for ImageNet weights, fetched into the cache
    when missing. Needs no engine."""
    tensorflow = get_profile(profile).tensorflow
    applications.check_fields(spec.model_dump(), tensorflow)
    return give_weights(spec, inputs or {}, tensorflow, WeightsCache.from_settings(warn),
                        tree_digest)


@dataclass
class Session:
    """Jobs run one by one into one store, on one profile's image, over one connection:
    ``edgecompress run`` is a session of one job. Each job holds the store's lock while it
    runs."""

    engine: Engine
    target: Target
    warn: Say = quiet
    wait: bool = False  # wait for another launcher's lock instead of refusing
    holder: str = HOLDER

    def run(self, spec: AnySpec, inputs: Mapping[str, Path] | None = None, *,
            timeout_s: float | None = None, force: bool = False,
            on_line: Say | None = None) -> JobOutcome:
        """Run ``spec`` (reusing a valid result of the same key unless ``force``) and file
        it; ``inputs`` maps the spec's input slots to host paths."""
        spec, given = prepare_job(spec, inputs, self.target.profile, self.warn)
        dataset = tfds_read(spec)
        if dataset is not None and self.target.tfds_cache is not None:
            tfds_cache.require_prepared(self.target.tfds_cache, dataset)
        request = request_for(self.target, spec, given, timeout_s, force)
        with store_lock(self.target.store.root, self.holder, self.wait, self.warn):
            return runner.run_job(self.engine, self.target.store, request, on_line=on_line)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.engine.close()


def open_session(profile: str = DEFAULT_PROFILE, store: Path | None = None, *,
                 limits: Limits | None = None, warn: Say = quiet, wait: bool = False,
                 holder: str = HOLDER) -> Session:
    """The engine, the profile's image and, on a Jetson, the device preflight: what every
    job of the session shares. ``store``: default ./results or $EDGECOMPRESS_STORE, as on the
    command line; ``limits`` go over the profile's own."""
    engine, target = connect(profile, Path(store or settings.store()), warn, limits)
    return Session(engine, target, warn, wait, holder)


def run_job(spec: AnySpec, inputs: Mapping[str, Path] | None = None, *,
            profile: str = DEFAULT_PROFILE, store: Path | None = None,
            limits: Limits | None = None, timeout_s: float | None = None, force: bool = False,
            wait: bool = False, on_line: Say | None = None, warn: Say = quiet,
            holder: str = HOLDER) -> JobOutcome:
    """One job, as ``edgecompress run``: its weights fetched before the engine is asked, so
    a file that cannot be had is one line and nothing starts."""
    spec, given = prepare_job(spec, inputs, profile, warn)
    with open_session(profile, store, limits=limits, warn=warn, wait=wait,
                      holder=holder) as session:
        return session.run(spec, given, timeout_s=timeout_s, force=force, on_line=on_line)


# -- campaigns --------------------------------------------------------------------------------

def load(campaign: str | Path | CampaignConfig, *, models: list[str] | None = None,
         methods: list[str] | None = None, copies: int | None = None,
         train_profile: str | None = None) -> CampaignConfig:
    """A preset (``quick``, ``paper``), a TOML file or a config, narrowed and validated as
    the command line's options narrow it."""
    config = campaign if isinstance(campaign, CampaignConfig) else load_campaign(str(campaign))
    return with_overrides(config, models=models, methods=methods, copies=copies,
                          train_profile=train_profile)


def plan(campaign: str | Path | CampaignConfig) -> Plan:
    """Every job the campaign expands to, keyed and ordered (no engine)."""
    return expand(load(campaign))


def profile_of(config: CampaignConfig, profile: str | None = None) -> str:
    return str(profile or config.profile or DEFAULT_PROFILE)


def slots_wanted(config: CampaignConfig, profile: str, parallel: int | None = None,
                 cores: int | None = None) -> int:
    """How many jobs should run at once on this machine: ``parallel``, else the campaign's,
    else the profile's default (1 on a Jetson, one per two cores on an x86 twin)."""
    return int(parallel or config.parallel
               or default_parallel(get_profile(profile).is_jetson, cores or os.cpu_count() or 1))


def campaign_weights(plan: Plan, profile: str, train_profile: str | None, say: Say = quiet,
                     warn: Say = quiet, fleet_store: Path | None = None) -> WeightsLookup:
    """The ImageNet weights the campaign's jobs load, fetched into the cache first (``say``
    is told each file fetched). A fleet's boards read them from the shared store instead."""
    needed = weights_needed(plan, get_profile(profile).tensorflow,
                            get_profile(train_profile).tensorflow if train_profile else None)
    cache = WeightsCache.from_settings(warn)
    for need in needed:
        if cache.cached(need.file) is None:
            say(f"fetching ImageNet weights {need.file.name}")
    weights = fetch_weights(needed, cache)
    if fleet_store is None:
        return weights
    shared = WeightsCache(fleet_store / "weights", mirror=str(cache.root), hashes=cache.hashes,
                          hashes_from=cache.hashes_from, say=warn)
    return fetch_weights(needed, shared)


def campaign_dataset(config: CampaignConfig) -> str | None:
    """The real tfds dataset the campaign's jobs read (not a mock, not a folder), or None."""
    dataset = config.dataset
    return (dataset.name if dataset.source == "tfds" and dataset.mock_examples is None
            else None)


def check_dataset(config: CampaignConfig, fleet_store: Path | None = None) -> None:
    """The campaign's tfds dataset is prepared in the cache (a fleet's: copied to the shared
    store, which its boards read), or one line and nothing starts."""
    dataset = campaign_dataset(config)
    if dataset is None:
        return
    if fleet_store is None:
        tfds_cache.require_prepared(settings.tfds_dir(), dataset)
    else:
        tfds_cache.share(settings.tfds_dir(), dataset, fleet_store / FLEET_TFDS_CACHE)


def prepare_dataset(tfds_name: str, *, profile: str = DEFAULT_PROFILE,
                    store: Path | None = None, warn: Say = quiet) -> JobOutcome | None:
    """``tfds_name`` downloaded and prepared into the tfds cache by a prepare job, the one job
    given the network; None when the cache already holds it (no engine asked). Raises
    UserError with the job's reason when it cannot."""
    if tfds_cache.prepared_folder(settings.tfds_dir(), tfds_name) is not None:
        return None
    with open_session(profile, store, warn=warn) as session:
        # force: the store may keep a prepare of an earlier cache, since emptied.
        done = session.run(PrepareSpec(tfds_name=tfds_name), force=True)
    if done.result is None:
        raise UserError(f"cannot prepare tfds dataset {tfds_name}: {done.record.reason} "
                        f"(log: {done.folder / 'log.txt'})")
    return done


def training_for(engine: Engine, config: CampaignConfig, target: Target,
                 limits: Limits) -> Training | None:
    """Where the campaign's training is keyed and runs, when placed off the device."""
    if config.train_profile is None or config.train_profile == target.profile:
        return None
    training = get_profile(config.train_profile)
    training_placement.check_training_profile(get_profile(target.profile), training)
    local = engine.image_id(training.image)
    image_id = training_placement.training_image_id(
        training, local, training_placement.recorded_image_ids(target.store, training.image))
    runs_here = None if local is None else dataclasses.replace(
        target, profile=training.name, image=training.image, image_id=local,
        runtime=training.runtime, environment={}, power=None,
        limits=job_limits(training, limits))
    return Training(training.name, image_id, runs_here)


def check_fleet_url(url: str) -> str:
    if "://" not in url:
        raise UserError(f"--fleet {url!r}: give the manager's engine URL, e.g. "
                        "tcp://192.168.1.10:2375")
    return url


@dataclass
class ConnectedCampaign:
    """A campaign whose weights are in the cache and whose site (this machine, or a fleet)
    has answered: nothing is written to the store yet."""

    config: CampaignConfig
    plan: Plan
    store: Path
    profile: str
    site: Site
    weights: WeightsLookup
    fleet: str | None = None

    @property
    def slots(self) -> int:
        return self.site.slots if isinstance(self.site, LocalSite) else 1

    def headline(self) -> str:
        return (f"{self.config.name}: {len(self.plan.nodes)} jobs on {self.site.target.image}"
                + (f" over the fleet {self.fleet}" if self.fleet else "")
                + (f", {self.slots} at a time" if self.slots > 1 else "")
                + f", results in {self.store}")

    def run(self, events: Events | None = None, *, retry_failed: bool = False,
            timeout_s: float | None = None, wait: bool = False, warn: Say = quiet,
            holder: str = HOLDER, announce: Say = quiet, say: Say = quiet) -> CampaignRun:
        """Run what is not done yet under the store's lock; ``announce`` is told the
        headline once the store is ours, ``say`` each round of a ``[goal] search``."""
        events = events or Silent()

        def run_round(config: CampaignConfig) -> CampaignRun:
            plan = self.plan if config is self.config else expand(config)
            summary = run_plan(plan, self.site, events, retry_failed=retry_failed,
                               deadline_s=timeout_s or config.timeout_s, weights=self.weights)
            return CampaignRun(config, plan, self.store, self.profile, self.site.target.image,
                               self.slots, self.fleet, summary)

        with store_lock(self.store, holder, wait, warn):
            announce(self.headline())
            done = run_round(self.config)
            if self.config.goal is not None and self.config.goal.search:
                done = search_pruning(done, run_round, say)
        return done


def connect_campaign(campaign: str | Path | CampaignConfig, *, store: Path,
                     profile: str | None = None, parallel: int | None = None,
                     limits: Limits | None = None, fleet: str | None = None,
                     registry: str | None = None, say: Say = quiet, warn: Say = quiet,
                     on_preflight: Say = quiet) -> ConnectedCampaign:
    """Everything before the first job, in the order that fails fastest: the campaign, its
    training placement, its ImageNet weights and tfds dataset, then the engine (or the
    fleet's preflight, told line by line to ``on_preflight``)."""
    config = load(campaign)
    expanded = expand(config)
    name = profile_of(config, profile)
    if config.train_profile is not None:  # a wrong pairing fails before the engine is asked
        training_placement.check_training_profile(get_profile(name),
                                                  get_profile(config.train_profile))
    chosen = (limits or Limits()).over(config.limits)
    url = check_fleet_url(fleet) if fleet else None
    weights = campaign_weights(expanded, name, config.train_profile, say, warn,
                               fleet_store=Path(store) if url else None)
    check_dataset(config, fleet_store=Path(store) if url else None)
    site: Site
    if url:
        placed = (None if config.train_profile in (None, name) else config.train_profile)
        swarm, target = connect_fleet(url, name, Path(store), registry, on_preflight, chosen,
                                      train_profile=placed)
        site = FleetSite(swarm, target)
    else:
        wanted = slots_wanted(config, name, parallel)
        # An x86 twin's job may use 90 % of the host by default: N at once share it.
        chosen = share_memory(chosen, get_profile(name), wanted, host_memory())
        engine, target = connect(name, Path(store), warn, chosen)
        memory = target.limits.memory_bytes if target.limits else None
        slots, why = fit_parallel(wanted, memory, host_memory())
        if why is not None:
            warn(why)
        site = LocalSite(engine, target, slots, training_for(engine, config, target, chosen))
    return ConnectedCampaign(config, expanded, Path(store), name, site, weights, url)


def run_campaign(campaign: str | Path | CampaignConfig, *, store: Path,
                 profile: str | None = None, models: list[str] | None = None,
                 methods: list[str] | None = None, copies: int | None = None,
                 train_profile: str | None = None, parallel: int | None = None,
                 limits: Limits | None = None, retry_failed: bool = False,
                 timeout_s: float | None = None, fleet: str | None = None,
                 registry: str | None = None, wait: bool = False,
                 events: Events | None = None, say: Say = quiet, warn: Say = quiet,
                 holder: str = HOLDER) -> CampaignRun:
    """``edgecompress campaign run``: what is not done of the campaign, on this machine
    (``parallel`` jobs at once, benchmarks alone) or over a fleet. Done jobs are reused and an
    interrupted campaign resumes; Ctrl-C cancels every running job (``status`` says
    ``interrupted``)."""
    config = load(campaign, models=models, methods=methods, copies=copies,
                  train_profile=train_profile)
    connected = connect_campaign(config, store=store, profile=profile, parallel=parallel,
                                 limits=limits, fleet=fleet, registry=registry, say=say,
                                 warn=warn)
    return connected.run(events, retry_failed=retry_failed, timeout_s=timeout_s, wait=wait,
                         warn=warn, holder=holder, announce=say)


# -- results ----------------------------------------------------------------------------------

def write_report(store: Path, out: Path | None = None,
                 campaigns: list[str] | None = None) -> Written:
    """``edgecompress report``: tables, figures, Markdown, HTML and CSV into ``out``
    (default: STORE/report)."""
    return render_report(Store(Path(store)), out or Path(store) / "report", campaigns)
