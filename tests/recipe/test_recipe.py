"""End-to-end tests of the DCASE2019 recipe on a tiny generated corpus.

Each test runs ``recipes/DCASE2019/train.py`` (or ``study.py``) as a user
would, in a subprocess, and checks the files and logs it leaves.

Authors
 * speechbrain-iusp developers 2026
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from speechbrain_iusp.demo import generate_corpus
from speechbrain_iusp.runtime import auto_precision

HPARAMS = ["teacher", "baseline", "kd", "sp", "iusp"]
RUN_FILES = [
    "train.py",
    "train_log.txt",
    "log.txt",
    "env.log",
    "hyperparams.yaml",
    "metrics.json",
    "predictions_validate.csv",
    "predictions_test.csv",
]


@pytest.fixture(scope="module")
def corpus(tiny_corpus):
    """A tiny generated corpus (8 clips per split)."""
    return tiny_corpus(7)


@pytest.fixture(scope="module")
def debug_runs(recipe, corpus, tmp_path_factory):
    """Debug runs of every hparams file; the first student trains the
    teacher itself. Returns the output root and each run's output."""
    root = tmp_path_factory.mktemp("results")
    outputs = {}
    for name in ["iusp", "teacher", "baseline", "kd", "sp"]:
        outputs[name] = recipe.run(
            [
                recipe.train,
                f"hparams/{name}.yaml",
                f"--data_folder={corpus}",
                f"--output_root={root}",
                "--student_size=tiny" if name != "teacher" else "--seed=1234",
                "--debug",
                "--debug_persistently",
                "--noprogressbar",
            ]
        )
    return root, outputs


@pytest.mark.parametrize("name", HPARAMS)
def test_debug_run_of_every_hparams_file(debug_runs, name):
    root, _ = debug_runs
    folder = root / ("teacher" if name == "teacher" else f"{name}_tiny")
    folder = folder / "1234"
    for fname in RUN_FILES:
        assert (folder / fname).exists(), f"{fname} missing in {folder}"
    metrics = json.loads((folder / "metrics.json").read_text())
    for split in ("validate", "test"):
        for mode in ("coarse", "fine"):
            value = metrics[split][mode]["micro_auprc"]
            assert 0.0 <= value <= 1.0
    assert metrics["params"] > 0 and metrics["macs_per_10s"] > 0
    # precision: auto, resolved for this CPU and recorded
    info = json.loads((folder / "run_info.json").read_text())
    assert info["precision"] == auto_precision("cpu")
    log = (folder / "train_log.txt").read_text()
    assert "epoch: 2" in log
    if name in ("kd", "sp", "iusp"):
        assert f"train {name}:" in log and f"valid {name}:" in log
    else:
        assert "iusp" not in log and " kd:" not in log


def test_predictions_csv_in_official_format(debug_runs):
    root, _ = debug_runs
    csv_path = root / "iusp_tiny" / "1234" / "predictions_test.csv"
    header = csv_path.read_text().splitlines()[0].split(",")
    assert header[0] == "audio_filename"
    assert header[1] == "1-1_small-sounding-engine"
    assert header[-1] == "8_dog"
    assert len(header) == 1 + 29 + 8
    rows = csv_path.read_text().splitlines()[1:]
    assert len(rows) == 8


def test_student_trains_missing_teacher_first(debug_runs):
    root, outputs = debug_runs
    # The first run (iusp) found no teacher and trained it with teacher.yaml.
    assert "training the teacher first" in outputs["iusp"]
    assert (root / "teacher" / "1234" / "metrics.json").exists()
    # Later students reuse it.
    assert "training the teacher first" not in outputs["kd"]
    # The student's checkpoint holds the student only.
    ckpts = list((root / "iusp_tiny" / "1234" / "save").glob("CKPT*"))
    assert ckpts
    for ckpt in ckpts:
        assert not any("teacher" in p.name for p in ckpt.iterdir())


def test_teacher_on_other_data_is_refused(recipe, debug_runs, tmp_path):
    root, _ = debug_runs
    other = tmp_path / "other"
    generate_corpus(other, size="tiny", seed=8, workers=1)
    proc = subprocess.run(
        [
            sys.executable,
            recipe.train,
            "hparams/kd.yaml",
            f"--data_folder={other}",
            f"--output_root={root}",
            "--student_size=tiny",
            "--experiment_name=kd_other",
            "--debug",
            "--noprogressbar",
        ],
        cwd=recipe.root,
        env=recipe.env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode != 0
    assert "was trained on" in proc.stderr + proc.stdout


def test_runs_from_inside_the_recipe_folder(recipe, corpus, tmp_path):
    out = recipe.run(
        [
            "train.py",
            "hparams/baseline.yaml",
            f"--data_folder={corpus}",
            f"--output_root={tmp_path}",
            "--student_size=tiny",
            "--debug",
            "--noprogressbar",
        ],
        cwd=recipe.dir,
    )
    assert (tmp_path / "baseline_tiny" / "1234" / "metrics.json").exists(), out


def test_teacher_with_spec_augment_switched_on(recipe, corpus, tmp_path):
    recipe.run(
        [
            recipe.train,
            "hparams/teacher.yaml",
            f"--data_folder={corpus}",
            f"--output_root={tmp_path}",
            "--augment=!ref <spec_augment>",
            "--debug",
            "--noprogressbar",
        ]
    )
    folder = tmp_path / "teacher" / "1234"
    assert (folder / "metrics.json").exists()
    saved = (folder / "hyperparams.yaml").read_text()
    # the resolved hparams hold the Augmenter under "augment", not null
    found = re.search(r"^augment: (&id\d+ )?!new:(\S+)", saved, re.M)
    assert found and found.group(2).endswith("augmenter.Augmenter"), saved


def _metrics(folder):
    return json.loads((folder / "metrics.json").read_text())


def _flat(metrics, prefix=""):
    for key, value in metrics.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}.")
        elif isinstance(value, float) and key != "wall_time_s":
            yield f"{prefix}{key}", value


def test_feature_cache_on_and_off_give_the_same_metrics(
    recipe, corpus, tmp_path
):
    folders = {}
    for cache in (True, False):
        root = tmp_path / f"cache_{cache}"
        recipe.run(
            [
                recipe.train,
                "hparams/baseline.yaml",
                f"--data_folder={corpus}",
                f"--output_root={root}",
                "--student_size=tiny",
                f"--feature_cache={cache}",
                "--debug",
                "--noprogressbar",
            ]
        )
        folders[cache] = root / "baseline_tiny" / "1234"
    assert (tmp_path / "cache_True" / "feature_cache").is_dir()
    assert not (tmp_path / "cache_False" / "feature_cache").exists()
    cached = dict(_flat(_metrics(folders[True])))
    live = dict(_flat(_metrics(folders[False])))
    assert cached.keys() == live.keys() and len(cached) > 20
    for key, value in cached.items():
        if value == value:  # NaN for a class without positives
            assert abs(value - live[key]) <= 1e-5, key


def test_students_share_the_teacher_cache_and_the_features(debug_runs):
    root, outputs = debug_runs
    # one teacher-output file per tap set: iusp (rnn), kd (logits), sp
    files = list((root / "teacher" / "1234" / "teacher_cache").glob("*.pt"))
    assert len(files) == 3, files
    # one feature setting, computed by the first run, read by the others
    settings = list((root / "feature_cache").iterdir())
    assert len(settings) == 1
    assert "24 computed now" in outputs["iusp"]
    assert "24 computed now" not in outputs["kd"]
    assert "0 computed now" in outputs["kd"]


def test_wav_augment_bypasses_the_feature_cache(recipe, corpus, tmp_path):
    # a copy of baseline.yaml that defines a waveform Augmenter to switch on
    hparams = tmp_path / "baseline_wav_augment.yaml"
    hparams.write_text(
        (recipe.dir / "hparams" / "baseline.yaml").read_text()
        + "\ndrop_chunk: !new:speechbrain.augment.augmenter.Augmenter\n"
        "    augmentations:\n"
        "        - !new:speechbrain.augment.time_domain.DropChunk\n"
    )
    out = recipe.run(
        [
            recipe.train,
            hparams,
            f"--data_folder={corpus}",
            f"--output_root={tmp_path}",
            "--student_size=tiny",
            "--wav_augment=!ref <drop_chunk>",
            "--debug",
            "--noprogressbar",
        ]
    )
    assert "Feature cache bypassed: wav_augment" in out
    assert not (tmp_path / "feature_cache").exists()
    assert (tmp_path / "baseline_tiny" / "1234" / "metrics.json").exists()


def _epochs_logged(log_file):
    lines = Path(log_file).read_text().splitlines()
    return [
        int(ln.split("epoch: ")[1].split(",")[0])
        for ln in lines
        if ln.startswith("epoch: ")
    ]


def test_interrupted_run_resumes_and_loses_nothing(recipe, corpus, tmp_path):
    """Kill a run after its first epoch checkpoint, re-run the same command:
    it resumes from the checkpoint and every epoch is logged once."""
    cmd = [
        sys.executable,
        str(recipe.train),
        "hparams/baseline.yaml",
        f"--data_folder={corpus}",
        f"--output_root={tmp_path}",
        "--student_size=tiny",
        "--number_of_epochs=4",
        "--batch_size=4",
        "--noprogressbar",
    ]
    folder = tmp_path / "baseline_tiny" / "1234"
    proc = subprocess.Popen(
        cmd,
        cwd=recipe.root,
        env=recipe.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 300
    log = folder / "train_log.txt"
    while time.time() < deadline:
        if log.exists() and "epoch: 1" in log.read_text():
            break
        if proc.poll() is not None:
            pytest.fail("the run ended before it could be interrupted")
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("no epoch finished in time")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (folder / "metrics.json").exists()
    done = _epochs_logged(log)
    assert 1 <= len(done) < 4

    out = recipe.run(cmd[1:])
    assert "Loading a checkpoint" in out
    epochs = _epochs_logged(log)
    # Every epoch ran; only an epoch whose checkpoint the kill cut short
    # (and that was set aside) is run again.
    assert sorted(set(epochs)) == [1, 2, 3, 4]
    assert epochs[-3:] == [2, 3, 4]
    assert len(epochs) - 4 <= 1
    assert (folder / "metrics.json").exists()


def test_comparison_runs_as_a_study_on_a_tiny_grid(recipe, corpus, tmp_path):
    """compare.yaml through study.py: the same runner, records, report."""
    out_root, records = tmp_path / "cmp", tmp_path / "cmp_records"
    args = [
        recipe.dir / "study.py",
        "--spec=compare.yaml",  # found in the recipe folder
        "--sizes",
        "tiny",
        "--methods",
        "baseline",
        "iusp",
        "--seeds",
        "1",
        f"--data_folder={corpus}",
        f"--output_root={out_root}",
        f"--records={records}",
        "--bootstrap=20",
        "--student_epochs=3",
        "--jobs=2",
        "--",
        "--debug",
        "--debug_persistently",
        "--noprogressbar",
    ]
    text = recipe.run(args)
    table = (records / "study.md").read_text()
    # the table says which data it came from
    assert f"data in {corpus}" in table
    assert "baseline.yaml" in text and "--number_of_epochs=3" in text
    # (r and the paired bootstrap rows: test_study_runner.py)
    for method in ("baseline", "iusp"):
        assert f"| tiny | {method} |" in table
    assert (records / "auprc_vs_params.png").exists()
    rows = (records / "study.csv").read_text().splitlines()
    assert len(rows) == 1 + 2
    assert json.loads((records / "teacher.json").read_text())["chosen"] == (
        "plain"
    )
    # A second call reuses every finished run.
    again = recipe.run(args)
    assert "running" not in again
    assert (records / "study.md").read_text() == table


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_killed_comparison_runner_stops_its_runs(recipe, corpus, tmp_path):
    out_root = tmp_path / "cmp_killed"
    runner = subprocess.Popen(
        [
            sys.executable,
            recipe.dir / "study.py",
            "--spec=compare.yaml",
            "--sizes=tiny",
            f"--data_folder={corpus}",
            f"--output_root={out_root}",
            f"--records={tmp_path / 'cmp_killed_records'}",
            "--",
            "--noprogressbar",
        ],
        cwd=recipe.root,
        env=recipe.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # wait for its first train.py run (the teacher) to start
    deadline = time.time() + 120
    while time.time() < deadline:
        children = [
            pid
            for pid in recipe.processes_mentioning(f"--output_root={out_root}")
            if pid != runner.pid
        ]
        if children:
            break
        time.sleep(0.5)
    assert children, "the runner never started a train.py run"
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=60) == 128 + signal.SIGTERM
    time.sleep(1)
    assert not recipe.processes_mentioning(f"--output_root={out_root}")
