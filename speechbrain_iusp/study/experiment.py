"""A study: teacher candidates, bracketed tuning, the final grid, the report.

:class:`Study` runs the stages of a study definition (a YAML such as the
recipe's ``study.yaml``, checked by :func:`load_spec`) through the runner
(:mod:`.runner`): every run is a ``train.py`` process of the recipe, every
finished run a record (:mod:`.records`). :func:`report` writes the tables
and figures from the records alone.

Authors
 * speechbrain-iusp developers 2026
"""

import hashlib
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import yaml

from speechbrain_iusp.demo import generate_corpus
from speechbrain_iusp.demo.corpus import read_corpus_info
from speechbrain_iusp.features import load_audio
from speechbrain_iusp.runs import RunFolder
from speechbrain_iusp.runs.hparams import hparams_values
from speechbrain_iusp.study.figures import plot_similarities
from speechbrain_iusp.study.pool import LocalPool, OptunaPool
from speechbrain_iusp.study.records import (
    corpus_digest,
    model_digest,
    record_ok,
    recorded_score,
    run_folder,
)
from speechbrain_iusp.study.report import write_report
from speechbrain_iusp.study.runner import run_job
from speechbrain_iusp.study.teachers import check_superset
from speechbrain_iusp.study.tuning import tune

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
SPEC_DEFAULTS = {
    "teacher_choice": "best",
    "output_root": "results/study",  # relative to the working folder
    "records": "study_results",  # relative to the recipe folder
}
HPARAMS = {
    "baseline": "hparams/baseline.yaml",
    "kd": "hparams/kd.yaml",
    "sp": "hparams/sp.yaml",
    "iusp": "hparams/iusp.yaml",
    "kd_sp": "hparams/kd_sp.yaml",
    "kd_iusp": "hparams/kd_iusp.yaml",
}
"""The recipe's hparams file of each method, relative to its folder."""

logger = logging.getLogger("study")


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
    unknown = set(spec) - SPEC_KEYS - set(SPEC_DEFAULTS)
    if missing or unknown:
        raise SystemExit(
            f"{path}: missing keys {sorted(missing)}, unknown keys "
            f"{sorted(unknown)}; the keys are {sorted(SPEC_KEYS)}"
        )
    for key, value in SPEC_DEFAULTS.items():
        spec.setdefault(key, value)
    choice = spec["teacher_choice"]
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
        bad = [p for p in parts if p not in spec["tuning"].get("grids", {})]
        if name not in HPARAMS or bad:
            raise SystemExit(
                f"{path}: combinations: '{name}' must be one of "
                f"{sorted(HPARAMS)} and combine tuned methods, got {parts}"
            )
    return spec


class Study:
    """A study's paths, context and pool.

    Arguments
    ---------
    args : argparse.Namespace
        The command line (:func:`speechbrain_iusp.study.cli.parse_args`).
    spec : dict
        The study definition (:func:`load_spec`).
    extra : list of str
        Arguments forwarded to every run.
    recipe : str
        The recipe folder: its ``train.py`` runs the jobs, its
        ``hparams/`` hold the methods (:data:`HPARAMS`).
    """

    def __init__(self, args, spec, extra, recipe):
        self.args, self.spec, self.extra = args, spec, extra
        self.recipe = Path(recipe).resolve()
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
        self._distils = {}
        if args.storage:
            self.pool = OptunaPool(
                run_job, args.storage, args.study_name, jobs=args.jobs
            )
        else:
            self.pool = LocalPool(run_job, jobs=args.jobs)

    def job(self, kind, hparams, overrides, name, data=None):
        """A job dict for the pool (see :func:`run_job`); ``data`` is
        ``(folder, digest)`` of a corpus other than the study's."""
        student = kind != "teachers" and self.distils(hparams)
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
            "script": str(self.recipe / "train.py"),
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

    def distils(self, hparams):
        """True when a method's hparams file has distillation terms (read
        once per file, without building its objects)."""
        if hparams not in self._distils:
            values = hparams_values(
                self.recipe / hparams, search=[self.recipe / "hparams"]
            )
            self._distils[hparams] = bool(values.get("distill_terms"))
        return self._distils[hparams]

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
        teacher's folder is gone (e.g. on a new machine), the teacher is
        trained again first; if it comes out different (another machine or
        software), the context changes and the students are re-keyed, so
        that no run of the old teacher is mixed with runs of the new one.
        """
        jobs = make_jobs()
        pending = [j for j in jobs if record_ok(j) is None]
        if any("teacher_folder" in j["overrides"] for j in pending):
            with self.teacher_lock:
                if not RunFolder(self.teacher_path()).finished:
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
        teacher = RunFolder(self.teacher_path())
        digest = model_digest(teacher.model / "model.ckpt")
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
        for job in jobs:
            job["need_folder"] = False
        if train:
            scores = self.pool.map(jobs)
        else:
            scores = [recorded_score(j) for j in jobs]
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
                ens_folder.exists() and not RunFolder(ens_folder).finished
            ):
                for member in member_jobs:  # building it needs the members
                    if not RunFolder(run_folder(member)).finished:
                        run_job({**member, "need_folder": True})
            jobs.append(job)
            scores.append(run_job(job) if train else recorded_score(job))
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
        if RunFolder(self.teacher_path()).finished:
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

        grids = cfg.get("grids", {})
        if not grids:
            return {}
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
        """method -> overrides of the final runs.

        A method that the spec does not tune (no grid, not a combination)
        runs at its hparams defaults; a tuned one at its tuning's choice,
        once there is one.
        """
        tuned = set(self.spec["tuning"].get("grids", {}))
        tuned |= set(self.spec["combinations"])
        out = {m: {} for m in self.spec["methods"] if m not in tuned}
        out["baseline"] = {}
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
    import torch

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
    teacher = RunFolder(folders["teacher"])
    members = teacher.metrics().get("members", []) if teacher.finished else []
    sources = {
        "teacher": [RunFolder(m) for m in members] or [teacher],
        "baseline student": [RunFolder(folders["baseline student"])],
        "IUSP student": [RunFolder(folders["IUSP student"])],
    }
    missing = [
        str(run.path)
        for group in sources.values()
        for run in group
        if not (run.model / "hyperparams.yaml").is_file()
    ]
    if missing:
        logger.warning("no similarity figure: run folders missing: %s", missing)
        return None
    taggers = {
        name: [
            AudioTagger.from_hparams(
                source=str(run.model), savedir=str(run.model)
            )
            for run in group
        ]
        for name, group in sources.items()
    }
    manifest = sources["IUSP student"][0].manifest("test")
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
