"""LOCAL_BASE=1, for the Makefile: which Debian suite and tag make each x86 twin's base image
(docker/base/make-base-image.sh), read from the profiles' table. Standard library only: the
Makefile runs ``python -m launcher.device.local_base`` with the plain system Python, before
the venv exists.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from launcher.device.profiles import PROFILES, get_profile
from launcher.errors import UserError


def local_base(name: str) -> tuple[str, str]:
    """(Debian suite, image tag) of a profile's Debian-made base; a UserError saying why there
    is none."""
    profile = get_profile(name)
    if profile.local_base_suite is None or profile.local_base_image is None:
        twins = ", ".join(p.name for p in PROFILES.values() if p.local_base_suite)
        if profile.is_jetson:
            why = f"Jetson profiles build on NVIDIA's L4T base images ({profile.base_image})"
        elif profile.family == "jetson":
            why = f"its arm64 base {profile.base_image} is made by make emulate-xavier"
        else:
            why = f"it builds on {profile.base_image}"
        raise UserError(f"LOCAL_BASE=1 cannot build {name}: {why}; LOCAL_BASE makes Debian "
                        f"base images for the x86 twins only ({twins})")
    return profile.local_base_suite, profile.local_base_image


def local_base_environment() -> dict[str, str]:
    """EDGECOMPRESS_BASE_<PROFILE> -> its Debian-made base, for every profile that has one."""
    return {p.base_env_var: p.local_base_image for p in PROFILES.values() if p.local_base_image}


USAGE = """usage: python -m launcher.device.local_base local-base PROFILE | local-base-env
  local-base PROFILE  the Debian suite and image tag of PROFILE's LOCAL_BASE=1 base image
                      (the arguments of docker/base/make-base-image.sh); exit 2 if it has none
  local-base-env      VARIABLE=IMAGE for every profile that has one (make exports them)"""


def main(argv: Sequence[str]) -> int:
    """The Makefile's view of the table. Standard library only (runs before the venv exists)."""
    try:
        if len(argv) == 2 and argv[0] == "local-base":
            print(" ".join(local_base(argv[1])))
        elif list(argv) == ["local-base-env"]:
            for variable, image in local_base_environment().items():
                print(f"{variable}={image}")
        else:
            print(USAGE, file=sys.stderr)
            return 2
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
