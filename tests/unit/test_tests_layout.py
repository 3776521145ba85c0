"""tests/unit/ mirrors the packages: each of its folders is named after a package of launcher/
(or jobs/, the container side's pure helpers) and is a package itself, as tests/unit/ is
(pytest's default import mode names a test module by its package path, so test modules of the
same name in two folders never collide)."""

from tests.paths import ROOT

UNIT = ROOT / "tests" / "unit"


def test_each_folder_of_the_unit_tests_is_named_after_a_package():
    folders = sorted(path.name for path in UNIT.iterdir()
                     if path.is_dir() and not path.name.startswith(("__", ".")))
    packages = {path.name for path in (ROOT / "launcher").iterdir()
                if (path / "__init__.py").is_file()} | {"jobs"}
    assert len(folders) >= 5
    assert [name for name in folders if name not in packages] == []
    assert [name for name in folders if not (UNIT / name / "__init__.py").is_file()] == []
