"""The SONYC-UST tag taxonomy (DCASE 2019 Task 5) and its label names.

One home for the class lists that the data preparation, the metrics, the
prediction writer and the generated corpus share. The default is the v1
taxonomy of ``dcase-ust-taxonomy.yaml``: 8 coarse tags and 29 fine tags, of
which 6 are "X" (other/unknown) tags.

Authors
 * speechbrain-iusp developers 2026
"""

from dataclasses import dataclass, field

import numpy as np
import yaml

from speechbrain_iusp.sonyc.csvrows import read_csv_rows

# The v1 ``dcase-ust-taxonomy.yaml``, as nested dicts with the file's keys.
DEFAULT_TAXONOMY = {
    "coarse": {
        1: "engine",
        2: "machinery-impact",
        3: "non-machinery-impact",
        4: "powered-saw",
        5: "alert-signal",
        6: "music",
        7: "human-voice",
        8: "dog",
    },
    "fine": {
        1: {
            1: "small-sounding-engine",
            2: "medium-sounding-engine",
            3: "large-sounding-engine",
            "X": "engine-of-uncertain-size",
        },
        2: {
            1: "rock-drill",
            2: "jackhammer",
            3: "hoe-ram",
            4: "pile-driver",
            "X": "other-unknown-impact-machinery",
        },
        3: {1: "non-machinery-impact"},
        4: {
            1: "chainsaw",
            2: "small-medium-rotating-saw",
            3: "large-rotating-saw",
            "X": "other-unknown-powered-saw",
        },
        5: {
            1: "car-horn",
            2: "car-alarm",
            3: "siren",
            4: "reverse-beeper",
            "X": "other-unknown-alert-signal",
        },
        6: {
            1: "stationary-music",
            2: "mobile-music",
            3: "ice-cream-truck",
            "X": "music-from-uncertain-source",
        },
        7: {
            1: "person-or-small-group-talking",
            2: "person-or-small-group-shouting",
            3: "large-crowd",
            4: "amplified-speech",
            "X": "other-unknown-human-voice",
        },
        8: {1: "dog-barking-whining"},
    },
}

# Split name in annotations.csv -> audio folder of the v1 release
# (audio-dev.tar.gz holds train/ and validate/, audio-eval.tar.gz the test
# clips). Writers of a SONYC-layout corpus use this mapping.
AUDIO_DIRS = {"train": "train", "validate": "validate", "test": "audio-eval"}

# Where readers also look for a split's audio: v2 releases put every clip in
# audio/ (v2.1, v2.2) or in audio-<k>/ shards (v2.3).
AUDIO_DIR_FALLBACKS = ("audio", "audio-eval", "audio-dev", "audio-*")

# Identification columns that every release has; v2 adds spatiotemporal
# ones (borough, block, latitude, longitude, year, week, day, hour), which
# readers ignore.
ID_COLUMNS = ("split", "sensor_id", "audio_filename", "annotator_id")


@dataclass(frozen=True)
class Taxonomy:
    """Label names of a SONYC-UST taxonomy, in the official order.

    Arguments
    ---------
    spec : dict
        The parsed ``dcase-ust-taxonomy.yaml`` (keys ``coarse`` and ``fine``).
        Defaults to the v1 taxonomy.

    Example
    -------
    >>> tax = Taxonomy()
    >>> len(tax.coarse_labels), len(tax.fine_labels)
    (8, 29)
    >>> len(tax.complete_fine_labels)
    23
    >>> tax.coarse_labels[0], tax.fine_labels[3]
    ('1_engine', '1-X_engine-of-uncertain-size')
    >>> tax.fine_of_coarse("3_non-machinery-impact")
    ['3-1_non-machinery-impact']
    >>> tax.x_label("1_engine"), tax.x_label("8_dog")
    ('1-X_engine-of-uncertain-size', None)
    """

    spec: dict = field(default_factory=lambda: DEFAULT_TAXONOMY)

    def __post_init__(self):
        for key in ("coarse", "fine"):
            if key not in self.spec:
                raise ValueError(
                    f"Taxonomy has no '{key}' section; expected the layout "
                    "of dcase-ust-taxonomy.yaml (keys 'coarse' and 'fine')."
                )

    @property
    def coarse_labels(self):
        """Coarse names, e.g. ``1_engine``, in taxonomy order."""
        return [f"{c}_{name}" for c, name in self.spec["coarse"].items()]

    @property
    def fine_labels(self):
        """Fine names with X tags, e.g. ``1-1_small-sounding-engine``."""
        return [
            f"{c}-{f}_{name}"
            for c, fine in self.spec["fine"].items()
            for f, name in fine.items()
        ]

    @property
    def complete_fine_labels(self):
        """Fine names without the X (other/unknown) tags."""
        return [lab for lab in self.fine_labels if not is_x_label(lab)]

    def fine_of_coarse(self, coarse_label, include_x=False):
        """Fine names under one coarse name, X tag last when included."""
        code = coarse_label.split("_", 1)[0]
        return [
            lab
            for lab in self.fine_labels
            if lab.split("-", 1)[0] == code
            and (include_x or not is_x_label(lab))
        ]

    def x_label(self, coarse_label):
        """The X tag of a coarse name, or None when it has none."""
        code = coarse_label.split("_", 1)[0]
        for lab in self.fine_labels:
            if lab.startswith(f"{code}-X_"):
                return lab
        return None

    def coarse_of(self, fine_label):
        """The coarse name a fine name belongs to."""
        code = fine_label.split("-", 1)[0]
        for lab in self.coarse_labels:
            if lab.split("_", 1)[0] == code:
                return lab
        raise KeyError(f"No coarse tag for fine tag '{fine_label}'")

    def to_yaml(self, path):
        """Write the taxonomy in the layout of ``dcase-ust-taxonomy.yaml``."""
        with open(path, "w") as fout:
            yaml.safe_dump(
                {k: self.spec[k] for k in ("coarse", "fine")},
                fout,
                sort_keys=False,
            )


def is_x_label(label):
    """True for an X (other/unknown) fine name such as ``1-X_engine-...``.

    Example
    -------
    >>> is_x_label("1-X_engine-of-uncertain-size"), is_x_label("1_engine")
    (True, False)
    """
    code = label.split("_", 1)[0]
    return code.endswith("-X")


def load_taxonomy(path=None):
    """Load ``dcase-ust-taxonomy.yaml``, or the v1 default when path is None.

    Arguments
    ---------
    path : str or None
        Path of the taxonomy file.

    Returns
    -------
    Taxonomy

    Example
    -------
    >>> import os
    >>> p = os.path.join(getfixture("tmpdir"), "tax.yaml")
    >>> Taxonomy().to_yaml(p)
    >>> load_taxonomy(p).fine_labels == Taxonomy().fine_labels
    True
    """
    if path is None:
        return Taxonomy()
    try:
        with open(path) as fin:
            spec = yaml.safe_load(fin)
    except OSError as err:
        raise FileNotFoundError(
            f"Cannot read taxonomy file '{path}': {err}. It ships with the "
            "SONYC-UST release as dcase-ust-taxonomy.yaml."
        ) from err
    if not isinstance(spec, dict):
        raise ValueError(f"Taxonomy file '{path}' is not a YAML mapping.")
    return Taxonomy(spec)


def annotation_columns(taxonomy=None):
    """Column names of a v1 ``annotations.csv``, in release order.

    Identification columns, then one ``<fine>_presence`` and one
    ``<fine>_proximity`` column per fine tag, then ``<coarse>_presence``.

    Arguments
    ---------
    taxonomy : Taxonomy or None
        Defaults to the v1 taxonomy.

    Returns
    -------
    list of str

    Example
    -------
    >>> cols = annotation_columns()
    >>> cols[:4]
    ['split', 'sensor_id', 'audio_filename', 'annotator_id']
    >>> cols[4]
    '1-1_small-sounding-engine_presence'
    >>> cols[-1], len(cols)
    ('8_dog_presence', 70)
    """
    tax = taxonomy or Taxonomy()
    return (
        ["split", "sensor_id", "audio_filename", "annotator_id"]
        + [f"{lab}_presence" for lab in tax.fine_labels]
        + [f"{lab}_proximity" for lab in tax.fine_labels]
        + [f"{lab}_presence" for lab in tax.coarse_labels]
    )


def _parse_int(value, column, path, line):
    """Parse an integer cell such as ``1``, ``-1`` or ``0.0``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not np.isfinite(number) or number != int(number):
        raise ValueError(
            f"{path}, line {line}: column '{column}' holds {value!r}, "
            "expected an integer"
        )
    return int(number)


def read_annotations(path, taxonomy=None):
    """Read a SONYC-UST ``annotations.csv`` (v1 or v2) with the csv module.

    Only the identification and ``_presence`` columns are used; proximity
    and the v2 spatiotemporal columns are ignored. Presence values are kept
    as read: 1 present, 0 absent, -1 not annotated (a SONYC team member who
    annotated one coarse group at a time; see the release README).

    Arguments
    ---------
    path : str
        Path of ``annotations.csv``.
    taxonomy : Taxonomy or None
        Defaults to the v1 taxonomy.

    Returns
    -------
    list of dict
        One dict per row with ``split``, ``sensor_id``, ``audio_filename``,
        ``annotator_id`` (int), ``fine`` (int array, ``fine_labels`` order)
        and ``coarse`` (int array, ``coarse_labels`` order).

    Example
    -------
    >>> import csv, os
    >>> p = os.path.join(getfixture("tmpdir"), "annotations.csv")
    >>> cols = annotation_columns()
    >>> row = {c: "0" for c in cols}
    >>> row.update(split="train", sensor_id="7", audio_filename="a.wav")
    >>> row.update({"1_engine_presence": "-1", "annotator_id": "-3"})
    >>> with open(p, "w", newline="") as f:
    ...     w = csv.DictWriter(f, cols)
    ...     _ = w.writeheader(); _ = w.writerow(row)
    >>> rows = read_annotations(p)
    >>> rows[0]["annotator_id"], int(rows[0]["coarse"][0]), len(rows[0]["fine"])
    (-3, -1, 29)
    """
    tax = taxonomy or Taxonomy()
    fine_cols = [f"{lab}_presence" for lab in tax.fine_labels]
    coarse_cols = [f"{lab}_presence" for lab in tax.coarse_labels]
    header, records = read_csv_rows(path, "annotations")
    for col in list(ID_COLUMNS) + fine_cols + coarse_cols:
        if col not in header:
            raise ValueError(
                f"Annotations file '{path}' has no column '{col}'. "
                "Expected the SONYC-UST annotations.csv layout (see "
                "speechbrain_iusp.sonyc.taxonomy.annotation_columns)."
            )
    rows = []
    for line, rec in records:
        presence = {}
        for col in fine_cols + coarse_cols:
            val = _parse_int(rec[col], col, path, line)
            if val not in (-1, 0, 1):
                raise ValueError(
                    f"{path}, line {line}: column '{col}' holds {val}, "
                    "expected 1, 0 or -1"
                )
            presence[col] = val
        name = rec["audio_filename"].strip()
        if not name:
            raise ValueError(
                f"{path}, line {line}: column 'audio_filename' is empty"
            )
        rows.append(
            {
                "split": rec["split"].strip(),
                "sensor_id": rec["sensor_id"].strip(),
                "audio_filename": name,
                "annotator_id": _parse_int(
                    rec["annotator_id"], "annotator_id", path, line
                ),
                "fine": np.array([presence[c] for c in fine_cols]),
                "coarse": np.array([presence[c] for c in coarse_cols]),
            }
        )
    return rows
