"""README's layout lists every module of launcher/ and jobs/, each under its own folder, and
nothing that is not there."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def layout_paths() -> set[str]:
    """The paths the layout's tree names: a name's folder is the nearest folder above it that
    is indented less."""
    block = README.split("## Layout\n", 1)[1].split("\n## ", 1)[0]
    paths: set[str] = set()
    folders: list[tuple[int, str]] = []  # (indent, path) of the folders open above
    for line in block.splitlines():
        match = re.match(r"( {4,})([A-Za-z0-9_.]+/?)(\s|$)", line)
        if not match:
            continue
        indent, name = len(match.group(1)), match.group(2)
        while folders and folders[-1][0] >= indent:
            folders.pop()
        path = (folders[-1][1] if folders else "") + name
        if name.endswith("/"):
            folders.append((indent, path))
        paths.add(path.rstrip("/"))
    return paths


def docstring_only(path: Path) -> bool:
    body = ast.parse(path.read_text()).body
    return all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
               and isinstance(node.value.value, str) for node in body)


def test_every_module_is_in_the_layout():
    listed = layout_paths()
    modules = {path.relative_to(ROOT).as_posix()
               for top in ("launcher", "jobs") for path in (ROOT / top).rglob("*.py")
               if "__pycache__" not in path.parts}
    # A package's __init__.py that holds nothing but its docstring goes without saying.
    said = {module for module in modules
            if not (module.endswith("/__init__.py") and docstring_only(ROOT / module))}
    assert sorted(said - listed) == []
    assert sorted(path for path in listed if path.endswith(".py")
                  and path.startswith(("launcher/", "jobs/"))
                  and not (ROOT / path).is_file()) == []
