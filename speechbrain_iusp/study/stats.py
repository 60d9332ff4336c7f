"""Statistics of a distillation study: seed means and bootstrap intervals.

A study cell (student size x method) has one run per seed, each scored on
the same test clips. Runs of two methods with the same seed are paired (same
initialisation, same batches), and all runs share the clips, so intervals
resample both: a resample draws seeds (the same draw for every method) and
clips (the same draw for every run), re-scores every run on those clips and
takes the seed means.

Authors
 * speechbrain-iusp developers 2026
"""

import numpy as np

from speechbrain_iusp.sonyc.metrics import evaluate_coarse

__all__ = [
    "RunScores",
    "paired_bootstrap",
    "relative_improvement",
    "relative_improvement_bootstrap",
    "seed_mean",
]


class RunScores:
    """Test scores of the seeds of one cell, on the same clips.

    Arguments
    ---------
    y_true : numpy.ndarray
        ``[N, C]`` coarse ground truth of the test clips (shared).
    scores : dict
        seed -> ``[N, C]`` predicted probabilities, clips in ``y_true``'s
        order.

    Example
    -------
    >>> y = np.zeros((4, 8)); y[[0, 2], 0] = 1
    >>> s = np.zeros((4, 8)); s[:, 0] = [0.9, 0.8, 0.4, 0.1]
    >>> cell = RunScores(y, {1: s, 2: s})
    >>> round(seed_mean(cell, [1, 2], np.arange(4)), 6)
    0.541667
    """

    def __init__(self, y_true, scores):
        self.y_true = np.asarray(y_true)
        self.scores = {int(k): np.asarray(v) for k, v in scores.items()}
        for seed, s in self.scores.items():
            if s.shape != self.y_true.shape:
                raise ValueError(
                    f"seed {seed}: scores {s.shape} do not match the ground "
                    f"truth {self.y_true.shape}"
                )

    @property
    def seeds(self):
        """The seeds, sorted."""
        return sorted(self.scores)


def seed_mean(cell, seeds, clips, key="micro_auprc"):
    """Mean over ``seeds`` of each run's AUPRC on the ``clips`` rows.

    Arguments
    ---------
    cell : RunScores
        The runs.
    seeds : sequence of int
        Seeds to average (repeats allowed, as in a bootstrap draw).
    clips : numpy.ndarray
        Row indices of the clips (repeats allowed).
    key : str
        ``micro_auprc`` or ``macro_auprc``.

    Returns
    -------
    float
    """
    y = cell.y_true[clips]
    return float(
        np.mean([evaluate_coarse(y, cell.scores[s][clips])[key] for s in seeds])
    )


def _draws(seeds, n_clips, n_boot, rng, resample_seeds):
    """Bootstrap draws of (seeds, clip indices)."""
    seeds = list(seeds)
    for _ in range(n_boot):
        clips = rng.integers(0, n_clips, n_clips)
        if resample_seeds:
            picked = [seeds[i] for i in rng.integers(0, len(seeds), len(seeds))]
        else:
            picked = seeds
        yield picked, clips


def _common_seeds(cells):
    seeds = sorted(set.intersection(*(set(c.seeds) for c in cells)))
    if not seeds:
        raise ValueError("the cells share no seed: nothing to pair")
    n = {len(c.y_true) for c in cells}
    if len(n) != 1:
        raise ValueError(f"the cells are scored on different clips: {n}")
    return seeds


def paired_bootstrap(
    cell_a, cell_b, n_boot=1000, rng=None, key="micro_auprc", seeds=True
):
    """Interval of the seed-mean AUPRC difference A - B.

    Arguments
    ---------
    cell_a, cell_b : RunScores
        The two methods (paired by seed; the seeds both have are used).
    n_boot : int
        Resamples.
    rng : numpy.random.Generator, optional
        Random source (default: seeded with 0).
    key : str
        ``micro_auprc`` or ``macro_auprc``.
    seeds : bool
        Resample seeds as well as clips (True), or clips only.

    Returns
    -------
    dict
        ``diff`` (all seeds, all clips), ``ci_low``/``ci_high`` (95%
        percentile interval), ``p_le_0`` (fraction of resamples where A does
        not beat B) and ``n_seeds``.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random((40, 8)) < 0.3).astype(float)
    >>> noisy = lambda: 0.6 * y + 0.4 * rng.random(y.shape)
    >>> good = RunScores(y, {s: noisy() for s in (1, 2)})
    >>> bad = RunScores(y, {s: rng.random(y.shape) for s in (1, 2)})
    >>> res = paired_bootstrap(good, bad, n_boot=50)
    >>> res["diff"] > 0 and res["ci_low"] > 0
    True
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    common = _common_seeds([cell_a, cell_b])
    n = len(cell_a.y_true)
    full = np.arange(n)

    def diff(picked, clips):
        return seed_mean(cell_a, picked, clips, key) - seed_mean(
            cell_b, picked, clips, key
        )

    diffs = np.array(
        [diff(p, c) for p, c in _draws(common, n, n_boot, rng, seeds)]
    )
    return {
        "diff": diff(common, full),
        "ci_low": float(np.percentile(diffs, 2.5)),
        "ci_high": float(np.percentile(diffs, 97.5)),
        "p_le_0": float(np.mean(diffs <= 0)),
        "n_seeds": len(common),
    }


def relative_improvement(baseline, sp, iusp):
    r"""The IUSP paper's relative improvement of IUSP over SP.

    .. math::

        r = \frac{\bar A_{IUSP} - \bar A_{SP}}{\bar A_{SP} - \bar A_{base}}

    where :math:`\bar A` is the mean over seeds of each run's test AUPRC:
    how much larger IUSP's gain over the baseline is than SP's (0.27 = 27%
    larger). It is undefined (None) when SP does not beat the baseline: the
    ratio then has no meaning and its sign flips.

    Arguments
    ---------
    baseline, sp, iusp : float
        Seed means of the three methods.

    Returns
    -------
    float or None

    Example
    -------
    >>> round(relative_improvement(0.50, 0.54, 0.55), 6)
    0.25
    >>> relative_improvement(0.50, 0.49, 0.55) is None
    True
    """
    if sp - baseline <= 0:
        return None
    return (iusp - sp) / (sp - baseline)


def relative_improvement_bootstrap(
    baseline, sp, iusp, n_boot=1000, rng=None, key="micro_auprc"
):
    """:func:`relative_improvement` with a seeds-and-clips bootstrap.

    Each resample draws seeds (shared by the three methods) and clips
    (shared by every run) and recomputes the ratio from the resampled seed
    means. Resamples where SP does not beat the baseline have no ratio;
    their share is reported (``p_sp_le_base``): when it is large the ratio
    says little.

    Arguments
    ---------
    baseline, sp, iusp : RunScores
        The three cells, paired by seed.
    n_boot : int
        Resamples.
    rng : numpy.random.Generator, optional
        Random source (default: seeded with 0).
    key : str
        ``micro_auprc`` or ``macro_auprc``.

    Returns
    -------
    dict
        ``ratio`` (all seeds and clips; None when undefined), ``ci_low``,
        ``ci_high`` (95% percentiles over the defined resamples, None when
        fewer than half are defined), ``p_sp_le_base`` and ``n_seeds``.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    cells = [baseline, sp, iusp]
    common = _common_seeds(cells)
    n = len(baseline.y_true)

    def ratio(picked, clips):
        means = [seed_mean(c, picked, clips, key) for c in cells]
        return relative_improvement(*means)

    draws = _draws(common, n, n_boot, rng, True)
    ratios = [ratio(p, c) for p, c in draws]
    defined = np.array([r for r in ratios if r is not None])
    enough = len(defined) >= n_boot / 2
    return {
        "ratio": ratio(common, np.arange(n)),
        "ci_low": float(np.percentile(defined, 2.5)) if enough else None,
        "ci_high": float(np.percentile(defined, 97.5)) if enough else None,
        "p_sp_le_base": 1.0 - len(defined) / n_boot,
        "n_seeds": len(common),
    }
