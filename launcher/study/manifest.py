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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from launcher.files import write_text_atomic
from launcher.study.campaign import CampaignConfig

MANIFESTS = "campaigns"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class ManifestNode(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    folder: str = Field(pattern=r"^[a-z_]+-[0-9a-f]{16}$")  # the job folder under jobs/
    job: str
    model: str
    method: str
    copy_label: int = Field(ge=1)  # the trained copy the numbers belong to
    role: Literal["prepare", "train", "compress", "benchmark"]

    @model_validator(mode="before")
    @classmethod
    def _drop_repeat(cls, data: Any) -> Any:
        # Stores written before 0.2 record a ``repeat`` that was always 0.
        if isinstance(data, dict) and data.get("repeat", 0) == 0:
            data = {k: v for k, v in data.items() if k != "repeat"}
        return data


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    # Both become a file name (name@profile.json): no path separators, no "..".
    name: str = Field(pattern=NAME_PATTERN)
    profile: str = Field(pattern=NAME_PATTERN)
    image: str
    image_id: str
    config: CampaignConfig
    nodes: dict[str, ManifestNode] = {}
    updated_at: str = ""

    @model_validator(mode="before")
    @classmethod
    def _drop_repeats(cls, data: Any) -> Any:
        # Stores written before 0.2 record the campaign's ``repeats``, which never reached a
        # job (each copy's compression is its timed compression): read them without it.
        config = data.get("config") if isinstance(data, dict) else None
        if isinstance(config, dict) and "repeats" in config:
            data = {**data, "config": {k: v for k, v in config.items() if k != "repeats"}}
        return data


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
