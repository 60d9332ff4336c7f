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
import json
import sys

import numpy as np

from speechbrain_iusp.paths import check_output
from speechbrain_iusp.sonyc.metrics import (
    evaluate_coarse,
    evaluate_fine,
    format_metrics,
)
from speechbrain_iusp.sonyc.predictions import read_predictions
from speechbrain_iusp.sonyc.targets import verified_targets
from speechbrain_iusp.sonyc.taxonomy import load_taxonomy, read_annotations


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
        As :func:`speechbrain_iusp.sonyc.metrics.evaluate_coarse`, plus
        ``mode``, ``split`` and ``n_clips``.
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
        result = evaluate_coarse(y_true, coarse, tax)
    else:
        y_true = np.stack([truth[n][0] for n in names])
        result = evaluate_fine(y_true, fine, tax)
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
    problem = args.json and check_output(args.json, "--json")
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
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
