"""The official DCASE 2019 Task 5 prediction CSV: columns, writer, reader.

Authors
 * speechbrain-iusp developers 2026
"""

import csv
import warnings

import numpy as np

from speechbrain_iusp.sonyc.csvrows import read_csv_rows
from speechbrain_iusp.sonyc.metrics import to_numpy
from speechbrain_iusp.sonyc.taxonomy import Taxonomy


def prediction_columns(taxonomy=None):
    """Official prediction CSV header (without ``audio_filename``).

    Arguments
    ---------
    taxonomy : Taxonomy or None
        Default: the v1 taxonomy.

    Returns
    -------
    list of str
        The fine names (X tags included) then the coarse names.

    Example
    -------
    >>> cols = prediction_columns()
    >>> len(cols), cols[0], cols[-1]
    (37, '1-1_small-sounding-engine', '8_dog')
    """
    tax = taxonomy or Taxonomy()
    return tax.fine_labels + tax.coarse_labels


def write_predictions_csv(path, audio_filenames, scores, labels, taxonomy=None):
    """Write predictions in the official DCASE 2019 Task 5 CSV format.

    Header ``audio_filename``, the fine names (X tags included), then the
    coarse names, without the ``_presence`` suffix. Columns absent from
    ``labels`` are written as 0; scores are written with full float
    precision. Scores that are not probabilities in [0, 1] (NaN, inf,
    logits, percentages) are refused, naming the clip and the column.

    Arguments
    ---------
    path : str
        Output CSV path.
    audio_filenames : list of str
        One file name (e.g. ``00_000066.wav``) per row.
    scores : array-like
        [N, len(labels)] probabilities.
    labels : list of str
        Column names of ``scores``.
    taxonomy : Taxonomy or None
        Default: the v1 taxonomy.

    Example
    -------
    >>> import os
    >>> p = os.path.join(getfixture("tmpdir"), "pred.csv")
    >>> labs = ["1_engine", "8_dog"]
    >>> write_predictions_csv(p, ["a.wav"], [[0.25, 1.0]], labs)
    >>> header, row = open(p).read().splitlines()
    >>> header.split(",")[:2], row.split(",")[-8], row.split(",")[-1]
    (['audio_filename', '1-1_small-sounding-engine'], '0.25', '1.0')
    >>> write_predictions_csv(p, ["a.wav"], [[0.25, 1.5]], labs)
    Traceback (most recent call last):
    ...
    ValueError: score 1.5 of clip 'a.wav', column '8_dog' is not in [0, 1]...
    """
    columns = prediction_columns(taxonomy)
    scores = to_numpy(scores)
    labels = list(labels)
    if scores.ndim != 2 or scores.shape != (len(audio_filenames), len(labels)):
        raise ValueError(
            f"scores must be [{len(audio_filenames)}, {len(labels)}], got "
            f"{list(scores.shape)}"
        )
    bad = np.argwhere(~((scores >= 0.0) & (scores <= 1.0)))  # NaN too
    if bad.size:
        i, j = bad[0]
        value = float(scores[i, j])
        raise ValueError(
            f"score {value!r} of clip {audio_filenames[i]!r}, column "
            f"{labels[j]!r} is not in [0, 1] ({len(bad)} such scores); "
            "write probabilities"
        )
    unknown = [lab for lab in labels if lab not in columns]
    if unknown:
        raise ValueError(f"labels not in the taxonomy: {unknown}")
    if len(set(audio_filenames)) != len(audio_filenames):
        raise ValueError("audio_filenames contain duplicates")
    src = [labels.index(c) if c in labels else -1 for c in columns]
    with open(path, "w", newline="") as fout:
        writer = csv.writer(fout)
        writer.writerow(["audio_filename"] + columns)
        for name, row in zip(audio_filenames, scores, strict=True):
            values = [repr(float(row[i])) if i >= 0 else "0" for i in src]
            writer.writerow([name] + values)


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
    header, records = read_csv_rows(path, "prediction")
    if "audio_filename" not in header:
        raise ValueError(
            f"Prediction file '{path}' has no 'audio_filename' column"
        )
    names = [rec["audio_filename"].strip() for _, rec in records]
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
            for i, (line, rec) in enumerate(records):
                out[i, j] = _score(rec[lab], path, line, lab)
        return out

    return names, block(taxonomy.fine_labels), block(taxonomy.coarse_labels)


def _score(text, path, line, column):
    """A prediction score: a finite number in [0, 1], else an error."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(
            f"{path}, line {line}: column '{column}' holds {text!r}, "
            "expected a number"
        ) from None
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise ValueError(
            f"{path}, line {line}: column '{column}' holds {text!r}; scores "
            "must be probabilities in [0, 1] (a percentage? divide by 100; "
            "logits? apply a sigmoid)"
        )
    return value
