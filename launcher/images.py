"""Job images: render the build context (pure), name it by its content, build it (streamed).

An image is reused when its content tag exists: the tag is a hash of every file that goes
into the context and of the build arguments, so changing a pin, the Dockerfile, jobs/ or the
base image gives a new tag, and nothing else does. The optional extra CA bundle is not part of
the content: it changes how packages are fetched, not what ends up in the image.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from launcher.device.profiles import Profile
from launcher.docker_client import Engine, label
from launcher.errors import UserError
from launcher.files import tree_files

# The two places docker/ and jobs/ can be: the checkout the launcher runs from (the parent of
# the launcher package: an editable install, or python -m launcher in the source tree), and
# the copy a wheel carries (setup.py bundles them as launcher/_bundled/).
REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_ROOT = Path(__file__).resolve().parent / "_bundled"


def in_checkout() -> bool:
    """Whether this launcher runs from a checkout (not from an installed copy)."""
    return ((REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "docker").is_dir()
            and (REPO_ROOT / "jobs" / "__init__.py").is_file())


def repo_root() -> Path:
    """The checkout this launcher runs from: where generated files (schema/) are written."""
    if not in_checkout():
        raise UserError(f"this command writes into a checkout of edgecompress, and this "
                        f"launcher is an installed copy (in {REPO_ROOT}): run it from a "
                        "checkout (pip install -e .)")
    return REPO_ROOT


def sources_root() -> Path:
    """Where docker/ and jobs/ are read from: the checkout when running from one (so edits
    take effect), else the installed copy. Both give the same content tags."""
    if in_checkout():
        return REPO_ROOT
    if (BUNDLED_ROOT / "docker").is_dir() and (BUNDLED_ROOT / "jobs").is_dir():
        return BUNDLED_ROOT
    raise UserError(f"cannot find docker/ and jobs/: not a checkout ({REPO_ROOT}) and no "
                    f"installed copy ({BUNDLED_ROOT}): reinstall edgecompress (pip install .) "
                    "or run it from a checkout")


@dataclass(frozen=True)
class BuildPlan:
    profile: str
    files: Mapping[str, bytes]  # path in the context -> content
    buildargs: Mapping[str, str]
    content_digest: str
    image: str  # the human tag, e.g. edgecompress/jobs:x86-tf2.12-py311
    content_image: str  # the same plus the content digest

    @property
    def labels(self) -> dict[str, str]:
        return {label("profile"): self.profile, label("content"): self.content_digest,
                label("kind"): "image"}


def render_requirements(profile: Profile) -> str:
    """requirements.txt: the pins, and on Jetson what the build-time check needs to know
    (as comments pip ignores) and a wheels-only rule, so no C extension is compiled on a device
    because a pin's wheel tag did not match."""
    lines = [f"# provided: {requirement}" for requirement in profile.provided]
    lines += [f"# left-out: {name}" for name in profile.left_out]
    lines += [f"# loose-bound: {package} {dependency}"
              for package, dependency in profile.loose_bounds]
    if profile.is_jetson:
        lines.append("--only-binary=:all:")
        lines += [f"--no-binary={name}" for name in profile.source_builds]
    lines += profile.requirements
    return "".join(f"{line}\n" for line in lines)


def read_sources(profile: Profile, root: Path | None = None) -> dict[str, bytes]:
    """The files of a context that come from the project (the edge that reads disk): every
    file of docker/<family>/ (its Dockerfile and any helper it copies) and jobs/, from root
    (default: sources_root())."""
    root = root or sources_root()
    family = root / "docker" / profile.family
    dockerfile = family / "Dockerfile"
    jobs = root / "jobs"
    if not dockerfile.is_file() or not jobs.is_dir():
        raise UserError(f"cannot find docker/{profile.family}/Dockerfile and jobs/ under "
                        f"{root}: reinstall edgecompress (pip install .) or run it from a "
                        "checkout")
    files = {path.relative_to(family).as_posix(): path.read_bytes()
             for path in tree_files(family)}
    for path in tree_files(jobs):
        files["jobs/" + path.relative_to(jobs).as_posix()] = path.read_bytes()
    return files


def plan_build(profile: Profile, base_image: str, sources: Mapping[str, bytes]) -> BuildPlan:
    files = dict(sources)
    files["requirements.txt"] = render_requirements(profile).encode()
    buildargs = {"BASE_IMAGE": base_image}
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    for name, value in sorted(buildargs.items()):
        digest.update(f"arg:{name}={value}\0".encode())
    content = digest.hexdigest()
    return BuildPlan(
        profile=profile.name, files=files, buildargs=buildargs, content_digest=content,
        image=profile.image, content_image=f"{profile.image}-{content[:12]}",
    )


def write_context(plan: BuildPlan, destination: Path, extra_ca: bytes | None) -> None:
    for name, content in plan.files.items():
        path = destination / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    # Always present so the Dockerfile's COPY works; empty means "no extra CA".
    (destination / "extra-ca.pem").write_bytes(extra_ca or b"")


def read_extra_ca(path: str | None) -> bytes | None:
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise UserError(f"cannot read the extra CA bundle {path}: {error.strerror}") from None


def build_image(engine: Engine, plan: BuildPlan, extra_ca: bytes | None,
                on_line: Callable[[str], None], force: bool = False) -> tuple[str, bool]:
    """Build (or reuse) the image of a plan. Returns (image id, reused)."""
    existing = engine.image_id(plan.content_image)
    if existing and not force:
        engine.tag(existing, plan.image)
        return existing, True
    context = Path(tempfile.mkdtemp(prefix="edgecompress-context-"))
    try:
        write_context(plan, context, extra_ca)
        image_id = None
        for event in engine.build(str(context), plan.content_image, plan.buildargs,
                                  plan.labels):
            if "stream" in event:
                for line in str(event["stream"]).rstrip("\n").splitlines():
                    on_line(line)
            if "aux" in event and "ID" in event["aux"]:
                image_id = str(event["aux"]["ID"])
            if "error" in event:
                detail = str(event.get("error", "")).strip().splitlines()[-1:]
                raise UserError(
                    f"image build for {plan.profile} failed: {' '.join(detail)} "
                    "(the build log above says more)"
                )
    finally:
        shutil.rmtree(context, ignore_errors=True)
    image_id = image_id or engine.image_id(plan.content_image)
    if not image_id:
        raise UserError(f"image build for {plan.profile} produced no image")
    engine.tag(image_id, plan.image)
    return image_id, False
