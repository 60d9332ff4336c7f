"""Validate-only tuning grids whose chosen weight is bracketed.

A method's grid maps hparams keys to the values to try, e.g.
``{"iusp_weight": [10, 100, 1000], "iusp_tap": ["rnn", "conv1"]}``. Its
first numeric key is the loss weight. Every combination is tried; then, as
long as the best trial's weight is the smallest or largest weight tried with
its other settings (tap, variant ...), one more weight a grid step beyond
that edge is tried with those settings. The chosen weight is then strictly
inside what was tried, or the report says it is not.

Authors
 * speechbrain-iusp developers 2026
"""

import itertools
import numbers

__all__ = ["bracketed", "expand_grid", "next_weight", "tune", "weight_key"]


def weight_key(grid):
    """The loss-weight key of a grid: its first key with numeric values.

    Arguments
    ---------
    grid : dict
        key -> list of values.

    Returns
    -------
    str or None

    Example
    -------
    >>> weight_key({"iusp_tap": ["rnn"], "iusp_weight": [1.0, 10.0]})
    'iusp_weight'
    """
    for key, values in grid.items():
        if values and all(
            isinstance(v, numbers.Number) and not isinstance(v, bool)
            for v in values
        ):
            return key
    return None


def expand_grid(grid):
    """Every combination of a grid, as a list of override dicts.

    Arguments
    ---------
    grid : dict
        key -> list of values.

    Returns
    -------
    list of dict

    Example
    -------
    >>> expand_grid({"w": [1, 2], "tap": ["rnn", "conv1"]})[:2]
    [{'w': 1, 'tap': 'rnn'}, {'w': 1, 'tap': 'conv1'}]
    """
    for key, values in grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(
                f"tuning grid: '{key}' must list at least one value, got "
                f"{values!r}"
            )
    keys = list(grid)
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(grid[k] for k in keys))
    ]


def _same_settings(a, b, key):
    return {k: v for k, v in a.items() if k != key} == {
        k: v for k, v in b.items() if k != key
    }


def next_weight(trials, key):
    """The weight to try next so that the best trial's weight is inside.

    Arguments
    ---------
    trials : list of (dict, float)
        (overrides, validate score) of the trials so far.
    key : str
        The weight key.

    Returns
    -------
    dict or None
        Overrides of the next trial (the best trial's settings with the new
        weight), or None when the best weight is strictly inside the weights
        tried with its settings.

    Example
    -------
    >>> runs = [({"w": 30.0, "tap": "rnn"}, 0.52)]
    >>> runs += [({"w": 300.0, "tap": "rnn"}, 0.50)]
    >>> next_weight(runs, "w")
    {'w': 3.0, 'tap': 'rnn'}
    >>> next_weight(runs + [({"w": 3.0, "tap": "rnn"}, 0.51)], "w") is None
    True
    """
    best, weights = _weights_at_best(trials, key)
    if len(weights) < 2:
        return None
    w = best[key]
    if w == weights[-1]:
        new = w * weights[-1] / weights[-2]
    elif w == weights[0]:
        new = w * weights[0] / weights[1]
    else:
        return None
    return {**best, key: float(new)}


def _weights_at_best(trials, key):
    """The best trial and the weights tried with its other settings."""
    best = max(trials, key=lambda t: t[1])[0]
    weights = sorted(
        {c[key] for c, _ in trials if _same_settings(c, best, key)}
    )
    return best, weights


def bracketed(trials, key):
    """Whether the best trial's weight is strictly inside its grid.

    Arguments
    ---------
    trials : list of (dict, float)
        (overrides, validate score).
    key : str or None
        The weight key (None: nothing to bracket, True).

    Returns
    -------
    bool

    Example
    -------
    >>> runs = [({"w": 1.0}, 0.1), ({"w": 2.0}, 0.3), ({"w": 4.0}, 0.2)]
    >>> bracketed(runs, "w")
    True
    >>> bracketed([({"w": 1.0}, 0.1)], "w")
    False
    """
    if key is None:
        return True
    best, weights = _weights_at_best(trials, key)
    return weights[0] < best[key] < weights[-1]


def tune(grid, score, max_extend=3):
    """Tune one method: the grid, then weights beyond an edge until inside.

    Arguments
    ---------
    grid : dict
        key -> list of values (the first numeric key is the weight).
    score : callable
        ``score(list of overrides) -> list of validate scores`` (runs them,
        possibly in parallel; higher is better).
    max_extend : int
        Most extra weights tried beyond the edges.

    Returns
    -------
    dict
        ``chosen`` (overrides of the best trial), ``trials`` (list of
        ``{"overrides", "validate"}``), ``weight_key`` and ``bracketed``
        (the chosen weight is strictly inside the weights tried with its
        settings).

    Example
    -------
    >>> curve = lambda c: -abs(c["w"] - 1000.0) / 1000.0
    >>> res = tune({"w": [10.0, 100.0]}, lambda cs: [curve(c) for c in cs])
    >>> res["chosen"], res["bracketed"]
    ({'w': 1000.0}, True)
    """
    key = weight_key(grid)
    first = expand_grid(grid)
    trials = list(zip(first, score(first), strict=True))
    for _ in range(max_extend if key else 0):
        nxt = next_weight(trials, key)
        if nxt is None:
            break
        trials.append((nxt, score([nxt])[0]))
    chosen = max(trials, key=lambda t: t[1])[0]
    return {
        "chosen": chosen,
        "trials": [{"overrides": c, "validate": s} for c, s in trials],
        "weight_key": key,
        "bracketed": bracketed(trials, key),
    }
