"""edgecompress doctor: is this machine ready to run jobs? The same host checks as the device
preflight (launcher/device/preflight.py), plus the engine and the built images."""

from __future__ import annotations

import argparse

from launcher import settings
from launcher.commands._options import add_json
from launcher.console import console
from launcher.device import preflight
from launcher.device.power import check_sampler, sampling_for
from launcher.device.profiles import PROFILES
from launcher.docker_client import Engine
from launcher.errors import EngineError
from launcher.output.base import emit
from launcher.output.build import doctor_document
from launcher.views import checks_table


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("doctor", help="check the Docker engine, runtimes, disk and "
                                 "images")
    add_json(parser, "doctor-output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    store = settings.store()
    info, error, present = None, None, {}
    try:
        engine = Engine.connect(timeout=10)
        info = engine.info()
        present = {name: engine.image_id(p.image) for name, p in PROFILES.items()}
    except EngineError as failure:
        error = str(failure)
    facts = preflight.gather(store=store, docker_info=info,
                             nvpmodel=preflight.query_nvpmodel())
    checks = preflight.doctor_checks(facts, error, present, store)
    if info is not None and facts.tegra_release is not None:
        checks.append(check_sampler(sampling_for(True)))
    failed = any(c.state == "fail" for c in checks)
    if args.json:
        emit(doctor_document(checks))
    else:
        console.print(checks_table("edgecompress doctor", checks))
    return 1 if failed else 0
