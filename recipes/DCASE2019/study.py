#!/usr/bin/env python3
"""The IUSP study: does IUSP beat SP, at which sizes and taps, by how much?

Stages (``--stages``, all by default), as set in ``study.yaml``:

1. ``teacher``: train the teacher candidates; the best on validate teaches
   every student;
2. ``tune``: validate-only tuning of each method on one size and seed; a
   weight at the edge of its grid is extended until it is inside;
3. ``final``: every size x method x seed with the tuned settings;
4. ``report``: ``study.md``/``study.csv`` (test micro/macro-AUPRC mean ± std,
   params, MACs, paired bootstrap intervals over seeds and clips, the
   paper's relative improvement), ``auprc_vs_params.png``,
   ``per_class.md``, and ``similarity.png`` (teacher and student T x T
   frame similarities on test clips, before and after IUSP).

Finished runs are reused: each run leaves a record (its metrics and test
scores, keyed by its settings, the corpus and the teacher) in ``--records``,
a folder meant to be kept (the recipe keeps the study's in git), so a study
that takes days continues where it stopped, in a later session or on
another machine. Runs whose teacher or corpus changed are not reused.

Runs execute in a local pool (``--jobs``) or, with ``--storage``, as
enqueued trials of an Optuna study that workers on other machines join:
> python study.py --storage sqlite:///results/study/optuna.db --jobs 2
> python study.py worker --storage <same URL>    # on any other machine
(workers need the same paths: a shared file system on a cluster).

To run this recipe:
> python study.py --jobs 2 --threads 1

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import csv
import hashlib
import json
import logging
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import compare
import numpy as np
import torch
import train
import yaml

from speechbrain_iusp.demo import generate_corpus
from speechbrain_iusp.demo.corpus import read_corpus_info
from speechbrain_iusp.features import load_audio
from speechbrain_iusp.sonyc import read_predictions
from speechbrain_iusp.sonyc.taxonomy import AUDIO_DIRS
from speechbrain_iusp.study import (
    tune,
)
from speechbrain_iusp.study.figures import (
    plot_similarities,
)
from speechbrain_iusp.study.pool import LocalPool, OptunaPool, work
from speechbrain_iusp.study.report import write_report

RECIPE_DIR = Path(__file__).resolve().parent
STAMP = "study_key.txt"  # in a run folder: the key of the job that made it
SPEC_KEYS = {
    "corpus_size",
    "corpus_seed",
    "teacher_seed",
    "teacher_candidates",
    "tuning",
    "combinations",
    "sizes",
    "seeds",
    "methods",
}
HPARAMS = {
    "baseline": "hparams/baseline.yaml",
    "kd": "hparams/kd.yaml",
    "sp": "hparams/sp.yaml",
    "iusp": "hparams/iusp.yaml",
    "kd_sp": "hparams/kd_sp.yaml",
    "kd_iusp": "hparams/kd_iusp.yaml",
}

logger = logging.getLogger("study")


# ----------------------------------------------------------------- the spec
def load_spec(path):
    """Read and check ``study.yaml``; errors name the key and the fix."""
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise SystemExit(f"{path}: cannot read the study spec: {err}") from err
    if not isinstance(spec, dict):
        raise SystemExit(f"{path}: the study spec must be a mapping")
    missing = SPEC_KEYS - set(spec)
    unknown = set(spec) - SPEC_KEYS - {"teacher_choice"}
    if missing or unknown:
        raise SystemExit(
            f"{path}: missing keys {sorted(missing)}, unknown keys "
            f"{sorted(unknown)}; the keys are {sorted(SPEC_KEYS)}"
        )
    choice = spec.setdefault("teacher_choice", "best")
    if choice != "best" and choice not in spec["teacher_candidates"]:
        raise SystemExit(
            f"{path}: teacher_choice: '{choice}' is not a teacher candidate; "
            f"use best or one of {sorted(spec['teacher_candidates'])}"
        )
    for method in spec["methods"]:
        if method not in HPARAMS:
            raise SystemExit(
                f"{path}: methods: unknown method '{method}'; choose from "
                f"{sorted(HPARAMS)}"
            )
    for name, parts in spec["combinations"].items():
        bad = [p for p in parts if p not in spec["tuning"]["grids"]]
        if name not in HPARAMS or bad:
            raise SystemExit(
                f"{path}: combinations: '{name}' must be one of "
                f"{sorted(HPARAMS)} and combine tuned methods, got {parts}"
            )
    return spec


# ------------------------------------------------------------------- runs
def file_digest(path):
    """sha256 of a file (hex, first 16 characters)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fin:
        for block in iter(lambda: fin.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def model_digest(ckpt):
    """sha256 of a state dict's tensors (names, shapes and bytes)."""
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].contiguous()
        digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()[:16]


def corpus_digest(data_folder):
    """Fingerprint of a corpus: its annotations and its audio listing."""
    folder = Path(data_folder)
    digest = hashlib.sha256(file_digest(folder / "annotations.csv").encode())
    for wav in sorted(folder.glob("audio*/**/*.wav")):
        digest.update(
            f"{wav.relative_to(folder)}:{wav.stat().st_size}".encode()
        )
    return digest.hexdigest()[:16]


def _eval_rows(folder):
    """Annotation rows and audio files of a corpus's non-train splits."""
    folder = Path(folder)
    train = list(AUDIO_DIRS)[0]
    with open(folder / "annotations.csv", newline="") as fin:
        rows = sorted(
            tuple(row.values())
            for row in csv.DictReader(fin)
            if row["split"] != train
        )
    wavs = sorted(
        (str(w.relative_to(folder)), file_digest(w))
        for split in list(AUDIO_DIRS)[1:]
        for w in (folder / AUDIO_DIRS[split]).glob("*.wav")
    )
    return rows, wavs


def check_superset(study_data, teacher_data):
    """Refuse a teacher corpus whose validate/test split is not the study's,
    or whose train split lacks a study train clip."""
    if _eval_rows(study_data) != _eval_rows(teacher_data):
        raise SystemExit(
            f"{teacher_data}: its validate/test clips or annotations differ "
            f"from the study corpus {study_data}; delete {teacher_data} so "
            "that it is generated again"
        )
    train_dir = AUDIO_DIRS[list(AUDIO_DIRS)[0]]
    ours = {w.name for w in (Path(study_data) / train_dir).glob("*.wav")}
    theirs = {w.name for w in (Path(teacher_data) / train_dir).glob("*.wav")}
    if ours - theirs:
        raise SystemExit(
            f"{teacher_data}: lacks study train clips such as "
            f"{sorted(ours - theirs)[0]}; delete it so that it is generated "
            "again"
        )


def record_ok(job):
    """The saved record of a job, if it was made with the same settings."""
    path = Path(job["record"])
    if not path.is_file():
        return None
    saved = json.loads(path.read_text())
    return saved if saved.get("key") == job["key"] else None


def run_folder(job):
    """The run folder of a job (as train.py names it)."""
    overrides = job["overrides"]
    return (
        Path(job["output_root"])
        / overrides["experiment_name"]
        / str(overrides["seed"])
    )


def _recorded_score(job):
    """A job's recorded validate score, or None."""
    saved = record_ok(job)
    return None if saved is None else saved["validate"]["coarse"]["micro_auprc"]


def run_job(job):
    """Run one train.py job unless its record exists; its validate score.

    A job is a JSON-able dict (so that an Optuna worker on another machine
    can run it): ``name``, ``hparams``, ``overrides``, ``extra``,
    ``output_root``, ``record`` (path of its record), ``key`` (the digest
    of everything that determines the run) and ``need_folder`` (run it
    again if its run folder is gone, e.g. the teacher, whose checkpoint the
    students need).
    """
    overrides = job["overrides"]
    root = Path(job["output_root"])
    folder = run_folder(job)
    stamp = folder / STAMP
    saved = record_ok(job)
    if (
        saved is not None
        and saved.get("folder") == str(folder)
        and (folder / "metrics.json").is_file()
        and not stamp.is_file()
    ):
        stamp.write_text(job["key"])  # its record says this folder made it
    if folder.exists() and (
        not stamp.is_file() or stamp.read_text().strip() != job["key"]
    ):
        # made for other settings (or outside the study): never resumed or
        # reported as this job's run
        aside = folder.with_name(f"{folder.name}.stale-{int(time.time())}")
        logger.warning("%s is not this job's run: moved to %s", folder, aside)
        folder.rename(aside)
    done = (folder / "metrics.json").is_file()
    if done and job.get("shares_eval_with"):
        mark_shared_eval(folder, job["shares_eval_with"])
    if saved is not None and (done or not job.get("need_folder")):
        return saved["validate"]["coarse"]["micro_auprc"]
    folder.mkdir(parents=True, exist_ok=True)
    stamp.write_text(job["key"])
    if not done and job.get("members"):
        build_ensemble_run(job["members"], folder, overrides["data_folder"])
    elif not done:
        extra = list(job["extra"])
        if not any(e.startswith("--precision") for e in extra):
            # the recipe's precision: auto depends on the CPU; the study's
            # runs must not (its records were all made in fp32)
            extra.append("--precision=fp32")
        cmd = compare.train_command(job["hparams"], overrides, extra, root)
        log = root / "logs" / f"{job['name'].replace('/', '_')}.log"
        compare.launch(cmd, log, job.get("threads"))
    if job.get("shares_eval_with"):
        mark_shared_eval(folder, job["shares_eval_with"])
    return write_record(job, folder)["validate"]["coarse"]["micro_auprc"]


def mark_shared_eval(folder, data_folder):
    """Let students on ``data_folder`` use the teacher run in ``folder``,
    trained on a bigger corpus with the same validate and test splits
    (checked by :func:`check_superset`); see ``train.check_run_info``."""
    path = train.run_info_path(folder)
    info = json.loads(path.read_text())
    if str(data_folder) not in info.get("shares_eval_with", []):
        info["shares_eval_with"] = [str(data_folder)]
        path.write_text(json.dumps(info, indent=2))


def build_ensemble_run(members, folder, data_folder):
    """A teacher run folder for an ensemble of finished teacher runs.

    It holds what a student run needs of a teacher run: a checkpoint of the
    :class:`~speechbrain_iusp.models.TeacherEnsemble` in ``save/`` (students
    load it with ``--teacher_members N``), ``model/model.ckpt``, the
    ensemble's predictions (the mean of the members' probabilities, which is
    what the ensemble computes) and ``metrics.json`` scored from them with
    the official metrics.

    Arguments
    ---------
    members : list of str
        Finished teacher run folders (teacher preset).
    folder : Path
        The ensemble's run folder.
    data_folder : str
        The data the members were trained on (``annotations.csv``).
    """
    from speechbrain.utils.checkpoints import Checkpointer

    from speechbrain_iusp.evaluate import evaluate_files
    from speechbrain_iusp.models import teacher_model
    from speechbrain_iusp.sonyc import Taxonomy, prediction_columns
    from speechbrain_iusp.sonyc.predictions import write_predictions_csv

    members = [Path(m) for m in members]
    _, hp = train.load_hparams("hparams/teacher.yaml", {})
    ens = teacher_model(
        "teacher",
        members=len(members),
        n_mels=hp["n_mels"],
        n_classes=hp["n_classes"],
    )
    for member, run in zip(ens.members, members, strict=True):
        state = torch.load(
            run / "model" / "model.ckpt", map_location="cpu", weights_only=True
        )
        member.load_state_dict(state)
    folder = Path(folder)
    (folder / "model").mkdir(parents=True, exist_ok=True)
    tax = Taxonomy()
    metrics = {}
    for split in ("validate", "test"):
        names, columns = None, []
        for run in members:
            got, fine, coarse = read_predictions(
                run / f"predictions_{split}.csv", tax
            )
            order = np.argsort(got)
            names = [got[i] for i in order]
            columns.append(np.concatenate([fine, coarse], axis=1)[order])
        path = folder / f"predictions_{split}.csv"
        write_predictions_csv(
            path, names, np.mean(columns, axis=0), prediction_columns(tax), tax
        )
        annotations = Path(data_folder) / "annotations.csv"
        metrics[split] = {
            mode: evaluate_files(path, annotations, mode=mode, split=split)
            for mode in ("coarse", "fine")
        }
    params, macs = 0, 0
    for run in members:
        member_metrics = json.loads((run / "metrics.json").read_text())
        params += member_metrics["params"]
        macs += member_metrics["macs_per_10s"]
    metrics.update(
        params=params,
        macs_per_10s=macs,
        members=[str(m) for m in members],
    )
    shutil.copytree(
        members[0] / "save",
        folder / "save",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("CKPT*"),
    )
    Checkpointer(str(folder / "save"), {"model": ens}).save_checkpoint(
        meta={"micro_auprc": metrics["validate"]["coarse"]["micro_auprc"]}
    )
    torch.save(ens.state_dict(), folder / "model" / "model.ckpt")
    info = json.loads((members[0] / "run_info.json").read_text())
    info.update(data_folder=str(data_folder), members=[str(m) for m in members])
    info.pop("shares_eval_with", None)  # scored on data_folder's splits
    (folder / "run_info.json").write_text(json.dumps(info, indent=2))
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))


def write_record(job, folder):
    """Keep what the report needs of a finished run (atomically)."""
    metrics = json.loads((folder / "metrics.json").read_text())
    y_true, scores = compare.load_run(
        folder.parent.parent, folder.parent.name, folder.name
    )
    record = {
        "key": job["key"],
        "name": job["name"],
        "hparams": job["hparams"],
        "overrides": {
            k: v
            for k, v in job["overrides"].items()
            if k not in ("teacher_folder", "data_folder")
        },
        "params": metrics.get("params"),
        "macs": metrics.get("macs_per_10s"),
        "validate": metrics["validate"],
        "test": metrics["test"],
        "test_truth": hashlib.sha256(y_true.tobytes()).hexdigest()[:16],
        "test_scores": np.round(scores, 6).tolist(),
        "folder": str(folder),
    }
    path = Path(job["record"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record))
    tmp.replace(path)
    truth = path.parent.parent / "test_truth.json"
    if not truth.is_file():
        truth.write_text(json.dumps(y_true.astype(int).tolist()))
    return record


class Study:
    """The study's paths, context and pool (see ``main``)."""

    def __init__(self, args, spec, extra):
        self.args, self.spec, self.extra = args, spec, extra
        self.root = Path(args.output_root).resolve()
        self.records = Path(args.records).resolve()
        if args.data_folder:
            self.data = Path(args.data_folder).resolve()
        else:
            self.data = self.root / "corpus"
        self.context = {}
        self.teacher_job = None
        self.member_jobs = []
        self.teacher_members = None
        self.teacher_lock = threading.Lock()
        if args.storage:
            self.pool = OptunaPool(
                run_job, args.storage, args.study_name, jobs=args.jobs
            )
        else:
            self.pool = LocalPool(run_job, jobs=args.jobs)

    def job(self, kind, hparams, overrides, name, data=None):
        """A job dict for the pool (see :func:`run_job`); ``data`` is
        ``(folder, digest)`` of a corpus other than the study's."""
        text = (RECIPE_DIR / hparams).read_text()
        student = kind != "teachers" and "teacher_folder:" in text
        folder, corpus = data or (self.data, self.context["corpus"])
        overrides = {"data_folder": str(folder), **overrides}
        if student:
            overrides["teacher_folder"] = str(self.teacher_path())
            if self.teacher_members:
                overrides["teacher_members"] = self.teacher_members
        key_src = {
            "hparams": hparams,
            "overrides": {
                k: v
                for k, v in overrides.items()
                if k not in ("data_folder", "teacher_folder")
            },
            "extra": self.extra,
            "corpus": corpus,
            "teacher": self.context["teacher"] if student else None,
        }
        key = json.dumps(key_src, sort_keys=True).encode()
        return {
            "name": f"{kind}/{name}/{overrides['seed']}",
            "hparams": hparams,
            "overrides": overrides,
            "extra": self.extra,
            "output_root": str(self.root / kind),
            "record": str(
                self.records / kind / f"{name}__{overrides['seed']}.json"
            ),
            "key": hashlib.sha256(key).hexdigest()[:16],
            "need_folder": kind == "teachers",
            "threads": self.args.threads if self.args.jobs > 1 else None,
        }

    def teacher_path(self):
        """The chosen teacher's run folder."""
        return run_folder(self.teacher_job)

    def train_teacher(self):
        """Train the chosen teacher again (its members first), digest it."""
        for member in self.member_jobs:
            run_job(member)
        run_job(self.teacher_job)
        self.set_teacher_digest()

    def run(self, make_jobs):
        """Run jobs made by ``make_jobs()``; their validate scores.

        Jobs with a valid record are not run. When some must run and the
        teacher's folder is gone (a new machine or session), the teacher is
        trained again first; if it comes out different (another machine or
        software), the context changes and the students are re-keyed, so
        that no run of the old teacher is mixed with runs of the new one.
        """
        jobs = make_jobs()
        pending = [j for j in jobs if record_ok(j) is None]
        if any("teacher_folder" in j["overrides"] for j in pending):
            with self.teacher_lock:
                if not (self.teacher_path() / "metrics.json").is_file():
                    logger.warning(
                        "the teacher's run folder %s is gone: training it "
                        "again",
                        self.teacher_path(),
                    )
                    self.train_teacher()
            jobs = make_jobs()
        return self.pool.map(jobs)

    def set_teacher_digest(self):
        """Digest the teacher's checkpoint; warn when it changed."""
        digest = model_digest(self.teacher_path() / "model" / "model.ckpt")
        old = self.context.get("teacher")
        if old is not None and old != digest:
            logger.warning(
                "the teacher trained here (%s) differs from the study's "
                "(%s): students of the old teacher will be trained again",
                digest,
                old,
            )
        self.context["teacher"] = digest
        saved = self._read("teacher.json") or {}
        saved["model_digest"] = digest
        self._write("teacher.json", saved)

    # ------------------------------------------------------------- stages
    def corpus(self):
        """Generate the study's corpus (unless --data_folder)."""
        if not self.args.data_folder:
            generate_corpus(
                out_dir=self.data,
                size=self.spec["corpus_size"],
                seed=self.spec["corpus_seed"],
            )
        self.context["corpus"] = corpus_digest(self.data)

    def candidates(self):
        """The teacher candidates this study can train.

        With ``--data_folder`` (real data), candidates that need more clips
        of the generated corpus (``train_clips``), and ensembles with them,
        are left out with a warning.
        """
        cands = self.spec["teacher_candidates"]
        if not self.args.data_folder:
            return cands
        more = {n for n, c in cands.items() if "train_clips" in c}
        skip = more | {
            n for n, c in cands.items() if more & set(c.get("members", []))
        }
        if skip:
            logger.warning(
                "teacher candidates %s need more clips of the generated "
                "corpus (train_clips): left out with --data_folder",
                sorted(skip),
            )
        if self.spec["teacher_choice"] in skip:
            raise SystemExit(
                f"teacher_choice: {self.spec['teacher_choice']} needs the "
                "generated corpus (train_clips); with --data_folder pin "
                "another candidate or use best"
            )
        return {n: c for n, c in cands.items() if n not in skip}

    def teacher_corpus(self, name, n_train, make=True):
        """The study's generated corpus with ``n_train`` train clips.

        Clip ``i`` of a split depends only on the corpus seed, the split and
        ``i``, so this corpus holds the study's train clips and more, and
        the very same validate and test clips (checked): a teacher trained
        on it has more data than the students, as a teacher pre-trained on
        a larger release has, and is scored on the study's validate split.

        With ``make=False`` (a report alone) nothing is generated, and the
        digest is None.

        Returns
        -------
        tuple
            ``(folder, digest)``.
        """
        n_train = int(n_train)
        folder = self.root / f"corpus_train{n_train}"
        if not make:
            return folder, None
        study_sizes = read_corpus_info(self.data)["request"]["clips"]
        if n_train < study_sizes["train"]:
            raise SystemExit(
                f"teacher_candidates: {name}: train_clips: {n_train} is "
                f"fewer than the study's {study_sizes['train']} train clips"
            )
        generate_corpus(
            out_dir=folder,
            n_train=n_train,
            n_validate=study_sizes["validate"],
            n_test=study_sizes["test"],
            seed=self.spec["corpus_seed"],
        )
        check_superset(self.data, folder)
        return folder, corpus_digest(folder)

    def teacher(self, train=True):
        """Train the candidates; the best on validate is the teacher.

        Candidates with a record are not trained again: the choice is made
        from the records, and only the chosen one is re-trained later if a
        student run needs its checkpoint. With ``train=False`` (a report
        alone) nothing is trained: the recorded choice is taken.
        """
        seed = self.spec["teacher_seed"]
        cands = self.candidates()
        trained = {n: c for n, c in cands.items() if "members" not in c}
        jobs = []
        for name, cand in trained.items():
            cand = dict(cand)
            n_train = cand.pop("train_clips", None)
            jobs.append(
                self.job(
                    "teachers",
                    "hparams/teacher.yaml",
                    {"seed": seed, **cand, "experiment_name": name},
                    name,
                    data=n_train and self.teacher_corpus(name, n_train, train),
                )
            )
            if n_train:
                jobs[-1]["shares_eval_with"] = str(self.data)
        for job in jobs:
            job["need_folder"] = False
        if train:
            scores = self.pool.map(jobs)
        else:
            scores = [_recorded_score(j) for j in jobs]
        by_name = {j["overrides"]["experiment_name"]: j for j in jobs}
        for name, cand in cands.items():
            if "members" not in cand:
                continue
            missing = [m for m in cand["members"] if m not in by_name]
            if missing:
                raise SystemExit(
                    f"teacher_candidates: {name}: members {missing} are not "
                    f"trained candidates ({sorted(by_name)})"
                )
            member_jobs = [by_name[m] for m in cand["members"]]
            job = self.job(
                "teachers",
                "hparams/teacher.yaml",
                {
                    "seed": seed,
                    "experiment_name": name,
                    "members": len(cand["members"]),
                },
                name,
            )
            job["members"] = [str(run_folder(m)) for m in member_jobs]
            job["need_folder"] = False  # only the chosen teacher's is needed
            records = [Path(m["record"]) for m in member_jobs]
            if not all(r.is_file() for r in records):
                continue  # only when train=False: members not trained yet
            member_keys = [json.loads(r.read_text())["key"] for r in records]
            job["key"] = hashlib.sha256(
                (job["key"] + json.dumps(member_keys)).encode()
            ).hexdigest()[:16]
            ens_folder = run_folder(job)
            if record_ok(job) is None or (
                ens_folder.exists()
                and not (ens_folder / "metrics.json").is_file()
            ):
                for member in member_jobs:  # building it needs the members
                    if not (run_folder(member) / "metrics.json").is_file():
                        run_job({**member, "need_folder": True})
            jobs.append(job)
            scores.append(run_job(job) if train else _recorded_score(job))
        names = [j["overrides"]["experiment_name"] for j in jobs]
        saved = self._read("teacher.json") or {}
        if not train and saved.get("chosen") in names:
            best = names.index(saved["chosen"])
        elif self.spec["teacher_choice"] == "best":
            best = int(np.argmax([-np.inf if v is None else v for v in scores]))
        else:
            best = names.index(self.spec["teacher_choice"])
        self.teacher_job = {**jobs[best], "need_folder": True}
        chosen = names[best]
        members = cands[chosen].get("members", [])
        self.member_jobs = [
            {**by_name[m], "need_folder": True} for m in members
        ]
        self.teacher_members = len(members) or None
        if saved.get("chosen") == chosen and saved.get("model_digest"):
            self.context["teacher"] = saved["model_digest"]
        if (self.teacher_path() / "metrics.json").is_file():
            self.set_teacher_digest()
        elif "teacher" not in self.context and train:
            self.train_teacher()
        if not train:
            return saved
        summary = {
            "candidates": {
                j["overrides"]["experiment_name"]: s
                for j, s in zip(jobs, scores, strict=True)
            },
            "chosen": chosen,
            "model_digest": self.context["teacher"],
            "train_clips": {
                name: cand["train_clips"]
                for name, cand in trained.items()
                if "train_clips" in cand
            },
        }
        self._write("teacher.json", summary)
        logger.info("teacher: %s", summary)
        return summary

    def tuning(self):
        """Tune every method of the grids (in parallel), then the variants."""
        cfg = self.spec["tuning"]

        def score_with(method):
            def score(choices):
                return self.run(
                    lambda: [
                        self.job(
                            "tune",
                            HPARAMS[method],
                            {
                                "student_size": cfg["size"],
                                "seed": cfg["seed"],
                                **self.epochs(),
                                **choice,
                                "experiment_name": f"{method}_{tag(choice)}",
                            },
                            f"{method}_{tag(choice)}",
                        )
                        for choice in choices
                    ]
                )

            return score

        grids = cfg["grids"]
        with ThreadPoolExecutor(max_workers=len(grids)) as ex:
            futures = {
                m: ex.submit(tune, g, score_with(m), cfg["max_extend"])
                for m, g in grids.items()
            }
            results = {m: f.result() for m, f in futures.items()}
        for method, grid in cfg.get("variants", {}).items():
            base = results[method]
            key = base["weight_key"]
            chosen = base["chosen"]
            w = chosen[key]
            variants = {}
            for name, values in grid.items():
                for value in values:
                    if value == chosen.get(name, values[0]):
                        continue
                    vgrid = {key: [w / 10, w, w * 10]}
                    vgrid.update(
                        {k: [v] for k, v in chosen.items() if k != key}
                    )
                    vgrid[name] = [value]
                    variants[f"{name}={value}"] = tune(
                        vgrid, score_with(method), cfg["max_extend"]
                    )
            base["variants"] = variants
            best = max(
                [(base["chosen"], max(t["validate"] for t in base["trials"]))]
                + [
                    (v["chosen"], max(t["validate"] for t in v["trials"]))
                    for v in variants.values()
                ],
                key=lambda cs: cs[1],
            )
            base["chosen_with_variants"] = best[0]
        for res in results.values():
            res["runs"] = len(res["trials"]) + sum(
                len(v["trials"]) for v in res.get("variants", {}).values()
            )
        self._write("tuning.json", results)
        return results

    def epochs(self):
        """The epoch override of student runs, if any."""
        n = self.args.student_epochs
        return {} if n is None else {"number_of_epochs": n}

    def chosen(self, tuning):
        """method -> overrides of the final runs."""
        out = {"baseline": {}}
        for method, res in tuning.items():
            out[method] = res.get("chosen_with_variants", res["chosen"])
        for name, parts in self.spec["combinations"].items():
            if all(p in out for p in parts):
                out[name] = {k: v for p in parts for k, v in out[p].items()}
        return out

    def final(self, tuning):
        """Every size x method x seed with the tuned settings."""
        chosen = self.chosen(tuning)
        cells = [
            (size, method, seed)
            for size in self.sizes()
            for method in self.methods()
            for seed in self.seeds()
        ]

        def make_jobs():
            return [
                self.job(
                    "runs",
                    HPARAMS[method],
                    {
                        "student_size": size,
                        "seed": seed,
                        **self.epochs(),
                        **chosen[method],
                        "experiment_name": f"{method}_{size}",
                    },
                    f"{method}_{size}",
                )
                for size, method, seed in cells
            ]

        self.run(make_jobs)
        return chosen

    def sizes(self):
        """Student sizes of this invocation."""
        return self.args.sizes or self.spec["sizes"]

    def methods(self):
        """Methods of this invocation."""
        return self.args.methods or self.spec["methods"]

    def seeds(self):
        """Seeds of this invocation."""
        return self.args.seeds or self.spec["seeds"]

    def _write(self, name, obj):
        self.records.mkdir(parents=True, exist_ok=True)
        (self.records / name).write_text(json.dumps(obj, indent=2))

    def _read(self, name):
        path = self.records / name
        return json.loads(path.read_text()) if path.is_file() else None


def tag(choice):
    """A folder-safe tag of an override set."""
    return "_".join(f"{k}-{v}" for k, v in choice.items())


# ----------------------------------------------------------------- report
def load_cells(study):
    """(size, method) -> list of records of the final runs, by seed."""
    cells = {}
    for size in study.sizes():
        for method in study.methods():
            recs = []
            for seed in study.seeds():
                path = study.records / "runs" / f"{method}_{size}__{seed}.json"
                if path.is_file():
                    recs.append(json.loads(path.read_text()))
            if recs:
                cells[(size, method)] = recs
    return cells


def report(study, tuning, n_boot):
    """Write study.md, study.csv, per_class.md and the AUPRC plot."""
    out = study.records
    truth_path = out / "test_truth.json"
    cells = load_cells(study)
    if not cells or not truth_path.is_file():
        raise SystemExit(f"no finished study runs in {out / 'runs'} yet")
    teacher = study._read("teacher.json") or {}
    trec = None
    if study.teacher_job and Path(study.teacher_job["record"]).is_file():
        trec = json.loads(Path(study.teacher_job["record"]).read_text())
    return write_report(
        out,
        cells,
        np.array(json.loads(truth_path.read_text())),
        study.sizes(),
        study.args.data_label,
        teacher=teacher,
        teacher_record=trec,
        tuning=tuning,
        n_boot=n_boot,
    )


def similarity_figure(study, tuning, n_clips=3):
    """Teacher and student T x T similarities on test clips (needs runs).

    The student before IUSP is the baseline, after is the IUSP student, of
    the tuning size and the first seed, at the tuned IUSP tap.
    """
    from speechbrain_iusp.inference import AudioTagger
    from speechbrain_iusp.losses import frame_similarity
    from speechbrain_iusp.sonyc import Taxonomy

    if not tuning or "iusp" not in tuning:
        logger.warning("no similarity figure: IUSP is not tuned yet")
        return None
    size = study.spec["tuning"]["size"]
    seed = study.seeds()[0]
    chosen = study.chosen(tuning)["iusp"]
    tap = chosen.get("iusp_tap", "rnn")
    sim = chosen.get("iusp_similarity", "gram")
    folders = {
        "teacher": study.teacher_path(),
        "baseline student": study.root
        / "runs"
        / f"baseline_{size}"
        / str(seed),
        "IUSP student": study.root / "runs" / f"iusp_{size}" / str(seed),
    }
    # an ensemble teacher: its members' matrices, averaged (what the
    # students match)
    teacher_metrics = folders["teacher"] / "metrics.json"
    members = []
    if teacher_metrics.is_file():
        members = json.loads(teacher_metrics.read_text()).get("members", [])
    sources = {
        "teacher": [Path(m) for m in members] or [folders["teacher"]],
        "baseline student": [folders["baseline student"]],
        "IUSP student": [folders["IUSP student"]],
    }
    missing = [
        str(f)
        for group in sources.values()
        for f in group
        if not (f / "model" / "hyperparams.yaml").is_file()
    ]
    if missing:
        logger.warning("no similarity figure: run folders missing: %s", missing)
        return None
    taggers = {
        name: [
            AudioTagger.from_hparams(
                source=str(f / "model"), savedir=str(f / "model")
            )
            for f in group
        ]
        for name, group in sources.items()
    }
    manifest = json.loads(
        (folders["IUSP student"] / "save" / "test.json").read_text()
    )
    names = Taxonomy().coarse_labels
    clips = sorted(
        manifest.values(),
        key=lambda v: (-sum(v["coarse"]), v["audio_filename"]),
    )[:n_clips]
    rows = []
    for clip in clips:
        wav = clip["wav"].replace("{data_root}", str(study.data))
        tags = [n for n, on in zip(names, clip["coarse"], strict=True) if on]
        mats = []
        for group in taggers.values():
            group_mats = []
            for tagger in group:
                sig = load_audio(wav, tagger.hparams.sample_rate).unsqueeze(0)
                with torch.no_grad():
                    feats = tagger.hparams.compute_features(sig)
                    _, taps = tagger.mods.model(feats, return_hidden=True)
                group_mats.append(frame_similarity(taps[tap], similarity=sim))
            mats.append(torch.stack(group_mats).mean(0)[0].numpy())
        rows.append(
            (f"{Path(clip['audio_filename']).name}: {', '.join(tags)}", mats)
        )
    return plot_similarities(
        rows,
        list(folders),
        study.records / "similarity.png",
        f"{sim} frame similarities at the {tap} tap ({size} students, seed "
        f"{seed}) on test clips of {study.args.data_label}",
    )


# -------------------------------------------------------------------- CLI
def parse_args(argv):
    """Command line (see the module docstring)."""
    argv, extra = compare.split_extra(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "command", nargs="?", default="run", choices=["run", "worker"]
    )
    parser.add_argument("--spec", default=str(RECIPE_DIR / "study.yaml"))
    parser.add_argument(
        "--stages",
        nargs="+",
        default=["teacher", "tune", "final", "report"],
        choices=["teacher", "tune", "final", "report"],
    )
    parser.add_argument("--output_root", default="results/study")
    parser.add_argument(
        "--records",
        default=str(RECIPE_DIR / "study_results"),
        help="folder of the run records (keep it: finished runs are reused)",
    )
    parser.add_argument("--data_folder", default="")
    parser.add_argument("--data_label", default=None)
    parser.add_argument("--sizes", nargs="+", default=None)
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=None)
    parser.add_argument("--student_epochs", type=int, default=None)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--storage", default=None, help="Optuna storage URL")
    parser.add_argument("--study_name", default="iusp-study")
    args = parser.parse_args(argv)
    if args.data_label is None:
        args.data_label = (
            f"data in {args.data_folder}"
            if args.data_folder
            else "the generated corpus (synthetic, NOT SONYC-UST)"
        )
    return args, extra


def main(argv):
    """Run the study's stages, or an Optuna worker."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args, extra = parse_args(argv)
    if args.command == "worker":
        if not args.storage:
            raise SystemExit("worker: give --storage, the study's Optuna URL")
        pool = OptunaPool(run_job, args.storage, args.study_name, jobs=0)
        done = work(pool.study, run_job, idle_exit=False)
        logger.info("worker ran %d jobs", done)
        return None
    spec = load_spec(args.spec)
    compare.stop_on_sigterm()
    study = Study(args, spec, extra)
    study.corpus()
    study.teacher(train=bool({"teacher", "tune", "final"} & set(args.stages)))
    tuning = study._read("tuning.json")
    if "tune" in args.stages:
        tuning = study.tuning()
    if "final" in args.stages:
        tuned = set(spec["tuning"]["grids"]) | set(spec["combinations"])
        if tuning is None and tuned & set(study.methods()):
            raise SystemExit(
                f"no tuning.json in {study.records}: run the tune stage "
                "first (--stages tune final), or only --methods baseline"
            )
        study.final(tuning or {})
    if "report" in args.stages:
        text = report(study, tuning, args.bootstrap)
        similarity_figure(study, tuning)
        print(text)
    return study


if __name__ == "__main__":
    main(sys.argv[1:])
