"""Services a launcher left on the fleet: Ctrl-C removes its own, but kill -9 of the launcher
(or a lost workstation) leaves them. They carry the same labels as local job containers, so
the same rule decides: a service whose launcher is gone on this host goes; another host's or
an unknown owner's stays unless everything is asked for."""

from __future__ import annotations

import socket

from launcher.docker_client import label
from launcher.docker_swarm import SwarmEngine
from launcher.owner import should_remove

NETWORK = "edgecompress-jobs"  # the internal overlay of offline jobs
# What a launcher runs on a fleet: jobs, power companions (fleet/power.py), network keepers
# (fleet/keeper.py).
KINDS = ("job", "power", "keeper")


def sweep(engine: SwarmEngine, everything: bool = False) -> tuple[int, int]:
    """(removed, kept) job services, their power companions and network keepers."""
    host = socket.gethostname()
    removed = kept = 0
    services = [service for kind in KINDS for service in engine.services({label("kind"): kind})]
    for service in services:
        labels = dict((service.get("Spec") or {}).get("Labels") or {})
        if should_remove(labels, "running", host, everything):
            engine.remove_service(str(service["ID"]))
            removed += 1
        else:
            kept += 1
    if everything and kept == 0:
        engine.remove_network(NETWORK)
    return removed, kept
