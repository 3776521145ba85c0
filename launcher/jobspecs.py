"""Turn command-line parameters into a validated job spec. Pure apart from digesting inputs.

Every job's options come from its pydantic spec model, so a new field is a new option with no
CLI code. Fields typed ``InputRef`` take a host path: the launcher digests it and mounts it
read-only at /inputs/<field>.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from launcher.contract.specs import SPEC_CLASSES as SPEC_CLASSES  # job name -> spec model
from launcher.contract.specs import AnySpec, InputRef
from launcher.contract.vocabulary import CONTAINER_INPUTS_DIR
from launcher.errors import UserError, describe_validation_error

FIXED_FIELDS = {"job", "schema_version"}
NONE_WORDS = {"none", "null"}


def spec_class(job: str) -> type[AnySpec]:
    try:
        return SPEC_CLASSES[job]
    except KeyError:
        raise UserError(
            f"unknown job {job!r}: choose one of {', '.join(SPEC_CLASSES)}"
        ) from None


def parameter_fields(job: str) -> dict[str, Any]:
    return {name: info for name, info in spec_class(job).model_fields.items()
            if name not in FIXED_FIELDS}


def is_input_field(info: Any) -> bool:
    return info.annotation is InputRef or InputRef in typing.get_args(info.annotation)


def allows_none(info: Any) -> bool:
    return type(None) in typing.get_args(info.annotation)


def option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def build_spec(job: str, params: Mapping[str, str],
               digest: Callable[[Path], str]) -> tuple[AnySpec, dict[str, Path]]:
    """params: field -> text as typed. Returns the spec and the inputs to mount."""
    fields = parameter_fields(job)
    values: dict[str, Any] = {}
    inputs: dict[str, Path] = {}
    for name, text in params.items():
        if name not in fields:
            raise UserError(f"job {job} has no parameter {option_name(name)}: it takes "
                            f"{', '.join(option_name(f) for f in fields) or 'none'}")
        info = fields[name]
        if is_input_field(info):
            path = Path(text).expanduser()
            if not path.exists():
                raise UserError(f"{option_name(name)} {text}: no such file or folder")
            inputs[name] = path
            values[name] = {"path": f"{CONTAINER_INPUTS_DIR}/{name}", "sha256": digest(path)}
        elif allows_none(info) and text.lower() in NONE_WORDS:
            values[name] = None
        else:
            values[name] = text
    for name, info in fields.items():
        if is_input_field(info) and info.is_required() and name not in values:
            raise UserError(f"job {job} needs {option_name(name)} PATH")
    try:
        return spec_class(job).model_validate(values), inputs
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        if field in fields:
            raise UserError(
                f"invalid {option_name(field)} {params.get(field)!r}: {first['msg']}"
            ) from None
        raise UserError(f"invalid {job} spec: {describe_validation_error(error)}") from None
