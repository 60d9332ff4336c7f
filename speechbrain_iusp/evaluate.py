"""Evaluate a SONYC-UST prediction CSV with the official DCASE 2019 metrics.

Usage::

    python -m speechbrain_iusp.evaluate PREDICTIONS.csv annotations.csv \\
        [--taxonomy dcase-ust-taxonomy.yaml] --mode coarse|fine \\
        --split validate|test [--json OUT.json]

The ground truth is the verified annotation (``annotator_id == 0``) of every
clip of the chosen split; the prediction file must hold exactly those clips.
Prediction columns missing from the file are read as 0 (with a warning), as
the official evaluation does.

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import csv
import json
import sys
import warnings

import numpy as np

from speechbrain_iusp.metrics import (
    evaluate_coarse,
    evaluate_fine,
    format_metrics,
)
from speechbrain_iusp.taxonomy import load_taxonomy, read_annotations


def verified_targets(rows, split, taxonomy):
    """Ground truth of one split: the ``annotator_id == 0`` rows.

    Arguments
    ---------
    rows : list of dict
        Output of :func:`speechbrain_iusp.taxonomy.read_annotations`.
    split : str
        ``validate`` or ``test`` (any split name of the file).
    taxonomy : Taxonomy
        The label set.

    Returns
    -------
    dict
        audio_filename -> (fine int array, coarse int array); a -1 (not
        annotated) in a verified row counts as absent.

    Example
    -------
    >>> from speechbrain_iusp.taxonomy import Taxonomy
    >>> row = {"split": "validate", "audio_filename": "a.wav",
    ...        "annotator_id": 0, "fine": np.zeros(29, int),
    ...        "coarse": np.ones(8, int)}
    >>> gt = verified_targets([row], "validate", Taxonomy())
    >>> list(gt), int(gt["a.wav"][1].sum())
    (['a.wav'], 8)
    """
    truth = {}
    for row in rows:
        if row["split"] != split or row["annotator_id"] != 0:
            continue
        name = row["audio_filename"]
        if name in truth:
            raise ValueError(
                f"Clip '{name}' has more than one verified (annotator_id 0) "
                f"row in split '{split}'"
            )
        fine = (row["fine"] == 1).astype(int)
        coarse = (row["coarse"] == 1).astype(int)
        truth[name] = (fine, coarse)
    return truth


def read_predictions(path, taxonomy):
    """Read an official-format prediction CSV.

    Arguments
    ---------
    path : str
        The CSV (``audio_filename``, fine names, coarse names).
    taxonomy : Taxonomy
        The label set.

    Returns
    -------
    names : list of str
        Audio file names in file order.
    fine : numpy.ndarray
        [N, F] fine scores (missing columns are 0).
    coarse : numpy.ndarray
        [N, C] coarse scores (missing columns are 0).
    """
    with open(path, newline="") as fin:
        reader = csv.DictReader(fin)
        header = reader.fieldnames or []
        if "audio_filename" not in header:
            raise ValueError(
                f"Prediction file '{path}' has no 'audio_filename' column"
            )
        records = list(reader)
    names = [(rec["audio_filename"] or "").strip() for rec in records]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"Prediction file '{path}' repeats clips: {dup}")

    def block(labels):
        out = np.zeros((len(records), len(labels)))
        for j, lab in enumerate(labels):
            if lab not in header:
                warnings.warn(
                    f"Prediction file '{path}' has no column '{lab}'; "
                    "reading it as 0.",
                    stacklevel=3,
                )
                continue
            for i, rec in enumerate(records):
                try:
                    out[i, j] = float(rec[lab])
                except (TypeError, ValueError) as err:
                    raise ValueError(
                        f"{path}, line {i + 2}: column '{lab}' holds "
                        f"{rec[lab]!r}, expected a number"
                    ) from err
        return out

    return names, block(taxonomy.fine_labels), block(taxonomy.coarse_labels)


def evaluate_files(
    prediction_path,
    annotation_path,
    taxonomy_path=None,
    mode="coarse",
    split="validate",
):
    """Official metrics of a prediction CSV against ``annotations.csv``.

    Arguments
    ---------
    prediction_path : str
        Official-format prediction CSV.
    annotation_path : str
        The release's ``annotations.csv``.
    taxonomy_path : str or None
        ``dcase-ust-taxonomy.yaml``; None uses the built-in v1 taxonomy.
    mode : str
        ``coarse`` or ``fine``.
    split : str
        ``validate`` or ``test``.

    Returns
    -------
    dict
        As :func:`speechbrain_iusp.metrics.evaluate_coarse`, plus ``mode``,
        ``split`` and ``n_clips``.
    """
    if mode not in ("coarse", "fine"):
        raise ValueError(f"mode must be 'coarse' or 'fine', not {mode!r}")
    tax = load_taxonomy(taxonomy_path)
    truth = verified_targets(read_annotations(annotation_path, tax), split, tax)
    if not truth:
        raise ValueError(
            f"No verified (annotator_id 0) rows of split '{split}' in "
            f"'{annotation_path}'"
        )
    names, fine, coarse = read_predictions(prediction_path, tax)
    missing = sorted(set(truth) - set(names))
    extra = sorted(set(names) - set(truth))
    if missing or extra:
        raise ValueError(
            "File mismatch between ground truth and predictions "
            f"(split '{split}'). Missing files: {missing}. "
            f"Extra files: {extra}."
        )
    if mode == "coarse":
        y_true = np.stack([truth[n][1] for n in names])
        result = evaluate_coarse(y_true, np.clip(coarse, 0, 1), tax)
    else:
        y_true = np.stack([truth[n][0] for n in names])
        result = evaluate_fine(y_true, np.clip(fine, 0, 1), tax)
    result.update(mode=mode, split=split, n_clips=len(names))
    return result


def main(argv=None):
    """Command-line entry point.

    Arguments
    ---------
    argv : list of str or None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(
        description="Official DCASE 2019 Task 5 (SONYC-UST) evaluation."
    )
    parser.add_argument("predictions", help="prediction CSV")
    parser.add_argument("annotations", help="annotations.csv of the release")
    parser.add_argument("--taxonomy", default=None, help="taxonomy YAML")
    parser.add_argument("--mode", choices=("coarse", "fine"), default="coarse")
    parser.add_argument("--split", default="validate", help="validate|test")
    parser.add_argument("--json", default=None, help="write metrics here")
    args = parser.parse_args(argv)
    try:
        result = evaluate_files(
            args.predictions,
            args.annotations,
            args.taxonomy,
            args.mode,
            args.split,
        )
    except (ValueError, FileNotFoundError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_metrics(result, args.mode))
    if args.json:
        with open(args.json, "w") as fout:
            json.dump(result, fout, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
