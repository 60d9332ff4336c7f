"""Data preparation for SONYC-UST (DCASE 2019 Task 5, urban sound tagging).

Writes one SpeechBrain JSON manifest per split (``train.json``,
``valid.json``, ``test.json``) from a SONYC-UST release::

    data_folder/
        annotations.csv
        dcase-ust-taxonomy.yaml
        train/*.wav  validate/*.wav   (v1: audio-dev.tar.gz)
        audio-eval/*.wav              (v1: audio-eval.tar.gz, split "test")

The v2 releases (DCASE 2020) are accepted too: their extra spatiotemporal
columns are ignored and their audio is looked up in ``audio/`` or the
``audio-<k>/`` shards as well.

Targets (``1`` present, ``0`` absent; ``-1`` in a presence column means "not
annotated": a SONYC team member annotated one coarse group at a time):

* train: per tag, the verified annotation (``annotator_id == 0``) where one
  exists and is not -1; otherwise positive when ANY other annotator
  (volunteers, ``annotator_id > 0``, and team members, ``< 0``) marked it 1.
  A -1 never counts as positive and never cancels a positive (the official
  baseline sums the values, so a -1 could cancel a 1 there).
* validate / test: the verified row only; clips without one are left out
  (v2 verifies only a subset of the validate split).
* coarse targets come from the ``<coarse>_presence`` columns with the same
  rule (they are not re-derived from the fine tags).
* ``fine_mask`` is 0 for the complete fine tags of a coarse class whose X
  tag is positive in the target (the baseline's masked fine loss), else 1.

Authors
 * speechbrain-iusp developers 2026
"""

import glob
import hashlib
import json
import logging
import os

import numpy as np

from speechbrain_iusp.sonyc.releases import (
    download_release,
    manual_instructions,
    release_files,
)
from speechbrain_iusp.sonyc.targets import (
    aggregate_train,
    fine_mask,
    group_by_clip,
)
from speechbrain_iusp.sonyc.taxonomy import (
    AUDIO_DIR_FALLBACKS,
    AUDIO_DIRS,
    load_taxonomy,
    read_annotations,
)

logger = logging.getLogger(__name__)

MANIFEST_NAMES = {
    "train": "train.json",
    "validate": "valid.json",
    "test": "test.json",
}
OPT_FILE = "sonyc_ust_prepare_opts.json"


def prepare_sonyc_ust(
    data_folder,
    save_folder,
    splits=("train", "validate", "test"),
    skip_prep=False,
    bad_audio="error",
    download=False,
    version="1.0",
    taxonomy_file=None,
    annotation_file=None,
    sample_rates=(44100, 48000),
    duration=10.0,
    duration_tolerance=0.5,
    download_files=None,
):
    """Prepare SpeechBrain JSON manifests for SONYC-UST.

    Arguments
    ---------
    data_folder : str
        Root of the release (holds ``annotations.csv`` and the audio).
    save_folder : str
        Where the manifests and the options record are written.
    splits : tuple of str
        Any of ``train``, ``validate``, ``test``.
    skip_prep : bool
        Do nothing, just return the manifest paths.
    bad_audio : str
        ``error``: raise listing every missing, unreadable, empty or wrongly
        sized file; ``skip``: log them and leave their clips out.
    download : bool
        Fetch the release from Zenodo into ``data_folder`` first
        (resuming partial files; checked by md5 where published, else by
        the announced length and by opening the archives).
    version : str
        The release to download: ``"1.0"`` (DCASE 2019, the default) or
        ``"2.3"``.
    taxonomy_file : str or None
        Default ``data_folder/dcase-ust-taxonomy.yaml`` when it exists, else
        the built-in v1 taxonomy.
    annotation_file : str or None
        Default ``data_folder/annotations.csv``.
    sample_rates : tuple of int
        Accepted sample rates.
    duration : float
        Expected clip duration in seconds.
    duration_tolerance : float
        Accepted deviation from ``duration`` in seconds.
    download_files : list of dict or None
        File table for ``download`` (default: the table of ``version``).

    Returns
    -------
    dict
        split -> manifest path.

    Example
    -------
    >>> out = prepare_sonyc_ust("/nonexistent", "/tmp/x", skip_prep=True)
    >>> sorted(os.path.basename(p) for p in out.values())
    ['test.json', 'train.json', 'valid.json']
    """
    for split in splits:
        if split not in MANIFEST_NAMES:
            raise ValueError(
                f"Unknown split '{split}'; use train, validate or test."
            )
    if bad_audio not in ("error", "skip"):
        raise ValueError(f"bad_audio must be 'error' or 'skip': {bad_audio!r}")
    paths = {s: os.path.join(save_folder, MANIFEST_NAMES[s]) for s in splits}
    if skip_prep:
        return paths

    if download:
        download_release(data_folder, download_files or release_files(version))
    annotation_file = annotation_file or os.path.join(
        data_folder, "annotations.csv"
    )
    if taxonomy_file is None:
        candidate = os.path.join(data_folder, "dcase-ust-taxonomy.yaml")
        taxonomy_file = candidate if os.path.isfile(candidate) else None
    if not os.path.isfile(annotation_file):
        raise FileNotFoundError(
            f"'{annotation_file}' not found. "
            + manual_instructions(data_folder)
        )

    opts = {
        "data_folder": os.path.abspath(data_folder),
        "annotation_file": os.path.abspath(annotation_file),
        "taxonomy_file": taxonomy_file and os.path.abspath(taxonomy_file),
        "splits": list(splits),
        "bad_audio": bad_audio,
        "sample_rates": list(sample_rates),
        "duration": duration,
        "duration_tolerance": duration_tolerance,
    }
    audio_index = index_audio(data_folder)
    opts["inputs"] = _input_signature(
        annotation_file, taxonomy_file, audio_index, data_folder
    )
    opt_path = os.path.join(save_folder, OPT_FILE)
    redo = _redo_reason(paths, opt_path, opts)
    if redo is None:
        logger.info("Preparation completed in previous run, skipping.")
        return paths
    logger.info("Preparing %s: %s.", save_folder, redo)

    tax = load_taxonomy(taxonomy_file)
    rows = read_annotations(annotation_file, tax)
    clips = group_by_clip(rows, annotation_file)
    os.makedirs(save_folder, exist_ok=True)
    for split in splits:
        entries = {}
        names = sorted(n for n, c in clips.items() if c["split"] == split)
        unverified = []
        for name in names:
            clip = clips[name]
            if split == "train":
                fine = aggregate_train(clip["fine"])
                coarse = aggregate_train(clip["coarse"])
            elif clip["verified"] is None:
                unverified.append(name)
                continue
            else:
                fine = (clip["fine"][clip["verified"]][1] == 1).astype(float)
                coarse = (clip["coarse"][clip["verified"]][1] == 1).astype(
                    float
                )
            entries[name] = (fine, coarse)
        if unverified:
            logger.info(
                "Split '%s': %d clips have no verified annotation and are "
                "left out (e.g. %s).",
                split,
                len(unverified),
                unverified[:3],
            )
        written = _write_split(
            split,
            entries,
            audio_index,
            data_folder,
            tax,
            paths[split],
            bad_audio,
            sample_rates,
            duration,
            duration_tolerance,
        )
        if not written:
            raise ValueError(
                f"Split '{split}' has no usable clip: {annotation_file} lists "
                f"{len(names)} clips of that split, {len(unverified)} of them "
                "without a verified (annotator_id 0) row, and every other "
                "one was missing or bad audio. The splits must be named "
                "train, validate and test; check the split column and the "
                "audio folders."
            )
    with open(opt_path, "w") as fout:
        json.dump(opts, fout, indent=2)
    return paths


def _redo_reason(paths, opt_path, opts):
    """Why the manifests must be made (again), or None when they are good.

    They are made again when a manifest is missing, or when the options or
    what was read (annotations, taxonomy, the audio files' names, sizes and
    modification times) differ from the last preparation.
    """
    if not all(os.path.isfile(p) for p in paths.values()):
        return "no manifests yet"
    try:
        with open(opt_path) as fin:
            saved = json.load(fin)
    except (OSError, json.JSONDecodeError):
        return "no record of the last preparation"
    changed = [
        key
        for key in sorted(set(opts) | set(saved))
        if key != "inputs" and opts.get(key) != saved.get(key)
    ]
    new, old = opts["inputs"], saved.get("inputs") or {}
    changed += [f"{key} changed" for key in new if new[key] != old.get(key)]
    if changed:
        return (
            "the inputs differ from the last preparation ("
            + ", ".join(changed)
            + ")"
        )
    return None


def _input_signature(annotation_file, taxonomy_file, audio_index, data_folder):
    """Hashes of what the preparation reads, to notice any change."""

    def file_hash(path):
        if path is None:
            return None
        digest = hashlib.sha1()
        with open(path, "rb") as fin:
            for block in iter(lambda: fin.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    audio = hashlib.sha1()
    for name in sorted(audio_index):
        for folder in audio_index[name]:
            stat = os.stat(os.path.join(data_folder, folder, name))
            audio.update(
                f"{folder}/{name}|{stat.st_size}|{stat.st_mtime_ns}\n".encode()
            )
    return {
        "annotations.csv": file_hash(annotation_file),
        "taxonomy": file_hash(taxonomy_file),
        "audio files": audio.hexdigest(),
    }


def index_audio(data_folder):
    """Map every ``.wav`` under the known audio folders to its folders.

    Arguments
    ---------
    data_folder : str
        Root of the release.

    Returns
    -------
    dict
        file name -> list of folders (relative to ``data_folder``).
    """
    folders = []
    patterns = (
        list(AUDIO_DIRS.values()) + list(AUDIO_DIRS) + list(AUDIO_DIR_FALLBACKS)
    )
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(data_folder, pattern))):
            rel = os.path.relpath(path, data_folder)
            if os.path.isdir(path) and rel not in folders:
                folders.append(rel)
    index = {}
    for rel in folders:
        with os.scandir(os.path.join(data_folder, rel)) as entries:
            for entry in entries:
                if entry.name.lower().endswith(".wav"):
                    index.setdefault(entry.name, []).append(rel)
    return index


def _pick_folder(name, split, audio_index):
    """Folder of a clip, preferring its split's own audio folder."""
    found = audio_index.get(name, [])
    for preferred in (AUDIO_DIRS.get(split), split):
        if preferred in found:
            return preferred
    return found[0] if found else None


def check_audio(path, sample_rates, duration, tolerance):
    """Cheap audio check with ``soundfile.info``.

    Arguments
    ---------
    path : str
        Audio file.
    sample_rates : tuple of int
        Accepted sample rates.
    duration : float
        Expected duration in seconds.
    tolerance : float
        Accepted deviation in seconds.

    Returns
    -------
    (str or None, float)
        Problem description (None when fine) and duration in seconds.
    """
    import soundfile

    try:
        info = soundfile.info(path)
    except Exception as err:  # soundfile raises several types
        return f"unreadable ({type(err).__name__}: {err})", 0.0
    if info.frames <= 0 or info.samplerate <= 0:
        return "empty (no samples)", 0.0
    seconds = info.frames / info.samplerate
    if info.samplerate not in sample_rates:
        return (
            f"sample rate {info.samplerate} Hz not in {list(sample_rates)}"
        ), seconds
    if abs(seconds - duration) > tolerance:
        return (
            f"duration {seconds:.3f} s, expected {duration} s (+/- {tolerance})"
        ), seconds
    if info.subtype in ("FLOAT", "DOUBLE"):  # only floats hold NaN or inf
        data, _ = soundfile.read(path, dtype="float32")
        bad = int(np.size(data) - np.isfinite(data).sum())
        if bad:
            return f"{bad} NaN or inf samples", seconds
    return None, seconds


def _write_split(
    split,
    entries,
    audio_index,
    data_folder,
    tax,
    path,
    bad_audio,
    sample_rates,
    duration,
    tolerance,
):
    """Check the audio of one split and write its manifest."""
    manifest, bad = {}, []
    for name, (fine, coarse) in entries.items():
        folder = _pick_folder(name, split, audio_index)
        if folder is None:
            bad.append(f"{name}: missing (looked in {data_folder})")
            continue
        problem, seconds = check_audio(
            os.path.join(data_folder, folder, name),
            sample_rates,
            duration,
            tolerance,
        )
        if problem:
            bad.append(f"{os.path.join(folder, name)}: {problem}")
            continue
        rel = "/".join(folder.split(os.sep))
        manifest[os.path.splitext(name)[0]] = {
            "wav": f"{{data_root}}/{rel}/{name}",
            "audio_filename": name,
            "split": split,
            "duration": round(seconds, 6),
            "coarse": coarse.tolist(),
            "fine": fine.tolist(),
            "fine_mask": fine_mask(fine, tax).tolist(),
        }
    if bad:
        listing = "\n  ".join(bad)
        message = f"{len(bad)} bad audio file(s) in split '{split}':\n  "
        if bad_audio == "error":
            raise RuntimeError(
                message
                + listing
                + "\nFix or remove these files, or use bad_audio='skip' "
                "(--bad_audio skip) to leave their clips out."
            )
        logger.warning("%sskipped:\n  %s", message, listing)
    with open(path, "w") as fout:
        json.dump(manifest, fout, indent=2)
    logger.info("Wrote %s (%d clips)", path, len(manifest))
    return len(manifest)
