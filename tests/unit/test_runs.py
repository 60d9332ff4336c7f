"""Tests of the run folder and the teacher run.

Authors
 * speechbrain-iusp developers 2026
"""

import json

import pytest

from speechbrain_iusp.runs import (
    NotFinished,
    RunFolder,
    TeacherRun,
    eval_digest,
)


def _manifests(folder, validate, test, train=("t.wav",)):
    """Writes save/{train,valid,test}.json; returns the split -> path map."""
    save = folder / "save"
    save.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, names in (
        ("train", train),
        ("validate", validate),
        ("test", test),
    ):
        entries = {
            name: {
                "audio_filename": name,
                "coarse": [int(name.startswith("x"))],
                "fine": [0],
            }
            for name in names
        }
        paths[split] = RunFolder(folder).manifest_path(split)
        paths[split].write_text(json.dumps(entries))
    return paths


def test_eval_digest_reads_the_eval_splits_only(tmp_path):
    a = _manifests(tmp_path / "a", ["v1.wav", "v2.wav"], ["x.wav"])
    b = _manifests(tmp_path / "b", ["v2.wav", "v1.wav"], ["x.wav"], ["u.wav"])
    c = _manifests(tmp_path / "c", ["v1.wav"], ["x.wav"])
    assert eval_digest(a) == eval_digest(b)  # train clips and order aside
    assert eval_digest(a) != eval_digest(c)
    # the targets count, not only the clip names
    entries = json.loads(a["test"].read_text())
    entries["x.wav"]["coarse"] = [0]
    a["test"].write_text(json.dumps(entries))
    assert eval_digest(a) != eval_digest(b)


def test_run_folder_reads_what_it_writes(tmp_path):
    run = RunFolder(tmp_path / "run")
    with pytest.raises(NotFinished, match="is not a finished run"):
        run.metrics()
    assert run.info() == {} and run.eval_digest() is None
    paths = _manifests(run.path, ["v.wav"], ["x.wav", "y.wav"])
    # a run that did not record its digest gets it from its manifests
    assert run.eval_digest() == eval_digest(paths)
    run.write_info(data_folder="/d", eval_splits="abc")
    run.write_info(precision="fp32")
    assert run.info() == {
        "data_folder": "/d",
        "eval_splits": "abc",
        "precision": "fp32",
    }
    assert run.eval_digest() == "abc"
    labels = ["1_engine", "8_dog"]
    run.write_predictions(
        "test", ["y.wav", "x.wav"], [[0.2, 1], [0.5, 0]], labels
    )
    y_true, scores = run.coarse_scores("test")
    assert y_true[:, 0].tolist() == [1, 0]  # x.wav first, by name
    assert scores[:, 0].tolist() == [0.5, 0.2]
    run.metrics_path.write_text("{")
    with pytest.raises(ValueError, match="metrics.json: not readable JSON"):
        run.metrics()


def test_a_teacher_must_share_the_students_eval_splits(tmp_path):
    student = _manifests(tmp_path / "student", ["v.wav"], ["x.wav"])
    bigger = tmp_path / "teacher"
    _manifests(bigger, ["v.wav"], ["x.wav"], train=["t.wav", "more.wav"])
    RunFolder(bigger).write_info(data_folder=str(tmp_path / "bigger_corpus"))
    teacher = TeacherRun(bigger)
    teacher.check_fits(eval_digest(student))  # more train clips: fine
    other = _manifests(tmp_path / "other", ["w.wav"], ["x.wav"])
    with pytest.raises(RuntimeError, match="bigger_corpus, whose validate"):
        teacher.check_fits(eval_digest(other))


def test_a_teacher_is_trained_once_and_then_reused(tmp_path):
    folder = tmp_path / "teacher" / "1234"
    calls = []

    def launch(cmd):
        calls.append(cmd)
        RunFolder(folder).write_metrics({"validate": {}})

    teacher = TeacherRun(folder, ["train.py", "hparams/teacher.yaml"])
    teacher.ensure(launch=launch)
    teacher.ensure(launch=launch)
    assert calls == [["train.py", "hparams/teacher.yaml"]] and teacher.ready
