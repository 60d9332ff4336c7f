"""Official DCASE 2019 Task 5 (SONYC-UST) metrics, vectorised with numpy.

The definitions follow the challenge's evaluation code
(``sonyc-project/urban-sound-tagging-baseline``, ``metrics.py`` and
``evaluate_predictions.py``, final 2019 revision); this is an independent
implementation of them:

* Per coarse class, the thresholds are the unique predicted scores that are
  ``>= 0.01``, plus ``1.0``, taken in descending order. In fine mode the
  scores are those of the class's complete fine tags (the X tag's scores are
  not thresholds). A tag is predicted when ``score >= threshold``.
* ``P = TP / max(TP + FP, 0.5)`` and ``R = TP / max(TP + FN, 0.5)``.
* A curve is the list of ``(R, P)`` points in the row order of its official
  table, sorted by ``R`` with numpy's default ``np.argsort`` (quicksort, not
  stable), with ``(0, 1)`` prepended and ``(1, 0)`` appended, and
  integrated with the trapezoid rule. The order of points with equal recall
  matters for the area, so the table order does too: a class's table lists
  its thresholds in descending order, the micro table in ascending order.
  The same sort on the same array gives the official code's order.
  Published SONYC-UST figures come from that code.
* Micro-AUPRC: over the union of every class's thresholds ``t`` (ascending),
  each class contributes the counts of its own smallest threshold ``>= t``;
  TP, FP and FN are summed over the classes. Macro-AUPRC is the unweighted
  mean of the per-class AUPRCs.
* Micro-F1 is ``2PR / (P + R)`` (0 when ``TP == 0``) at the smallest
  threshold of the micro curve that is ``>= 0.5``.
* Fine mode scores each coarse class with the "X" (incomplete) fallback; see
  :func:`evaluate_fine`.

scikit-learn's ``average_precision_score`` is a different (step-wise)
quantity; :func:`sklearn_ap_micro` reports it under its own name only.

Authors
 * speechbrain-iusp developers 2026
"""

import math

import numpy as np

from speechbrain_iusp.sonyc.taxonomy import Taxonomy

MIN_THRESHOLD = 0.01
F1_THRESHOLD = 0.5
_MU = 0.5


def to_numpy(x):
    """Convert a torch tensor, list or array to a float64 numpy array."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def _check_pair(y_true, y_score, n_cols, name):
    """Validate shapes and ranges; return (bool targets, float scores)."""
    y_true = to_numpy(y_true)
    y_score = to_numpy(y_score)
    if y_true.ndim != 2 or y_true.shape[1] != n_cols:
        raise ValueError(
            f"{name}: y_true must have shape [N, {n_cols}], got "
            f"{list(y_true.shape)}"
        )
    if y_score.shape != y_true.shape:
        raise ValueError(
            f"{name}: y_score shape {list(y_score.shape)} differs from "
            f"y_true shape {list(y_true.shape)}"
        )
    if not np.all(np.isfinite(y_score)):
        raise ValueError(f"{name}: y_score contains NaN or inf")
    if y_score.size and (y_score.min() < 0.0 or y_score.max() > 1.0):
        raise ValueError(
            f"{name}: scores must be probabilities in [0, 1] (got min "
            f"{y_score.min():.4g}, max {y_score.max():.4g})"
        )
    if not np.all(np.isin(y_true, (0.0, 1.0))):
        raise ValueError(f"{name}: y_true must hold only 0 and 1")
    return y_true.astype(bool), y_score


def _thresholds(scores):
    """Official threshold set: unique scores >= 0.01 plus 1.0, descending."""
    flat = np.ravel(scores)
    kept = flat[flat >= MIN_THRESHOLD]
    return np.unique(np.append(kept, 1.0))[::-1]


def _count_ge(values, thresholds):
    """For each threshold, how many of ``values`` are >= it."""
    values = np.sort(np.ravel(values))
    return values.size - np.searchsorted(values, thresholds, side="left")


def _coarse_counts(truth, score):
    """Thresholds and TP/FP/FN of one coarse class.

    Arguments
    ---------
    truth : numpy.ndarray
        Boolean [N] ground truth of the class.
    score : numpy.ndarray
        Float [N] predicted scores of the class.

    Returns
    -------
    thresholds : numpy.ndarray
        Descending thresholds.
    counts : numpy.ndarray
        Integer [T, 3] array of TP, FP, FN per threshold.
    """
    thr = _thresholds(score)
    tp = _count_ge(score[truth], thr)
    fp = _count_ge(score[~truth], thr)
    fn = int(truth.sum()) - tp
    return thr, np.stack([tp, fp, fn], axis=1)


def _fine_counts(truth, score, x_truth, x_score):
    """Thresholds and TP/FP/FN of one coarse class in fine mode.

    With ``Y`` the complete fine tags, ``t0``/``y0`` the true/predicted X tag
    and a tag predicted when its score is >= the threshold:

    * complete TP = true and predicted; FN = true and not predicted;
      FP = not true and predicted, counted only when ``t0`` is 0;
    * incomplete TP = ``t0`` and (any fine or X tag predicted) and no
      complete TP;
    * incomplete FP = not ``t0`` and no true complete tag and ``y0`` and not
      all of ``Y`` predicted;
    * incomplete FN = ``t0`` and no true complete tag and nothing predicted.

    Each condition holds on an interval of thresholds, so every count is a
    difference of "how many values are >= threshold" counts.

    Arguments
    ---------
    truth : numpy.ndarray
        Boolean [N, K] ground truth of the complete fine tags.
    score : numpy.ndarray
        Float [N, K] scores of the complete fine tags.
    x_truth : numpy.ndarray
        Boolean [N] ground truth of the X tag (all False when none).
    x_score : numpy.ndarray
        Float [N] scores of the X tag (all 0 when none).

    Returns
    -------
    thresholds : numpy.ndarray
        Descending thresholds (complete fine scores only).
    counts : numpy.ndarray
        Integer [T, 3] array of TP, FP, FN per threshold.
    """
    thr = _thresholds(score)
    complete_gt = ~x_truth
    tp_c = _count_ge(score[truth], thr)
    fp_c = _count_ge(score[~truth & complete_gt[:, None]], thr)
    fn_c = int(truth.sum()) - tp_c

    any_true = truth.any(axis=1)
    # Highest score over all fine tags and X: the "coarsened" prediction.
    top = np.maximum(score.max(axis=1), x_score)
    # Highest score over the true complete tags (-1: never predicted).
    top_true = np.where(truth, score, -1.0).max(axis=1)
    low = score.min(axis=1)

    inc = x_truth
    tp_i = _count_ge(top[inc], thr) - _count_ge(top_true[inc], thr)
    fp_set = ~x_truth & ~any_true
    fp_i = _count_ge(x_score[fp_set], thr) - _count_ge(
        np.minimum(x_score, low)[fp_set], thr
    )
    fn_set = x_truth & ~any_true
    fn_i = int(fn_set.sum()) - _count_ge(top[fn_set], thr)
    counts = np.stack([tp_c + tp_i, fp_c + fp_i, fn_c + fn_i], axis=1)
    return thr, counts


def _precision_recall(counts):
    """Official P and R from an integer [T, 3] TP/FP/FN array."""
    tp, fp, fn = (counts[:, i].astype(np.float64) for i in range(3))
    precision = tp / np.maximum(tp + fp, _MU)
    recall = tp / np.maximum(tp + fn, _MU)
    return precision, recall


def _auprc(counts):
    """Official trapezoid AUPRC of a table of counts, in the table's order.

    Arguments
    ---------
    counts : numpy.ndarray
        Integer [T, 3] TP/FP/FN rows in the order of the official table:
        descending thresholds for a class, ascending for the micro curve.

    Returns
    -------
    float

    Example
    -------
    >>> counts = np.array([[0, 0, 2], [1, 0, 1], [2, 2, 0]])
    >>> round(float(_auprc(counts)), 6)
    0.625
    """
    # numpy's default argsort is not stable: the order it leaves among equal
    # recalls depends on the input order, so the rows must come in the
    # official table's order for the same call to give the same curve.
    precision, recall = _precision_recall(counts)
    order = np.argsort(recall)
    r = np.concatenate([[0.0], recall[order], [1.0]])
    p = np.concatenate([[1.0], precision[order], [0.0]])
    return float(np.sum(np.diff(r) * (p[1:] + p[:-1]) / 2.0))


def _micro(per_class):
    """Micro AUPRC and F1@0.5 from per-class (thresholds, counts) pairs."""
    # The official micro table lists the union thresholds in ascending order.
    union = np.unique(np.concatenate([thr for thr, _ in per_class]))
    total = np.zeros((union.size, 3), dtype=np.int64)
    for thr, counts in per_class:
        # Row of the smallest class threshold >= t (1.0 is always there).
        idx = np.searchsorted(thr[::-1], union, side="left")
        total += counts[::-1][idx]
    auprc = _auprc(total)
    # Smallest union threshold >= 0.5.
    row = int(np.searchsorted(union, F1_THRESHOLD, side="left"))
    precision, recall = _precision_recall(total[row : row + 1])
    p, r = float(precision[0]), float(recall[0])
    f1 = 0.0 if p + r == 0 else 2.0 * p * r / (p + r)
    return auprc, f1


def _summarise(per_class, names):
    """Build the result dict from per-class (thresholds, counts) pairs."""
    # Each class's counts are already in its table's (descending) order.
    class_auprc = {
        name: _auprc(counts)
        for name, (_, counts) in zip(names, per_class, strict=True)
    }
    micro_auprc, micro_f1 = _micro(per_class)
    return {
        "micro_auprc": micro_auprc,
        "macro_auprc": float(np.mean(list(class_auprc.values()))),
        "micro_f1": micro_f1,
        "class_auprc": class_auprc,
    }


def evaluate_coarse(y_true, y_score, taxonomy=None):
    """Official coarse-level metrics of DCASE 2019 Task 5.

    Arguments
    ---------
    y_true : array-like
        [N, C] binary ground truth, coarse tags in taxonomy order.
    y_score : array-like
        [N, C] predicted probabilities in [0, 1].
    taxonomy : Taxonomy or None
        Gives the class names (default: the v1 taxonomy, C = 8).

    Returns
    -------
    dict
        ``micro_auprc``, ``macro_auprc``, ``micro_f1`` (at threshold 0.5)
        and ``class_auprc`` (coarse name such as ``1_engine`` -> AUPRC).

    Example
    -------
    >>> y = np.zeros((4, 8)); y[[0, 2], 0] = 1
    >>> s = np.zeros((4, 8)); s[:, 0] = [0.9, 0.8, 0.4, 0.1]
    >>> res = evaluate_coarse(y, s)
    >>> round(res["class_auprc"]["1_engine"], 6)
    0.541667
    >>> round(res["micro_auprc"], 6), round(res["micro_f1"], 6)
    (0.541667, 0.5)
    """
    tax = taxonomy or Taxonomy()
    names = tax.coarse_labels
    truth, score = _check_pair(y_true, y_score, len(names), "evaluate_coarse")
    per_class = [
        _coarse_counts(truth[:, c], score[:, c]) for c in range(len(names))
    ]
    return _summarise(per_class, names)


def evaluate_fine(y_true, y_score, taxonomy=None):
    """Official fine-level metrics of DCASE 2019 Task 5 (X-tag fallback).

    Each coarse class gets one curve built from its complete fine tags and
    its X (incomplete) tag, as described in :func:`_fine_counts`; classes
    without an X tag (3 and 8 in v1) are plain multi-tag classes.

    Arguments
    ---------
    y_true : array-like
        [N, F] binary ground truth, fine tags with X tags in taxonomy order
        (F = 29 in v1).
    y_score : array-like
        [N, F] predicted probabilities in [0, 1].
    taxonomy : Taxonomy or None
        Default: the v1 taxonomy.

    Returns
    -------
    dict
        ``micro_auprc``, ``macro_auprc``, ``micro_f1`` and ``class_auprc``
        (coarse name -> AUPRC of that class's fine-level curve).

    Example
    -------
    >>> tax = Taxonomy()
    >>> y = np.zeros((2, 29)); s = np.zeros((2, 29))
    >>> y[0, 0] = 1; s[0, 0] = 0.9   # small engine, found
    >>> y[1, 3] = 1; s[1, 1] = 0.7   # engine of uncertain size -> medium
    >>> res = evaluate_fine(y, s, tax)
    >>> res["class_auprc"]["1_engine"], res["micro_f1"]
    (0.75, 1.0)
    """
    tax = taxonomy or Taxonomy()
    fine = tax.fine_labels
    truth, score = _check_pair(y_true, y_score, len(fine), "evaluate_fine")
    col = {name: i for i, name in enumerate(fine)}
    n = truth.shape[0]
    per_class = []
    for coarse in tax.coarse_labels:
        idx = [col[name] for name in tax.fine_of_coarse(coarse)]
        x_name = tax.x_label(coarse)
        if x_name is None:
            x_truth, x_score = np.zeros(n, bool), np.zeros(n)
        else:
            x_truth, x_score = truth[:, col[x_name]], score[:, col[x_name]]
        per_class.append(
            _fine_counts(truth[:, idx], score[:, idx], x_truth, x_score)
        )
    return _summarise(per_class, tax.coarse_labels)


def sklearn_ap_micro(y_true, y_score):
    """scikit-learn's micro average precision (NOT the official AUPRC).

    Arguments
    ---------
    y_true : array-like
        [N, C] binary targets.
    y_score : array-like
        [N, C] scores.

    Returns
    -------
    float
        ``average_precision_score(..., average="micro")``.

    Example
    -------
    >>> round(sklearn_ap_micro([[1, 0], [0, 1]], [[0.9, 0.2], [0.3, 0.8]]), 3)
    1.0
    """
    from sklearn.metrics import average_precision_score

    return float(
        average_precision_score(
            to_numpy(y_true), to_numpy(y_score), average="micro"
        )
    )


class AUPRCStats:
    """Stage accumulator for the official SONYC-UST metrics.

    In the style of SpeechBrain's ``MetricStats``: create it in
    ``on_stage_start``, ``append`` probabilities and targets in
    ``compute_objectives``, ``summarize`` once in ``on_stage_end``. Metrics
    are always computed over the whole stage, never per batch. An id seen
    twice (e.g. DDP padding repeats samples) is kept once.

    Arguments
    ---------
    labels : list of str
        Column names of the appended arrays, in order, e.g. the 29 fine
        names followed by the 8 coarse names.
    taxonomy : Taxonomy or None
        Default: the v1 taxonomy.

    Example
    -------
    >>> import torch
    >>> tax = Taxonomy()
    >>> stats = AUPRCStats(tax.coarse_labels)
    >>> y = torch.zeros(4, 8); y[[0, 2], 0] = 1
    >>> s = torch.zeros(4, 8); s[:, 0] = torch.tensor([0.9, 0.8, 0.4, 0.1])
    >>> stats.append(["a", "b"], s[:2], y[:2])
    >>> stats.append(["c", "d", "a"], s[[2, 3, 0]], y[[2, 3, 0]])
    >>> len(stats.ids)
    4
    >>> round(stats.summarize("coarse", "micro_auprc"), 6)
    0.541667
    """

    def __init__(self, labels, taxonomy=None):
        self.labels = list(labels)
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("AUPRCStats: duplicate names in labels")
        self.taxonomy = taxonomy or Taxonomy()
        self.clear()

    def clear(self):
        """Forget everything appended so far."""
        self._ids = []
        self._seen = set()
        self._scores = []
        self._targets = []

    def append(self, ids, scores, targets):
        """Store a batch of probabilities and targets.

        Arguments
        ---------
        ids : list of str
            One id per row.
        scores : torch.Tensor or numpy.ndarray
            [B, C] probabilities in [0, 1], C = len(labels).
        targets : torch.Tensor or numpy.ndarray
            [B, C] binary targets.
        """
        scores = to_numpy(scores)
        targets = to_numpy(targets)
        width = len(self.labels)
        if scores.ndim != 2 or scores.shape[1] != width:
            raise ValueError(
                f"AUPRCStats: scores must be [B, {width}], got "
                f"{list(scores.shape)}"
            )
        if targets.shape != scores.shape or len(ids) != scores.shape[0]:
            raise ValueError("AUPRCStats: ids, scores, targets do not match")
        for i, utt in enumerate(ids):
            if utt in self._seen:
                continue
            self._seen.add(utt)
            self._ids.append(utt)
            self._scores.append(scores[i])
            self._targets.append(targets[i])

    @property
    def ids(self):
        """Ids in first-seen order."""
        return list(self._ids)

    @property
    def scores(self):
        """[N, C] numpy array of the stored scores."""
        return np.array(self._scores).reshape(-1, len(self.labels))

    @property
    def targets(self):
        """[N, C] numpy array of the stored targets."""
        return np.array(self._targets).reshape(-1, len(self.labels))

    def _columns(self, names):
        missing = [name for name in names if name not in self.labels]
        if missing:
            raise KeyError(f"AUPRCStats: labels lack columns {missing}")
        idx = [self.labels.index(name) for name in names]
        return self.targets[:, idx], self.scores[:, idx]

    def summarize(self, mode="coarse", field=None):
        """Compute the metrics over everything appended.

        Arguments
        ---------
        mode : str
            ``"coarse"`` (the 8 coarse columns) or ``"fine"`` (the 29 fine
            columns, X tags included).
        field : str or None
            Return only this key (e.g. ``"micro_auprc"``);
            ``"sklearn_ap_micro"`` gives scikit-learn's micro AP of the same
            columns.

        Returns
        -------
        dict or float
        """
        if not self._ids:
            raise ValueError("AUPRCStats: nothing was appended")
        if mode == "coarse":
            y, s = self._columns(self.taxonomy.coarse_labels)
            result = evaluate_coarse(y, s, self.taxonomy)
        elif mode == "fine":
            y, s = self._columns(self.taxonomy.fine_labels)
            result = evaluate_fine(y, s, self.taxonomy)
        else:
            raise ValueError(f"mode must be 'coarse' or 'fine', not {mode!r}")
        if field == "sklearn_ap_micro":
            return sklearn_ap_micro(y, s)
        if field is not None:
            return result[field]
        return result


def format_metrics(result, mode="coarse"):
    """Human-readable report of a metrics dict.

    Arguments
    ---------
    result : dict
        Output of :func:`evaluate_coarse` or :func:`evaluate_fine`.
    mode : str
        Printed in the title.

    Returns
    -------
    str

    Example
    -------
    >>> res = {"micro_auprc": 0.5, "micro_f1": 0.25, "macro_auprc": 0.75,
    ...        "class_auprc": {"1_engine": 0.75}}
    >>> print(format_metrics(res))
    Coarse level evaluation:
     * Micro AUPRC:           0.5000
     * Micro F1-score (@0.5): 0.2500
     * Macro AUPRC:           0.7500
     * Coarse Tag AUPRC:
          - 1_engine: 0.7500
    """
    lines = [
        f"{mode.capitalize()} level evaluation:",
        f" * Micro AUPRC:           {result['micro_auprc']:.4f}",
        f" * Micro F1-score (@0.5): {result['micro_f1']:.4f}",
        f" * Macro AUPRC:           {result['macro_auprc']:.4f}",
        " * Coarse Tag AUPRC:",
    ]
    for name, value in result["class_auprc"].items():
        shown = "nan" if math.isnan(value) else f"{value:.4f}"
        lines.append(f"      - {name}: {shown}")
    return "\n".join(lines)
