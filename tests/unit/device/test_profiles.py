"""The profile table's invariants: tags say what is inside, every image can be built from the
checkout, and the Jetson pins are exact and self-consistent."""

import re

import pytest

from launcher import images
from launcher.device.profiles import PROFILES, get_profile
from launcher.errors import UserError

JETSON = [p for p in PROFILES.values() if p.is_jetson]
# Emulation stand-ins: a Jetson image's Dockerfile and pins for an x86-64 host under qemu, with
# no L4T and no nvidia runtime (make emulate-xavier). Not device profiles.
EMULATED = [p for p in PROFILES.values() if p.family == "jetson" and not p.is_jetson]
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def short(version):
    return "".join(version.split(".")[:2])


def tf_minor(version):
    return ".".join(version.split("+")[0].split(".")[:2])


def pin_names(profile):
    return [NAME.match(pin).group(1).lower().replace("_", "-") for pin in profile.requirements]


# Debian's python3 in each suite: the Python of a base image make-base-image.sh makes.
DEBIAN_PYTHON = {"bullseye": "3.9", "bookworm": "3.11"}


@pytest.mark.parametrize("profile", PROFILES.values(), ids=list(PROFILES))
def test_local_base_is_the_debian_twin_of_the_public_base(profile):
    suite = profile.local_base_suite
    if profile.family == "x86":
        assert DEBIAN_PYTHON[suite] == profile.python
        assert profile.base_image == f"python:{profile.python}-slim-{suite}"
        assert profile.local_base_image == f"edgecompress/base:{suite}"
    else:  # Jetson: NVIDIA's L4T images; the emulated Xavier: make emulate-xavier's base
        assert suite is None and profile.local_base_image is None


@pytest.mark.parametrize("profile", PROFILES.values(), ids=list(PROFILES))
def test_tag_says_what_is_inside(profile):
    stack = f"jp{short(profile.jetpack)}" if profile.is_jetson else profile.family
    what = f"tf{tf_minor(profile.tensorflow)}-py{short(profile.python)}"
    if profile in EMULATED:
        # Says it is an emulation of which JetPack stack, and for which architecture.
        assert profile.tag == f"emu-jp{short(profile.jetpack)}-{what}-arm64"
    else:
        assert profile.tag == f"{stack}-{what}"
    assert profile.image == f"edgecompress/jobs:{profile.tag}"


def test_tags_and_env_vars_are_unique():
    assert len({p.tag for p in PROFILES.values()}) == len(PROFILES)
    assert len({p.base_env_var for p in PROFILES.values()}) == len(PROFILES)


@pytest.mark.parametrize("profile", PROFILES.values(), ids=list(PROFILES))
def test_every_profile_builds_from_the_checkout(profile):
    sources = images.read_sources(profile)
    assert "Dockerfile" in sources and "jobs/__main__.py" in sources
    plan = images.plan_build(profile, profile.base_image, sources)
    assert plan.image == profile.image
    assert plan.buildargs == {"BASE_IMAGE": profile.base_image}


@pytest.mark.parametrize("profile", PROFILES.values(), ids=list(PROFILES))
def test_pins_name_the_stack_the_profile_claims(profile):
    pins = set(profile.requirements)
    assert f"tensorflow-model-optimization=={profile.tfmot}" in pins
    assert f"tensorflow-datasets=={profile.tfds}" in pins


def test_the_nano_and_xavier_stacks():
    nano, xavier = get_profile("nano"), get_profile("xavier")
    assert (nano.l4t_major, nano.jetpack, nano.tag) == ("R32", "4.6.1", "jp46-tf2.7-py36")
    assert (xavier.l4t_major, xavier.jetpack, xavier.tag) == ("R35", "5.1", "jp51-tf2.12-py38")
    assert nano.base_image == "nvcr.io/nvidia/l4t-tensorflow:r32.7.1-tf2.7-py3"
    assert xavier.base_image == "nvcr.io/nvidia/l4t-jetpack:r35.2.1"
    # NVIDIA's TensorFlow: in the Nano's base image, installed from NVIDIA on the Xavier.
    assert "tensorflow==2.7.0+nv22.1" in nano.provided
    assert "tensorflow" not in pin_names(nano)
    (tf_pin,) = [pin for pin in xavier.requirements if pin.startswith("tensorflow @ ")]
    assert "/jp/v511/tensorflow/tensorflow-2.12.0+nv23.05-cp38-cp38-linux_aarch64.whl" in tf_pin


def test_the_emulated_xavier_is_the_xavier_stack_with_pypis_aarch64_tensorflow():
    xavier, emulated = get_profile("xavier"), get_profile("xavier-emulated")
    assert [emulated] == EMULATED
    assert (emulated.family, emulated.tag) == (xavier.family, "emu-jp51-tf2.12-py39-arm64")
    assert emulated.base_image == "edgecompress/base:bullseye-arm64"
    # No device: no L4T (so no Jetson preflight, no device checks), no nvidia runtime.
    assert (emulated.runtime, emulated.l4t, emulated.is_jetson) == (None, None, False)
    # Debian bullseye's Python (the Xavier has 3.8) and C library (the same as the Xavier's).
    assert (emulated.python, emulated.python_release) == ("3.9", "3.9.2")
    assert emulated.glibc == xavier.glibc == "2.31"
    assert (emulated.tensorflow, emulated.tfmot, emulated.tfds) == \
        (xavier.tensorflow, xavier.tfmot, xavier.tfds)
    # The same pins, NVIDIA's wheel replaced by PyPI's aarch64 TensorFlow of the same release.
    (nvidia,) = [pin for pin in xavier.requirements if " @ " in pin]
    at = xavier.requirements.index(nvidia)
    assert emulated.requirements == (*xavier.requirements[:at], "tensorflow==2.12.0",
                                     "tensorflow-cpu-aws==2.12.0",
                                     *xavier.requirements[at + 1:])
    assert (emulated.left_out, emulated.source_builds, emulated.provided) == \
        (xavier.left_out, xavier.source_builds, xavier.provided)


@pytest.mark.parametrize("profile", JETSON, ids=[p.name for p in JETSON])
def test_jetson_pins_are_exact_and_consistent(profile):
    assert profile.runtime == "nvidia"
    assert profile.python_release.startswith(profile.python + ".")
    assert profile.wheel_platforms[-1] == "manylinux2014_aarch64"
    # --no-deps installs exactly these: each must be one version, once.
    for pin in profile.requirements:
        assert re.fullmatch(r"[A-Za-z0-9._-]+(==[\w.+]+| @ https://\S+\.whl)", pin), pin
    names = pin_names(profile)
    assert len(names) == len(set(names))
    assert not set(profile.left_out) & set(names)
    assert set(profile.source_builds) <= set(names)
    assert {package for package, _ in profile.loose_bounds} <= set(names)


@pytest.mark.parametrize("profile", JETSON, ids=[p.name for p in JETSON])
def test_jetson_requirements_file_carries_the_build_time_check(profile):
    text = images.render_requirements(profile)
    lines = text.splitlines()
    assert lines.count("--only-binary=:all:") == 1
    assert {f"--no-binary={name}" for name in profile.source_builds} <= set(lines)
    assert {f"# provided: {req}" for req in profile.provided} <= set(lines)
    assert {f"# left-out: {name}" for name in profile.left_out} <= set(lines)
    assert lines[-len(profile.requirements):] == list(profile.requirements)


@pytest.mark.parametrize("name", ["x86-tf2.12", "x86-tf2.7"])
def test_x86_requirements_render_as_before(name):
    # The x86 images' content tags depend on this text: Jetson additions must not touch it.
    profile = get_profile(name)
    assert images.render_requirements(profile) == "".join(f"{p}\n" for p in profile.requirements)
    sources = images.read_sources(profile)
    assert [name for name in sources if not name.startswith("jobs/")] == ["Dockerfile"]


def test_the_image_repository_is_a_setting_checked_in_one_line():
    from launcher import settings

    assert settings.image_repository({}) == "edgecompress/jobs"
    assert settings.image_repository({"EDGECOMPRESS_IMAGE_REPOSITORY": "edgecompress/jobs-wt"}
                                     ) == "edgecompress/jobs-wt"
    with pytest.raises(UserError, match="EDGECOMPRESS_IMAGE_REPOSITORY='Bad Name'"):
        settings.image_repository({"EDGECOMPRESS_IMAGE_REPOSITORY": "Bad Name"})


def test_a_profiles_image_follows_the_repository_setting(monkeypatch):
    monkeypatch.setenv("EDGECOMPRESS_IMAGE_REPOSITORY", "edgecompress/jobs-elsewhere")
    assert get_profile("x86-tf2.12").image == "edgecompress/jobs-elsewhere:x86-tf2.12-py311"
