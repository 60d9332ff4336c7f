"""Fault injection: every broken input is refused before training, or skipped
with a log line while the run still writes its metrics.

Each case breaks a copy of the tiny generated corpus (or the run folders) and
runs the recipe on it. A new fault class is one ``Fault`` in ``FAULTS``: what
to break, and what the run must say.

Authors
 * speechbrain-iusp developers 2026
"""

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch


def _train(recipe, data, root, *args, hparams="baseline.yaml", timeout=600):
    """Runs a debug train.py; returns (return code, output)."""
    return recipe.call(
        [
            recipe.train,
            f"hparams/{hparams}" if "/" not in hparams else hparams,
            f"--data_folder={data}",
            f"--output_root={root}",
            *([] if hparams == "teacher.yaml" else ["--student_size=tiny"]),
            "--debug",
            "--debug_persistently",
            "--noprogressbar",
            *args,
        ],
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def corpus(tiny_corpus):
    """The tiny generated corpus of these tests, shared: never break it."""
    return tiny_corpus(11)


@pytest.fixture
def data(corpus, tmp_path):
    """A copy of the corpus to break."""
    copy = tmp_path / "data"
    shutil.copytree(corpus, copy)
    return copy


# ---------------------------------------------------------------------------
# the ways to break a corpus
# ---------------------------------------------------------------------------


def _wav(data, split, index=0):
    folder = {"train": "train", "validate": "validate", "test": "audio-eval"}
    return sorted((data / folder[split]).glob("*.wav"))[index]


def _rows(data):
    return (data / "annotations.csv").read_text().splitlines()


def _write_rows(data, rows):
    (data / "annotations.csv").write_text("\n".join(rows) + "\n")


def extra_field_in_annotations(data):
    rows = _rows(data)
    rows[3] += ",1"
    _write_rows(data, rows)


def missing_field_in_annotations(data):
    rows = _rows(data)
    rows[5] = rows[5].rsplit(",", 1)[0]
    _write_rows(data, rows)


def nan_samples_in_test_wav(data):
    path = _wav(data, "test")
    audio, rate = sf.read(path, dtype="float32")
    audio[1000] = np.nan
    sf.write(path, audio, rate, subtype="FLOAT")


def inf_samples_in_validate_wav(data):
    path = _wav(data, "validate")
    audio, rate = sf.read(path, dtype="float32")
    audio[5] = np.inf
    sf.write(path, audio, rate, subtype="FLOAT")


def unreadable_test_wav(data):
    _wav(data, "test", 1).write_bytes(b"RIFF garbage")


def train_wav_at_48k(data):
    path = _wav(data, "train")
    audio, _ = sf.read(path, dtype="float32")
    times = np.arange(480000) * (44100 / 48000)
    resampled = np.interp(times, np.arange(len(audio)), audio)
    sf.write(path, resampled, 48000, subtype="PCM_16")


def wav_at_8k(data):
    path = _wav(data, "validate")
    sf.write(path, np.zeros(80000), 8000, subtype="PCM_16")


def empty_test_split(data):
    rows = _rows(data)
    rows = [rows[0]] + [r for r in rows[1:] if not r.startswith("test,")]
    _write_rows(data, rows)


def missing_validate_wav(data):
    _wav(data, "validate", 2).unlink()


@dataclass
class Fault:
    """One fault class: how to break the corpus and what the run says."""

    name: str
    break_it: Callable
    says: str  # regex the run's output must match
    fails: bool = True  # refused before training, else skipped with a log
    args: tuple = field(default_factory=tuple)


FAULTS = [
    Fault(
        "annotations row with an extra field",
        extra_field_in_annotations,
        r"annotations\.csv, line 4: \d+ fields, but the header has \d+",
    ),
    Fault(
        "annotations row with a missing field",
        missing_field_in_annotations,
        r"annotations\.csv, line 6: \d+ fields, but the header has \d+",
    ),
    Fault(
        "NaN samples in a test WAV",
        nan_samples_in_test_wav,
        r"audio-eval/\S+\.wav: 1 NaN or inf samples",
    ),
    Fault(
        "inf samples in a validate WAV",
        inf_samples_in_validate_wav,
        r"validate/\S+\.wav: 1 NaN or inf samples",
    ),
    Fault(
        "unreadable test WAV",
        unreadable_test_wav,
        r"audio-eval/\S+\.wav: unreadable",
    ),
    Fault(
        "WAV at 8 kHz",
        wav_at_8k,
        r"validate/\S+\.wav: sample rate 8000 Hz not in \[44100, 48000\]",
    ),
    Fault(
        "empty test split",
        empty_test_split,
        r"Split 'test' has no usable clip",
    ),
    Fault(
        "missing validate WAV",
        missing_validate_wav,
        r"split 'validate':\s+\S+\.wav: missing",
    ),
    Fault(
        "bad test WAV, skipped",
        unreadable_test_wav,
        r"1 bad audio file\(s\) in split 'test'.*skipped",
        fails=False,
        args=("--bad_audio=skip",),
    ),
    Fault(
        "train WAV at 48 kHz, resampled",
        train_wav_at_48k,
        r"Resampling \S+\.wav from 48000 Hz to 44100 Hz",
        fails=False,
    ),
]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_fault(recipe, fault, data, tmp_path):
    fault.break_it(data)
    root = tmp_path / "results"
    code, out = _train(recipe, data, root, *fault.args)
    assert re.search(fault.says, out, re.S), out[-3000:]
    run = root / "baseline_tiny" / "1234"
    if fault.fails:
        assert code != 0
        assert "Going into epoch" not in out  # refused before training
        assert not (run / "metrics.json").exists()
    else:
        assert code == 0, out[-3000:]
        metrics = json.loads((run / "metrics.json").read_text())
        for split in ("validate", "test"):
            assert metrics[split]["coarse"]["micro_auprc"] >= 0.0


# ---------------------------------------------------------------------------
# faults of state: changed inputs, concurrent runs, teachers
# ---------------------------------------------------------------------------


def test_changed_annotations_and_audio_are_prepared_again(
    recipe, data, tmp_path
):
    root = tmp_path / "results"
    code, out = _train(recipe, data, root)
    assert code == 0, out[-3000:]
    manifest = root / "baseline_tiny" / "1234" / "save" / "valid.json"
    clip = next(iter(json.loads(manifest.read_text()).values()))
    # flip one verified validate label in place
    rows = _rows(data)
    col = rows[0].split(",").index("1_engine_presence")
    for i, row in enumerate(rows):
        fields = row.split(",")
        if fields[2] == clip["audio_filename"] and fields[3] == "0":
            fields[col] = "0" if fields[col] == "1" else "1"
            rows[i] = ",".join(fields)
    _write_rows(data, rows)
    code, out = _train(recipe, data, root)
    assert code == 0
    assert re.search(r"inputs differ .*annotations\.csv changed", out), out
    entry = json.loads(manifest.read_text())[clip["audio_filename"][:-4]]
    assert entry["coarse"][0] != clip["coarse"][0]
    # rewrite one WAV in place: prepared again, and its features recomputed
    time.sleep(0.01)
    wav = _wav(data, "train")
    audio, rate = sf.read(wav, dtype="float32")
    sf.write(wav, audio[::-1], rate, subtype="PCM_16")
    code, out = _train(recipe, data, root)
    assert code == 0
    assert "audio files changed" in out
    assert "1 computed now" in out


def test_second_run_on_the_same_folder_is_refused(recipe, data, tmp_path):
    root = tmp_path / "results"
    args = [
        sys.executable,
        str(recipe.train),
        "hparams/baseline.yaml",
        f"--data_folder={data}",
        f"--output_root={root}",
        "--student_size=tiny",
        "--number_of_epochs=1000",
        "--noprogressbar",
    ]
    first = subprocess.Popen(
        args, cwd=recipe.root, env=recipe.env(), stdout=subprocess.DEVNULL
    )
    log = root / "baseline_tiny" / "1234" / "log.txt"
    deadline = time.time() + 120
    while time.time() < deadline and not (
        log.exists() and "Going into epoch" in log.read_text()
    ):
        time.sleep(0.1)
    try:
        code, out = _train(recipe, data, root)
        assert first.poll() is None  # the first run was still going
        assert code != 0
        assert "Another run is using" in out and ".lock" in out
    finally:
        first.terminate()
        first.wait()


def test_teacher_checkpoint_of_zero_bytes_is_named(recipe, data, tmp_path):
    root = tmp_path / "results"
    code, out = _train(recipe, data, root, hparams="teacher.yaml")
    assert code == 0, out[-3000:]
    for ckpt in (root / "teacher" / "1234" / "save").glob("CKPT*/model.ckpt"):
        ckpt.write_bytes(b"")
    code, out = _train(recipe, data, root, hparams="kd.yaml")
    assert code != 0
    assert "Cannot load the teacher from" in out
    assert "damaged" in out and "Going into epoch" not in out


def test_student_run_given_as_teacher_is_named(recipe, data, tmp_path):
    root = tmp_path / "results"
    code, out = _train(recipe, data, root)  # a (tiny) baseline student run
    assert code == 0, out[-3000:]
    student = root / "baseline_tiny" / "1234"
    code, out = _train(
        recipe, data, root, f"--teacher_folder={student}", hparams="kd.yaml"
    )
    assert code != 0
    assert "Cannot load the teacher" in out
    assert "another model than the teacher" in out


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_kill_during_the_teacher_step_resumes_bit_identical(
    recipe, data, tmp_path
):
    teacher_yaml = tmp_path / "teacher_short.yaml"
    teacher_yaml.write_text(
        (recipe.dir / "hparams" / "teacher.yaml")
        .read_text()
        .replace("number_of_epochs: 30", "number_of_epochs: 4")
        .replace("batch_size: 16", "batch_size: 4")
    )

    def command(root):
        return [
            sys.executable,
            str(recipe.train),
            "hparams/kd.yaml",
            f"--data_folder={data}",
            f"--output_root={root}",
            "--student_size=tiny",
            "--number_of_epochs=2",
            f"--teacher_hparams_file={teacher_yaml}",
            "--noprogressbar",
        ]

    def metrics(root):
        return [
            json.loads((root / run / "1234" / "metrics.json").read_text())
            for run in ("teacher", "kd_tiny")
        ]

    reference = tmp_path / "reference"
    subprocess.run(
        command(reference), cwd=recipe.root, env=recipe.env(), check=True
    )

    killed = tmp_path / "killed"
    student = subprocess.Popen(
        command(killed), cwd=recipe.root, env=recipe.env()
    )
    log = killed / "teacher" / "1234" / "train_log.txt"
    deadline = time.time() + 300
    while time.time() < deadline:
        if log.exists() and "epoch: 1" in log.read_text():
            break
        assert student.poll() is None, "the run ended before the kill"
        time.sleep(0.05)
    student.send_signal(signal.SIGKILL)  # the student only, not its group
    student.wait()
    teacher_folder = str(killed / "teacher" / "1234")
    deadline = time.time() + 30
    while (
        recipe.processes_mentioning(teacher_folder) and time.time() < deadline
    ):
        time.sleep(0.2)
    assert not recipe.processes_mentioning(teacher_folder), (
        "the teacher run lives on"
    )
    assert not (killed / "teacher" / "1234" / "metrics.json").exists()

    subprocess.run(
        command(killed), cwd=recipe.root, env=recipe.env(), check=True
    )
    assert (
        "Loading a checkpoint" in (Path(teacher_folder) / "log.txt").read_text()
    )
    for got, want in zip(metrics(killed), metrics(reference), strict=True):
        for split in ("validate", "test"):
            assert got[split] == want[split]


# ---------------------------------------------------------------------------
# the evaluate command line
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def predictions(corpus, tmp_path_factory):
    """A valid prediction CSV of the corpus's validate split."""
    from speechbrain_iusp.sonyc import Taxonomy, prediction_columns
    from speechbrain_iusp.sonyc.predictions import write_predictions_csv
    from speechbrain_iusp.sonyc.targets import verified_targets
    from speechbrain_iusp.sonyc.taxonomy import read_annotations

    tax = Taxonomy()
    truth = verified_targets(
        read_annotations(corpus / "annotations.csv", tax), "validate", tax
    )
    names = sorted(truth)
    scores = np.random.default_rng(0).random((len(names), 37))
    path = tmp_path_factory.mktemp("pred") / "predictions.csv"
    write_predictions_csv(path, names, scores, prediction_columns(tax), tax)
    return path


def _evaluate(recipe, corpus, path):
    return recipe.call(
        [
            "-m",
            "speechbrain_iusp.evaluate",
            str(path),
            str(corpus / "annotations.csv"),
            "--split",
            "validate",
        ],
        timeout=120,
    )


def _edit(path, tmp_path, edit):
    lines = path.read_text().splitlines()
    lines = edit(lines)
    out = tmp_path / "broken.csv"
    out.write_text("\n".join(lines) + "\n")
    return out


def _set(lines, row, col, value):
    fields = lines[row].split(",")
    fields[col] = value
    lines[row] = ",".join(fields)
    return lines


@pytest.mark.parametrize(
    "edit, says",
    [
        (
            lambda ls: ls[:2] + [ls[2] + ",0.5"] + ls[3:],
            r"line 3: 39 fields, but the header has 38",
        ),
        (
            lambda ls: (
                [ls[0]]
                + [
                    ",".join(
                        [r.split(",")[0]]
                        + [str(float(v) * 100) for v in r.split(",")[1:]]
                    )
                    for r in ls[1:]
                ]
            ),
            r"line 2: column '1-1_small-sounding-engine' holds '\d+\.\d+'; "
            r"scores must be probabilities in \[0, 1\] \(a percentage\?",
        ),
        (
            lambda ls: _set(ls, 4, 30, "inf"),
            r"line 5: column '\S+' holds "
            r"'inf'; scores must be probabilities",
        ),
        (
            lambda ls: _set(ls, 3, 7, "nan"),
            r"line 4: column '\S+' holds "
            r"'nan'; scores must be probabilities",
        ),
    ],
    ids=["extra field", "percentages", "inf", "nan"],
)
def test_evaluate_refuses_bad_predictions(
    recipe, corpus, predictions, tmp_path, edit, says
):
    code, out = _evaluate(recipe, corpus, predictions)
    assert code == 0, out
    code, out = _evaluate(recipe, corpus, _edit(predictions, tmp_path, edit))
    assert code != 0
    assert re.search(says, out), out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--precision=fp16", "--device=cpu"], "--precision fp16 needs a CUDA"),
        (["--precision=half"], "argument --precision: invalid choice"),
        pytest.param(
            ["--device=cuda:0"],
            "--device cuda:0: no CUDA device is visible",
            marks=pytest.mark.skipif(
                torch.cuda.is_available(), reason="a GPU is visible"
            ),
        ),
    ],
)
def test_device_and_precision_are_checked_before_any_work(
    recipe, corpus, tmp_path, args, message
):
    """Refused before the data are prepared or a teacher is trained."""
    code, out = _train(
        recipe, corpus, tmp_path / "out", *args, hparams="iusp.yaml"
    )
    assert code != 0 and message in out
    assert not (tmp_path / "out").exists()


def test_student_runs_in_bf16_autocast(recipe, corpus, tmp_path):
    """The CPU mixed-precision path: autocast, teacher cache, float32 terms."""
    code, out = _train(
        recipe,
        corpus,
        tmp_path / "out",
        "--precision=bf16",
        hparams="iusp.yaml",
    )
    assert code == 0, out[-3000:]
    folder = tmp_path / "out" / "iusp_tiny" / "1234"
    log = (folder / "train_log.txt").read_text()
    assert "train iusp:" in log and "nan" not in log.lower()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert 0.0 <= metrics["test"]["coarse"]["micro_auprc"] <= 1.0
