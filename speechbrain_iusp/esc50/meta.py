"""ESC-50's ``meta/esc50.csv``: read, typed and checked row by row.

The release archive (``ESC-50-master/``) holds ``audio/*.wav`` and
``meta/esc50.csv`` with the columns ``filename, fold, target, category,
esc10, src_file, take``; a file is named
``{fold}-{src_file}-{take}-{target}.wav``. Every check names the file, the
row and the column that break the rule, and the fix.

Authors
 * speechbrain-iusp developers 2026
"""

import csv
import re
from pathlib import Path

COLUMNS = (
    "filename",
    "fold",
    "target",
    "category",
    "esc10",
    "src_file",
    "take",
)
N_FOLDS = 5
META_FILE = Path("meta") / "esc50.csv"
AUDIO_DIR = "audio"
_NAME = re.compile(r"^(\d+)-([^-]+)-([^-]+)-(\d+)\.wav$")


class MetaError(ValueError):
    """A ``meta/esc50.csv`` that breaks the ESC-50 layout."""


def clip_name(fold, src_file, take, target):
    """The ESC-50 file name of a clip.

    Arguments
    ---------
    fold : int
        Its fold, 1-5.
    src_file : str or int
        The source recording it was cut from.
    take : str
        The cut of that recording (``A``, ``B``, ...).
    target : int
        Its class index.

    Returns
    -------
    str

    Example
    -------
    >>> clip_name(1, 100032, "A", 0)
    '1-100032-A-0.wav'
    """
    return f"{fold}-{src_file}-{take}-{target}.wav"


def _int(value, path, row, column, rule):
    """An integer cell, or a MetaError naming it."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MetaError(
            f"{path}, row {row}, column {column!r}: {value!r} is not an "
            f"integer; {rule}"
        ) from None


def read_meta(path, n_folds=N_FOLDS):
    """The rows of ``meta/esc50.csv``, typed and checked.

    Checks: every column is there; ``fold`` is in 1..``n_folds``;
    ``target`` is an integer >= 0 with one ``category`` per target;
    ``esc10`` is ``True`` or ``False``; the file name is unique and reads
    ``{fold}-{src_file}-{take}-{target}.wav`` with the row's values.

    Arguments
    ---------
    path : str or Path
        The CSV file.
    n_folds : int
        Number of folds (5 in ESC-50).

    Returns
    -------
    list of dict
        One per row, ``fold`` and ``target`` as int, ``esc10`` as bool.

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> rows = [",".join(COLUMNS), "1-100032-A-0.wav,1,0,dog,True,100032,A"]
    >>> _ = (tmp / "esc50.csv").write_text("\\n".join(rows))
    >>> read_meta(tmp / "esc50.csv")[0]["category"]
    'dog'
    >>> bad = "\\n".join([rows[0], rows[1].replace(".wav,1,", ".wav,7,")])
    >>> _ = (tmp / "bad.csv").write_text(bad)
    >>> read_meta(tmp / "bad.csv")
    Traceback (most recent call last):
    ...
    speechbrain_iusp.esc50.meta.MetaError: ...bad.csv, row 2, column 'fold': ...
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: an ESC-50 folder holds meta/esc50.csv and "
            "audio/*.wav (the release archive's ESC-50-master/); point "
            "--data_folder at it or at an empty folder to download it"
        )
    with open(path, newline="", encoding="utf-8") as fin:
        reader = csv.DictReader(fin)
        header = reader.fieldnames or []
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise MetaError(
                f"{path}: column(s) {missing} missing (header: {header}); "
                f"ESC-50's columns are {', '.join(COLUMNS)}"
            )
        rows = [
            _check_row(r, path, i + 2, n_folds) for i, r in enumerate(reader)
        ]
    if not rows:
        raise MetaError(f"{path}: no clips listed under the header")
    _check_unique(rows, path)
    return rows


def _check_row(raw, path, row, n_folds):
    """One typed row; a MetaError naming the row and column otherwise."""
    out = dict(raw)
    for column in COLUMNS:
        if raw[column] is None or raw[column].strip() == "":
            raise MetaError(
                f"{path}, row {row}, column {column!r}: empty; every ESC-50 "
                "row fills all the columns"
            )
    out["fold"] = _int(raw["fold"], path, row, "fold", f"folds are 1-{n_folds}")
    if not 1 <= out["fold"] <= n_folds:
        raise MetaError(
            f"{path}, row {row}, column 'fold': {out['fold']} is outside "
            f"1-{n_folds}; fix the row (ESC-50 has {n_folds} folds)"
        )
    rule = "targets are class indices 0, 1, ..."
    out["target"] = _int(raw["target"], path, row, "target", rule)
    if out["target"] < 0:
        raise MetaError(f"{path}, row {row}, column 'target': < 0; {rule}")
    esc10 = raw["esc10"].strip()
    if esc10 not in ("True", "False"):
        raise MetaError(
            f"{path}, row {row}, column 'esc10': {esc10!r}; write True or False"
        )
    out["esc10"] = esc10 == "True"
    match = _NAME.match(raw["filename"])
    want = clip_name(out["fold"], raw["src_file"], raw["take"], out["target"])
    if match is None or raw["filename"] != want:
        raise MetaError(
            f"{path}, row {row}, column 'filename': {raw['filename']!r} does "
            "not read {fold}-{src_file}-{take}-{target}.wav with the row's "
            f"values ({want!r}); fix the name or the row"
        )
    return out


def _check_unique(rows, path):
    """One row per file name and one category per target."""
    names, categories = {}, {}
    for i, r in enumerate(rows):
        row = i + 2
        if r["filename"] in names:
            raise MetaError(
                f"{path}, row {row}, column 'filename': {r['filename']!r} is "
                f"also on row {names[r['filename']]}; remove the duplicate"
            )
        names[r["filename"]] = row
        seen = categories.setdefault(r["target"], (r["category"], row))
        if seen[0] != r["category"]:
            raise MetaError(
                f"{path}, row {row}, column 'category': {r['category']!r} "
                f"for target {r['target']}, which row {seen[1]} calls "
                f"{seen[0]!r}; one category per target"
            )


def check_audio(rows, audio_folder, meta_path=META_FILE):
    """Every listed clip exists in the audio folder.

    Arguments
    ---------
    rows : list of dict
        From :func:`read_meta`.
    audio_folder : str or Path
        The release's ``audio/`` folder.
    meta_path : str or Path
        The CSV the rows came from (named in the error).

    Example
    -------
    >>> check_audio([{"filename": "1-1-A-0.wav"}], getfixture("tmpdir"))
    Traceback (most recent call last):
    ...
    FileNotFoundError: ...1-1-A-0.wav (meta/esc50.csv, row 2) is missing...
    """
    audio_folder = Path(audio_folder)
    for i, r in enumerate(rows):
        wav = audio_folder / r["filename"]
        if not wav.is_file():
            raise FileNotFoundError(
                f"{wav} ({meta_path}, row {i + 2}) is missing; download the "
                "release again (an empty --data_folder downloads it) or "
                "remove the row"
            )


def categories(rows):
    """Category names ordered by target (a class index's name).

    Arguments
    ---------
    rows : list of dict
        From :func:`read_meta`.

    Returns
    -------
    list of str

    Example
    -------
    >>> categories([{"target": 1, "category": "b"}, {"target": 0,
    ...             "category": "a"}])
    ['a', 'b']
    """
    names = {r["target"]: r["category"] for r in rows}
    return [names[t] for t in sorted(names)]
