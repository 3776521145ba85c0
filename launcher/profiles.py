"""Device profiles: one table that drives image names, base images, pins and how containers run.

Pure data. A profile's Python packages are pinned here, not in a Dockerfile, so the pins are
one diff away from review and part of the image's content tag.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from launcher.errors import UserError

IMAGE_REPOSITORY = "edgecompress/jobs"


@dataclass(frozen=True)
class Profile:
    name: str
    family: str  # the folder under docker/ holding its Dockerfile
    base_image: str  # the public default; EDGECOMPRESS_BASE_<NAME> or --base-image overrides
    python: str
    tensorflow: str
    tfmot: str
    tfds: str
    requirements: tuple[str, ...]
    tag: str  # says what is inside: stack, TF, Python
    runtime: str | None = None  # "nvidia" on Jetson

    @property
    def image(self) -> str:
        return f"{IMAGE_REPOSITORY}:{self.tag}"

    @property
    def base_env_var(self) -> str:
        return "EDGECOMPRESS_BASE_" + re.sub(r"[^A-Z0-9]+", "_", self.name.upper())


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            name="x86-tf2.12",
            family="x86",
            base_image="python:3.11-slim-bookworm",
            python="3.11",
            tensorflow="2.12.1",
            tfmot="0.7.5",
            tfds="4.9.2",
            requirements=(
                "tensorflow-cpu==2.12.1",
                "tensorflow-model-optimization==0.7.5",
                "tensorflow-datasets==4.9.2",
                # tfds pulls the newest tensorflow-metadata, which needs protobuf >= 5; TF 2.12
                # holds protobuf 4: import tensorflow_datasets then fails.
                "tensorflow-metadata<1.15",
                # TF 2.12 asks for any jax >= 0.3.15; without a pin pip backtracks through
                # every jax/jaxlib release looking for one that accepts numpy < 1.24.
                "jax==0.4.13",
                "ml-dtypes<0.3",
                "scipy<1.12",
                "pillow<11",
            ),
            tag="x86-tf2.12-py311",
        ),
        Profile(
            name="x86-tf2.7",
            family="x86",
            base_image="python:3.9-slim-bullseye",
            python="3.9",
            tensorflow="2.7.4",
            tfmot="0.7.3",
            tfds="4.5.2",
            requirements=(
                "tensorflow-cpu==2.7.4",
                "tensorflow-model-optimization==0.7.3",
                "tensorflow-datasets==4.5.2",
                "keras==2.7.*",
                "numpy<1.24",
                "protobuf<3.21",
                "tensorflow-metadata<1.15",
                "scipy<1.12",
                "pillow<11",
            ),
            tag="x86-tf2.7-py39",
        ),
    )
}

DEFAULT_PROFILE = "x86-tf2.12"


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UserError(
            f"unknown profile {name!r}: choose one of {', '.join(sorted(PROFILES))}"
        ) from None


def resolve_base_image(profile: Profile, override: str | None = None,
                       environ: dict[str, str] | None = None) -> str:
    """--base-image wins, then EDGECOMPRESS_BASE_<PROFILE>, then the profile's public default."""
    if override:
        return override
    env = os.environ if environ is None else environ
    return env.get(profile.base_env_var) or profile.base_image
