"""The ImageNet weights cache: each file fetched once, on the host, checked, kept.

A file comes from Keras's own location, or from ``EDGECOMPRESS_WEIGHTS_URL``: a mirror given
as a URL base (the file name is appended) or a local folder (a lab without internet carries the
cache or a folder of files over). Every file is checked against Keras's published hash (md5 or
sha256) before it enters the cache, and again (once per launcher process) before a job gets it:
a wrong file never reaches a job. Keras publishes none for MobileNet and MobileNetV2: those are
used unchecked, said aloud. ``EDGECOMPRESS_WEIGHTS_HASHES`` names a JSON file of hashes to check
instead, for files that are not Keras's (the tests' stub weights); every use of it is said
aloud.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

from launcher import settings
from launcher.contract.specs import AnySpec
from launcher.errors import UserError
from launcher.pretrained import WeightsFile, missing_weights, weights_file, with_weights_file

FETCH_TIMEOUT_S = 60.0
_verified: set[tuple[str, int, int]] = set()  # (path, size, mtime_ns) checked this process


def hash_of(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_hashes(path: Path | None) -> dict[str, str] | None:
    """The hashes of EDGECOMPRESS_WEIGHTS_HASHES: {file name: md5}."""
    if path is None:
        return None
    try:
        table = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UserError(f"{settings.WEIGHTS_HASHES.name}={path}: cannot read a JSON object "
                        f"of file name -> md5 ({error}): fix the file or unset the variable"
                        ) from None
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise UserError(f"{settings.WEIGHTS_HASHES.name}={path} must hold a JSON object of "
                        "file name -> md5")
    return table


def source_of(file: WeightsFile, mirror: str | None) -> str:
    """Where ``file`` is fetched from: Keras's origin, or the mirror's copy."""
    if mirror is None:
        return file.origin
    if "://" not in mirror:
        return str(Path(mirror).expanduser() / file.name)
    return mirror.rstrip("/") + "/" + urllib.parse.quote(file.name)


class WeightsCache:
    """``ensure(file)`` -> the path of a checked copy in the cache, fetched if needed."""

    def __init__(self, root: Path, mirror: str | None = None,
                 hashes: Mapping[str, str] | None = None, hashes_from: Path | None = None,
                 say: Callable[[str], None] = lambda line: None) -> None:
        self.root, self.mirror, self.hashes, self.say = root, mirror, hashes, say
        self.hashes_from = hashes_from
        self.fetched: list[str] = []  # file names fetched by this cache object

    @classmethod
    def from_settings(cls, say: Callable[[str], None] = lambda line: None,
                      environ: Mapping[str, str] | None = None) -> WeightsCache:
        hashes_from = settings.weights_hashes(environ)
        return cls(settings.weights_dir(environ), settings.weights_url(environ),
                   load_hashes(hashes_from), hashes_from, say)

    def expected_hash(self, file: WeightsFile) -> tuple[str, str] | None:
        """(algorithm, hex digest) to check ``file`` against; None where Keras publishes no
        hash (MobileNet, MobileNetV2): said aloud, and the file's sha256 still keys the job."""
        if self.hashes is None:
            if file.file_hash is None or file.hash_algorithm is None:
                self.say(f"warning: Keras publishes no hash for {file.name}: it is used "
                         "unchecked (its sha256 is part of every job's key that reads it)")
                return None
            return file.hash_algorithm, file.file_hash
        if file.name not in self.hashes:
            raise UserError(f"{settings.WEIGHTS_HASHES.name}={self.hashes_from} has no hash "
                            f"for {file.name}: add it, or unset the variable to check Keras's")
        self.say(f"warning: {file.name} is checked against {self.hashes_from} "
                 f"({settings.WEIGHTS_HASHES.name}), not Keras's published hash")
        return "md5", self.hashes[file.name]

    def path(self, file: WeightsFile) -> Path:
        return self.root / file.name

    def cached(self, file: WeightsFile) -> Path | None:
        """The checked cached copy, or None when there is none (nothing is fetched)."""
        path = self.path(file)
        if not path.is_file():
            return None
        stat = path.stat()
        seen = (str(path), stat.st_size, stat.st_mtime_ns)
        if seen in _verified:
            return path
        expected = self.expected_hash(file)
        if expected is not None and hash_of(path, expected[0]) != expected[1]:
            return None
        _verified.add(seen)
        return path

    def ensure(self, file: WeightsFile) -> Path:
        found = self.cached(file)
        if found is not None:
            return found
        source = source_of(file, self.mirror)
        expected = self.expected_hash(file)
        self.root.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(prefix=f".{file.name}.", dir=self.root)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(handle, "wb") as out:
                self._copy(source, out, file)
            got = None if expected is None else hash_of(tmp, expected[0])
            if expected is not None and got != expected[1]:
                raise UserError(
                    f"ImageNet weights {file.name} from {source} have {expected[0]} {got}, not "
                    f"{expected[1]}: a wrong or damaged file; point {settings.WEIGHTS_URL.name} "
                    "at a mirror with Keras's file")
            os.chmod(tmp, 0o644)  # the job's unprivileged user reads it
            os.replace(tmp, self.path(file))
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self.fetched.append(file.name)
        return self.path(file)

    def _copy(self, source: str, out: BinaryIO, file: WeightsFile) -> None:
        where = (f"set {settings.WEIGHTS_URL.name} to a mirror (a URL base or a folder) that "
                 f"has it, or copy it into {self.root}")
        try:
            if "://" not in source:
                with open(source, "rb") as handle:
                    shutil.copyfileobj(handle, out)
                return
            with urllib.request.urlopen(source, timeout=FETCH_TIMEOUT_S) as response:
                shutil.copyfileobj(response, out)
        except FileNotFoundError:
            raise UserError(f"ImageNet weights {file.name}: no such file {source}; {where}"
                            ) from None
        except urllib.error.HTTPError as error:
            raise UserError(f"ImageNet weights {file.name}: {source} answered {error.code} "
                            f"{error.reason}; {where}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            raise UserError(f"ImageNet weights {file.name}: cannot fetch {source} ({reason}); "
                            f"{where}") from None


def give_weights(spec: AnySpec, inputs: Mapping[str, Path], tensorflow: str,
                 cache: WeightsCache, digest: Callable[[Path], str]
                 ) -> tuple[AnySpec, dict[str, Path]]:
    """The spec with a weights file for each slot that asks for ImageNet weights and has none
    (fetched into the cache when missing), and the inputs with those files."""
    given = dict(inputs)
    for slot, architecture in missing_weights(spec):
        size = int(getattr(spec, "input_size", 224))
        path = cache.ensure(weights_file(architecture, tensorflow, size))
        spec = with_weights_file(spec, slot, digest(path))
        given[slot.file] = path
    return spec, given
