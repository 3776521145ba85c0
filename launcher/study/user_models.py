"""Models of one's own in a campaign: a ``[[models]]`` table naming trained files.

    [[models]]
    name = "mynet"
    path = "mynet.keras"            # or a .h5 file, or a SavedModel folder
    # paths = ["run1.keras", "run2.keras"]   several trained copies: copy N is paths[N-1]
    # custom_objects = "layers.py"  imported inside the job's container, never here

The launcher never loads these files: it checks that each exists and has a format Keras
reads, and digests it (launcher/files.py), so a replaced file re-runs what depends on it. What
the model is (input size, classes) is read by the ``inspect`` job inside the container
(jobs/inspect_model.py), before any compression of it runs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from launcher.applications import all_names
from launcher.errors import UserError

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


class UserModel(BaseModel):
    """One model of one's own: its name in the report, its trained copies, its custom layers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$",
                      description="the model's name in jobs, the report and --models")
    path: Path | None = Field(default=None, description="a .keras or .h5 file, or a SavedModel "
                              "folder; relative paths are relative to the campaign file")
    paths: list[Path] | None = Field(default=None, min_length=1, max_length=100,
                                     description="several trained copies: copy N is paths[N-1]")
    custom_objects: Path | None = Field(
        default=None, description="a Python file defining the model's custom layers: mounted "
        "read-only and imported inside each job's container (it runs in that sandbox, never on "
        "the host)")

    @field_validator("name")
    @classmethod
    def _not_an_architecture(cls, value: str) -> str:
        if value in all_names():
            raise ValueError(f"{value!r} is a keras.applications architecture the study trains: "
                             "give your own model another name")
        return value

    @model_validator(mode="after")
    def _one_of_path_paths(self) -> UserModel:
        if (self.path is None) == (self.paths is None):
            raise ValueError(f"model {self.name}: give path (one file) or paths (several "
                             "trained copies), not both or neither")
        return self

    @property
    def files(self) -> tuple[Path, ...]:
        """The trained copies, copy 1 first."""
        return (self.path,) if self.path is not None else tuple(self.paths or ())


def resolve_paths(model: UserModel, base_dir: Path | None) -> UserModel:
    """Relative paths taken from the campaign file's folder, made absolute: the plan keys
    nothing by path, but jobs are mounted from it and must not depend on the working folder."""
    def absolute(path: Path) -> Path:
        path = path.expanduser()
        return (path if path.is_absolute() else (base_dir or Path.cwd()) / path).resolve()

    update: dict[str, object] = {}
    if model.path is not None:
        update["path"] = absolute(model.path)
    if model.paths is not None:
        update["paths"] = [absolute(path) for path in model.paths]
    if model.custom_objects is not None:
        update["custom_objects"] = absolute(model.custom_objects)
    return model.model_copy(update=update)


def file_problem(path: Path) -> str | None:
    """Why ``path`` is not a model file Keras could be asked to load, or None. By name and
    layout only: reading the content is the job's (jobs/models.py keras_format)."""
    if path.is_dir():
        return None if (path / "saved_model.pb").is_file() else (
            "is a folder without saved_model.pb, not a SavedModel")
    if not path.exists():
        return "does not exist"
    if not path.is_file():
        return "is not a file or a folder"
    if path.suffix.lower() not in KERAS_SUFFIXES:
        return f"is not a .keras or .h5 file (suffix {path.suffix or 'none'!r}) nor a SavedModel"
    return None


def check_files(model: UserModel, where: str) -> None:
    """Every file of the model present and of a known kind: one line for the first that is
    not."""
    for path in model.files:
        problem = file_problem(path)
        if problem is not None:
            raise UserError(f"{where}: model {model.name}: {path} {problem}")
    objects = model.custom_objects
    if objects is not None and not (objects.is_file() and objects.suffix == ".py"):
        raise UserError(f"{where}: model {model.name}: custom_objects {objects} is not a "
                        ".py file")
