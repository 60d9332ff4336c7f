"""The comparison of a teacher and its students over seeds, and its table.

A comparison (``compare.yaml`` of a recipe) trains the teacher once, then
each method's student with each seed, as ``train.py`` processes run by the
study runner's :func:`~speechbrain_iusp.study.runner.launch` in a
:class:`~speechbrain_iusp.study.pool.LocalPool`, and writes one table
(``comparison.md``, ``.csv``, ``.json``) from the runs' ``metrics.json``.
The teacher runs next to the students that need no teacher (the
baselines); the distilled students follow.

The reuse rule is the study's: a run folder stamped with its job's key
(everything that determines the run) and finished is reused; a folder made
for other settings is set aside, never resumed.

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import csv
import hashlib
import io
import json
import logging
import statistics
from pathlib import Path

import yaml

from speechbrain_iusp.runs import RunFolder
from speechbrain_iusp.runtime import atomic_write_text
from speechbrain_iusp.study.pool import LocalPool
from speechbrain_iusp.study.runner import (
    launch,
    set_aside,
    split_extra,
    stop_on_sigterm,
    train_command,
)

logger = logging.getLogger("compare")

SPEC_KEYS = ("methods", "seeds", "teacher_seed", "output_root", "records")


def load_spec(path):
    """A comparison spec (plain YAML), checked.

    Arguments
    ---------
    path : str or Path
        The spec, e.g. ``recipes/ESC50/compare.yaml``.

    Returns
    -------
    dict
        ``methods``, ``seeds``, ``teacher_seed``, ``output_root``,
        ``records``, and ``overrides`` (hparams of every run; ``{}``).

    Example
    -------
    >>> from pathlib import Path
    >>> spec = Path(getfixture("tmpdir")) / "c.yaml"
    >>> _ = spec.write_text("methods: [baseline]\\nseeds: [1]\\n")
    >>> load_spec(spec)
    Traceback (most recent call last):
    ...
    ValueError: ...c.yaml: key(s) ['teacher_seed', 'output_root', ...
    """
    spec = yaml.safe_load(Path(path).read_text()) or {}
    missing = [k for k in SPEC_KEYS if k not in spec]
    if missing:
        raise ValueError(
            f"{path}: key(s) {missing} missing; a comparison spec names "
            f"{', '.join(SPEC_KEYS)} (and optional overrides)"
        )
    spec.setdefault("overrides", {})
    return spec


def _key(job):
    """The digest of what determines a run."""
    text = json.dumps(
        [job["hparams"], job["overrides"], job["extra"]], sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_jobs(spec, script, output_root, data_folder="", extra=(), threads=1):
    """The teacher job and the student jobs of a comparison.

    Arguments
    ---------
    spec : dict
        From :func:`load_spec`.
    script : str or Path
        The recipe's ``train.py``.
    output_root : str
        The runs' root.
    data_folder : str
        The data (empty: the recipe's built-in data).
    extra : list of str
        Further arguments of every run (run options).
    threads : int
        CPU threads per run.

    Returns
    -------
    teacher : dict
    students : list of dict
    """
    common = dict(spec["overrides"])
    if data_folder:
        common["data_folder"] = data_folder

    def job(name, hparams, seed, folder, **more):
        """One job; its run folder is ``output_root/folder/seed``."""
        out = {
            "name": f"{name}/{seed}",
            "method": name,
            "seed": seed,
            "script": str(script),
            "hparams": f"hparams/{hparams}.yaml",
            "overrides": {**common, "seed": seed, **more},
            "extra": list(extra),
            "output_root": str(output_root),
            "folder": str(Path(output_root) / folder / str(seed)),
            "threads": threads,
        }
        out["key"] = _key(out)
        return out

    teacher = job("teacher", "teacher", spec["teacher_seed"], "teacher")
    students = [
        job(m, m, s, m, teacher_seed=spec["teacher_seed"])
        for m in spec["methods"]
        for s in spec["seeds"]
    ]
    return teacher, students


def run_job(job):
    """Runs one job unless its stamped run finished; its metrics.

    Arguments
    ---------
    job : dict
        From :func:`make_jobs`.

    Returns
    -------
    dict
        The run's ``metrics.json``.
    """
    run = RunFolder(job["folder"])
    if run.path.exists() and run.key() != job["key"]:
        set_aside(run, "made for other settings")
    if not run.finished:
        run.write_key(job["key"])
        cmd = train_command(
            job["script"],
            job["hparams"],
            job["overrides"],
            job["extra"],
            job["output_root"],
        )
        log = Path(job["output_root"]) / "logs" / f"{job['name']}.log"
        launch(cmd, log, job["threads"])
    return run.metrics()


def _pct(values):
    """``mean ± std`` of fractions, in percent."""
    values = [100 * v for v in values]
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}"


def comparison_table(teacher, students, data_label):
    """The comparison as markdown, CSV and JSON texts.

    Arguments
    ---------
    teacher : dict
        The teacher's metrics.
    students : dict
        method -> {seed: metrics}.
    data_label : str
        What the data are (said above the table).

    Returns
    -------
    dict
        ``md``, ``csv`` and ``json`` texts.

    Example
    -------
    >>> m = lambda v, t: {"validate": {"accuracy": v}, "test": {"accuracy":
    ...     t}, "params": 10, "n_train_clips": 4}
    >>> out = comparison_table(m(0.9, 0.8), {"baseline": {1: m(0.5, 0.4),
    ...     2: m(0.7, 0.6)}, "kd": {1: m(0.6, 0.5), 2: m(0.7, 0.7)}}, "toy")
    >>> print(out["md"].splitlines()[-1])
    | kd | 10 | 4 | 65.0 ± 7.1 | 60.0 ± 14.1 | +10.0 (2/2) |
    """
    base = students.get("baseline", {})
    lines = [
        f"Data: {data_label}. Accuracy in %, mean ± std over seeds "
        f"({', '.join(map(str, sorted(next(iter(students.values())))))}) "
        "for the students; Δ test: the mean per-seed gain over the baseline "
        "(seeds with a gain / seeds).",
        "",
        "| Model | Params | Train clips | Validate acc. | Test acc. | "
        "Δ test vs baseline |",
        "|---|---:|---:|---:|---:|---:|",
        f"| teacher (ECAPA-TDNN) | {teacher['params']:,} | "
        f"{teacher['n_train_clips']} | "
        f"{_pct([teacher['validate']['accuracy']])} | "
        f"{_pct([teacher['test']['accuracy']])} | |",
    ]
    rows = [["teacher", "", teacher["params"], teacher["n_train_clips"]]]
    rows[0] += [teacher["validate"]["accuracy"], teacher["test"]["accuracy"]]
    for method, runs in students.items():
        seeds = sorted(runs)
        valid = [runs[s]["validate"]["accuracy"] for s in seeds]
        test = [runs[s]["test"]["accuracy"] for s in seeds]
        gain = ""
        if method != "baseline" and set(seeds) <= set(base):
            diffs = [test[i] - base[s]["test"]["accuracy"] for i, s in
                     enumerate(seeds)]  # fmt: skip
            wins = sum(d > 0 for d in diffs)
            gain = f"{100 * statistics.mean(diffs):+.1f} ({wins}/{len(diffs)})"
        first = runs[seeds[0]]
        lines.append(
            f"| {method} | {first['params']:,} | {first['n_train_clips']} | "
            f"{_pct(valid)} | {_pct(test)} | {gain} |"
        )
        for s in seeds:
            r = runs[s]
            rows.append([method, s, r["params"], r["n_train_clips"]])
            rows[-1] += [r["validate"]["accuracy"], r["test"]["accuracy"]]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        ["model", "seed", "params", "train_clips", "validate_acc", "test_acc"]
    )
    writer.writerows(rows)
    data = {"data": data_label, "teacher": teacher, "students": students}
    return {
        "md": "\n".join(lines) + "\n",
        "csv": buf.getvalue(),
        "json": json.dumps(data, indent=2, sort_keys=True),
    }


def run_comparison(spec, script, records, jobs=2, threads=1, **kw):
    """Runs (or reuses) every job of a comparison; writes its table.

    Arguments
    ---------
    spec : dict
        From :func:`load_spec`.
    script : str or Path
        The recipe's ``train.py``.
    records : str or Path
        Where ``comparison.{md,csv,json}`` go.
    jobs : int
        Runs at a time.
    threads : int
        CPU threads per run.
    **kw
        ``output_root``, ``data_folder``, ``extra`` (see :func:`make_jobs`).

    Returns
    -------
    dict
        The table's texts (:func:`comparison_table`).
    """
    kw.setdefault("output_root", spec["output_root"])
    teacher, students = make_jobs(spec, script, threads=threads, **kw)
    pool = LocalPool(run_job, jobs)
    first = [j for j in students if j["method"] == "baseline"]
    rest = [j for j in students if j["method"] != "baseline"]
    done = pool.map([teacher, *first])
    done += pool.map(rest)
    results = {}
    for job, metrics in zip(first + rest, done[1:], strict=True):
        results.setdefault(job["method"], {})[job["seed"]] = metrics
    out = comparison_table(done[0], results, done[0].get("data", "?"))
    records = Path(records)
    records.mkdir(parents=True, exist_ok=True)
    for ext, text in out.items():
        atomic_write_text(records / f"comparison.{ext}", text)
    logger.info("Table written to %s/comparison.md", records)
    return out


def main(argv, recipe, description=None):
    """The command line of a recipe's ``compare.py``.

    Arguments
    ---------
    argv : list of str
        Arguments; those after ``--`` go to every run.
    recipe : str or Path
        The recipe folder (its ``train.py``, default spec ``compare.yaml``).
    description : str, optional
        The ``--help`` text.

    Returns
    -------
    dict
        The table's texts.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    recipe = Path(recipe)
    argv, extra = split_extra(argv)
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--spec", default=str(recipe / "compare.yaml"))
    parser.add_argument("--data_folder", default="")
    parser.add_argument("--output_root", default=None)
    parser.add_argument("--records", default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    spec = load_spec(args.spec)
    stop_on_sigterm()
    out = run_comparison(
        spec,
        recipe / "train.py",
        args.records or recipe / spec["records"],
        jobs=args.jobs,
        threads=args.threads,
        output_root=args.output_root or spec["output_root"],
        data_folder=args.data_folder,
        extra=extra,
    )
    print(out["md"])
    return out
