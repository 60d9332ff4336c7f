"""Tests of the SONYC-UST data preparation (manifests, targets, checks).

Authors
 * speechbrain-iusp developers 2026
"""

import csv
import json
import logging
import os

import numpy as np
import pytest
import soundfile as sf

from speechbrain_iusp.sonyc.prepare import prepare_sonyc_ust
from speechbrain_iusp.sonyc.taxonomy import Taxonomy, annotation_columns

TAX = Taxonomy()
FINE, COARSE = TAX.fine_labels, TAX.coarse_labels
SR = 44100
V2_EXTRA = [
    "borough",
    "block",
    "latitude",
    "longitude",
    "year",
    "week",
    "day",
    "hour",
]


def _row(split, name, annotator, fine=None, coarse=None, default=0):
    """One annotation row; fine/coarse: {label: value} overrides."""
    row = {
        "split": split,
        "sensor_id": "3",
        "audio_filename": name,
        "annotator_id": annotator,
    }
    for lab in FINE:
        row[f"{lab}_presence"] = (fine or {}).get(lab, default)
        row[f"{lab}_proximity"] = "-1"
    for lab in COARSE:
        row[f"{lab}_presence"] = (coarse or {}).get(lab, default)
    return row


ENG_S, ENG_X = "1-1_small-sounding-engine", "1-X_engine-of-uncertain-size"
SIREN, DOG = "5-3_siren", "8-1_dog-barking-whining"
ROWS = [
    # t1: volunteers disagree -> any positive counts.
    _row("train", "t1.wav", 11, {ENG_S: 1}, {"1_engine": 1}),
    _row("train", "t1.wav", 12, {SIREN: 1}, {"5_alert-signal": 1}),
    _row("train", "t1.wav", 13),
    # t2: the verified row wins over volunteers (X tag -> fine mask).
    _row(
        "train", "t2.wav", 11, {ENG_S: 1, DOG: 1}, {"1_engine": 1, "8_dog": 1}
    ),
    _row("train", "t2.wav", 0, {ENG_X: 1}, {"1_engine": 1}),
    # t3: team rows (negative ids) with -1 for groups they did not
    # annotate: a -1 must not cancel the volunteer's 1, a team 1 counts.
    _row("train", "t3.wav", 14, {SIREN: 1}, {"5_alert-signal": 1}),
    _row("train", "t3.wav", -1, {DOG: 1}, {"8_dog": 1}, default=-1),
    _row("train", "t3.wav", -2, None, None, default=-1),
    # t4: verified row with a -1 column falls back to the volunteers there.
    _row("train", "t4.wav", 15, {DOG: 1}, {"8_dog": 1}),
    _row("train", "t4.wav", 0, {DOG: -1}, {"8_dog": -1}),
    # validate: verified rows are the truth, other rows are ignored.
    _row("validate", "v1.wav", 0, {SIREN: 1}, {"5_alert-signal": 1}),
    _row("validate", "v1.wav", 21, {DOG: 1}, {"8_dog": 1}),
    _row("validate", "v2.wav", -3, {ENG_S: 1}, {"1_engine": 1}),
    _row("validate", "v2.wav", 0),
    _row("validate", "v3.wav", 22, {DOG: 1}, {"8_dog": 1}),  # unverified
    _row(
        "test",
        "e1.wav",
        0,
        {ENG_X: 1, SIREN: 1},
        {"1_engine": 1, "5_alert-signal": 1},
    ),
]
AUDIO = {
    "t1.wav": "train",
    "t2.wav": "train",
    "t3.wav": "train",
    "t4.wav": "train",
    "v1.wav": "validate",
    "v2.wav": "validate",
    "v3.wav": "validate",
    "e1.wav": "audio-eval",
}


def _independent_target(rows, name, split, labels, key):
    """Aggregation written independently of the prepare script."""
    mine = [r for r in rows if r["audio_filename"] == name]
    out = []
    for lab in labels:
        col = f"{lab}_presence"
        verified = [int(r[col]) for r in mine if int(r["annotator_id"]) == 0]
        votes = [int(r[col]) for r in mine if int(r["annotator_id"]) != 0]
        if split != "train":
            out.append(1.0 if verified and verified[0] == 1 else 0.0)
        elif verified and verified[0] != -1:
            out.append(float(verified[0]))
        else:
            out.append(1.0 if 1 in votes else 0.0)
    return out


def _write_corpus(root, rows=ROWS, audio=AUDIO, extra_cols=()):
    os.makedirs(root, exist_ok=True)
    cols = annotation_columns()
    cols = cols[:4] + list(extra_cols) + cols[4:]
    with open(os.path.join(root, "annotations.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, cols)
        writer.writeheader()
        for r in rows:
            writer.writerow({**dict.fromkeys(extra_cols, "1"), **r})
    TAX.to_yaml(os.path.join(root, "dcase-ust-taxonomy.yaml"))
    sig = np.random.default_rng(0).standard_normal(SR * 10) * 0.01
    for name, folder in audio.items():
        os.makedirs(os.path.join(root, folder), exist_ok=True)
        sf.write(os.path.join(root, folder, name), sig, SR, subtype="PCM_16")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("sonyc"))
    _write_corpus(root)
    return root


def test_manifests_and_targets(corpus, tmp_path):
    out = prepare_sonyc_ust(corpus, str(tmp_path))
    assert sorted(os.path.basename(p) for p in out.values()) == [
        "test.json",
        "train.json",
        "valid.json",
    ]
    seen = {}
    for split, path in out.items():
        with open(path) as fin:
            seen[split] = json.load(fin)
    assert sorted(seen["train"]) == ["t1", "t2", "t3", "t4"]
    assert sorted(seen["validate"]) == ["v1", "v2"]  # v3 has no verified row
    assert sorted(seen["test"]) == ["e1"]
    for split, manifest in seen.items():
        for utt, entry in manifest.items():
            name = f"{utt}.wav"
            assert entry["wav"] == f"{{data_root}}/{AUDIO[name]}/{name}"
            assert entry["audio_filename"] == name
            assert entry["split"] == split
            assert entry["duration"] == pytest.approx(10.0)
            assert entry["fine"] == _independent_target(
                ROWS, name, split, FINE, "fine"
            )
            assert entry["coarse"] == _independent_target(
                ROWS, name, split, COARSE, "coarse"
            )
            assert len(entry["fine_mask"]) == 29
    t = seen["train"]
    # Spot checks of the rules (besides the independent aggregation).
    assert t["t1"]["fine"][FINE.index(ENG_S)] == 1.0
    assert t["t1"]["fine"][FINE.index(SIREN)] == 1.0
    assert t["t2"]["fine"][FINE.index(ENG_S)] == 0.0  # verified wins
    assert t["t2"]["coarse"][COARSE.index("8_dog")] == 0.0
    assert t["t3"]["fine"][FINE.index(SIREN)] == 1.0  # -1 does not cancel
    assert t["t3"]["fine"][FINE.index(DOG)] == 1.0  # team 1 counts
    assert sum(t["t3"]["fine"]) == 2.0  # -1 never positive
    assert t["t4"]["fine"][FINE.index(DOG)] == 1.0  # verified -1 -> votes
    # Fine mask: 0 on the complete engine tags when 1-X is true.
    mask = t["t2"]["fine_mask"]
    assert [mask[FINE.index(f)] for f in TAX.fine_of_coarse("1_engine")] == [
        0.0,
        0.0,
        0.0,
    ]
    assert mask[FINE.index(ENG_X)] == 1.0 and sum(mask) == 26.0
    assert sum(t["t1"]["fine_mask"]) == 29.0
    assert seen["validate"]["v2"]["fine"] == [0.0] * 29  # team row ignored


def test_loads_with_speechbrain(corpus, tmp_path):
    from speechbrain.dataio.dataset import DynamicItemDataset

    out = prepare_sonyc_ust(corpus, str(tmp_path), splits=("test",))
    ds = DynamicItemDataset.from_json(
        out["test"], replacements={"data_root": corpus}
    )
    ds.set_output_keys(["id", "wav", "coarse"])
    item = ds[0]
    assert item["id"] == "e1" and os.path.isfile(item["wav"])


def test_skip_and_redo(corpus, tmp_path, caplog):
    save = str(tmp_path)
    out = prepare_sonyc_ust(corpus, save, splits=("validate",))
    stamp = os.path.getmtime(out["validate"])
    os.utime(out["validate"], (stamp - 100, stamp - 100))
    with caplog.at_level(logging.INFO):
        prepare_sonyc_ust(corpus, save, splits=("validate",))
    assert "Preparation completed in previous run, skipping." in caplog.text
    assert os.path.getmtime(out["validate"]) == stamp - 100
    caplog.clear()
    with caplog.at_level(logging.INFO):
        prepare_sonyc_ust(
            corpus, save, splits=("validate",), duration_tolerance=0.25
        )
    assert "skipping" not in caplog.text
    assert os.path.getmtime(out["validate"]) > stamp - 100


def _bad_corpus(root, kind):
    audio = {"v1.wav": "validate", "v2.wav": "validate"}
    rows = [r for r in ROWS if r["audio_filename"] in audio]
    _write_corpus(root, rows, audio)
    bad = os.path.join(root, "validate", "v2.wav")
    if kind == "missing":
        os.remove(bad)
    elif kind == "unreadable":
        with open(bad, "wb") as fout:
            fout.write(b"not a wav file at all")
    elif kind == "empty":
        sf.write(bad, np.zeros(0), SR, subtype="PCM_16")
    elif kind == "short":
        sf.write(bad, np.zeros(SR * 5), SR, subtype="PCM_16")
    elif kind == "rate":
        sf.write(bad, np.zeros(22050 * 10), 22050, subtype="PCM_16")


@pytest.mark.parametrize(
    "kind,reason",
    [
        ("missing", "missing"),
        ("unreadable", "unreadable"),
        ("empty", "empty"),
        ("short", "duration 5.000 s"),
        ("rate", "sample rate 22050"),
    ],
)
def test_bad_audio(tmp_path, kind, reason):
    root = str(tmp_path / "data")
    _bad_corpus(root, kind)
    with pytest.raises(RuntimeError) as err:
        prepare_sonyc_ust(root, str(tmp_path / "a"), splits=("validate",))
    assert "v2.wav" in str(err.value) and reason in str(err.value)
    out = prepare_sonyc_ust(
        root, str(tmp_path / "b"), splits=("validate",), bad_audio="skip"
    )
    with open(out["validate"]) as fin:
        assert sorted(json.load(fin)) == ["v1"]


def test_missing_column(tmp_path):
    root = str(tmp_path / "data")
    _write_corpus(root, ROWS[:1], {"t1.wav": "train"})
    path = os.path.join(root, "annotations.csv")
    with open(path, newline="") as fin:
        rows = list(csv.reader(fin))
    drop = rows[0].index("5-3_siren_presence")
    with open(path, "w", newline="") as fout:
        csv.writer(fout).writerows([r[:drop] + r[drop + 1 :] for r in rows])
    with pytest.raises(ValueError) as err:
        prepare_sonyc_ust(root, str(tmp_path / "s"), splits=("train",))
    assert "'5-3_siren_presence'" in str(err.value) and path in str(err.value)


def test_malformed_value(tmp_path):
    root = str(tmp_path / "data")
    bad = dict(ROWS[0], **{"8_dog_presence": "yes"})
    _write_corpus(root, [bad], {"t1.wav": "train"})
    with pytest.raises(ValueError, match="8_dog_presence"):
        prepare_sonyc_ust(root, str(tmp_path / "s"), splits=("train",))


def test_v2_layout(tmp_path):
    # v2: spatiotemporal columns and every clip in audio/.
    root = str(tmp_path / "data")
    _write_corpus(root, ROWS, dict.fromkeys(AUDIO, "audio"), V2_EXTRA)
    out = prepare_sonyc_ust(root, str(tmp_path / "s"))
    with open(out["test"]) as fin:
        assert json.load(fin)["e1"]["wav"] == "{data_root}/audio/e1.wav"


def test_missing_data_and_no_network(tmp_path):
    with pytest.raises(FileNotFoundError, match="zenodo.org/record/3338310"):
        prepare_sonyc_ust(str(tmp_path / "none"), str(tmp_path / "s"))
    files = [
        {"name": "annotations.csv", "url": "http://127.0.0.1:9/annotations.csv"}
    ]
    with pytest.raises(RuntimeError, match="by hand"):
        prepare_sonyc_ust(
            str(tmp_path / "none"),
            str(tmp_path / "s"),
            download=True,
            download_files=files,
        )
