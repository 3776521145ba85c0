"""The keras.applications networks of each stack, from the generated table
(launcher/applications_table.json): which a profile's Keras can build, at which input sizes, fed
how, and which ImageNet weights file it loads. Pure.

A name is a network of edgecompress when some stack has it (the contract accepts it); whether the
profile that runs the job has it is checked where the profile is known (``network``), with one
line naming the stacks that do.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from launcher.errors import UserError


@dataclass(frozen=True)
class WeightsFile:
    architecture: str
    name: str  # Keras's file name: the cache's and a mirror's too
    origin: str  # where Keras downloads it
    file_hash: str | None  # Keras's published md5 or sha256; None where Keras publishes none
    sizes: tuple[int, ...] | None = None  # the input sizes it is for; None: any other size

    @property
    def hash_algorithm(self) -> str | None:
        """Keras's own rule (get_file's ``hash_algorithm="auto"``): 64 hex digits are sha256."""
        if self.file_hash is None:
            return None
        return "sha256" if len(self.file_hash) == 64 else "md5"


@dataclass(frozen=True)
class Network:
    name: str
    line: str  # the TensorFlow line, "2.12"
    preprocessing: str  # jobs/architectures.py PREPROCESSING
    smallest_input: int
    only_size: int | None  # ImageNet weights load at this input size alone (NASNet)
    files: tuple[WeightsFile, ...]


def tensorflow_line(version: str) -> str:
    """'2.7.0+nv22.1' -> '2.7'."""
    return ".".join(version.split("+")[0].split(".")[:2])


TABLE = "applications_table.json"  # package data, written by `make applications`


@functools.cache
def stacks() -> dict[str, dict[str, Network]]:
    table = json.loads(resources.files("launcher").joinpath(TABLE).read_text())
    lines: dict[str, dict[str, Any]] = dict(table["stacks"])
    for line, same in table["same_as"].items():  # a line with an earlier line's networks
        lines[line] = table["stacks"][same]
    return {line: {name: _network(name, line, entry) for name, entry in lines[line].items()}
            for line in sorted(lines, key=lambda text: tuple(int(p) for p in text.split(".")))}


def _network(name: str, line: str, entry: dict[str, Any]) -> Network:
    files = tuple(WeightsFile(name, f["fname"], f["origin"], f["file_hash"],
                              None if f["sizes"] is None else tuple(f["sizes"]))
                  for f in entry["files"])
    return Network(name, line, entry["preprocessing"], entry["smallest_input"],
                   entry["only_size"], files)


@functools.cache
def all_names() -> frozenset[str]:
    return frozenset(name for networks in stacks().values() for name in networks)


def lines_with(name: str) -> list[str]:
    return [line for line, networks in stacks().items() if name in networks]


def network(name: str, tensorflow: str) -> Network:
    """The network on the stack of TensorFlow ``tensorflow``; one line when it lacks it."""
    line = tensorflow_line(tensorflow)
    networks = stacks().get(line)
    if networks is None:
        raise UserError(f"no keras.applications table for TensorFlow {tensorflow}: "
                        f"edgecompress knows {', '.join(stacks())} (make applications)")
    if name not in networks:
        having = lines_with(name)
        where = (f"it is in TensorFlow {', '.join(having)}" if having else
                 "no stack has it (`edgecompress run train --help` lists them)")
        raise UserError(f"keras.applications of TensorFlow {line} has no {name}: {where}; "
                        "pick a profile of that stack or another network")
    return networks[name]


def check_input_size(net: Network, input_size: int, imagenet: bool) -> None:
    if input_size < net.smallest_input:
        raise UserError(f"{net.name} needs an input of at least {net.smallest_input} px, not "
                        f"{input_size}: raise input_size")
    if imagenet and net.only_size is not None and input_size != net.only_size:
        raise UserError(f"{net.name}'s ImageNet weights load only at {net.only_size} px, not "
                        f"{input_size}: set input_size = {net.only_size}, or weights = none")


def weights_file(name: str, tensorflow: str, input_size: int = 224) -> WeightsFile:
    """The notop ImageNet weights file the stack's Keras loads for ``name`` at ``input_size``."""
    net = network(name, tensorflow)
    check_input_size(net, input_size, imagenet=True)
    if not net.files:
        raise UserError(f"no ImageNet weights for {name} on TensorFlow {tensorflow}")
    for file in net.files:
        if file.sizes is not None and input_size in file.sizes:
            return file
    return next(file for file in net.files if file.sizes is None)


# The spec fields that name a keras.applications network, each with the field saying whether it
# starts from ImageNet weights.
NETWORK_FIELDS = (("architecture", "weights"), ("student", "student_weights"))


def check_fields(fields: Mapping[str, Any], tensorflow: str) -> None:
    """The networks a spec's (or a plan node's) fields name exist on the stack of
    ``tensorflow``, at the fields' input size."""
    for field, weights in NETWORK_FIELDS:
        if field in fields:
            check_input_size(network(str(fields[field]), tensorflow),
                             int(fields.get("input_size", 224)),
                             imagenet=fields.get(weights) == "imagenet")


def listing() -> str:
    """The networks of every stack, then each stack's own: for --help."""
    everywhere = set.intersection(*(set(networks) for networks in stacks().values()))
    parts = [f"on every stack ({len(everywhere)}): {', '.join(sorted(everywhere))}"]
    for line, networks in stacks().items():
        extra = sorted(set(networks) - everywhere)
        if extra:
            parts.append(f"also on TensorFlow {line}: {', '.join(extra)}")
    return "; ".join(parts)
