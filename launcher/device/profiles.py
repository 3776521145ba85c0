"""Device profiles: one table that drives image names, base images, pins and how containers run.

Pure data. A profile's Python packages are pinned here, not in a Dockerfile, so the pins are
one diff away from review and part of the image's content tag. The Makefile asks
launcher/device/local_base.py about LOCAL_BASE.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from launcher import settings
from launcher.errors import UserError

# Base images made from Debian packages (docker/base/make-base-image.sh), tagged by suite.
LOCAL_BASE_REPOSITORY = "edgecompress/base"


@dataclass(frozen=True)
class Profile:
    name: str
    family: str  # the folder under docker/ holding its Dockerfile
    base_image: str  # the public default; EDGECOMPRESS_BASE_<NAME> or --base-image overrides
    python: str
    tensorflow: str
    tfmot: str
    tfds: str
    # What pip installs. On Jetson with --no-deps, so the list is the whole dependency closure
    # (less what the base image provides): pip resolves nothing and cannot swap NVIDIA's TF.
    requirements: tuple[str, ...]
    tag: str  # says what is inside: stack, TF, Python
    runtime: str | None = None  # "nvidia" on Jetson
    # x86 twins only: the Debian suite whose python3 is this profile's Python. `make ...
    # LOCAL_BASE=1` makes edgecompress/base:<suite> with debootstrap instead of pulling
    # base_image (air-gapped machines, CI). None: no such base (Jetson: NVIDIA's L4T images).
    local_base_suite: str | None = None
    # Jetson only: the device stack the base image was built for.
    jetpack: str | None = None  # "4.6.1"
    l4t: str | None = None  # "R32.7.1"; the host's L4T major line must match
    python_release: str | None = None  # the device's exact Python, to resolve pins off-device
    glibc: str | None = None  # the device's C library: the newest manylinux wheel it accepts
    # Requirements the base image already meets: checked at build time, never installed.
    provided: tuple[str, ...] = ()
    # Declared dependencies deliberately not installed (each one's reason is in its profile).
    left_out: tuple[str, ...] = ()
    # (package, dependency): the package's declared version bound on the dependency is nominal.
    loose_bounds: tuple[tuple[str, str], ...] = ()
    # Pure-Python pins that publish no wheel; every other pin must install from a wheel.
    source_builds: tuple[str, ...] = ()
    # The board's memory budget for one job (launcher/limits.py): None takes 90 % of the
    # host's memory (a workstation); swap_mb is what it may use beyond that.
    memory_mb: int | None = None
    swap_mb: int = 0

    @property
    def image(self) -> str:
        return f"{settings.image_repository()}:{self.tag}"

    @property
    def base_env_var(self) -> str:
        return settings.base_image_variable(self.name)

    @property
    def local_base_image(self) -> str | None:
        """The Debian-made base of LOCAL_BASE=1, or None."""
        if self.local_base_suite is None:
            return None
        return f"{LOCAL_BASE_REPOSITORY}:{self.local_base_suite}"

    @property
    def is_jetson(self) -> bool:
        return self.l4t is not None

    @property
    def l4t_major(self) -> str | None:
        """The L4T line an image runs on: "R32" or "R35"."""
        return self.l4t.split(".")[0] if self.l4t else None

    @property
    def wheel_platforms(self) -> tuple[str, ...]:
        """Wheel platform tags the device's pip accepts (pip does not infer older manylinux
        tags from a newer one, so resolving off-device has to list them all)."""
        if not self.glibc:
            return ()
        newest = int(self.glibc.split(".")[1])
        tags = [f"manylinux_2_{minor}_aarch64" for minor in range(newest, 16, -1)]
        return (*tags, "manylinux2014_aarch64")


# NVIDIA's TensorFlow 2.12 build for JetPack 5.1.1 (CUDA 11.4, as on JetPack 5.1); no NGC image
# carries TF 2.12, so the Xavier image installs it on l4t-jetpack.
NV_TF_2_12_WHEEL = (
    "https://developer.download.nvidia.com/compute/redist/jp/v511/tensorflow/"
    "tensorflow-2.12.0+nv23.05-cp38-cp38-linux_aarch64.whl"
)

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
                # tfds.testing (mock_data: the download-free tfds path) imports dill.
                "dill<0.4",
            ),
            tag="x86-tf2.12-py311",
            local_base_suite="bookworm",
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
                # tfds.testing (mock_data: the download-free tfds path) imports dill.
                "dill<0.4",
            ),
            tag="x86-tf2.7-py39",
            local_base_suite="bullseye",
        ),
        # The newest TensorFlow, to show jobs/ runs on the current stack too: TF >= 2.16 ships
        # Keras 3, which tfmot refuses, so Keras 2 comes from tf-keras (jobs/compat.py).
        Profile(
            name="x86-tf2.21",
            family="x86",
            base_image="python:3.11-slim-bookworm",
            python="3.11",
            tensorflow="2.21.0",
            tfmot="0.8.1",
            tfds="4.9.10",
            requirements=(
                # Not tensorflow-cpu: tf-keras requires the package named tensorflow, and both
                # would install into the same tensorflow/ folder, one over the other.
                "tensorflow==2.21.0",
                "tf-keras==2.21.0",
                "tensorflow-model-optimization==0.8.1",
                "tensorflow-datasets==4.9.10",
                "scipy<1.17",
                "pillow<12",
                # tfds.testing (mock_data: the download-free tfds path) imports dill.
                "dill<0.5",
            ),
            tag="x86-tf2.21-py311",
            local_base_suite="bookworm",
        ),
        Profile(
            name="nano",
            family="jetson",
            base_image="nvcr.io/nvidia/l4t-tensorflow:r32.7.1-tf2.7-py3",
            python="3.6",
            tensorflow="2.7.0",
            tfmot="0.7.3",
            tfds="4.5.2",
            # TensorFlow and its own dependencies come with the base image; these are what tfmot
            # and tfds add, at the last releases that support Python 3.6. Versions from PyPI's
            # metadata for cp36/aarch64 (tests/integration/test_jetson_pins.py re-resolves
            # them).
            requirements=(
                "tensorflow-model-optimization==0.7.3",
                "tensorflow-datasets==4.5.2",
                "tensorflow-metadata==1.2.0",
                "googleapis-common-protos==1.56.3",
                "dill==0.3.4",
                "promise==2.3",
                "tqdm==4.64.1",
                "dataclasses==0.8",
                "importlib-resources==5.4.0",
                "zipp==3.6.0",
                # oxford_flowers102 reads its labels with scipy.io; both as in the x86 twin.
                "scipy==1.5.4",
                "pillow==8.4.0",
            ),
            tag="jp46-tf2.7-py36",
            runtime="nvidia",
            jetpack="4.6.1",
            # 4 GB shared with the GPU; TensorFlow training needs the swap preflight checks.
            memory_mb=3584,
            swap_mb=4096,
            l4t="R32.7.1",
            python_release="3.6.9",
            glibc="2.27",
            provided=(
                "tensorflow==2.7.0+nv22.1",
                "numpy>=1.14.5,<1.20",
                "protobuf>=3.15,<4",
                "absl-py>=0.9",
                "six>=1.10",
                "requests>=2.19.0",
                "termcolor>=1.1",
                "typing-extensions>=3.6.6",
            ),
            # dm-tree has no aarch64 wheel for Python 3.6 (only cp37+ from 0.1.8), and building
            # it needs CMake >= 3.12 and abseil; tfmot imports it only in
            # python/core/internal/tensor_encoding, which none of its public API imports.
            left_out=("dm-tree",),
            # Every tensorflow-metadata for Python 3.6 declares absl-py < 0.13, while TF 2.7
            # came with absl-py 1.x; tensorflow-metadata is generated protobuf code and never
            # imports absl, so the base image's absl-py stays.
            loose_bounds=(("tensorflow-metadata", "absl-py"),),
            source_builds=("promise",),
        ),
        Profile(
            name="xavier",
            family="jetson",
            base_image="nvcr.io/nvidia/l4t-jetpack:r35.2.1",
            python="3.8",
            tensorflow="2.12.0",
            tfmot="0.7.5",
            tfds="4.9.2",
            # The whole closure, as resolved for Python 3.8 on aarch64 from the releases out by
            # 2023-06-30 (the TF 2.12 / JetPack 5.1.1 era; uv pip compile --exclude-newer), with
            # PyPI's tensorflow-cpu-aws 2.12.0 standing in for NVIDIA's wheel (same setup.py).
            requirements=(
                f"tensorflow @ {NV_TF_2_12_WHEEL}",
                "tensorflow-model-optimization==0.7.5",
                "tensorflow-datasets==4.9.2",
                # Newer ones need protobuf >= 5 (see x86-tf2.12).
                "tensorflow-metadata==1.13.1",
                "absl-py==1.4.0",
                "astunparse==1.6.3",
                "cachetools==5.3.1",
                "certifi==2023.5.7",
                "charset-normalizer==3.1.0",
                "click==8.1.3",
                # tfds.testing (mock_data: the download-free tfds path) imports dill.
                "dill==0.3.6",
                "dm-tree==0.1.8",
                "etils==1.3.0",
                "flatbuffers==23.5.26",
                "gast==0.4.0",
                "google-auth==2.21.0",
                "google-auth-oauthlib==1.0.0",
                "google-pasta==0.2.0",
                "googleapis-common-protos==1.59.1",
                "grpcio==1.56.0",
                "h5py==3.9.0",
                "idna==3.4",
                "importlib-metadata==6.7.0",
                "importlib-resources==5.12.0",
                "jax==0.4.13",
                "keras==2.12.0",
                "libclang==16.0.0",
                "markdown==3.4.3",
                "markupsafe==2.1.3",
                "ml-dtypes==0.2.0",
                "numpy==1.23.5",
                "oauthlib==3.2.2",
                "opt-einsum==3.3.0",
                "packaging==23.1",
                "pillow==9.5.0",
                "promise==2.3",
                "protobuf==4.23.3",
                # The first psutil with an aarch64 wheel for Python 3.8; older ones compile.
                "psutil==6.0.0",
                "pyasn1==0.5.0",
                "pyasn1-modules==0.3.0",
                "requests==2.31.0",
                "requests-oauthlib==1.3.1",
                "rsa==4.9",
                "scipy==1.10.1",
                "setuptools==68.0.0",
                "six==1.16.0",
                "tensorboard==2.12.3",
                "tensorboard-data-server==0.7.1",
                "tensorflow-estimator==2.12.0",
                "tensorflow-io-gcs-filesystem==0.32.0",
                "termcolor==2.3.0",
                "toml==0.10.2",
                "tqdm==4.65.0",
                "typing-extensions==4.7.0",
                "urllib3==1.26.16",
                "werkzeug==2.3.6",
                "wheel==0.40.0",
                "wrapt==1.14.1",
                "zipp==3.15.0",
            ),
            tag="jp51-tf2.12-py38",
            runtime="nvidia",
            jetpack="5.1",
            # 8 GB shared with the GPU; JetPack 5 adds zram swap.
            memory_mb=7168,
            swap_mb=2048,
            l4t="R35.2.1",
            python_release="3.8.10",
            glibc="2.31",
            # Every array-record that installs on Python 3.8 (0.2.0 to 0.4.0) is a py38-none-any
            # wheel holding an x86-64 array_record_module.so, and later ones have no cp38
            # wheel (tensorflow/datasets#5109, google/array_record#71). tfds 4.9.2 imports it
            # lazily, only for the array_record file format; the default is tfrecord.
            left_out=("array-record",),
            source_builds=("promise", "jax"),
        ),
    )
}

# NOT A DEVICE PROFILE: an emulation stand-in for `xavier`, for `make emulate-xavier` (an arm64
# smoke test on an x86-64 host under qemu-user-static). The Xavier's Dockerfile and its pins,
# derived from the entry above so they cannot drift, on a Debian bullseye arm64 base made with
# debootstrap (docker/base/make-base-image.sh): Python 3.9.2, not the device's 3.8.10 (the
# C library matches: glibc 2.31 on both). TensorFlow is PyPI's aarch64 build instead of NVIDIA's
# CUDA wheel: no GPU, no L4T, no nvidia runtime, so the Jetson preflight does not apply. It shows
# that the Python layers install and import on aarch64; it measures nothing about a Xavier.
# Every other pin has a cp39 aarch64 wheel at the Xavier's version (the network test
# tests/integration/test_jetson_pins.py re-resolves them).
PROFILES["xavier-emulated"] = replace(
    PROFILES["xavier"],
    name="xavier-emulated",
    base_image="edgecompress/base:bullseye-arm64",
    python="3.9",
    requirements=tuple(
        pin
        for requirement in PROFILES["xavier"].requirements
        # PyPI's tensorflow 2.12.0 for aarch64 is an empty wheel requiring the Linaro/AWS build,
        # tensorflow-cpu-aws 2.12.0 (the xavier lock's stand-in for NVIDIA's wheel, same
        # setup.py); pip installs with --no-deps, so both are pinned.
        for pin in (("tensorflow==2.12.0", "tensorflow-cpu-aws==2.12.0")
                    if requirement.startswith("tensorflow @ ") else (requirement,))
    ),
    tag="emu-jp51-tf2.12-py39-arm64",
    runtime=None,
    l4t=None,  # so is_jetson is False: no --only-binary rule in requirements.txt, no preflight
    python_release="3.9.2",  # Debian bullseye's
)

DEFAULT_PROFILE = "x86-tf2.12"


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UserError(
            f"unknown profile {name!r}: choose one of {', '.join(sorted(PROFILES))}"
        ) from None


def resolve_base_image(profile: Profile, override: str | None = None,
                       environ: Mapping[str, str] | None = None) -> str:
    """--base-image wins, then EDGECOMPRESS_BASE_<PROFILE>, then the profile's public default."""
    if override:
        return override
    return settings.base_image(profile.name, environ) or profile.base_image
