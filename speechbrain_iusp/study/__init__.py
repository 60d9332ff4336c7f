"""Distillation studies: tuning grids, run pools and bootstrap statistics.

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.study.stats import (
    RunScores,
    paired_bootstrap,
    relative_improvement,
    relative_improvement_bootstrap,
    seed_mean,
)
from speechbrain_iusp.study.tuning import (
    bracketed,
    expand_grid,
    next_weight,
    tune,
    weight_key,
)

__all__ = [
    "RunScores",
    "bracketed",
    "expand_grid",
    "next_weight",
    "paired_bootstrap",
    "relative_improvement",
    "relative_improvement_bootstrap",
    "seed_mean",
    "tune",
    "weight_key",
]
