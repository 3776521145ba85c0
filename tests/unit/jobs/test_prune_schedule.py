"""When the pruning masks change (jobs/prune.py's mask_plan), against the total steps: tfmot
counts the first training step as 1, so the plan begins there, and the last change leaves at
least an epoch to recover from it. The schedule the job built before this put the first mask
at the last step of the first epoch."""

from __future__ import annotations

import pytest

from jobs.prune import FIRST_STEP, cosine_after, mask_plan


@pytest.mark.parametrize(("epochs", "steps_per_epoch", "frequency", "steps"), [
    (1, 39, 39, [1]),  # one epoch: a single mask at the first step, the whole epoch to recover
    (2, 39, 39, [1]),  # the quick preset's digits: the mask at step 1, two epochs to recover
    (5, 255, 100, [1, 101, 201, 301, 401, 501, 601, 701, 801, 901, 1001]),  # the paper's
    (3, 10, 4, [1, 5, 9, 13, 17]),
    (1, 1, 1, [1]),
])
def test_the_masks_change_from_the_first_step_to_an_epoch_before_the_end(
        epochs, steps_per_epoch, frequency, steps):
    total = epochs * steps_per_epoch
    begin, end, planned = mask_plan(total, steps_per_epoch, frequency)
    assert planned == steps and begin == FIRST_STEP == planned[0]
    assert planned[-1] <= end
    # Every change leaves at least an epoch (all of a one-epoch fit but its first step).
    assert total - planned[-1] >= min(steps_per_epoch, total - 1)
    assert all(b - a == frequency for a, b in zip(planned, planned[1:], strict=False))


def test_the_old_schedule_masked_at_the_end_of_the_first_epoch():
    """What tfmot did with begin_step=0 and frequency = steps per epoch: the first step whose
    count (from 1) is a multiple of the frequency, the last of epoch one."""
    steps_per_epoch = 39
    old_first = next(step for step in range(1, 2 * steps_per_epoch + 1)
                     if (step - 0) % steps_per_epoch == 0)
    assert old_first == steps_per_epoch
    assert mask_plan(2 * steps_per_epoch, steps_per_epoch, steps_per_epoch)[2][0] == 1


def test_the_rate_holds_while_the_masks_change_then_falls_to_zero():
    rate = 1e-3
    assert cosine_after(rate, 64, 96, 0) == rate
    assert cosine_after(rate, 64, 96, 64) == rate
    assert cosine_after(rate, 64, 96, 80) == pytest.approx(rate / 2)
    assert cosine_after(rate, 64, 96, 96) == pytest.approx(0.0, abs=1e-12)
    assert cosine_after(rate, 64, 96, 500) == pytest.approx(0.0, abs=1e-12)
    falling = [cosine_after(rate, 64, 96, step) for step in range(64, 97)]
    assert falling == sorted(falling, reverse=True)
    # A fit of one epoch has its only mask at step 1: the whole fit is the fall.
    assert cosine_after(rate, 1, 1, 1) == rate
