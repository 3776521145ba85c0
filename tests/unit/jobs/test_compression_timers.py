"""Compression time (issue 9, item 3): what prune and distill time, read from their code.

Each timed part starts with ``started = time.time()`` and ends in ``<part>_s = time.time() -
started``; nothing of the data (reading, counting, batching) may run in between: counting the
validation split once sat inside the pruning timer. The sums themselves are checked on real
results in tests/integration/test_study_compression.py."""

from __future__ import annotations

import ast
import inspect

import pytest

from jobs import distill, prune


def timed_regions(source: str) -> dict[str, list[ast.stmt]]:
    """``<part>_s`` -> the top-level statements of the function inside its timer."""
    body = ast.parse(source).body[0]
    assert isinstance(body, ast.FunctionDef)
    regions: dict[str, list[ast.stmt]] = {}
    start: int | None = None
    for index, statement in enumerate(body.body):
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            continue
        target = statement.targets[0]
        if not isinstance(target, ast.Name):
            continue
        if target.id == "started":
            start = index
        elif target.id.endswith("_s") and "started" in ast.unparse(statement.value):
            assert start is not None, target.id
            regions[target.id] = body.body[start + 1:index]
    return regions


def calls(statements: list[ast.stmt]) -> set[str]:
    return {ast.unparse(node.func) for statement in statements for node in ast.walk(statement)
            if isinstance(node, ast.Call)}


@pytest.mark.parametrize(("module", "parts", "proper"), [
    # prune's load_s is timed inside models.load_input: the model's load alone; save_s, the
    # SavedModel's save alone, by jobs/contract.py's save_model for every job that makes one.
    (prune, {"wrap_s", "mask_s", "prune_s"},
         {"model.fit", "keras.models.clone_model", "apply_first_mask"}),
    (distill, {"load_s", "distill_s"}, {"train_step", "eval_step"}),
])
def test_no_data_is_read_or_counted_inside_a_timer(module, parts, proper):
    regions = timed_regions(inspect.getsource(module.run))
    assert set(regions) == parts
    timed = set().union(*(calls(statements) for statements in regions.values()))
    assert not {name for name in timed if name.startswith("data.")}, timed
    assert proper <= timed, "the compression proper is timed"
    assert "data.count" in calls(ast.parse(inspect.getsource(module.run)).body[0].body)


def test_the_old_pruning_timer_would_fail():
    """The same reading of the code as it was: data.count in the fit's arguments."""
    regions = timed_regions('''
def run(spec, context):
    started = time.time()
    history = model.fit(train, validation_data=validation if data.count(splits.validation)
                        else None, epochs=spec["epochs"])
    prune_s = time.time() - started
''')
    assert "data.count" in calls(regions["prune_s"])
