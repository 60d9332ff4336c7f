"""The official DCASE 2019 Task 5 prediction CSV: columns, writer, reader.

Authors
 * speechbrain-iusp developers 2026
"""

import csv
import warnings

import numpy as np

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
    ``labels`` are written as 0; scores are clipped to [0, 1] and written
    with full float precision.

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
    >>> write_predictions_csv(p, ["a.wav"], [[0.25, 1.5]], labs)
    >>> header, row = open(p).read().splitlines()
    >>> header.split(",")[:2], row.split(",")[-8], row.split(",")[-1]
    (['audio_filename', '1-1_small-sounding-engine'], '0.25', '1.0')
    """
    columns = prediction_columns(taxonomy)
    scores = to_numpy(scores)
    labels = list(labels)
    if scores.ndim != 2 or scores.shape != (len(audio_filenames), len(labels)):
        raise ValueError(
            f"scores must be [{len(audio_filenames)}, {len(labels)}], got "
            f"{list(scores.shape)}"
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores contain NaN or inf")
    unknown = [lab for lab in labels if lab not in columns]
    if unknown:
        raise ValueError(f"labels not in the taxonomy: {unknown}")
    if len(set(audio_filenames)) != len(audio_filenames):
        raise ValueError("audio_filenames contain duplicates")
    scores = np.clip(scores, 0.0, 1.0)
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
