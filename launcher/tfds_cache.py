"""The tfds cache on the host: a prepare job (jobs/prepare.py) downloads a dataset into it,
the one job with the network; every job that reads the dataset gets it read-only. Before a
job or a campaign starts, the dataset must be there, or nothing starts (one line saying how
to prepare it). A fleet's boards read a copy on the shared store."""

from __future__ import annotations

import shutil
from pathlib import Path

from launcher.errors import UserError

INFO_FILE = "dataset_info.json"  # what tfds writes last into a finished version folder


def prepared_folder(cache: Path, tfds_name: str) -> Path | None:
    """The folder holding ``tfds_name`` (``name`` or ``name:version``) prepared in ``cache``,
    or None. tfds prepares into ``name/version.incomplete...`` and renames when done, so a
    version folder with its info file is a finished one."""
    name, _, version = tfds_name.partition(":")
    folder = cache / name
    if not folder.is_dir():
        return None
    candidates = ([folder / version] if version
                  else sorted(path for path in folder.iterdir() if path.name[:1].isdigit()
                              and "incomplete" not in path.name))
    return next((path for path in candidates if (path / INFO_FILE).is_file()), None)


def not_prepared(tfds_name: str, cache: Path) -> str:
    return (f"tfds dataset {tfds_name} is not prepared in {cache}: run 'edgecompress fetch "
            f"CAMPAIGN' (or 'edgecompress run prepare --tfds-name {tfds_name}') on a machine "
            "with the internet, or carry a prepared cache here and point "
            "EDGECOMPRESS_TFDS_DIR at it")


def require_prepared(cache: Path, tfds_name: str) -> Path:
    found = prepared_folder(cache, tfds_name)
    if found is None:
        raise UserError(not_prepared(tfds_name, cache))
    return found


def share(cache: Path, tfds_name: str, shared: Path) -> Path:
    """``tfds_name`` prepared in ``shared`` (a fleet store's copy), copied from ``cache`` when
    it is not there yet: the boards read the shared store, not this machine's cache."""
    found = prepared_folder(shared, tfds_name)
    if found is not None:
        return found
    source = require_prepared(cache, tfds_name)
    target = shared / source.relative_to(cache)
    partial = target.with_name(target.name + ".incomplete-copy")
    shutil.rmtree(partial, ignore_errors=True)
    # symlinks=True copies links as links: nothing outside the cache is followed into the
    # shared store (the cache is the user's, but the store is read by every board).
    shutil.copytree(source, partial, symlinks=True)
    partial.rename(target)
    return target
