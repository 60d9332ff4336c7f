"""The built-in ESC-50 stand-in (synthetic, NOT ESC-50): its layout, the
teacher's bigger stand-in holding the students' clips, and its refusals.

Authors
 * speechbrain-iusp developers 2026
"""

import pytest

from speechbrain_iusp.demo.esc50_standin import (
    CLASSES,
    NOTICE_FILE,
    generate_standin,
    read_standin_info,
)
from speechbrain_iusp.esc50 import check_audio, read_meta

TINY = {"eval_per_class": 1, "train_per_class": 1, "seconds": 1.0}


def test_the_stand_in_is_an_esc50_folder_that_says_it_is_not(tmp_path):
    release = generate_standin(tmp_path / "small", **TINY)
    rows = read_meta(release / "meta" / "esc50.csv")
    check_audio(rows, release / "audio")
    assert len(rows) == 5 * len(CLASSES)
    assert {r["target"] for r in rows} == set(range(len(CLASSES)))
    assert "NOT ESC-50" in (release / NOTICE_FILE).read_text()
    assert read_standin_info(tmp_path / "small")["note"] == (
        "synthetic, NOT ESC-50"
    )
    # the teacher's: the same clips, and twice the train clips
    big = generate_standin(tmp_path / "big", train_factor=2, **TINY)
    small_files = {p.name: p.read_bytes() for p in release.glob("audio/*")}
    big_files = {p.name: p.read_bytes() for p in big.glob("audio/*")}
    assert all(big_files[n] == data for n, data in small_files.items())
    extra = {n.split("-")[0] for n in set(big_files) - set(small_files)}
    assert extra == {"3", "4", "5"} and len(big_files) == 8 * len(CLASSES)


def test_the_stand_in_never_overwrites_other_data(tmp_path):
    (tmp_path / "mine.txt").write_text("real data")
    with pytest.raises(FileExistsError, match="never overwritten"):
        generate_standin(tmp_path, **TINY)
    assert (tmp_path / "mine.txt").read_text() == "real data"
