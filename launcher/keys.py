"""Content keys: canonical JSON and the hashes that name jobs and images. Pure functions."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

from launcher.contract.vocabulary import SCHEMA_VERSION


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no whitespace, UTF-8 kept, no NaN."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Spec fields left out of the key. ``decoded`` is a cache of ``images`` at ``input_size``,
# both in the key: the job's pixels are the same with it or without it (jobs/decoded.py),
# while its own digest changes with the image that decoded it. Leaving it out keeps a job's
# key the same whether the pixels came decoded or not, on a device or a workstation.
CACHE_FIELDS = frozenset({"decoded"})


def job_key(spec: BaseModel | dict[str, Any], image_id: str,
            schema_version: int = SCHEMA_VERSION) -> str:
    """The job's identity: what it is asked, what runs it, and the contract it answers in. A
    dict is a spec as written (a stored spec.json), hashed as it is, bar the cache fields."""
    fields = spec.model_dump(mode="json") if isinstance(spec, BaseModel) else spec
    return sha256_text(canonical_json(
        {"spec": {name: value for name, value in fields.items() if name not in CACHE_FIELDS},
         "image_id": image_id, "schema_version": schema_version}
    ))
