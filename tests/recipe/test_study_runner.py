"""End-to-end test of the study runner (study.py) on a tiny corpus.

Authors
 * speechbrain-iusp developers 2026
"""

import json
import shutil

import pytest

from speechbrain_iusp.runs import RunFolder
from speechbrain_iusp.study.cli import parse_args
from speechbrain_iusp.study.experiment import HPARAMS, Study, load_spec
from speechbrain_iusp.study.teachers import check_superset

SPEC = """
corpus_size: tiny
corpus_seed: 7
teacher_seed: 1234
teacher_candidates:
    plain: {}
    slow: {lr: 0.0003, train_clips: 12}  # more train clips
    both: {members: [plain, slow]}
teacher_choice: both  # pinned, so that the students get the ensemble
tuning:
    size: tiny
    seed: 100
    max_extend: 1
    grids:
        sp: {sp_weight: [10.0, 100.0]}
        iusp: {iusp_weight: [10.0, 100.0], iusp_tap: [rnn, conv1]}
    variants:
        iusp: {iusp_similarity: [gram, cosine]}
combinations: {}
sizes: [tiny]
seeds: [1, 2]
methods: [baseline, sp, iusp]
"""


def _study(recipe, tmp_path, *args):
    cmd = [
        recipe.study,
        f"--spec={tmp_path / 'spec.yaml'}",
        f"--output_root={tmp_path / 'out'}",
        f"--records={tmp_path / 'records'}",
        "--jobs=2",
        "--bootstrap=30",
        *args,
        "--",
        "--debug",
        "--debug_persistently",
        "--noprogressbar",
    ]
    code, out = recipe.call(cmd, timeout=900)
    assert code == 0, out[-4000:]
    return out


@pytest.fixture(scope="module")
def study(recipe, tmp_path_factory):
    """A whole tiny study, then its run folders deleted (records kept)."""
    tmp = tmp_path_factory.mktemp("study")
    (tmp / "spec.yaml").write_text(SPEC)
    first = _study(recipe, tmp)
    return tmp, first


def test_study_writes_its_outputs(study):
    tmp, text = study
    rec = tmp / "records"
    for name in (
        "study.md",
        "study.csv",
        "per_class.md",
        "auprc_vs_params.png",
        "similarity.png",
        "teacher.json",
        "tuning.json",
    ):
        assert (rec / name).is_file(), name
    table = (rec / "study.md").read_text()
    assert "generated corpus (synthetic, NOT SONYC-UST)" in table
    for method in ("baseline", "sp", "iusp"):
        assert f"| tiny | {method} |" in table
    assert "| tiny | iusp - sp |" in table
    assert "- tiny: r = " in table
    assert "Teacher margin over the best baseline" in table
    teacher = json.loads((rec / "teacher.json").read_text())
    assert set(teacher["candidates"]) == {"plain", "slow", "both"}
    assert teacher["chosen"] == "both"
    # train_clips: the teacher trained on a bigger corpus of the same seed
    assert teacher["train_clips"] == {"slow": 12}
    slow = tmp / "out" / "teachers" / "slow" / "1234"
    hp = (slow / "hyperparams.yaml").read_text()
    assert f"data_folder: {tmp / 'out' / 'corpus_train12'} " in hp
    info = RunFolder(slow).info()
    # the same validate/test splits as the students: it can teach them
    plain = RunFolder(tmp / "out" / "teachers" / "plain" / "1234")
    assert info["eval_splits"] == plain.info()["eval_splits"]
    assert "shares_eval_with" not in info
    assert info["precision"] == "fp32"  # whatever the CPU: as the records
    assert "slow 12 clips" in table
    # the ensemble scores as the mean of its members' probabilities
    ens = tmp / "out" / "teachers" / "both" / "1234"
    metrics = json.loads((ens / "metrics.json").read_text())
    assert teacher["candidates"]["both"] == pytest.approx(
        metrics["validate"]["coarse"]["micro_auprc"]
    )
    assert len(metrics["members"]) == 2
    tuning = json.loads((rec / "tuning.json").read_text())
    for method in ("sp", "iusp"):
        res = tuning[method]
        key = res["weight_key"]
        best = res["chosen"]
        tried = [
            t["overrides"][key]
            for t in res["trials"]
            if {k: v for k, v in t["overrides"].items() if k != key}
            == {k: v for k, v in best.items() if k != key}
        ]
        assert res["bracketed"] == (min(tried) < best[key] < max(tried))
    # the cosine variant was tried at the tuned tap, with its own weights
    variants = tuning["iusp"]["variants"]["iusp_similarity=cosine"]
    assert {t["overrides"]["iusp_similarity"] for t in variants["trials"]} == {
        "cosine"
    }
    assert {t["overrides"]["iusp_tap"] for t in variants["trials"]} == {
        tuning["iusp"]["chosen"]["iusp_tap"]
    }
    # one record per final run, with test scores for the bootstrap
    for method in ("baseline", "sp", "iusp"):
        for seed in (1, 2):
            path = rec / "runs" / f"{method}_tiny__{seed}.json"
            record = json.loads(path.read_text())
            assert len(record["test_scores"]) == 8  # tiny: 8 test clips
            if method != "baseline":  # the students of the ensemble
                assert record["overrides"]["teacher_members"] == 2


def test_records_are_reused_without_the_run_folders(recipe, study):
    """A later call without the run folders reports without training."""
    tmp, _ = study
    shutil.rmtree(tmp / "out" / "runs")
    shutil.rmtree(tmp / "out" / "tune")
    shutil.rmtree(tmp / "out" / "teachers")
    before = (tmp / "records" / "study.md").read_text()
    text = _study(recipe, tmp, "--stages", "teacher", "final", "report")
    assert "running" not in text
    assert "no similarity figure: run folders missing" in text
    assert (tmp / "records" / "study.md").read_text() == before


def test_a_missing_run_trains_the_teacher_again_first(recipe, study):
    """A new seed needs the teacher's checkpoint: it is trained again and,
    being the same, keeps every record valid."""
    tmp, _ = study
    # a run folder that the study did not make for this job
    other = tmp / "out" / "runs" / "iusp_tiny" / "3"
    other.mkdir(parents=True)
    (other / "metrics.json").write_text("{}")
    text = _study(
        recipe, tmp, "--stages", "final", "--methods", "iusp", "--seeds", "3"
    )
    assert "is not this job's run: moved to" in text
    assert "training it again" in text
    assert "differs from the study's" not in text
    record = json.loads(
        (tmp / "records" / "runs" / "iusp_tiny__3.json").read_text()
    )
    assert record["validate"]["coarse"]["micro_auprc"] > 0


def _study_object(recipe, tmp_path, spec_text=SPEC):
    (tmp_path / "spec.yaml").write_text(spec_text)
    args, extra = parse_args(
        [
            f"--spec={tmp_path / 'spec.yaml'}",
            f"--output_root={tmp_path / 'out'}",
            f"--records={tmp_path / 'rec'}",
            "--",
            "--debug",
        ],
        recipe.dir,
    )
    spec = load_spec(args.spec)
    obj = Study(args, spec, extra, recipe.dir)
    obj.context = {"corpus": "c1", "teacher": "t1"}
    obj.teacher_job = {
        "output_root": str(tmp_path / "out" / "teachers"),
        "overrides": {"experiment_name": "plain", "seed": 1234},
    }
    return obj


def test_a_teacher_corpus_must_share_the_study_eval_clips(tmp_path):
    """train_clips corpora: the study's train clips and more, the same
    validate and test clips; another seed is refused."""
    from speechbrain_iusp.demo import generate_corpus

    made = {}
    for name, n_train, seed in (
        ("study", 2, 7),
        ("more", 3, 7),
        ("other", 3, 8),
    ):
        made[name] = tmp_path / name
        generate_corpus(
            made[name],
            n_train=n_train,
            n_validate=2,
            n_test=2,
            seed=seed,
            workers=1,
        )
    check_superset(made["study"], made["more"])
    with pytest.raises(SystemExit, match="validate/test clips or annotations"):
        check_superset(made["study"], made["other"])
    with pytest.raises(SystemExit, match="lacks study train clips"):
        check_superset(made["more"], made["study"])


def test_real_data_leaves_out_the_train_clips_candidates(recipe, tmp_path):
    """With --data_folder there is no bigger generated corpus to train on."""
    obj = _study_object(recipe, tmp_path)
    assert set(obj.candidates()) == {"plain", "slow", "both"}
    obj.args.data_folder = str(tmp_path)
    with pytest.raises(SystemExit, match="teacher_choice: both needs"):
        obj.candidates()
    obj.spec["teacher_choice"] = "best"
    assert set(obj.candidates()) == {"plain"}


def test_run_keys_follow_what_determines_a_run(recipe, tmp_path):
    """A student's key changes with its teacher; a baseline's does not."""
    obj = _study_object(recipe, tmp_path)
    ov = {"student_size": "tiny", "seed": 1, "experiment_name": "x"}
    iusp = obj.job("runs", HPARAMS["iusp"], ov, "x")
    base = obj.job("runs", HPARAMS["baseline"], ov, "x")
    assert iusp["overrides"]["teacher_folder"].endswith("teachers/plain/1234")
    assert "teacher_folder" not in base["overrides"]
    obj.context["teacher"] = "t2"
    assert obj.job("runs", HPARAMS["iusp"], ov, "x")["key"] != iusp["key"]
    assert obj.job("runs", HPARAMS["baseline"], ov, "x")["key"] == base["key"]
    obj.context["corpus"] = "c2"
    assert obj.job("runs", HPARAMS["baseline"], ov, "x")["key"] != base["key"]
    ov2 = {**ov, "seed": 2}
    assert obj.job("runs", HPARAMS["baseline"], ov2, "x")["key"] != base["key"]


def test_bad_specs_are_refused_with_the_key(recipe, tmp_path):
    with pytest.raises(SystemExit, match="teacher_choice: 'big' is not"):
        _study_object(
            recipe, tmp_path, SPEC.replace("choice: both", "choice: big")
        )
    with pytest.raises(SystemExit, match="missing keys \\['seeds'\\]"):
        _study_object(recipe, tmp_path, SPEC.replace("seeds: [1, 2]\n", ""))
    with pytest.raises(SystemExit, match="unknown method 'fitnet'"):
        _study_object(
            recipe, tmp_path, SPEC.replace("iusp]\n", "iusp, fitnet]\n")
        )


def test_baselines_can_run_before_the_tuning(recipe, tmp_path):
    """Combinations are only built from methods that were tuned."""
    spec = SPEC.replace(
        "combinations: {}", "combinations: {kd_iusp: [kd, iusp]}"
    ).replace("        sp: {", "        kd: {kd_weight: [1.0]}\n        sp: {")
    obj = _study_object(recipe, tmp_path, spec)
    assert obj.chosen({}) == {"baseline": {}}
    tuned = {
        "kd": {"chosen": {"kd_weight": 2.0}},
        "iusp": {
            "chosen": {"iusp_weight": 1.0},
            "chosen_with_variants": {"iusp_weight": 3.0},
        },
    }
    chosen = obj.chosen(tuned)
    assert chosen["kd_iusp"] == {"kd_weight": 2.0, "iusp_weight": 3.0}
