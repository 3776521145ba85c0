"""Integration fixtures: a real Docker engine and the real job image, built (or reused) once.

The engine must be running: .ci/run and 'make test' start it. Without one these tests fail
loudly rather than skip, so a green run always means the containers really ran.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from launcher import images
from launcher.contract.specs import AnySpec
from launcher.device.profiles import get_profile, resolve_base_image
from launcher.docker_client import Engine
from launcher.errors import EngineError
from launcher.runner import JobRequest
from launcher.store import Store

TEST_PROFILE = os.environ.get("EDGECOMPRESS_TEST_PROFILE", "x86-tf2.12")


@pytest.fixture(scope="session")
def engine() -> Engine:
    try:
        return Engine.connect()
    except EngineError as error:
        pytest.fail(f"integration tests need a running Docker engine: {error}")


@pytest.fixture(scope="session")
def profile():
    return get_profile(TEST_PROFILE)


@pytest.fixture(scope="session")
def image_id(engine, profile) -> str:
    """The job image of the profile under test: reused when its content tag exists."""
    plan = images.plan_build(profile, resolve_base_image(profile),
                             images.read_sources(profile))
    extra_ca = images.read_extra_ca(os.environ.get("EDGECOMPRESS_EXTRA_CA"))
    built, _ = images.build_image(engine, plan, extra_ca, on_line=lambda line: None)
    return built


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "store")


@pytest.fixture
def request_for(profile, image_id):
    def make(spec: AnySpec, inputs: dict[str, Path] | None = None, **kwargs) -> JobRequest:
        return JobRequest(spec=spec, image=profile.image, image_id=kwargs.pop("image_id",
                          image_id), inputs=inputs or {}, **kwargs)
    return make


def job_containers(engine: Engine, key: str) -> list[dict]:
    return engine.containers({"io.edgecompress.key": key})
