"""Small file helpers shared by the store and the image builder."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import uuid
from pathlib import Path

from launcher.errors import UserError, storage_error

# Caches of the interpreter and of the linters (jobs/ruff.toml puts ruff's in jobs/): never
# part of an image's content tag nor of a wheel's copy of jobs/ (setup.py).
SKIPPED_NAMES = {"__pycache__", ".DS_Store", ".ruff_cache", ".mypy_cache", ".pytest_cache"}


def write_text_atomic(path: Path, text: str) -> None:
    """Temp file, fsync, rename, fsync the folder: readers see the old or the new file, never
    a torn one, and the rename survives a power cut. The temp name is unique: two writers of
    one file (two launchers, two threads) each rename a whole file of their own; the last
    rename wins."""
    tmp = unique_temp(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                     0o644)
        with open(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        sync_folder(path.parent)
    except OSError as error:
        # A full or read-only disk: no temp file left behind, the old file untouched.
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise storage_error(error, path) from None


def unique_temp(path: Path) -> Path:
    """A temp name beside ``path`` that no other writer (process or thread) will pick."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def sync_folder(folder: Path) -> None:
    """fsync a folder, so the renames and creations in it are on disk. Best effort: some
    file systems (and every folder on some platforms) refuse to open a folder for it."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def tree_files(root: Path) -> list[Path]:
    """Files under root (or root itself), sorted, without caches. Only regular files and
    folders with UTF-8 names: a link, FIFO, device or socket anywhere (root included) is a
    UserError naming it, so a digest or a copy never follows a link or opens a special file."""
    _require_plain(root, root)
    if stat.S_ISREG(os.lstat(root).st_mode):
        return [root]
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            _require_plain(Path(folder) / name, root)
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_NAMES)
        found.extend(Path(folder) / f for f in sorted(files)
                     if f not in SKIPPED_NAMES and not f.endswith(".pyc"))
    return found


def _require_plain(path: Path, root: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        raise UserError(f"{path} does not exist: check the path") from None
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(f"{path!r} has a name that is not UTF-8: rename it") from None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    kind = ("a symbolic link" if stat.S_ISLNK(mode) else "a FIFO" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a device or special file")
    where = "" if path == root else f" inside {root}"
    raise UserError(f"{path} is {kind}{where}: edgecompress reads only regular files and "
                    "folders; pass the real path or copy the files in")


def tree_digest(root: Path) -> str:
    """sha256 over (relative path, content) of every file: the identity of a model folder."""
    digest = hashlib.sha256()
    for file in tree_files(root):
        rel = file.relative_to(root).as_posix() if root.is_dir() else ""
        digest.update(rel.encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def first_unreadable_by_others(root: Path) -> Path | None:
    """The first file or folder under root that a different, unprivileged user could not
    read (or, for folders, enter): jobs launched by root run as uid 1000."""
    for path in [root, *_walk_all(root)]:
        mode = path.stat().st_mode
        needed = (stat.S_IROTH | stat.S_IXOTH) if path.is_dir() else stat.S_IROTH
        if mode & needed != needed:
            return path
    return None


def _walk_all(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        found.extend(Path(folder) / name for name in dirs + files)
    return found
