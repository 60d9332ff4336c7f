"""Tests of the study runner's rules: settings named when a run folder is
not a job's, the recipe's study definitions, commands.

Authors
 * speechbrain-iusp developers 2026
"""

from pathlib import Path

import pytest

from speechbrain_iusp.runs import RunFolder
from speechbrain_iusp.study.experiment import load_spec
from speechbrain_iusp.study.runner import settings_diff, train_command

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "DCASE2019"


def test_a_run_folder_of_other_settings_is_named_with_what_differs(tmp_path):
    run = RunFolder(tmp_path / "sp_tiny" / "1")
    job = {
        "hparams": "hparams/sp.yaml",
        "overrides": {
            "data_folder": "/data",
            "student_size": "tiny",
            "seed": 1,
            "sp_weight": 300.0,
        },
    }
    assert settings_diff(run, job) == "no run_info.json there"
    run.write_info(
        hparams_file=str(RECIPE / "hparams" / "sp.yaml"),
        overrides="output_root: /elsewhere\nstudent_size: tiny\nseed: 1\n"
        "sp_weight: 30.0\nnumber_of_epochs: 3\n",
    )
    said = settings_diff(run, job)
    assert "sp_weight: 30.0 there, 300.0 now" in said
    assert "number_of_epochs: 3 there, (default) now" in said
    assert "output_root" not in said and "data_folder" not in said
    job["hparams"] = "hparams/iusp.yaml"
    assert settings_diff(run, job).startswith("hparams file: sp.yaml there")


def test_the_recipe_study_definitions_load():
    study = load_spec(RECIPE / "study.yaml")
    assert study["records"] == "study_results"
    assert set(study["tuning"]["grids"]) == {"kd", "sp", "iusp"}
    compare = load_spec(RECIPE / "compare.yaml")
    assert compare["records"] == "comparison_results"
    assert compare["tuning"] == {} and compare["teacher_choice"] == "plain"
    assert compare["methods"] == ["baseline", "kd", "sp", "iusp"]


def test_unknown_spec_keys_are_named(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text((RECIPE / "compare.yaml").read_text() + "\nrecord: x\n")
    with pytest.raises(SystemExit, match="unknown keys \\['record'\\]"):
        load_spec(path)


def test_train_command_is_relative_to_the_recipe():
    cmd = train_command(
        RECIPE / "train.py", "hparams/kd.yaml", {"seed": 2}, ["--x"], "/o"
    )
    assert cmd[1:] == [
        str(RECIPE / "train.py"),
        str(RECIPE / "hparams" / "kd.yaml"),
        "--output_root=/o",
        "--seed=2",
        "--x",
    ]
