"""A generated urban sound tagging corpus in the SONYC-UST v1 layout.

The real SONYC-UST release cannot be downloaded everywhere, so this module
writes a procedural stand-in with exactly the release's files::

    OUT_DIR/
        annotations.csv            one row per (clip, annotator)
        dcase-ust-taxonomy.yaml
        train/  validate/  audio-eval/   10 s mono 44.1 kHz 16-bit WAVs
        corpus_info.json           written last: marks a complete corpus

Train clips carry 2-4 noisy volunteer rows (misses, false alarms, fine-tag
confusions within a coarse class, use of the X tag) and no verified row;
validate and test clips carry one verified row (``annotator_id`` 0, the
generator's truth, with the X tag where the truth is deliberately uncertain)
and a few volunteer rows. Every coarse class appears in every split of at
least 8 clips. The audio comes from :mod:`speechbrain_iusp.demo.scene`.

Each clip is generated from its own seed, derived from ``(seed, split,
index)``, so the files are byte-identical for a seed whatever the number of
workers. Column names, split names and audio folders come from
:mod:`speechbrain_iusp.sonyc.taxonomy`.

Command line::

    python -m speechbrain_iusp.demo data/demo --size default --seed 2019

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import csv
import json
import logging
import multiprocessing as mp
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from speechbrain_iusp.demo import scene
from speechbrain_iusp.sonyc.taxonomy import (
    AUDIO_DIRS,
    Taxonomy,
    annotation_columns,
    is_x_label,
)

logger = logging.getLogger(__name__)

# The generator's name in corpus_info.json (its module's first name): kept
# so that corpora made before the package layout changed are still reused.
GENERATOR = "speechbrain_iusp.demo_corpus"
GENERATOR_VERSION = "1.1"
INFO_FILE = "corpus_info.json"
PARTIAL_MARKER = ".demo_corpus_partial"
ANNOTATIONS_FILE = "annotations.csv"
TAXONOMY_FILE = "dcase-ust-taxonomy.yaml"
DEFAULT_SEED = 2019

# Clips per split (train, validate, test).
# Clips per split (train, validate, test). "default" keeps the main command
# short; "study" is the size of the IUSP study (>= 1000 train, 300 test);
# "sonyc" has the split sizes of SONYC-UST v1 (2351 / 443 / 274).
SIZES = {
    "default": (300, 100, 100),
    "tiny": (8, 8, 8),
    "study": (1200, 300, 300),
    "sonyc": (2351, 443, 274),
}

# Relative frequency of the coarse classes (by coarse code), imbalanced like
# the real data: engines and voices common, saws and dogs rare.
COARSE_WEIGHTS = {
    "1": 0.27,
    "2": 0.12,
    "3": 0.09,
    "4": 0.07,
    "5": 0.11,
    "6": 0.09,
    "7": 0.19,
    "8": 0.06,
}

# Sensor ids are disjoint between splits, as in the real release.
_SENSORS_PER_SPLIT = (30, 12, 12)
_PROXIMITY = ("near", "far", "notsure")


@dataclass(frozen=True)
class LabelConfig:
    """Scene and annotation knobs of the corpus (label noise on volunteers).

    Arguments
    ---------
    events_per_clip : tuple
        Probabilities of 0, 1, 2, 3 labelled events in a clip.
    p_uncertain : float
        Probability that a labelled event's truth is the coarse class's X tag
        (an event of unclear type, also placed a little further away).
    train_annotators : tuple
        Range (inclusive) of volunteer rows per train clip.
    eval_volunteers : tuple
        Range (inclusive) of volunteer rows per validate/test clip, beside
        the verified row.
    p_miss : float
        Base probability that a volunteer misses an event.
    p_miss_hard : float
        Extra miss probability of quiet events (logistic in the SNR around
        ``hard_snr_db``): misses are more common than false alarms.
    hard_snr_db : float
        SNR at which half of ``p_miss_hard`` applies.
    p_confuse : float
        Probability that a volunteer marks another fine tag of the same
        coarse class.
    p_use_x : float
        Probability that a volunteer marks the X tag instead of the fine tag.
    p_false_alarm : float
        Probability, per volunteer and absent coarse class, of a false tag.
    near_snr_db : float
        Events at or above this SNR are "near", others "far".
    volunteer_pool : int
        Number of distinct volunteer ids (each with its own reliability).

    Example
    -------
    >>> LabelConfig().train_annotators
    (2, 4)
    """

    events_per_clip: tuple = (0.12, 0.43, 0.30, 0.15)
    p_uncertain: float = 0.12
    train_annotators: tuple = (2, 4)
    eval_volunteers: tuple = (0, 3)
    p_miss: float = 0.12
    p_miss_hard: float = 0.4
    hard_snr_db: float = -2.0
    p_confuse: float = 0.15
    p_use_x: float = 0.12
    p_false_alarm: float = 0.01
    near_snr_db: float = 6.0
    volunteer_pool: int = 150


def split_names():
    """Split names of annotations.csv, in the order of ``AUDIO_DIRS``.

    Example
    -------
    >>> split_names()
    ['train', 'validate', 'test']
    """
    return list(AUDIO_DIRS)


def _fine_code(label):
    return label.split("_", 1)[0]


def _coarse_code(label):
    return label.split("_", 1)[0].split("-", 1)[0]


def model_for(fine_label):
    """Name of the sound model that renders a fine tag.

    Tags are matched by their code (``2-2`` for ``2-2_jackhammer``); an
    unknown code falls back to a model of the same coarse class.

    Arguments
    ---------
    fine_label : str
        A complete fine tag, e.g. ``5-3_siren``.

    Returns
    -------
    str
        A key of ``scene.SOUND_MODELS``.

    Example
    -------
    >>> model_for("2-2_jackhammer"), model_for("7-9_new-voice-tag")
    ('jackhammer', 'talking')
    """
    code = _fine_code(fine_label)
    if code in scene.FINE_CODE_MODELS:
        return scene.FINE_CODE_MODELS[code]
    coarse = code.split("-", 1)[0]
    for key, name in scene.FINE_CODE_MODELS.items():
        if key.split("-", 1)[0] == coarse:
            return name
    raise KeyError(f"No sound model for fine tag '{fine_label}'")


def _clip_rngs(seed, split_idx, index):
    """Independent generators for the scene plan, the audio, the labels."""
    ss = np.random.SeedSequence([int(seed), int(split_idx), int(index)])
    return [np.random.default_rng(s) for s in ss.spawn(3)]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _plan_events(rng, forced, tax, labels, mix):
    """Draw the labelled events of one clip (its truth)."""
    coarse = tax.coarse_labels
    w = np.array([COARSE_WEIGHTS.get(_coarse_code(c), 0.1) for c in coarse])
    k = int(rng.choice(len(labels.events_per_clip), p=labels.events_per_clip))
    chosen = [] if forced is None else [forced]
    k = max(k, len(chosen))
    while len(chosen) < min(k, len(coarse)):
        p = w.copy()
        p[chosen] = 0.0
        chosen.append(int(rng.choice(len(coarse), p=p / p.sum())))
    events = []
    for c in chosen:
        fines = tax.fine_of_coarse(coarse[c])
        fine = fines[int(rng.integers(len(fines)))]
        x_tag = tax.x_label(coarse[c])
        uncertain = x_tag is not None and rng.random() < labels.p_uncertain
        if rng.random() < mix.full_length_prob:
            dur = scene.CLIP_SECONDS
        else:
            dur = rng.uniform(mix.min_event_s, scene.CLIP_SECONDS)
        snr = rng.uniform(*mix.snr_db) - (rng.uniform(0, 6) if uncertain else 0)
        events.append(
            {
                "coarse": coarse[c],
                "fine": fine,
                "label": x_tag if uncertain else fine,
                "uncertain": bool(uncertain),
                "model": model_for(fine),
                "onset": float(rng.uniform(0, scene.CLIP_SECONDS - dur)),
                "duration": float(dur),
                "snr_db": float(snr),
                "proximity": "near" if snr >= labels.near_snr_db else "far",
                "forced": c == forced,
            }
        )
    return events


def _reliability(seed, annotator_id):
    """A volunteer's own error multiplier (some volunteers are sloppier)."""
    rng = np.random.default_rng([int(seed), 7919, int(annotator_id)])
    return float(rng.uniform(0.5, 1.6))


def _volunteer_marks(rng, events, tax, labels, reliability, keep_forced):
    """Fine tags (with proximity) one volunteer marks for a clip."""
    marks = {}
    for ev in events:
        hard = _sigmoid((labels.hard_snr_db - ev["snr_db"]) / 3.0)
        p_miss = min(
            0.95, reliability * (labels.p_miss + labels.p_miss_hard * hard)
        )
        if not (keep_forced and ev["forced"]) and rng.random() < p_miss:
            continue
        fines = tax.fine_of_coarse(ev["coarse"])
        x_tag = tax.x_label(ev["coarse"])
        label, r = ev["label"], rng.random()
        others = [f for f in fines if f != ev["fine"]]
        if r < labels.p_confuse * reliability and others:
            label = others[int(rng.integers(len(others)))]
        elif x_tag and r < (labels.p_confuse + labels.p_use_x) * reliability:
            label = x_tag
        elif ev["uncertain"] and r < 0.5:
            label = fines[int(rng.integers(len(fines)))]  # a guess
        q = rng.random()
        if q < 0.7:
            prox = ev["proximity"]
        elif q < 0.9:
            prox = "notsure"
        else:
            prox = "far" if ev["proximity"] == "near" else "near"
        marks[label] = prox
    present = {ev["coarse"] for ev in events}
    for c in tax.coarse_labels:
        if c in present or rng.random() >= labels.p_false_alarm * reliability:
            continue
        fines = tax.fine_of_coarse(c, include_x=True)
        marks[fines[int(rng.integers(len(fines)))]] = str(
            rng.choice(["far", "notsure"])
        )
    return marks


def _row(columns, tax, split, sensor, filename, annotator, marks):
    row = dict.fromkeys(columns, 0)
    row.update(
        split=split,
        sensor_id=sensor,
        audio_filename=filename,
        annotator_id=annotator,
    )
    for lab in tax.fine_labels:
        row[f"{lab}_proximity"] = marks.get(lab, "-1")
        row[f"{lab}_presence"] = int(lab in marks)
    for c in tax.coarse_labels:
        fines = tax.fine_of_coarse(c, include_x=True)
        row[f"{c}_presence"] = int(any(f in marks for f in fines))
    return [row[col] for col in columns]


def _audio_filename(split_idx, index):
    return f"{split_idx:02d}_{index:06d}.wav"


def _make_clip(job):
    """Render and annotate one clip (runs in a worker)."""
    out_dir, seed, split, index, mix, labels, tax = job
    splits = split_names()
    s_idx = splits.index(split)
    plan_rng, audio_rng, label_rng = _clip_rngs(seed, s_idx, index)
    n_coarse = len(tax.coarse_labels)
    forced = None
    if index < n_coarse:
        perm = np.random.default_rng([int(seed), s_idx, 10**6])
        forced = int(perm.permutation(n_coarse)[index])
    events = _plan_events(plan_rng, forced, tax, labels, mix)
    audio, distractors = scene.render_scene(audio_rng, events, mix)
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)
    filename = _audio_filename(s_idx, index)
    path = Path(out_dir) / AUDIO_DIRS[split] / filename
    sf.write(str(path), pcm, scene.SAMPLE_RATE, subtype="PCM_16")

    offset = sum(_SENSORS_PER_SPLIT[:s_idx])
    n_sensors = _SENSORS_PER_SPLIT[min(s_idx, len(_SENSORS_PER_SPLIT) - 1)]
    sensor = offset + int(label_rng.integers(n_sensors))
    columns = annotation_columns(tax)
    rows = []
    if split == splits[0]:
        lo, hi = labels.train_annotators
    else:
        lo, hi = labels.eval_volunteers
        truth = {ev["label"]: ev["proximity"] for ev in events}
        rows.append(_row(columns, tax, split, sensor, filename, 0, truth))
    k = int(label_rng.integers(lo, hi + 1))
    ids = label_rng.choice(labels.volunteer_pool, size=k, replace=False) + 1
    for j, aid in enumerate(ids):
        marks = _volunteer_marks(
            label_rng, events, tax, labels, _reliability(seed, aid), j == 0
        )
        rows.append(
            _row(columns, tax, split, sensor, filename, int(aid), marks)
        )
    x = pcm.astype(np.float64) / 32768.0
    return {
        "split": split,
        "index": index,
        "rows": rows,
        "events": [
            {k: ev[k] for k in ("label", "model", "snr_db", "duration")}
            for ev in events
        ],
        "distractors": distractors,
        "peak": float(np.max(np.abs(x))),
        "rms_dbfs": float(10 * np.log10(np.mean(x * x) + 1e-20)),
    }


def _pool_context():
    """``fork`` where available (no re-import of numpy/scipy per worker, no
    ``__main__`` guard needed; the workers only run numpy/scipy code, as
    torch's DataLoader workers do), else the platform default."""
    if "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    return mp.get_context()


def _request(seed, clips, mix, labels, tax):
    """What defines a corpus: compared to reuse an existing one."""
    req = {
        "generator": GENERATOR,
        "version": GENERATOR_VERSION,
        "seed": int(seed),
        "clips": dict(clips),
        "sample_rate": scene.SAMPLE_RATE,
        "clip_seconds": scene.CLIP_SECONDS,
        "audio_dirs": dict(AUDIO_DIRS),
        "columns": annotation_columns(tax),
        "mix": asdict(mix),
        "labels": asdict(labels),
    }
    return json.loads(json.dumps(req))


def read_corpus_info(out_dir):
    """The ``corpus_info.json`` of a complete corpus, or None.

    Arguments
    ---------
    out_dir : str or Path
        Corpus folder.

    Returns
    -------
    dict or None
        None when the folder holds no complete corpus of this generator.

    Example
    -------
    >>> read_corpus_info(getfixture("tmpdir")) is None
    True
    """
    path = Path(out_dir) / INFO_FILE
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("generator") != GENERATOR:
        return None
    return info


def _clean(out_dir, info=None):
    """Remove the files this generator writes (and nothing else)."""
    dirs = set(AUDIO_DIRS.values())
    if info and isinstance(info.get("request", {}).get("audio_dirs"), dict):
        dirs |= set(info["request"]["audio_dirs"].values())
    for d in dirs:
        shutil.rmtree(out_dir / d, ignore_errors=True)
    for name in (INFO_FILE, ANNOTATIONS_FILE, TAXONOMY_FILE, PARTIAL_MARKER):
        (out_dir / name).unlink(missing_ok=True)


def _prepare_out_dir(out_dir, request, overwrite):
    """Return an existing matching corpus' info, or make the folder ready."""
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"Corpus path '{out_dir}' is a file.")
    if not out_dir.exists() or not any(out_dir.iterdir()):
        out_dir.mkdir(parents=True, exist_ok=True)
        return None
    info = read_corpus_info(out_dir)
    if info is not None:
        if info.get("request") == request and not overwrite:
            (out_dir / PARTIAL_MARKER).unlink(missing_ok=True)
            return info
        logger.info("Regenerating the demo corpus in %s", out_dir)
        _clean(out_dir, info)
        return None
    if (out_dir / PARTIAL_MARKER).exists():
        logger.info("Removing a half-written demo corpus in %s", out_dir)
        _clean(out_dir)
        return None
    raise FileExistsError(
        f"Cannot write the demo corpus into '{out_dir}': the folder is not "
        f"empty and holds no {INFO_FILE} of {GENERATOR} (it may be a real "
        "SONYC-UST copy or other data, which is never overwritten). Give a "
        "new or empty folder, or delete this one first."
    )


def _resolve_sizes(size, n_train, n_validate, n_test):
    if size not in SIZES:
        raise ValueError(f"Unknown size '{size}'; choose one of {list(SIZES)}.")
    sizes = list(SIZES[size])
    for i, n in enumerate((n_train, n_validate, n_test)):
        if n is not None:
            sizes[i] = int(n)
    if any(n < 1 for n in sizes):
        raise ValueError(f"Every split needs at least one clip, got {sizes}.")
    return dict(zip(split_names(), sizes, strict=True))


def ensure_generated_corpus(folder, size="default", seed=DEFAULT_SEED):
    """The generated corpus in ``folder``, made on first use, said loudly.

    Arguments
    ---------
    folder : str
        Where the corpus lives.
    size : str
        A :func:`generate_corpus` size.
    seed : int
        Its seed.

    Returns
    -------
    str
        ``folder``.
    """
    if read_corpus_info(folder) is None:
        banner = "=" * 78
        logger.warning(
            "\n%s\nNo --data_folder given: generating the built-in corpus "
            "(synthetic urban sounds in the SONYC-UST layout, NOT the real "
            "SONYC-UST data) in %s.\nFor the real data pass --data_folder "
            "/path/to/SONYC-UST (or --download True).\n%s",
            banner,
            folder,
            banner,
        )
    else:
        logger.info("Using the generated corpus in %s", folder)
    generate_corpus(out_dir=folder, size=size, seed=seed)  # reuses a match
    return folder


def generate_corpus(
    out_dir,
    size="default",
    n_train=None,
    n_validate=None,
    n_test=None,
    seed=DEFAULT_SEED,
    workers=None,
    mix=None,
    labels=None,
    overwrite=False,
    taxonomy=None,
):
    """Write (or reuse) a generated corpus in the SONYC-UST v1 layout.

    An existing complete corpus with the same request (seed, sizes, knobs,
    generator version, column set) is reused as is; one of ours with another
    request, or a half-written one, is removed and rebuilt. Any other
    non-empty folder is an error.

    Arguments
    ---------
    out_dir : str or Path
        Corpus folder (created when missing).
    size : str
        ``default`` (300 / 100 / 100 clips) or ``tiny`` (8 / 8 / 8).
    n_train, n_validate, n_test : int or None
        Override the clip count of one split. Splits of 8 clips or more hold
        every coarse class.
    seed : int
        Corpus seed; clip ``i`` of a split is built from ``(seed, split, i)``.
    workers : int or None
        Worker processes; defaults to the CPU count. Output does not depend
        on it.
    mix : scene.MixConfig or None
        Audio difficulty knobs (SNR range, distractors, levels).
    labels : LabelConfig or None
        Scene and label-noise knobs.
    overwrite : bool
        Rebuild even when a matching corpus exists.
    taxonomy : Taxonomy or None
        Defaults to the v1 taxonomy.

    Returns
    -------
    dict
        The contents of ``corpus_info.json``.

    Example
    -------
    >>> import os
    >>> out = os.path.join(getfixture("tmpdir"), "corpus")
    >>> info = generate_corpus(out, n_train=1, n_validate=1, n_test=1,
    ...                        workers=1)
    >>> info["counts"]["validate"]["verified_rows"]
    1
    >>> sorted(os.listdir(out))  # doctest: +NORMALIZE_WHITESPACE
    ['annotations.csv', 'audio-eval', 'corpus_info.json',
     'dcase-ust-taxonomy.yaml', 'train', 'validate']
    """
    mix = mix or scene.MixConfig()
    labels = labels or LabelConfig()
    tax = taxonomy or Taxonomy()
    if abs(sum(labels.events_per_clip) - 1.0) > 1e-6:
        raise ValueError("LabelConfig.events_per_clip must sum to 1.")
    clips = _resolve_sizes(size, n_train, n_validate, n_test)
    n_coarse = len(tax.coarse_labels)
    small = [s for s, n in clips.items() if n < n_coarse]
    if small:
        logger.warning(
            "Splits %s have fewer than %d clips: not every coarse class can "
            "appear in them.",
            small,
            n_coarse,
        )
    out_dir = Path(out_dir)
    request = _request(seed, clips, mix, labels, tax)
    existing = _prepare_out_dir(out_dir, request, overwrite)
    if existing is not None:
        logger.info("Reusing the demo corpus in %s", out_dir)
        return existing

    start = time.perf_counter()
    (out_dir / PARTIAL_MARKER).write_text("demo corpus being written\n")
    tax.to_yaml(out_dir / TAXONOMY_FILE)
    for split in clips:
        (out_dir / AUDIO_DIRS[split]).mkdir(exist_ok=True)
    jobs = [
        (str(out_dir), int(seed), split, i, mix, labels, tax)
        for split, n in clips.items()
        for i in range(n)
    ]
    if workers is None:
        workers = os.cpu_count() or 1
    workers = max(1, min(int(workers), len(jobs)))
    if workers == 1:
        results = [_make_clip(job) for job in jobs]
    else:
        with _pool_context().Pool(workers) as pool:
            results = list(pool.imap(_make_clip, jobs, chunksize=2))

    columns = annotation_columns(tax)
    tmp = out_dir / (ANNOTATIONS_FILE + ".tmp")
    with open(tmp, "w", newline="") as fout:
        writer = csv.writer(fout)
        writer.writerow(columns)
        for res in results:
            writer.writerows(res["rows"])
    os.replace(tmp, out_dir / ANNOTATIONS_FILE)

    info = {
        "generator": GENERATOR,
        "version": GENERATOR_VERSION,
        "request": request,
        "counts": _counts(results, tax, clips),
        "build_workers": workers,
    }
    tmp = out_dir / (INFO_FILE + ".tmp")
    tmp.write_text(json.dumps(info, indent=1) + "\n")
    os.replace(tmp, out_dir / INFO_FILE)
    (out_dir / PARTIAL_MARKER).unlink()
    logger.info(
        "Wrote %d clips to %s in %.1f s",
        len(jobs),
        out_dir,
        time.perf_counter() - start,
    )
    return info


def _counts(results, tax, clips):
    """Per-split clip, row and class counts and level statistics."""
    counts = {}
    aid_col = 3
    columns = annotation_columns(tax)
    coarse_cols = [columns.index(f"{c}_presence") for c in tax.coarse_labels]
    for split in clips:
        res = [r for r in results if r["split"] == split]
        coarse = dict.fromkeys(tax.coarse_labels, 0)
        fine = dict.fromkeys(tax.fine_labels, 0)
        for r in res:
            for ev in r["events"]:
                fine[ev["label"]] += 1
                coarse[tax.coarse_of(ev["label"])] += 1
        rows = [row for r in res for row in r["rows"]]
        counts[split] = {
            "clips": len(res),
            "rows": len(rows),
            "verified_rows": sum(1 for row in rows if row[aid_col] == 0),
            "clips_without_events": sum(1 for r in res if not r["events"]),
            "events": sum(len(r["events"]) for r in res),
            "uncertain_events": sum(
                1 for r in res for ev in r["events"] if is_x_label(ev["label"])
            ),
            "coarse_clips": coarse,
            "coarse_clips_any_annotator": {
                c: sum(
                    1 for r in res if any(row[col] == 1 for row in r["rows"])
                )
                for c, col in zip(coarse, coarse_cols, strict=True)
            },
            "fine_clips": fine,
            "peak_max": max(r["peak"] for r in res),
            "rms_dbfs_min": min(r["rms_dbfs"] for r in res),
            "rms_dbfs_max": max(r["rms_dbfs"] for r in res),
        }
    return counts


def main(argv=None):
    """Command-line entry: ``python -m speechbrain_iusp.demo OUT``.

    Arguments
    ---------
    argv : list of str or None
        Arguments (defaults to ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.

    Example
    -------
    >>> d = getfixture("tmpdir")
    >>> _ = d.join("notes.txt").write("not a corpus")
    >>> main([str(d)])  # refuses a foreign non-empty folder
    2
    """
    parser = argparse.ArgumentParser(
        prog="python -m speechbrain_iusp.demo",
        description="Generate a SONYC-UST-layout urban sound tagging corpus.",
    )
    parser.add_argument("out_dir", help="corpus folder (new, empty or ours)")
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    parser.add_argument(
        "--clips",
        nargs=3,
        type=int,
        metavar=("TRAIN", "VALIDATE", "TEST"),
        help="clips per split (overrides --size)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument(
        "--snr-db",
        nargs=2,
        type=float,
        metavar=("LOW", "HIGH"),
        default=scene.MixConfig.snr_db,
        help="event SNR range in dB (default: %(default)s)",
    )
    parser.add_argument(
        "--distractor-rate",
        type=float,
        default=scene.MixConfig.distractor_rate,
        help="mean unlabelled distractors per clip (default: %(default)s)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="rebuild a matching corpus"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    mix = scene.MixConfig(
        snr_db=tuple(args.snr_db), distractor_rate=args.distractor_rate
    )
    clips = args.clips or (None, None, None)
    start = time.perf_counter()
    try:
        info = generate_corpus(
            args.out_dir,
            size=args.size,
            n_train=clips[0],
            n_validate=clips[1],
            n_test=clips[2],
            seed=args.seed,
            workers=args.workers,
            mix=mix,
            overwrite=args.overwrite,
        )
    except (FileExistsError, NotADirectoryError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{args.out_dir}: done in {time.perf_counter() - start:.1f} s")
    for split, c in info["counts"].items():
        print(
            f"  {split}: {c['clips']} clips, {c['rows']} rows, "
            f"{c['events']} events"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
