"""The report flags a pruned model that fell more than 10 points, with the cause its own record
supports. Synthetic cells, no store."""

from __future__ import annotations

from typing import Any

from launcher.contract.results import PruneMetrics
from launcher.report.cells import Cell, Cells
from launcher.report.pruning import likely_cause, pruning_flags_table

MODEL = "MobileNetV3Small"


def metrics(**fields: Any) -> PruneMetrics:
    values: dict[str, Any] = dict(
        prune_s=10.0, target_sparsity=0.5, achieved_sparsity=0.5, overall_sparsity=0.45,
        wrapped_layers=30, pruned_parameters=900_000, parameters=944_890,
        saved_model_bytes=7_000_000, gzip_bytes=3_000_000, base_saved_model_bytes=7_000_000,
        base_gzip_bytes=6_000_000, regime="pruned_layers", backbone_survivors_changed=0.9,
        validation_accuracy_before=0.95, validation_accuracy_first_mask=0.2,
        final_validation_accuracy=0.6, steps_per_epoch=39, total_steps=78,
        mask_steps_planned=[1], mask_steps=[1])
    values.update(fields)
    return PruneMetrics.model_validate(values)


def cells_with(top1: float, record: PruneMetrics, method: str = "prune50") -> Cells:
    base = Cell(MODEL, "base", accuracy={1: 0.93})
    pruned = Cell(MODEL, method, accuracy={1: top1}, prunes=[record])
    return {(MODEL, "base"): base, (MODEL, method): pruned}


def test_a_pruned_model_within_ten_points_is_not_flagged():
    assert pruning_flags_table(cells_with(0.92, metrics())).rows == ()


def test_a_fall_is_flagged_with_the_cause_its_record_supports():
    (row,) = pruning_flags_table(cells_with(0.68, metrics())).rows
    assert row[:2] == (MODEL, "prune50") and abs(row[2] - 25.0) < 1e-9
    assert "did not recover" in row[4] and "20.0 %" in row[4] and "60.0 %" in row[4]
    restored = metrics(regime="as_restored", backbone_survivors_changed=0.0)
    assert "never retrained" in likely_cause(restored)
    old = metrics(mask_steps=None, mask_steps_planned=None, steps_per_epoch=None,
                  total_steps=None)
    assert "before the pruning schedule was fixed" in likely_cause(old)
    late = metrics(mask_steps=[1, 70], total_steps=78)
    assert "step 70 of 78" in likely_cause(late)
