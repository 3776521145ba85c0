"""A campaign's manifest in the store: which job folder holds which node of the campaign.

    <store>/campaigns/<name>@<profile>.json

Written by the executor as nodes are resolved. It is what ``status`` falls back on when
the engine cannot tell the image id, what ``report`` reads to know which results belong to
which model, method and copy (the numbers themselves come from the validated results), and
what ``merge`` brings along with the job folders.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from launcher.campaign import CampaignConfig
from launcher.files import write_text_atomic

MANIFESTS = "campaigns"


class ManifestNode(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    folder: str  # the job folder's name under <store>/jobs/
    job: str
    model: str
    method: str
    copy_label: int = Field(ge=1)  # the trained copy the numbers belong to
    role: Literal["train", "compress", "benchmark"]
    repeat: int = Field(default=0, ge=0)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    name: str
    profile: str
    image: str
    image_id: str
    config: CampaignConfig
    nodes: dict[str, ManifestNode] = {}
    updated_at: str = ""


def manifest_path(root: Path, name: str, profile: str) -> Path:
    return root / MANIFESTS / f"{name}@{profile}.json"


def load_manifest(path: Path) -> Manifest | None:
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None


def write_manifest(root: Path, manifest: Manifest) -> Path:
    path = manifest_path(root, manifest.name, manifest.profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest.updated_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    write_text_atomic(path, manifest.model_dump_json(indent=1) + "\n")
    return path


def manifests(root: Path) -> list[tuple[Path, Manifest]]:
    """Every readable manifest of the store, by file name."""
    folder = root / MANIFESTS
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        manifest = load_manifest(path)
        if manifest is not None:
            found.append((path, manifest))
    return found


def find_manifests(root: Path, name: str, profile: str | None = None) -> list[Manifest]:
    return [m for _, m in manifests(root)
            if m.name == name and (profile is None or m.profile == profile)]
