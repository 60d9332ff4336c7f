"""ESC-50 -> SpeechBrain JSON manifests of one fold split.

The test fold, the validation fold and the training folds are chosen by
number (by default test fold 1, validation fold 2, training folds 3-5).
The manifests are written to ``save_folder`` as ``train.json``,
``valid.json`` and ``test.json``; a later call with the same options and
the same ``meta/esc50.csv`` skips the work.

Authors
 * speechbrain-iusp developers 2026
"""

import hashlib
import json
import logging
from pathlib import Path

from speechbrain_iusp.esc50.download import (
    ESC50_URL,
    RELEASE_DIR,
    download_esc50,
)
from speechbrain_iusp.esc50.meta import (
    AUDIO_DIR,
    META_FILE,
    N_FOLDS,
    check_audio,
    read_meta,
)
from speechbrain_iusp.features.audio import audio_info
from speechbrain_iusp.runtime import atomic_write_text

logger = logging.getLogger(__name__)

MANIFESTS = {
    "train": "train.json",
    "validate": "valid.json",
    "test": "test.json",
}
OPTIONS_FILE = "esc50_prepare.json"


def find_release(data_folder, download=False, url=ESC50_URL, md5=None):
    """The ESC-50 folder in ``data_folder`` (downloaded into an empty one).

    ``data_folder`` may be the release folder itself (holding
    ``meta/esc50.csv``) or the folder that holds ``ESC-50-master/``.

    Arguments
    ---------
    data_folder : str or Path
        Where ESC-50 is (or goes).
    download : bool
        Download the archive when the folder is missing or empty.
    url : str
        The archive's address.
    md5 : str, optional
        Its expected md5.

    Returns
    -------
    Path
        The folder holding ``meta/`` and ``audio/``.

    Example
    -------
    >>> find_release(getfixture("tmpdir"))
    Traceback (most recent call last):
    ...
    FileNotFoundError: ... holds no ESC-50 ...
    """
    folder = Path(data_folder)
    for cand in (folder, folder / RELEASE_DIR):
        if (cand / META_FILE).is_file():
            return cand
    empty = not folder.exists() or not any(
        p for p in folder.iterdir() if not p.name.startswith(RELEASE_DIR)
    )
    if empty and download:
        return download_esc50(folder, url=url, md5=md5)
    if empty:
        raise FileNotFoundError(
            f"{folder} holds no ESC-50 (no meta/esc50.csv there or in "
            f"{RELEASE_DIR}/): run with --download True to fetch it there, "
            "or point --data_folder at an ESC-50 folder"
        )
    raise FileNotFoundError(
        f"{folder} holds no ESC-50 (no meta/esc50.csv there or in "
        f"{RELEASE_DIR}/) and is not empty, so nothing is downloaded into "
        "it: point --data_folder at the ESC-50 folder, or at an empty or "
        "new folder to download the release there"
    )


def resolve_folds(test_fold=1, valid_fold=2, train_folds=None):
    """The folds of each split, checked.

    Arguments
    ---------
    test_fold : int
        The test fold, 1-5.
    valid_fold : int
        The validation fold, 1-5, not the test fold.
    train_folds : list of int, optional
        The training folds (default: the other three).

    Returns
    -------
    dict
        ``{"train": [...], "validate": [...], "test": [...]}``.

    Example
    -------
    >>> resolve_folds(1, 2)
    {'train': [3, 4, 5], 'validate': [2], 'test': [1]}
    >>> resolve_folds(1, 1)
    Traceback (most recent call last):
    ...
    ValueError: valid_fold is 1, the test fold too; give two folds ...
    """
    folds = range(1, N_FOLDS + 1)
    for key, value in (("test_fold", test_fold), ("valid_fold", valid_fold)):
        if value not in folds:
            raise ValueError(
                f"{key} is {value!r}; ESC-50 folds are 1-{N_FOLDS}"
            )
    if test_fold == valid_fold:
        raise ValueError(
            f"valid_fold is {valid_fold}, the test fold too; give two "
            f"folds of 1-{N_FOLDS} (e.g. --test_fold 1 --valid_fold 2)"
        )
    if train_folds is None:
        train_folds = [f for f in folds if f not in (test_fold, valid_fold)]
    train_folds = sorted(int(f) for f in train_folds)
    bad = [f for f in train_folds if f not in folds]
    if bad or not train_folds or {test_fold, valid_fold} & set(train_folds):
        raise ValueError(
            f"train_folds is {train_folds}; give folds of 1-{N_FOLDS} other "
            f"than the test fold {test_fold} and the validation fold "
            f"{valid_fold} (or null for all the others)"
        )
    return {"train": train_folds, "validate": [valid_fold], "test": [test_fold]}


def prepare_esc50(
    data_folder,
    save_folder,
    test_fold=1,
    valid_fold=2,
    train_folds=None,
    download=False,
    url=ESC50_URL,
    md5=None,
    skip_prep=False,
):
    """Writes the train / valid / test manifests of one fold split.

    Each entry (keyed by the file name without ``.wav``) holds ``wav``
    (``{data_root}/audio/<file>``, ``data_root`` being the release
    folder), ``audio_filename``, ``fold``, ``target``, ``category`` and
    ``duration`` (seconds).

    Arguments
    ---------
    data_folder : str or Path
        ESC-50 (see :func:`find_release`).
    save_folder : str or Path
        Where the manifests go.
    test_fold, valid_fold : int
        The held-out folds.
    train_folds : list of int, optional
        The training folds (default: the other three).
    download : bool
        Download ESC-50 into an empty ``data_folder``.
    url : str
        The archive's address.
    md5 : str, optional
        Its expected md5.
    skip_prep : bool
        Only return the manifest paths.

    Returns
    -------
    dict
        split (``train``, ``validate``, ``test``) -> manifest path.
    """
    save = Path(save_folder)
    paths = {split: save / name for split, name in MANIFESTS.items()}
    if skip_prep:
        return paths
    folds = resolve_folds(test_fold, valid_fold, train_folds)
    release = find_release(data_folder, download, url, md5)
    meta = release / META_FILE
    options = {
        "release": str(release.resolve()),
        "folds": folds,
        "meta_sha256": hashlib.sha256(meta.read_bytes()).hexdigest(),
    }
    done = save / OPTIONS_FILE
    if all(p.is_file() for p in paths.values()) and done.is_file():
        if json.loads(done.read_text()) == options:
            logger.info("ESC-50 manifests in %s are up to date.", save)
            return paths
    rows = read_meta(meta)
    check_audio(rows, release / AUDIO_DIR, meta)
    save.mkdir(parents=True, exist_ok=True)
    for split, split_folds in folds.items():
        entries = {
            Path(r["filename"]).stem: _entry(r, release)
            for r in rows
            if r["fold"] in split_folds
        }
        if not entries:
            raise ValueError(
                f"{meta}: no clip in fold(s) {split_folds} ({split}); every "
                f"fold of 1-{N_FOLDS} needs clips"
            )
        atomic_write_text(paths[split], json.dumps(entries, indent=2))
        logger.info("%s: %d clips (folds %s)", split, len(entries), split_folds)
    atomic_write_text(done, json.dumps(options, indent=2))
    return paths


def _entry(row, release):
    """The manifest entry of one row."""
    info = audio_info(release / AUDIO_DIR / row["filename"])
    return {
        "wav": "{data_root}/" + f"{AUDIO_DIR}/{row['filename']}",
        "audio_filename": row["filename"],
        "fold": row["fold"],
        "target": row["target"],
        "category": row["category"],
        "duration": round(info.frames / info.samplerate, 3),
    }
