"""Content keys: canonical JSON and the hashes that name jobs and images. Pure functions."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

from launcher.schema import SCHEMA_VERSION


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no whitespace, UTF-8 kept, no NaN."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def job_key(spec: BaseModel | dict[str, Any], image_id: str,
            schema_version: int = SCHEMA_VERSION) -> str:
    """The job's identity: what it is asked, what runs it, and the contract it answers in. A
    dict is a spec as written (a stored spec.json), hashed as it is."""
    return sha256_text(canonical_json(
        {"spec": spec.model_dump(mode="json") if isinstance(spec, BaseModel) else spec,
         "image_id": image_id, "schema_version": schema_version}
    ))
