"""Tests of the generated SONYC-UST-layout corpus (layout, audio, labels).

Authors
 * speechbrain-iusp developers 2026
"""

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speechbrain_iusp.demo import corpus as dc
from speechbrain_iusp.sonyc.prepare import prepare_sonyc_ust
from speechbrain_iusp.sonyc.taxonomy import (
    AUDIO_DIRS,
    Taxonomy,
    annotation_columns,
)

SEED = 11
TAX = Taxonomy()
TRAIN, VALIDATE, TEST = list(AUDIO_DIRS)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The tiny corpus, built with two workers."""
    out = tmp_path_factory.mktemp("demo") / "corpus"
    dc.generate_corpus(out, size="tiny", seed=SEED, workers=2)
    return out


@pytest.fixture(scope="module")
def small_other_seed(tmp_path_factory):
    """A 2/1/1-clip corpus of another seed."""
    out = tmp_path_factory.mktemp("demo") / "other"
    dc.generate_corpus(
        out, n_train=2, n_validate=1, n_test=1, seed=SEED + 1, workers=1
    )
    return out


def _wavs(root):
    return sorted(
        p for d in AUDIO_DIRS.values() for p in (Path(root) / d).glob("*.wav")
    )


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _rows(root):
    with open(Path(root) / dc.ANNOTATIONS_FILE, newline="") as fin:
        return list(csv.DictReader(fin))


def test_layout_files(corpus):
    names = set(os.listdir(corpus))
    expected = {dc.ANNOTATIONS_FILE, dc.TAXONOMY_FILE, dc.INFO_FILE}
    assert expected | set(AUDIO_DIRS.values()) == names
    with open(corpus / dc.ANNOTATIONS_FILE, newline="") as fin:
        assert next(csv.reader(fin)) == annotation_columns()
    sizes = dc.SIZES["tiny"]
    for split, n in zip(AUDIO_DIRS, sizes, strict=True):
        assert len(list((corpus / AUDIO_DIRS[split]).glob("*.wav"))) == n


def test_prepare_parses_every_class_in_every_split(corpus, tmp_path):
    paths = prepare_sonyc_ust(str(corpus), str(tmp_path / "manifests"))
    sizes = dict(zip(AUDIO_DIRS, dc.SIZES["tiny"], strict=True))
    for split, path in paths.items():
        with open(path) as fin:
            manifest = json.load(fin)
        assert len(manifest) == sizes[split], split
        coarse = np.array([e["coarse"] for e in manifest.values()])
        assert coarse.shape[1] == len(TAX.coarse_labels)
        missing = [
            TAX.coarse_labels[i] for i in np.flatnonzero(coarse.sum(0) == 0)
        ]
        assert not missing, f"{split} lacks {missing}"
    info = dc.read_corpus_info(corpus)
    for split, counts in info["counts"].items():
        assert min(counts["coarse_clips"].values()) >= 1, split


def test_clips_depend_only_on_seed_split_index(corpus, small_other_seed):
    """Same seed: the same clip whatever the corpus size and worker count."""
    again = small_other_seed.parent / "again"
    dc.generate_corpus(
        again, n_train=2, n_validate=1, n_test=1, seed=SEED, workers=1
    )
    assert _digest(corpus / dc.TAXONOMY_FILE) == _digest(
        again / dc.TAXONOMY_FILE
    )
    for path in _wavs(again):
        rel = path.relative_to(again)
        assert _digest(path) == _digest(corpus / rel), rel
    names = {p.name for p in _wavs(again)}
    tiny = [r for r in _rows(corpus) if r["audio_filename"] in names]
    assert tiny == _rows(again)


def test_other_seed_differs(corpus, small_other_seed):
    name = Path(AUDIO_DIRS[TRAIN]) / dc._audio_filename(0, 0)
    assert _digest(corpus / name) != _digest(small_other_seed / name)
    a = [r for r in _rows(corpus) if r["audio_filename"] == name.name]
    b = [r for r in _rows(small_other_seed) if r["audio_filename"] == name.name]
    assert a != b


def test_wav_format(corpus):
    wavs = _wavs(corpus)
    assert len(wavs) == sum(dc.SIZES["tiny"])
    for path in wavs:
        info = sf.info(str(path))
        assert info.samplerate == 44100, path
        assert info.channels == 1, path
        assert info.subtype == "PCM_16", path
        assert info.frames == 441000, path


def test_no_silent_or_clipped_files(corpus):
    rms_db = []
    for path in _wavs(corpus):
        x, _ = sf.read(str(path), dtype="int16")
        assert np.abs(x.astype(int)).max() < 32767, f"{path} clips"
        y = x / 32768.0
        rms_db.append(10 * np.log10(np.mean(y * y) + 1e-20))
    assert min(rms_db) > -60.0, "a near-silent file"
    assert max(rms_db) - min(rms_db) > 3.0, "levels should vary"


def test_annotation_rows(corpus):
    rows = _rows(corpus)
    by_clip = {}
    for row in rows:
        by_clip.setdefault(row["audio_filename"], []).append(row)
    assert {r["split"] for r in rows} == set(AUDIO_DIRS)
    for name, clip_rows in by_clip.items():
        split = clip_rows[0]["split"]
        assert (corpus / AUDIO_DIRS[split] / name).is_file()
        ids = [int(r["annotator_id"]) for r in clip_rows]
        volunteers = [i for i in ids if i > 0]
        assert len(set(ids)) == len(ids), name
        if split == TRAIN:
            assert 0 not in ids, f"verified train row for {name}"
            assert len(volunteers) >= 2, name
        else:
            assert ids.count(0) == 1, name
            assert len(volunteers) == len(ids) - 1, name
        assert len({r["sensor_id"] for r in clip_rows}) == 1
    proximity = {"near", "far", "notsure"}
    for row in rows:
        for coarse in TAX.coarse_labels:
            fines = TAX.fine_of_coarse(coarse, include_x=True)
            marked = any(row[f"{f}_presence"] == "1" for f in fines)
            assert row[f"{coarse}_presence"] == str(int(marked))
        for fine in TAX.fine_labels:
            pres, prox = row[f"{fine}_presence"], row[f"{fine}_proximity"]
            assert pres in ("0", "1")
            assert prox in proximity if pres == "1" else prox == "-1"


def test_train_label_noise_and_uncertain_truth():
    """Volunteers disagree; validate truth uses X tags (default size plan)."""
    tax, labels, mix = TAX, dc.LabelConfig(), dc.scene.MixConfig()
    disagree = x_truth = 0
    for i in range(200):
        rng, _, lab_rng = dc._clip_rngs(SEED, 1, i)
        events = dc._plan_events(rng, None, tax, labels, mix)
        x_truth += sum(ev["uncertain"] for ev in events)
        marks = [
            dc._volunteer_marks(lab_rng, events, tax, labels, 1.0, False)
            for _ in range(3)
        ]
        disagree += len({tuple(sorted(m)) for m in marks}) > 1
    assert disagree > 40
    assert x_truth > 5


def test_reuse_regenerate_and_refuse(small_other_seed, tmp_path):
    before = _digest(small_other_seed / dc.ANNOTATIONS_FILE)
    stamp = (small_other_seed / dc.INFO_FILE).stat().st_mtime_ns
    kw = {"n_train": 2, "n_validate": 1, "n_test": 1, "seed": SEED + 1}
    dc.generate_corpus(small_other_seed, **kw)  # reused, not rewritten
    assert (small_other_seed / dc.INFO_FILE).stat().st_mtime_ns == stamp
    (small_other_seed / dc.INFO_FILE).unlink()  # half-written corpus
    with pytest.raises(FileExistsError, match="corpus_info.json"):
        dc.generate_corpus(small_other_seed, **kw)
    (small_other_seed / dc.PARTIAL_MARKER).write_text("")
    dc.generate_corpus(small_other_seed, **kw)
    assert dc.read_corpus_info(small_other_seed) is not None
    assert _digest(small_other_seed / dc.ANNOTATIONS_FILE) == before
    assert not (small_other_seed / dc.PARTIAL_MARKER).exists()

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "annotations.csv").write_text("not ours\n")
    with pytest.raises(FileExistsError, match=str(foreign)):
        dc.generate_corpus(foreign, size="tiny")
    assert (foreign / "annotations.csv").read_text() == "not ours\n"


def test_cli_same_seed_byte_identical(small_other_seed, tmp_path):
    """The CLI with 2 workers writes the same bytes as the library with 1."""
    out = tmp_path / "cli"
    cmd = [
        sys.executable,
        "-m",
        "speechbrain_iusp.demo",
        str(out),
        "--size",
        "tiny",
        "--clips",
        "2",
        "1",
        "1",
        "--seed",
        str(SEED + 1),
        "--workers",
        "2",
    ]
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        cmd, cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    info = dc.read_corpus_info(out)
    assert info["request"] == dc.read_corpus_info(small_other_seed)["request"]
    assert info["request"]["clips"] == {TRAIN: 2, VALIDATE: 1, TEST: 1}
    ref = small_other_seed
    for name in (dc.ANNOTATIONS_FILE, dc.TAXONOMY_FILE):
        assert _digest(out / name) == _digest(ref / name), name
    assert [p.relative_to(out) for p in _wavs(out)] == [
        p.relative_to(ref) for p in _wavs(ref)
    ]
    for path in _wavs(out):
        assert _digest(path) == _digest(ref / path.relative_to(out)), path
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me\n")
    bad = subprocess.run(
        [sys.executable, "-m", "speechbrain_iusp.demo", str(foreign)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "not empty" in bad.stderr
    assert os.listdir(foreign) == ["notes.txt"]


def test_sizes_of_the_study_and_of_sonyc_ust():
    study = dc._resolve_sizes("study", None, None, None)
    assert study["train"] >= 1000 and study["test"] >= 300
    assert list(dc._resolve_sizes("sonyc", None, None, None).values()) == [
        2351,
        443,
        274,
    ]
    with pytest.raises(ValueError, match="Unknown size"):
        dc._resolve_sizes("huge", None, None, None)
