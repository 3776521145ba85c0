"""Pruned models that lost more than they should, each with its likely cause, read from what
the prune job recorded (jobs/prune.py): the regime, the validation accuracy before pruning,
right after the first mask and at the end, the steps at which the masks changed. Pure."""

from __future__ import annotations

from launcher.contract.results import PruneMetrics
from launcher.report.cells import Cells, accuracy_drop_pts, ordered
from launcher.report.table import Column, Table

FLAG_DROP_PTS = 10.0  # points of test top-1 below the base


def likely_cause(metrics: PruneMetrics) -> str:
    """The first explanation the record supports, in the order they were met."""
    if metrics.regime == "as_restored" and not metrics.backbone_survivors_changed:
        return ("regime as_restored: the backbone was pruned and never retrained (its surviving "
                "weights did not move); pruned_layers retrains what it prunes")
    if metrics.mask_steps is None:
        return ("recorded before the pruning schedule was fixed: the first mask came at the last "
                "step of the first epoch, leaving the network the other epochs to recover; "
                "run it again")
    if metrics.steps_per_epoch and metrics.total_steps and metrics.mask_steps:
        total = metrics.total_steps
        if total - max(metrics.mask_steps) < min(metrics.steps_per_epoch, total - 1):
            return (f"the masks changed at step {max(metrics.mask_steps)} of {total}: less than "
                    "an epoch to recover")
    before, first = metrics.validation_accuracy_before, metrics.validation_accuracy_first_mask
    final = metrics.final_validation_accuracy
    if before is not None and first is not None and final is not None:
        return (f"the fit did not recover from the mask: validation {100 * before:.1f} % before, "
                f"{100 * first:.1f} % right after the first mask, {100 * final:.1f} % at the "
                "end; more compression epochs, a higher learning rate, or regime all")
    return f"{100 * metrics.target_sparsity:.0f} % of the pruned layers' weights removed"


def pruning_flags_table(cells: Cells) -> Table:
    rows = []
    for cell in ordered(cells):
        if not cell.method.startswith("prune") or not cell.prunes:
            continue
        drop = accuracy_drop_pts(cells, cell.model, cell.method)
        if drop is None or drop <= FLAG_DROP_PTS:
            continue
        rows.append((cell.model, cell.method, drop, cell.prunes[0].regime or "pruned_layers",
                     likely_cause(cell.prunes[0])))
    return Table("pruning_flags", "Pruned models that fell more than 10 points", (
        Column("model"), Column("method"), Column("drop (points)", 2), Column("regime"),
        Column("likely cause")), tuple(rows),
        "A pruned model whose test top-1 fell more than 10 points below its base, with what "
        "its own record (copy 1's) says about why (docs/methodology.md, 'Pruning').")
