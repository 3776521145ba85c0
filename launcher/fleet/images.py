"""The job image on every node: pushed once to the fleet's registry, pulled from there.

Jobs reference the registry-qualified name (a bare name would go to Docker Hub) pinned to the
digest the push returned (NAME:TAG@sha256:...). A registry keeps the image's config as it is,
so every node pulls the same image id as the launcher's and the content keys of results hold
whichever node ran them; the digest keeps that true when the tag is pushed again meanwhile.
It also saves each job a registry round trip: Docker's Swarm executor pulls a tag again
before every task, even when the node has the image, but starts a digest it has at once.
"""

from __future__ import annotations

from collections.abc import Callable

from launcher.docker_client import Engine, RegistryError
from launcher.errors import UserError
from launcher.registry import digest_for, follow_transfer


def remote(registry: str, image: str) -> str:
    """``image`` as the nodes name it: edgecompress/jobs:TAG -> REGISTRY/edgecompress/jobs:TAG
    (a name that already carries a registry host loses it)."""
    first, _, rest = image.partition("/")
    bare = rest if rest and ("." in first or ":" in first or first == "localhost") else image
    return f"{registry.rstrip('/')}/{bare}"


def publish(engine: Engine, image_id: str, image: str, registry: str, push_registry: str | None,
            on_line: Callable[[str], None]) -> str:
    """Push the launcher's ``image_id`` to the fleet's registry (through ``push_registry`` when
    the launcher reaches it by another address than the nodes do); the reference jobs use:
    the nodes' name of it, pinned to the pushed digest."""
    pushed = remote(push_registry or registry, image)
    engine.tag(image_id, pushed)
    try:
        aux = follow_transfer(engine.push(pushed), on_line, "push")
    except RegistryError as error:
        raise UserError(f"push of {image} to the fleet's registry {push_registry or registry} "
                        f"failed: {error}") from None
    digest = aux.get("Digest") or digest_for(engine.repo_digests(pushed), pushed)
    return pinned(remote(registry, image), digest)


def pinned(name: str, digest: str | None) -> str:
    """NAME:TAG@DIGEST, or the name alone when the registry gave no digest."""
    return f"{name}@{digest}" if digest and digest.startswith("sha256:") else name
