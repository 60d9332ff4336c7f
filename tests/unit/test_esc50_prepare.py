"""ESC-50 preparation on small folders in the ESC-50 layout: fold splits,
manifests, bad input named by file, row and column, and the download of
the release archive from a local HTTP server.

Authors
 * speechbrain-iusp developers 2026
"""

import csv
import io
import json
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import soundfile

from speechbrain_iusp.esc50 import (
    COLUMNS,
    MetaError,
    clip_name,
    esc50_datasets,
    label_encoder,
    prepare_esc50,
)

CATEGORIES = ["dog", "rooster"]


def write_release(folder, per_fold=1, rows=None):
    """An ESC-50 folder: ``per_fold`` clips per class and fold (0.1 s)."""
    release = folder / "ESC-50-master"
    (release / "audio").mkdir(parents=True)
    (release / "meta").mkdir()
    if rows is None:
        rows = []
        for fold in range(1, 6):
            for target, category in enumerate(CATEGORIES):
                for i in range(per_fold):
                    src = 1000 * fold + 10 * target + i
                    name = clip_name(fold, src, "A", target)
                    rows.append([name, fold, target, category, True, src, "A"])
    for row in rows:
        wav = np.random.default_rng(0).uniform(-0.5, 0.5, 800)
        soundfile.write(release / "audio" / row[0], wav, 8000)
    write_meta(release, [list(COLUMNS), *rows])
    return release


def write_meta(release, table):
    """Writes ``meta/esc50.csv`` from a header and rows."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table)
    (release / "meta" / "esc50.csv").write_text(buf.getvalue())


def read_table(release):
    """``meta/esc50.csv`` as a list of lists."""
    with open(release / "meta" / "esc50.csv", newline="") as fin:
        return list(csv.reader(fin))


def test_folds_become_manifests(tmp_path):
    release = write_release(tmp_path / "data", per_fold=2)
    save = tmp_path / "save"
    paths = prepare_esc50(tmp_path / "data", save, test_fold=4, valid_fold=5)
    train = json.loads(paths["train"].read_text())
    test = json.loads(paths["test"].read_text())
    assert {e["fold"] for e in train.values()} == {1, 2, 3}
    assert len(train) == 12 and len(test) == 4
    assert {e["fold"] for e in test.values()} == {4}
    entry = test["4-4000-A-0"]
    assert entry["wav"] == "{data_root}/audio/4-4000-A-0.wav"
    assert entry["category"] == "dog" and entry["duration"] == 0.1
    encoder = label_encoder(paths, save / "label_encoder.txt", 2)
    data = esc50_datasets(paths, release, 8000, encoder)["test"]
    item = data[0]
    assert item["targets"].tolist() in ([0], [1]) and item["sig"].shape == (
        800,
    )
    # a second call with the same options keeps the manifests
    stamp = paths["train"].stat().st_mtime_ns
    prepare_esc50(release, save, test_fold=4, valid_fold=5)
    assert paths["train"].stat().st_mtime_ns == stamp


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda t: [r[:4] + r[5:] for r in t], r"column\(s\) \['esc10'\]"),
        (
            lambda t: t[:2] + [t[2][:1] + ["6"] + t[2][2:]] + t[3:],
            "row 3, column 'fold': 6 is outside 1-5",
        ),  # fmt: skip
        (
            lambda t: (
                t[:2] + [[t[2][0].replace("-A-", "-B-")] + t[2][1:]] + t[3:]
            ),
            "row 3, column 'filename'",
        ),  # fmt: skip
        (lambda t: t + [t[1]], "row 22, column 'filename': .* also on row 2"),
        (
            lambda t: t[:2] + [t[2][:3] + ["cat"] + t[2][4:]] + t[3:],
            "row 3, column 'category'",
        ),  # fmt: skip
    ],
    ids=["missing-column", "wrong-fold", "bad-name", "duplicate", "category"],
)
def test_bad_meta_is_named_by_row_and_column(tmp_path, change, expected):
    release = write_release(tmp_path / "data", per_fold=2)
    write_meta(release, change(read_table(release)))
    with pytest.raises(MetaError, match=expected) as err:
        prepare_esc50(release, tmp_path / "save")
    assert "esc50.csv" in str(err.value)


def test_a_missing_clip_is_named_with_its_row(tmp_path):
    release = write_release(tmp_path / "data")
    name = read_table(release)[3][0]
    (release / "audio" / name).unlink()
    with pytest.raises(FileNotFoundError, match=rf"{name} .*row 4\) is miss"):
        prepare_esc50(release, tmp_path / "save")


def test_bad_folds_and_folders_say_the_fix(tmp_path):
    write_release(tmp_path / "data")
    with pytest.raises(ValueError, match="the test fold too"):
        prepare_esc50(tmp_path / "data", tmp_path / "s", 2, 2)
    with pytest.raises(ValueError, match="train_folds is \\[1, 3\\]"):
        prepare_esc50(tmp_path / "data", tmp_path / "s", 1, 2, [1, 3])
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(FileNotFoundError, match="is not empty, so nothing"):
        prepare_esc50(other, tmp_path / "s", download=True)
    with pytest.raises(FileNotFoundError, match="--download True"):
        prepare_esc50(tmp_path / "empty", tmp_path / "s")
    with pytest.raises(ValueError, match="--n_classes=2"):
        paths = prepare_esc50(tmp_path / "data", tmp_path / "s")
        label_encoder(paths, tmp_path / "s" / "enc.txt", 50)


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / "www"``."""
    www = tmp_path / "www"
    www.mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *args: None
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_an_empty_folder_downloads_the_release(tmp_path, server):
    www, url = server
    release = write_release(tmp_path / "src")
    with zipfile.ZipFile(www / "master.zip", "w") as arc:
        for path in sorted(release.rglob("*")):
            arc.write(path, path.relative_to(tmp_path / "src"))
    data = tmp_path / "esc50"
    paths = prepare_esc50(
        data, tmp_path / "save", download=True, url=f"{url}/master.zip"
    )
    assert len(json.loads(paths["test"].read_text())) == 2
    assert (data / "ESC-50-master" / "meta" / "esc50.csv").is_file()
    with pytest.raises(RuntimeError, match="Without network: download"):
        prepare_esc50(
            tmp_path / "new", tmp_path / "s2", download=True, url=f"{url}/x"
        )
