"""The quick campaign's data, written by the launcher: the same bytes every time (so the same
keys), a fixed split, readable by the jobs' unprivileged user."""

from __future__ import annotations

import stat

from launcher.files import tree_digest
from launcher.study.digits import ensure_digits_folder


def test_same_folder_every_time_with_a_fixed_split(tmp_path):
    first = ensure_digits_folder(tmp_path / "a" / "digits", 32, (0.15, 0.15))
    second = ensure_digits_folder(tmp_path / "b" / "digits", 32, (0.15, 0.15))
    assert tree_digest(first) == tree_digest(second)
    counts = {split: sum(1 for _ in (first / split).rglob("*.png"))
              for split in ("train", "validation", "test")}
    assert sum(counts.values()) == 1797
    assert 0.13 < counts["test"] / 1797 < 0.17 and 0.13 < counts["validation"] / 1797 < 0.17
    assert sorted(p.name for p in (first / "test").iterdir()) == [
        f"digit_{d}" for d in range(10)], "every class in every split"
    for path in [first, *first.rglob("*")]:
        assert path.stat().st_mode & stat.S_IROTH
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(".")], (
        "no staging folder left")


def test_an_existing_folder_is_not_rewritten(tmp_path):
    folder = ensure_digits_folder(tmp_path / "digits", 32, (0.15, 0.15))
    marker = folder / "train" / "digit_0"
    before = sorted(p.name for p in marker.iterdir())
    assert ensure_digits_folder(folder, 32, (0.15, 0.15)) == folder
    assert sorted(p.name for p in marker.iterdir()) == before
