"""The trust boundary: every file a job container wrote, and every file of a store merged
from another machine, is read through here.

A container runs model code and pip packages, and a foreign store is whatever someone copied
to us, so what they hand us may be a symbolic link (to a host file, to /dev/zero), a FIFO (a
read that never ends), a device, a socket, a directory where a file should be, a file of
gigabytes or a JSON document nested a million deep. The rules, each in one place:
- files are opened without following links (O_NOFOLLOW), without blocking (O_NONBLOCK: a
  FIFO opens and is then refused), must be regular files, and are read up to a size cap;
- JSON is depth-checked before it is parsed, and NaN/Infinity are refused;
- a tree (a job's out/, a foreign job folder) may hold only regular files and directories,
  with UTF-8 names, within a size and entry budget; no link or special file anywhere.
Anything else raises ``Untrusted`` with a one-line reason; callers turn it into
``invalid_result`` or skip the entry.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MiB = 1024**2
GiB = 1024**3
MAX_RESULT_BYTES = 32 * MiB  # every latency run and training epoch fits in well under 1 MiB
MAX_SMALL_JSON_BYTES = 4 * MiB  # spec.json, status.json, a manifest
MAX_LOG_BYTES = 64 * MiB  # what the launcher keeps of a job's log
MAX_JSON_DEPTH = 64  # results nest about 4 deep
MAX_TREE_ENTRIES = 100_000
MAX_TREE_BYTES = 64 * GiB  # a DenseNet201 SavedModel plus its copies is well under 1 GiB
# A SavedModel nests 3 deep; a tree of more, or with longer relative paths, is refused before
# anything copies it by path (PATH_MAX is 4096 on Linux).
MAX_TREE_DEPTH = 32
MAX_RELATIVE_PATH = 1024


class Untrusted(Exception):
    """What is wrong with an untrusted file or tree, in one line."""


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _open_regular(path: Path, max_bytes: int) -> tuple[int, os.stat_result]:
    """An fd of a regular file of at most ``max_bytes``, opened without following a link and
    without blocking (a FIFO opens, then is refused by fstat), and its stat. The caller
    closes the fd; FileNotFoundError passes through."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise Untrusted(f"{path.name} is a symbolic link") from None
        raise Untrusted(f"cannot open {path.name}: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Untrusted(f"{path.name} is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > max_bytes:
            raise Untrusted(f"{path.name} is {info.st_size:,} bytes, over the "
                            f"{max_bytes:,}-byte cap")
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file, never following a link and never blocking."""
    fd, _ = _open_regular(path, max_bytes)
    try:
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise Untrusted(f"{path.name} grew past the {max_bytes:,}-byte cap while read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, brackets inside strings not counted."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(data: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Strict JSON: UTF-8, bounded depth, no NaN or Infinity."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Untrusted("not UTF-8 text") from None
    if json_depth(text) > max_depth:
        raise Untrusted(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        raise Untrusted(f"not valid JSON: {str(error).splitlines()[0][:120]}") from None


def read_json(path: Path, max_bytes: int = MAX_SMALL_JSON_BYTES) -> Any:
    """A JSON file read under the rules above; FileNotFoundError passes through."""
    data = read_regular_file(path, max_bytes)
    try:
        return parse_json(data)
    except Untrusted as error:
        raise Untrusted(f"{path.name}: {error}") from None


@dataclass(frozen=True)
class TreeSummary:
    files: int
    folders: int
    bytes: int


def check_tree(root: Path, max_bytes: int = MAX_TREE_BYTES,
               max_entries: int = MAX_TREE_ENTRIES) -> TreeSummary:
    """A folder (or a file) holding only regular files and folders with UTF-8 names, within
    the budget (bytes by apparent size, entries, depth, path length); never follows a
    link. Iterative: no depth of folders can exhaust the stack."""
    try:
        top = os.lstat(root)
    except OSError as error:
        raise Untrusted(f"{root.name}: {error.strerror}") from None
    if stat.S_ISREG(top.st_mode):
        if top.st_size > max_bytes:
            raise Untrusted(f"{root.name} is over the {max_bytes:,}-byte cap")
        return TreeSummary(1, 0, top.st_size)
    if not stat.S_ISDIR(top.st_mode):
        raise Untrusted(f"{root.name} is {_kind(top.st_mode)}")
    files = folders = size = 0
    pending = [(root, 0)]
    while pending:
        folder, depth = pending.pop()
        folders += 1
        try:
            entries = list(os.scandir(folder))
        except OSError as error:
            raise Untrusted(f"cannot list {_rel(folder, root)}: {error.strerror}") from None
        for entry in entries:
            where = _rel(Path(entry.path), root)
            if files + folders > max_entries:
                raise Untrusted(f"more than {max_entries:,} entries")
            try:
                entry.name.encode("utf-8")
            except UnicodeEncodeError:
                raise Untrusted(f"{where!r} is not a UTF-8 name") from None
            if len(os.fsencode(where)) > MAX_RELATIVE_PATH:
                raise Untrusted(f"a path longer than {MAX_RELATIVE_PATH:,} bytes "
                                f"({where[:60]}...)")
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                if depth + 1 >= MAX_TREE_DEPTH:
                    raise Untrusted(f"folders nested deeper than {MAX_TREE_DEPTH} levels")
                pending.append((Path(entry.path), depth + 1))
            elif stat.S_ISREG(mode):
                files += 1
                size += entry.stat(follow_symlinks=False).st_size
                if size > max_bytes:
                    raise Untrusted(f"over the {max_bytes:,}-byte cap")
            else:
                raise Untrusted(f"{where} is {_kind(mode)}")
    return TreeSummary(files, folders - 1, size)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or root.name
    except ValueError:
        return str(path)


def inside_without_links(root: Path, relative: str) -> Path:
    """root/relative, each component checked with lstat: no link on the way, and the last
    one a regular file or a folder."""
    path = root
    parts = Path(relative).parts
    if not parts or Path(relative).is_absolute() or ".." in parts:
        raise Untrusted(f"{relative!r} is not a relative path inside {root.name}/")
    for part in parts:
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            raise Untrusted(f"{relative} does not exist") from None
        if stat.S_ISLNK(mode):
            raise Untrusted(f"{_rel(path, root)} is a symbolic link")
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise Untrusted(f"{relative} is {_kind(mode)}")
    return path


_DIR_FLAGS = (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_NOFOLLOW
              | getattr(os, "O_CLOEXEC", 0))


def walk_entries(root: Path) -> Iterator[tuple[int, str, os.stat_result]]:
    """Every entry under the folder ``root`` as (folder fd, name, lstat), depth first, for
    fd-relative calls (``dir_fd=``) valid until the next item. Iterative, and one folder fd
    open at a time (the way back up is ``..``, checked against the inode it came from), so
    neither depth nor PATH_MAX nor the fd limit can break it; a folder swapped for a link
    under us is refused, never followed."""
    fd = os.open(root, _DIR_FLAGS)
    try:
        here = os.fstat(fd)
        stack = [((here.st_dev, here.st_ino), iter(sorted(os.listdir(fd))))]
        while stack:
            name = next(stack[-1][1], None)
            if name is None:
                stack.pop()
                if stack:
                    fd = _step(fd, "..", stack[-1][0])
                continue
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            yield fd, name, info
            if stat.S_ISDIR(info.st_mode):
                fd = _step(fd, name, (info.st_dev, info.st_ino))
                stack.append(((info.st_dev, info.st_ino), iter(sorted(os.listdir(fd)))))
    finally:
        os.close(fd)


def _step(fd: int, name: str, expected: tuple[int, int]) -> int:
    """Move from the folder ``fd`` to its entry ``name`` (or ``..``), which must be the folder
    ``expected`` (device, inode); the old fd is closed either way."""
    try:
        moved = os.open(name, _DIR_FLAGS, dir_fd=fd)
    finally:
        os.close(fd)
    info = os.fstat(moved)
    if (info.st_dev, info.st_ino) != expected:
        os.close(moved)
        raise Untrusted("the tree changed while it was walked")
    return moved


def give_back(root: Path, uid: int, gid: int) -> None:
    """Hand a tree a container wrote back to the launcher's user, never following links: a
    host account that happens to share the container's uid cannot alter it afterwards.
    fd-relative (fchownat), so no depth or path length leaves a file behind."""
    os.chown(root, uid, gid, follow_symlinks=False)
    if not stat.S_ISDIR(os.lstat(root).st_mode):
        return
    for fd, name, _ in walk_entries(root):
        os.chown(name, uid, gid, dir_fd=fd, follow_symlinks=False)


def copy_plain_tree(source: Path, target: Path, max_bytes: int = MAX_TREE_BYTES) -> int:
    """Copy a tree that may only hold regular files and folders: each file is opened with
    O_NOFOLLOW and checked again as it is copied, so a tree changed under us (a link swapped
    in after ``check_tree``) is refused, never followed. ``target`` must not exist. Sparse
    files stay sparse (holes are skipped, not written), and the cap counts apparent bytes.
    Iterative; ``check_tree`` has bounded the depth and path lengths. Returns the bytes
    copied."""
    copied = 0
    target.mkdir()
    pending = [(source, target)]
    while pending:
        source_folder, target_folder = pending.pop()
        for entry in sorted(os.scandir(source_folder), key=lambda e: e.name):
            mode = entry.stat(follow_symlinks=False).st_mode
            where = target_folder / entry.name
            if stat.S_ISDIR(mode):
                where.mkdir()
                pending.append((Path(entry.path), where))
            elif stat.S_ISREG(mode):
                copied += _copy_file(Path(entry.path), where, max_bytes - copied)
            else:
                raise Untrusted(f"{entry.name} is {_kind(mode)}")
    return copied


def _copy_file(source: Path, target: Path, max_bytes: int) -> int:
    try:
        fd, info = _open_regular(source, max_bytes)
    except FileNotFoundError as error:  # removed under us: refused like any other change
        raise Untrusted(f"cannot open {source.name}: {error.strerror}") from None
    try:
        with open(target, "xb") as out:
            for offset, length in _data_extents(fd, info.st_size):
                os.lseek(fd, offset, os.SEEK_SET)
                out.seek(offset)
                while length > 0:
                    chunk = os.read(fd, min(1 << 20, length))
                    if not chunk:
                        break
                    out.write(chunk)
                    length -= len(chunk)
            out.truncate(info.st_size)  # a trailing hole
            out.flush()
            os.fsync(out.fileno())
        os.chmod(target, stat.S_IMODE(info.st_mode) & 0o755)
        return info.st_size
    finally:
        os.close(fd)


def _data_extents(fd: int, size: int) -> Iterator[tuple[int, int]]:
    """(offset, length) of the parts of a file that hold data: SEEK_DATA/SEEK_HOLE where the
    file system has them, else the whole file."""
    if not hasattr(os, "SEEK_DATA"):
        yield 0, size
        return
    offset = 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as error:
            if error.errno == errno.ENXIO:  # only a hole from here to the end
                return
            yield offset, size - offset  # no SEEK_DATA on this file system
            return
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, min(end, size) - start
        offset = end


@dataclass(frozen=True)
class Usage:
    bytes: int  # apparent: a sparse file counts its whole length, as a copy would write it
    entries: int
    complete: bool  # False: stopped counting past the entry budget


def disk_usage(root: Path, max_entries: int = MAX_TREE_ENTRIES) -> Usage:
    """What a tree a job writes takes, never following a link, fd-relative (depth and path
    length cannot hide anything). Counting stops past ``max_entries``."""
    total = entries = 0
    try:
        for _, _, info in walk_entries(root):
            entries += 1
            if entries > max_entries:
                return Usage(total, entries, complete=False)
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
    except (OSError, Untrusted):
        pass  # removed or changed under us: what was counted still counts
    return Usage(total, entries, complete=True)
