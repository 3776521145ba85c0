"""Prebuilt images: push a profile's image to a registry and pull it back.

The registry prefix is configurable (``--registry`` or EDGECOMPRESS_REGISTRY): an image
``edgecompress/jobs:x86-tf2.12-py311`` lives there as
``<registry>/edgecompress/jobs:x86-tf2.12-py311``. A pulled image gets its local names back:
the profile tag and the content tag (from the image's own label), so ``build`` then reuses it
and results keyed by its image id stay valid.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from launcher import settings
from launcher.device.profiles import Profile
from launcher.docker_client import Engine, RegistryError, label
from launcher.errors import UserError


@dataclass(frozen=True)
class ImageTransfer:
    profile: str
    remote: str
    image_id: str
    digest: str | None


def registry_prefix(override: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    prefix = (override or settings.registry(environ) or "").strip().rstrip("/")
    if not prefix:
        raise UserError(f"no registry given: pass --registry HOST[:PORT][/NAMESPACE] or set "
                        f"{settings.REGISTRY.name}")
    if "://" in prefix:
        raise UserError(f"registry {prefix!r}: give HOST[:PORT][/NAMESPACE] without a scheme")
    return prefix


def remote_ref(profile: Profile, prefix: str) -> str:
    return f"{prefix}/{profile.image}"


def digest_for(digests: list[str], remote: str) -> str | None:
    repository = remote.rpartition(":")[0]
    for entry in digests:
        name, _, digest = entry.partition("@")
        if name == repository:
            return digest
    return None


def follow_transfer(events: Any, on_line: Callable[[str], None], what: str) -> dict[str, Any]:
    """Follow the event stream of a push or pull (``what``): each step as a progress line, the
    last aux payload returned (a push's digest), RegistryError on an error event. Used for the
    fleet's images too (launcher/fleet/images.py)."""
    aux: dict[str, Any] = {}
    for event in events:
        if "error" in event:
            raise RegistryError(str(event["error"]))
        if "aux" in event:
            aux = dict(event["aux"])
        status = event.get("status")
        if status and "progress" not in event:
            on_line(f"{what}: {event.get('id', '')} {status}".strip())
    return aux


def push(engine: Engine, profile: Profile, prefix: str,
         on_line: Callable[[str], None]) -> ImageTransfer:
    image_id = engine.image_id(profile.image)
    if image_id is None:
        raise UserError(f"image {profile.image} is missing: build it with "
                        f"'edgecompress build {profile.name}' before pushing")
    remote = remote_ref(profile, prefix)
    engine.tag(image_id, remote)
    try:
        aux = follow_transfer(engine.push(remote), on_line, "push")
    except RegistryError as error:
        raise UserError(f"push to {prefix} failed: {error}") from None
    digest = aux.get("Digest") or digest_for(engine.repo_digests(remote), remote)
    return ImageTransfer(profile.name, remote, image_id, digest)


def pull(engine: Engine, profile: Profile, prefix: str,
         on_line: Callable[[str], None]) -> ImageTransfer:
    remote = remote_ref(profile, prefix)
    try:
        follow_transfer(engine.pull(remote), on_line, "pull")
    except RegistryError as error:
        text = str(error)
        if "manifest unknown" in text or "not found" in text:
            raise UserError(f"registry {prefix} has no {profile.image}: build it instead "
                            f"with 'edgecompress build {profile.name}'") from None
        raise UserError(f"cannot pull from {prefix} ({text.splitlines()[0][:160]}): build "
                        f"instead with 'edgecompress build {profile.name}'") from None
    image_id = engine.image_id(remote)
    if image_id is None:
        raise UserError(f"pulled {remote} but the engine does not list it")
    engine.tag(image_id, profile.image)
    content = engine.image_labels(image_id).get(label("content"))
    if content:
        engine.tag(image_id, f"{profile.image}-{content[:12]}")
    return ImageTransfer(profile.name, remote, image_id,
                         digest_for(engine.repo_digests(remote), remote))


def record_transfer(store: Path, action: str, transfer: ImageTransfer) -> None:
    """Append to <store>/images.jsonl: which image ran here, by tag and registry digest."""
    store.mkdir(parents=True, exist_ok=True)
    line = {"action": action, "at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "profile": transfer.profile, "remote": transfer.remote,
            "image_id": transfer.image_id, "digest": transfer.digest}
    with open(store / "images.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, sort_keys=True) + "\n")
