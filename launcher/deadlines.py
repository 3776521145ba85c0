"""How long a job may run before the launcher kills it (``timeout``), by job kind."""

from __future__ import annotations

# Generous: the paper's DenseNet201 on a Jetson Nano takes hours per training or pruning run.
DEFAULT_DEADLINES_S = {"probe": 300.0, "make_model": 1800.0, "inspect": 1800.0,
                       "prepare": 4 * 3600.0,  # 330 MB of flowers over a slow link
                       "quantize": 4 * 3600.0,
                       "benchmark": 8 * 3600.0}
TRAINING_DEADLINE_S = 48 * 3600.0


def deadline_for(job: str, override: float | None = None) -> float:
    return override or DEFAULT_DEADLINES_S.get(job, TRAINING_DEADLINE_S)
