"""Tests of the official SONYC-UST metrics, the prediction writer and the CLI.

Authors
 * speechbrain-iusp developers 2026
"""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from speechbrain_iusp.sonyc.metrics import (
    AUPRCStats,
    _fine_counts,
    evaluate_coarse,
    evaluate_fine,
    sklearn_ap_micro,
)
from speechbrain_iusp.sonyc.predictions import write_predictions_csv
from speechbrain_iusp.sonyc.taxonomy import Taxonomy, annotation_columns

TAX = Taxonomy()
ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)


# --------------------------------------------------------------------------
# Independent brute-force implementation of the official definition: plain
# python loops over thresholds and clips, no numpy vectorisation.
# --------------------------------------------------------------------------
def _bf_thresholds(values):
    kept = {float(v) for v in values if v >= 0.01}
    kept.add(1.0)
    return sorted(kept, reverse=True)


def _bf_class_counts(clips, thr):
    """clips: list of (truth list, score list, t0, x score)."""
    tp = fp = fn = 0
    for truth, score, t0, x in clips:
        pred = [s >= thr for s in score]
        y0 = x >= thr
        tp_c = sum(1 for t, p in zip(truth, pred, strict=True) if t and p)
        fn_c = sum(1 for t, p in zip(truth, pred, strict=True) if t and not p)
        fp_c = 0
        if not t0:
            fp_c = sum(
                1 for t, p in zip(truth, pred, strict=True) if not t and p
            )
        coarse_pred = any(pred) or y0
        tp_i = 1 if (t0 and coarse_pred and tp_c == 0) else 0
        fp_i = 1 if (not t0 and not any(truth) and y0 and not all(pred)) else 0
        fn_i = 1 if (t0 and not any(truth) and not coarse_pred) else 0
        tp += tp_c + tp_i
        fp += fp_c + fp_i
        fn += fn_c + fn_i
    return tp, fp, fn


def _bf_auc(rows):
    """rows: list of (tp, fp, fn) in the row order of the official table.

    The official rule for the point order: P and R per row in the table's
    order, sorted by recall with numpy's default (unstable) argsort on that
    float64 array, then (0, 1) prepended and (1, 0) appended.
    """
    precision, recall = [], []
    for tp, fp, fn in rows:
        precision.append(tp / max(tp + fp, 0.5))
        recall.append(tp / max(tp + fn, 0.5))
    order = np.argsort(np.array(recall, dtype=np.float64))
    points = [(0.0, 1.0)]
    for i in order:
        points.append((recall[i], precision[i]))
    points.append((1.0, 0.0))
    area = 0.0
    for (r0, p0), (r1, p1) in zip(points[:-1], points[1:], strict=True):
        area += (r1 - r0) * (p0 + p1) / 2.0
    return area


def _bf_evaluate(classes):
    """classes: list (one per coarse class) of clip lists."""
    thresholds, tables = [], []
    for clips in classes:
        values = [s for _, score, _, _ in clips for s in score]
        thr = _bf_thresholds(values)  # descending, as in the class table
        thresholds.append(thr)
        tables.append([_bf_class_counts(clips, t) for t in thr])
    # Class tables: rows in descending threshold order.
    class_auc = [_bf_auc(tab) for tab in tables]
    # Micro table: rows over the union of thresholds in ascending order.
    union = sorted({t for thr in thresholds for t in thr})
    micro_rows = []
    for u in union:
        tot = [0, 0, 0]
        for thr, tab in zip(thresholds, tables, strict=True):
            # Last row (descending) with threshold >= u.
            last = None
            for i, t in enumerate(thr):
                if t >= u:
                    last = i
            for k in range(3):
                tot[k] += tab[last][k]
        micro_rows.append((u, tot))
    micro = _bf_auc([tot for _, tot in micro_rows])
    # Micro-F1: the first row of the ascending micro table with u >= 0.5.
    tp, fp, fn = next(tot for u, tot in micro_rows if u >= 0.5)
    p, r = tp / max(tp + fp, 0.5), tp / max(tp + fn, 0.5)
    f1 = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    return micro, sum(class_auc) / len(class_auc), f1, class_auc


def _bf_coarse(y, s):
    classes = []
    for c in range(y.shape[1]):
        classes.append(
            [
                ([bool(y[n, c])], [float(s[n, c])], False, 0.0)
                for n in range(y.shape[0])
            ]
        )
    return _bf_evaluate(classes)


def _bf_fine(y, s):
    names = TAX.fine_labels
    classes = []
    for coarse in TAX.coarse_labels:
        idx = [names.index(f) for f in TAX.fine_of_coarse(coarse)]
        x = TAX.x_label(coarse)
        clips = []
        for n in range(y.shape[0]):
            t0 = bool(y[n, names.index(x)]) if x else False
            x_s = float(s[n, names.index(x)]) if x else 0.0
            clips.append(
                (
                    [bool(y[n, k]) for k in idx],
                    [float(s[n, k]) for k in idx],
                    t0,
                    x_s,
                )
            )
        classes.append(clips)
    return _bf_evaluate(classes)


def _random_case(rng, n, cols, decimals):
    y = (rng.random((n, cols)) < 0.25).astype(float)
    s = np.clip(rng.random((n, cols)) * 0.6 + 0.45 * y, 0, 1)
    s = np.round(s, decimals)  # rounding creates many ties
    # Exact 0, below-0.01 scores and exact 1.0 scores.
    s[rng.random((n, cols)) < 0.05] = 0.0
    s[rng.random((n, cols)) < 0.03] = 0.005
    s[rng.random((n, cols)) < 0.03] = 1.0
    return y, s


def _assert_matches(result, brute):
    micro, macro, f1, class_auc = brute
    assert result["micro_auprc"] == pytest.approx(micro, abs=1e-9)
    assert result["macro_auprc"] == pytest.approx(macro, abs=1e-9)
    assert result["micro_f1"] == pytest.approx(f1, abs=1e-9)
    got = list(result["class_auprc"].values())
    assert got == pytest.approx(class_auc, abs=1e-9)


@pytest.mark.parametrize(
    "seed,n,decimals", [(0, 300, 2), (1, 120, 6), (6, 300, 1)]
)
def test_coarse_matches_brute_force(seed, n, decimals):
    rng = np.random.default_rng(seed)
    y, s = _random_case(rng, n, 8, decimals)
    y[:, 7] = 0  # a class without positives
    _assert_matches(evaluate_coarse(y, s), _bf_coarse(y, s))


@pytest.mark.parametrize(
    "seed,n,decimals", [(2, 250, 2), (3, 100, 6), (4, 200, 1)]
)
def test_fine_matches_brute_force(seed, n, decimals):
    rng = np.random.default_rng(seed)
    y, s = _random_case(rng, n, 29, decimals)
    _assert_matches(evaluate_fine(y, s), _bf_fine(y, s))


def test_brute_force_detects_a_wrong_rule():
    # Sanity check of the comparison itself: counting FP also when t0 = 1
    # changes the result, so the tests above can fail.
    rng = np.random.default_rng(5)
    y, s = _random_case(rng, 80, 29, 2)
    x_cols = [
        TAX.fine_labels.index(TAX.x_label(c))
        for c in TAX.coarse_labels
        if TAX.x_label(c)
    ]
    y[:, x_cols] = 1  # every X true: complete FPs must be ignored
    res = evaluate_fine(y, s)
    y_plain = y.copy()
    y_plain[:, x_cols] = 0
    assert res["micro_auprc"] != pytest.approx(
        evaluate_fine(y_plain, s)["micro_auprc"], abs=1e-6
    )


# --------------------------------------------------------------------------
# Hand-computed cases (coarse mode, class 1 only, other columns all 0).
# --------------------------------------------------------------------------
def _one_class(y_col, s_col):
    y = np.zeros((len(y_col), 8))
    s = np.zeros((len(y_col), 8))
    y[:, 0] = y_col
    s[:, 0] = s_col
    return evaluate_coarse(y, s)


def _trapezoid(points):
    """Area of (R, P) points taken as given, with (0, 1) and (1, 0) added."""
    pts = [(0.0, 1.0)] + list(points) + [(1.0, 0.0)]
    return sum(
        (r1 - r0) * (p0 + p1) / 2
        for (r0, p0), (r1, p1) in zip(pts[:-1], pts[1:], strict=True)
    )


def _table_area(points):
    """Official area of (R, P) points listed in their table's row order."""
    order = np.argsort(np.array([r for r, _ in points], dtype=np.float64))
    return _trapezoid([points[i] for i in order])


# In the official code a class's table lists its thresholds in descending
# order and the micro table in ascending order; each is sorted by recall
# with numpy's default argsort. With one class (the others all 0 and
# without positives, so they add nothing) the micro table is the class
# table upside down.
def test_hand_basic():
    # y = 1 0 1 0, s = .9 .8 .4 .1; class table (descending) 1.0 .9 .8 .4
    # .1: (R, P) = (0,0) (.5,1) (.5,.5) (1,2/3) (1,.5). Kept in that order:
    # area = .5*(0+1)/2 + .5*(.5+2/3)/2 = .25 + .2916667 = .5416667
    desc = [(0, 0), (0.5, 1), (0.5, 0.5), (1, 2 / 3), (1, 0.5)]
    assert _trapezoid(desc) == pytest.approx(0.5416666667)
    res = _one_class([1, 0, 1, 0], [0.9, 0.8, 0.4, 0.1])
    got = res["class_auprc"]["1_engine"]
    assert got == pytest.approx(_table_area(desc), abs=1e-12)
    assert res["micro_auprc"] == pytest.approx(
        _table_area(desc[::-1]), abs=1e-12
    )
    # Other classes: no positives -> AUPRC 0; macro = class 1 / 8.
    assert res["class_auprc"]["2_machinery-impact"] == 0.0
    assert res["macro_auprc"] == pytest.approx(got / 8)
    # Micro F1: smallest threshold >= .5 is .8: TP 1, FP 1, FN 1 -> .5
    assert res["micro_f1"] == pytest.approx(0.5)


def test_hand_ties():
    # y = 1 0 1, s = .5 .5 .2: at .5 TP1 FP1 FN1 -> (.5,.5); at .2 TP2 FP1
    # -> (1, 2/3); area = .5*(0+.5)/2 + .5*(.5+2/3)/2 = .4166667 (no two
    # points share a recall, so the order does not matter here)
    res = _one_class([1, 0, 1], [0.5, 0.5, 0.2])
    assert res["class_auprc"]["1_engine"] == pytest.approx(0.4166666667)


def test_hand_tie_order_within_equal_recall():
    # y = 1 0 0 1, s = .9 .7 .6 .3. Class table (descending thresholds):
    # 1.0 (0,0); .9 (.5,1); .7 (.5,.5); .6 (.5,1/3); .3 (1,.5). Three points
    # share recall .5: their order after np.argsort of the recall column in
    # that row order decides the area.
    desc = [(0, 0), (0.5, 1.0), (0.5, 0.5), (0.5, 1 / 3), (1, 0.5)]
    res = _one_class([1, 0, 0, 1], [0.9, 0.7, 0.6, 0.3])
    assert res["class_auprc"]["1_engine"] == pytest.approx(
        _table_area(desc), abs=1e-12
    )
    # The micro table lists the same rows in ascending threshold order.
    assert res["micro_auprc"] == pytest.approx(
        _table_area(desc[::-1]), abs=1e-12
    )
    # a different order of the tied points gives another area, so the rule
    # matters: e.g. precision rising or falling within the tie
    assert _trapezoid(desc) != pytest.approx(_trapezoid(desc[::-1]))


def test_class_curve_uses_descending_table_order():
    # y = 1 0 0 0, s = 1 .7 .5 .3: every row has R = 1. Class table
    # (descending): 1.0 (1,1); .7 (1,.5); .5 (1,1/3); .3 (1,1/4). Only the
    # first point after the sort counts: area = (1 + its P) / 2. The recall
    # column is constant, so np.argsort returns the same permutation for
    # either row order, and with an even number of rows it puts a different
    # row first in the ascending order: the two rules must differ on any
    # numpy (the old rule, ascending for the class too, fails here).
    desc = [(1, 1.0), (1, 0.5), (1, 1 / 3), (1, 0.25)]
    official = _table_area(desc)
    ascending = _table_area(desc[::-1])
    assert official != pytest.approx(ascending, abs=1e-6)
    res = _one_class([1, 0, 0, 0], [1.0, 0.7, 0.5, 0.3])
    assert res["class_auprc"]["1_engine"] == pytest.approx(official, abs=1e-12)
    assert res["macro_auprc"] == pytest.approx(official / 8, abs=1e-12)
    # The micro table of this one class is ascending.
    assert res["micro_auprc"] == pytest.approx(ascending, abs=1e-12)


def test_hand_no_positive_and_all_zero_scores():
    res = evaluate_coarse(np.zeros((5, 8)), np.random.rand(5, 8))
    assert res["micro_auprc"] == 0.0 and res["macro_auprc"] == 0.0
    # All-zero scores: only threshold 1.0, nothing predicted -> P = R = 0:
    # points (0,1) (0,0) (1,0): area 0.
    y = np.zeros((4, 8))
    y[0, 0] = 1
    res = evaluate_coarse(y, np.zeros((4, 8)))
    assert res["micro_auprc"] == 0.0 and res["micro_f1"] == 0.0


def test_hand_min_threshold_and_score_one():
    # Scores below 0.01 are never thresholds: .005 -> only 1.0 -> area 0.
    assert _one_class([1, 0], [0.005, 0.003])["micro_auprc"] == 0.0
    # .02 is: points (0,1) (0,0) (1,1) (1,0) -> area .5 (the threshold 1.0
    # adds the TP = 0 point with P = 0, as in the official code).
    assert _one_class([1, 0], [0.02, 0.003])["micro_auprc"] == 0.5
    # A score of exactly 1.0 is predicted at threshold 1.0 (>=): class table
    # (descending) 1.0 (1,1); .3 (1,.5), both at recall 1, so the area is
    # (1 + P of the first point after the sort) / 2: 1 in table order, .75
    # swapped. The micro table is ascending: (1,.5) (1,1). (With > the point
    # at 1.0 would be (0,0) and the area .25.)
    desc = [(1, 1.0), (1, 0.5)]
    res = _one_class([1, 0], [1.0, 0.3])
    assert res["class_auprc"]["1_engine"] == _table_area(desc)
    assert res["micro_auprc"] == _table_area(desc[::-1])
    assert {_table_area(desc), _table_area(desc[::-1])} == {0.75, 1.0}


def test_hand_micro_f1_two_classes():
    # A: y 1 0 1 0, s .9 .8 .4 .1; B: y 0 1 0 0, s .6 .7 .2 .55.
    # Smallest union threshold >= .5 is .55: A at .8 gives TP1 FP1 FN1,
    # B at .55 gives TP1 FP2 FN0 -> P = 2/5, R = 2/3, F1 = .5
    y = np.zeros((4, 8))
    s = np.zeros((4, 8))
    y[:, 0], s[:, 0] = [1, 0, 1, 0], [0.9, 0.8, 0.4, 0.1]
    y[:, 1], s[:, 1] = [0, 1, 0, 0], [0.6, 0.7, 0.2, 0.55]
    assert evaluate_coarse(y, s)["micro_f1"] == pytest.approx(0.5)


def test_differs_from_sklearn_ap():
    y = np.array([[1], [0], [1], [0]], float)
    s = np.array([[0.9], [0.8], [0.4], [0.1]])
    assert sklearn_ap_micro(y, s) == pytest.approx(0.8333333333)  # step AP
    ours = _one_class(y[:, 0], s[:, 0])["micro_auprc"]
    assert ours == pytest.approx(0.5416666667)


def test_input_validation():
    with pytest.raises(ValueError, match=r"\[N, 8\]"):
        evaluate_coarse(np.zeros((2, 7)), np.zeros((2, 7)))
    with pytest.raises(ValueError, match="probabilities"):
        evaluate_coarse(np.zeros((2, 8)), np.full((2, 8), 1.5))


# --------------------------------------------------------------------------
# Fine-mode X rules, counted at threshold .9 (0.9 = predicted, 0 = not).
# Class 1 (engine): complete tags 1-1, 1-2, 1-3 and X tag 1-X.
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "truth,score,t0,x,expected",
    [
        # complete TP
        ([1, 0, 0], [0.9, 0, 0], 0, 0.0, (1, 0, 0)),
        # complete FP (t0 = 0)
        ([1, 0, 0], [0.9, 0.9, 0], 0, 0.0, (1, 1, 0)),
        # complete FN
        ([1, 1, 0], [0.9, 0, 0], 0, 0.0, (1, 0, 1)),
        # FP only counted when t0 = 0: same prediction, t0 = 1 -> the
        # wrong fine tags count as one incomplete TP instead
        ([0, 0, 0], [0.9, 0.9, 0], 1, 0.0, (1, 0, 0)),
        # incomplete TP through the X prediction alone
        ([0, 0, 0], [0, 0, 0], 1, 0.9, (1, 0, 0)),
        # incomplete TP suppressed when a complete TP exists
        ([1, 0, 0], [0.9, 0, 0], 1, 0.9, (1, 0, 0)),
        # incomplete FP: X predicted, nothing true, not all Y predicted
        ([0, 0, 0], [0, 0, 0], 0, 0.9, (0, 1, 0)),
        # ... but not when every complete tag is predicted (3 complete FP)
        ([0, 0, 0], [0.9, 0.9, 0.9], 0, 0.9, (0, 3, 0)),
        # ... nor when a complete tag is true
        ([1, 0, 0], [0.9, 0, 0], 0, 0.9, (1, 0, 0)),
        # incomplete FN: t0, no true complete tag, nothing predicted
        ([0, 0, 0], [0, 0, 0], 1, 0.0, (0, 0, 1)),
        # t0 with a true complete tag, nothing predicted: complete FN only
        ([1, 0, 0], [0, 0, 0], 1, 0.0, (0, 0, 1)),
    ],
)
def test_fine_x_rules(truth, score, t0, x, expected):
    assert _counts_at_09(truth, score, t0, x) == expected


def _counts_at_09(truth, score, t0, x):
    # Add a second, neutral clip that makes .9 a threshold (a complete score
    # of .9 on an all-negative clip whose X is true: FP suppressed, TP_inc
    # counted), then subtract that clip's own counts.
    neutral = ([0, 0, 0], [0.9, 0, 0], 1, 0.0)
    both = _fine_counts(
        np.array([truth, neutral[0]], bool),
        np.array([score, neutral[1]], float),
        np.array([t0, neutral[2]], bool),
        np.array([x, neutral[3]], float),
    )
    alone = _fine_counts(
        np.array([neutral[0]], bool),
        np.array([neutral[1]], float),
        np.array([neutral[2]], bool),
        np.array([neutral[3]], float),
    )
    row_b = both[1][list(both[0]).index(0.9)]
    row_a = alone[1][list(alone[0]).index(0.9)]
    return tuple(int(v) for v in row_b - row_a)


def test_fine_hand_auprc():
    # Clip 0: small engine, found at .9. Clip 1: engine of uncertain size,
    # "medium" predicted at .7. Thresholds 1.0 .9 .7:
    # 1.0: TP0 FN2 -> (0,0); .9: TP1 FN1 -> (.5,1); .7: TP2 (clip 1 is an
    # incomplete TP, its wrong fine tag no FP since t0 = 1) -> (1,1).
    # area = .5*(0+1)/2 + .5*(1+1)/2 = .75
    y = np.zeros((2, 29))
    s = np.zeros((2, 29))
    y[0, 0], s[0, 0] = 1, 0.9
    y[1, 3], s[1, 1] = 1, 0.7
    res = evaluate_fine(y, s)
    assert res["class_auprc"]["1_engine"] == pytest.approx(0.75)
    assert res["micro_f1"] == pytest.approx(1.0)


# --------------------------------------------------------------------------
# Accumulator, writer, CLI round trip.
# --------------------------------------------------------------------------
def test_auprc_stats_dedup_and_columns():
    rng = np.random.default_rng(7)
    y, s = _random_case(rng, 40, 37, 2)
    labels = TAX.fine_labels + TAX.coarse_labels
    stats = AUPRCStats(labels)
    ids = [f"c{i}" for i in range(40)]
    stats.append(ids[:25], torch.tensor(s[:25]), torch.tensor(y[:25]))
    # DDP-style padding repeats the first items of the stage.
    stats.append(
        ids[25:] + ids[:3],
        s[list(range(25, 40)) + [0, 1, 2]],
        y[list(range(25, 40)) + [0, 1, 2]],
    )
    assert stats.ids == ids and stats.scores.shape == (40, 37)
    coarse = stats.summarize("coarse")
    assert coarse == evaluate_coarse(y[:, 29:], s[:, 29:])
    assert stats.summarize("fine", "micro_auprc") == pytest.approx(
        evaluate_fine(y[:, :29], s[:, :29])["micro_auprc"], abs=1e-12
    )
    assert stats.summarize("coarse", "sklearn_ap_micro") == pytest.approx(
        sklearn_ap_micro(y[:, 29:], s[:, 29:])
    )
    only_coarse = AUPRCStats(TAX.coarse_labels)
    only_coarse.append(ids, s[:, 29:], y[:, 29:])
    with pytest.raises(KeyError, match="1-1_small-sounding-engine"):
        only_coarse.summarize("fine")


def _write_annotations(path, verified, split="validate"):
    """annotations.csv with verified rows, plus noise the CLI must ignore."""
    cols = annotation_columns()
    with open(path, "w", newline="") as fout:
        writer = csv.DictWriter(fout, cols)
        writer.writeheader()
        for name, (fine, coarse) in verified.items():
            base = {"split": split, "sensor_id": "1", "audio_filename": name}
            row = dict(base, annotator_id="0")
            for lab, v in zip(TAX.fine_labels, fine, strict=True):
                row[f"{lab}_presence"] = int(v)
                row[f"{lab}_proximity"] = "-1"
            for lab, v in zip(TAX.coarse_labels, coarse, strict=True):
                row[f"{lab}_presence"] = int(v)
            writer.writerow(row)
            # A volunteer row saying everything is present: not ground truth.
            noisy = {c: 1 for c in cols if c.endswith("_presence")}
            noisy.update(base, annotator_id="12")
            writer.writerow({**dict.fromkeys(cols, "near"), **noisy})
        # A verified clip of another split.
        other = dict.fromkeys(cols, 0)
        other.update(
            split="train",
            sensor_id="2",
            audio_filename="z.wav",
            annotator_id="0",
        )
        writer.writerow(other)


@pytest.mark.parametrize("mode", ["coarse", "fine"])
def test_cli_round_trip(tmp_path, mode):
    rng = np.random.default_rng(11)
    n = 30
    y, s = _random_case(rng, n, 37, 3)
    names = [f"{i:02d}_{i:06d}.wav" for i in range(n)]
    ann = tmp_path / "annotations.csv"
    _write_annotations(
        ann, {nm: (y[i, :29], y[i, 29:]) for i, nm in enumerate(names)}
    )
    pred = tmp_path / "pred.csv"
    labels = TAX.fine_labels + TAX.coarse_labels
    order = rng.permutation(n)  # file order must not matter
    write_predictions_csv(pred, [names[i] for i in order], s[order], labels)
    out = tmp_path / "new" / "metrics.json"  # its folder is created
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechbrain_iusp.evaluate",
            str(pred),
            str(ann),
            "--mode",
            mode,
            "--split",
            "validate",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Micro AUPRC" in proc.stdout
    got = json.loads(out.read_text())
    # the official construction, independent of the implementation
    micro, macro, f1, class_auc = (
        _bf_coarse(y[:, 29:], s[:, 29:])
        if mode == "coarse"
        else _bf_fine(y[:, :29], s[:, :29])
    )
    assert got["micro_auprc"] == pytest.approx(micro, abs=1e-9)
    assert got["macro_auprc"] == pytest.approx(macro, abs=1e-9)
    assert got["micro_f1"] == pytest.approx(f1, abs=1e-9)
    assert list(got["class_auprc"].values()) == pytest.approx(
        class_auc, abs=1e-9
    )
    assert got["n_clips"] == n
    # an output path that cannot be written is refused before any work
    (tmp_path / "afile").write_text("")
    bad = tmp_path / "afile" / "m.json"
    proc = subprocess.run(
        [sys.executable, "-m", "speechbrain_iusp.evaluate", str(pred)]
        + [str(ann), "--json", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2 and "is a file, not a folder" in proc.stderr
    assert "Micro AUPRC" not in proc.stdout


def test_cli_clip_mismatch(tmp_path):
    ann = tmp_path / "annotations.csv"
    zero = (np.zeros(29), np.zeros(8))
    _write_annotations(ann, {"a.wav": zero, "b.wav": zero})
    pred = tmp_path / "pred.csv"
    write_predictions_csv(
        pred, ["a.wav", "c.wav"], np.zeros((2, 8)), TAX.coarse_labels
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechbrain_iusp.evaluate",
            str(pred),
            str(ann),
            "--mode",
            "coarse",
            "--split",
            "validate",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "Missing files: ['b.wav']" in proc.stderr
    assert "Extra files: ['c.wav']" in proc.stderr


def test_writer_format(tmp_path):
    path = tmp_path / "p.csv"
    labels = ["8_dog", "1_engine", "1-X_engine-of-uncertain-size"]
    # scores that are not probabilities are refused, clip and column named
    for bad in (1.2, -0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="clip 'x.wav', column '8_dog'"):
            write_predictions_csv(path, ["x.wav"], [[bad, 0.0, 0.3]], labels)
    write_predictions_csv(path, ["x.wav"], [[1.0, 0.0, 0.3]], labels)
    with open(path, newline="") as fin:
        rows = list(csv.reader(fin))
    header, row = rows
    assert header == ["audio_filename"] + TAX.fine_labels + TAX.coarse_labels
    values = dict(zip(header, row, strict=True))
    assert values["8_dog"] == "1.0" and values["1_engine"] == "0.0"
    assert values["1-X_engine-of-uncertain-size"] == "0.3"
    assert values["1-1_small-sounding-engine"] == "0"
    assert not any(h.endswith("_presence") for h in header)
