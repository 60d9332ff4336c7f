"""The study's command line, for a recipe's thin ``study.py``.

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import logging
from pathlib import Path

from speechbrain_iusp.study.experiment import (
    Study,
    load_spec,
    report,
    similarity_figure,
)
from speechbrain_iusp.study.pool import OptunaPool, work
from speechbrain_iusp.study.runner import run_job, split_extra, stop_on_sigterm

logger = logging.getLogger("study")


def parse_args(argv, recipe, description=None):
    """The study's command line.

    Arguments
    ---------
    argv : list of str
        Arguments; those after ``--`` go to every run.
    recipe : str
        The recipe folder (default spec ``study.yaml`` and records
        ``study_results/`` in it).
    description : str, optional
        The ``--help`` text.

    Returns
    -------
    args : argparse.Namespace
    extra : list of str
    """
    recipe = Path(recipe)
    argv, extra = split_extra(argv)
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "command", nargs="?", default="run", choices=["run", "worker"]
    )
    parser.add_argument("--spec", default=str(recipe / "study.yaml"))
    parser.add_argument(
        "--stages",
        nargs="+",
        default=["teacher", "tune", "final", "report"],
        choices=["teacher", "tune", "final", "report"],
    )
    parser.add_argument(
        "--output_root",
        default=None,
        help="the runs' root (default: the spec's output_root)",
    )
    parser.add_argument(
        "--records",
        default=None,
        help="folder of the run records (keep it: finished runs are "
        "reused; default: the spec's records)",
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
    if not Path(args.spec).is_file() and (recipe / args.spec).is_file():
        args.spec = str(recipe / args.spec)
    if args.data_label is None:
        args.data_label = (
            f"data in {args.data_folder}"
            if args.data_folder
            else "the generated corpus (synthetic, NOT SONYC-UST)"
        )
    return args, extra


def main(argv, recipe, description=None):
    """Run the study's stages, or an Optuna worker.

    Arguments
    ---------
    argv : list of str
        The command line (see :func:`parse_args`).
    recipe : str
        The recipe folder (its ``train.py`` and ``hparams/``).
    description : str, optional
        The ``--help`` text.

    Returns
    -------
    Study or None
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args, extra = parse_args(argv, recipe, description)
    if args.command == "worker":
        if not args.storage:
            raise SystemExit("worker: give --storage, the study's Optuna URL")
        pool = OptunaPool(run_job, args.storage, args.study_name, jobs=0)
        done = work(pool.study, run_job, idle_exit=False)
        logger.info("worker ran %d jobs", done)
        return None
    spec = load_spec(args.spec)
    # the spec's own places unless the command line gives others
    args.output_root = args.output_root or spec["output_root"]
    args.records = args.records or str(Path(recipe) / spec["records"])
    stop_on_sigterm()
    study = Study(args, spec, extra, recipe)
    study.corpus()
    study.teacher(train=bool({"teacher", "tune", "final"} & set(args.stages)))
    tuning = study._read("tuning.json")
    if "tune" in args.stages:
        tuning = study.tuning()
    if "final" in args.stages:
        tuned = set(spec["tuning"].get("grids", {}))
        tuned |= set(spec["combinations"])
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
