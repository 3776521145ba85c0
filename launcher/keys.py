"""Content keys: canonical JSON and the hashes that name jobs and images. Pure functions."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

from launcher.contract.specs import BenchmarkSettings
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

# Spec fields added after stores were written with the spec, keyed only when they differ from
# their default: a spec that leaves them at it keeps the key it had before they existed, so a
# store resumes and its results are reused. Their defaults must never change (a key would then
# name two different jobs).
KEYED_WHEN_SET: dict[str, Any] = {
    **{name: BenchmarkSettings.model_fields[name].default
       for name in ("min_duration_s", "cooldown_c", "cooldown_timeout_s")},
    "canonical": False, "needs_keras2": False}


def _keyed(name: str, value: Any) -> bool:
    if name in CACHE_FIELDS:
        return False
    return name not in KEYED_WHEN_SET or value != KEYED_WHEN_SET[name]


def job_key(spec: BaseModel | dict[str, Any], image_id: str,
            schema_version: int = SCHEMA_VERSION) -> str:
    """The job's identity: what it is asked, what runs it, and the contract it answers in. A
    dict is a spec as written (a stored spec.json), hashed as it is, bar the cache fields and
    the later fields at their defaults (KEYED_WHEN_SET)."""
    fields = spec.model_dump(mode="json") if isinstance(spec, BaseModel) else spec
    return sha256_text(canonical_json(
        {"spec": {name: value for name, value in fields.items() if _keyed(name, value)},
         "image_id": image_id, "schema_version": schema_version}
    ))
