"""The one packaging step pyproject.toml cannot say: a wheel carries the container side (jobs/)
and the image recipes (docker/) as launcher/_bundled/, so an installed launcher (pip install .)
builds the same images as a checkout. launcher/images.py reads the checkout first when it runs
from one (an editable install: edits take effect), else this copy.

The files copied are those the image content tag covers (launcher/files.py's tree_files: all
but caches), with their modes, so a checkout and an installed copy give the same tag.
"""

import os
import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED = ("jobs", "docker")  # folders of the project root, copied to launcher/_bundled/
TARGET = os.path.join("launcher", "_bundled")


def tree_files():
    """launcher/files.py's tree_files. It and what it imports (launcher/errors.py) use the
    standard library alone, so the build needs none of the launcher's dependencies."""
    sys.path.insert(0, HERE)
    try:
        from launcher.files import tree_files as list_files
    finally:
        sys.path.remove(HERE)
    return list_files


def bundled_files():
    """(source, path under launcher/_bundled/) of every file to ship."""
    list_files = tree_files()
    found = []
    for name in BUNDLED:
        root = os.path.join(HERE, name)
        if not os.path.isdir(root):
            raise SystemExit(f"edgecompress packaging: {root} is missing (build from a "
                             "checkout or from the sdist)")
        for path in list_files(Path(root)):
            found.append((str(path), os.path.relpath(path, HERE)))
    return found


class BuildPyWithBundle(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # the checkout's own jobs/ and docker/ are used
            return
        target = os.path.join(self.build_lib, TARGET)
        shutil.rmtree(target, ignore_errors=True)  # no stale files from an earlier build
        for source, relpath in bundled_files():
            destination = os.path.join(target, relpath)
            self.mkpath(os.path.dirname(destination))
            self.copy_file(source, destination, preserve_mode=True)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        return outputs + [os.path.join(self.build_lib, TARGET, relpath)
                          for _, relpath in bundled_files()]


setup(cmdclass={"build_py": BuildPyWithBundle})
