"""End to end: recipes/ESC50/train.py on a tiny built-in stand-in.

One IUSP student run, as a user would start it, trains its ECAPA-TDNN
teacher first (on the teacher's bigger stand-in), then the student, and
leaves the run files; everything says the data are synthetic.

Authors
 * speechbrain-iusp developers 2026
"""

import csv
import json
import subprocess
import sys

TINY = [
    "--standin_eval_per_class=1",
    "--standin_train_per_class=1",
    "--standin_seconds=1.0",
    "--debug",
    "--debug_persistently",
    "--noprogressbar",
]


def test_an_iusp_student_trains_its_teacher_then_itself(recipe, tmp_path):
    script = recipe.root / "recipes" / "ESC50" / "train.py"
    proc = subprocess.run(
        [sys.executable, str(script), "hparams/iusp.yaml", *TINY],
        cwd=tmp_path,
        env=recipe.env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "NOT ESC-50" in out
    results = tmp_path / "results" / "ESC50"
    student, teacher = results / "iusp" / "1234", results / "teacher" / "1234"
    for name in ["train_log.txt", "log.txt", "env.log", "hyperparams.yaml"]:
        assert (student / name).is_file(), name
    assert (student / "save" / "label_encoder.txt").is_file()
    metrics = json.loads((student / "metrics.json").read_text())
    assert metrics["data"] == "built-in stand-in (synthetic, NOT ESC-50)"
    for split in ("validate", "test"):
        assert metrics[split]["n_clips"] == 10
        assert 0.0 <= metrics[split]["accuracy"] <= 1.0
    assert "train iusp:" in (student / "train_log.txt").read_text()
    with open(student / "predictions_test.csv", newline="") as fin:
        rows = list(csv.reader(fin))
    assert rows[0][:4] == ["filename", "target", "predicted", "dog"]
    assert len(rows) == 11 and rows[1][0].startswith("1-")
    # the teacher: 4x the train clips, the same validation and test clips
    taught = json.loads((teacher / "metrics.json").read_text())
    assert taught["n_train_clips"] == 4 * metrics["n_train_clips"] == 120
    info = json.loads((student / "run_info.json").read_text())
    assert (
        info["eval_splits"]
        == json.loads((teacher / "run_info.json").read_text())["eval_splits"]
    )
    notice = tmp_path / "data" / "esc50_standin" / "ESC-50-master"
    assert (notice / "SYNTHETIC_NOT_ESC-50.txt").is_file()
