#!/usr/bin/env python3
"""Comparison runner: baseline, KD, SP and IUSP students at several sizes.

It trains the teacher once, optionally tunes each method's loss weight and
tapped layer on the validate split (one seed, one size), then trains every
student size x method x seed, reusing runs that already finished. It writes
``comparison.md``, ``comparison.csv`` and ``comparison.png`` with test
micro/macro-AUPRC as mean and standard deviation over the seeds, parameters,
MACs, the IUSP paper's relative improvement
``(AUPRC_IUSP - AUPRC_SP) / (AUPRC_SP - AUPRC_baseline)`` per size, and paired
bootstrap confidence intervals over the test clips.

To run this recipe, do the following:
> python compare.py --sizes tiny small --seeds 1 2 3 --tune
Arguments after ``--`` are passed to every student run, e.g.
> python compare.py -- --device cuda
The teacher is the one a student run of the recipe would train
(``train.teacher_command``): it gets the run options among them
(``--device``, ``--precision``, ``--debug`` ...), not hparams overrides.
``--student_epochs N`` sets the epochs of the student runs.

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import csv
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import train
import yaml
from hyperpyyaml import resolve_references

import speechbrain as sb

from speechbrain_iusp.runtime import die_with_parent
from speechbrain_iusp.sonyc import Taxonomy, read_predictions
from speechbrain_iusp.study import (
    RunScores,
    paired_bootstrap,
    relative_improvement,
    relative_improvement_bootstrap,
    tuning,
)
from speechbrain_iusp.study.figures import plot_auprc_vs_params
from speechbrain_iusp.study.pool import LocalPool

RECIPE_DIR = Path(__file__).resolve().parent
TRAIN = RECIPE_DIR / "train.py"
METHODS = ("baseline", "kd", "sp", "iusp")

# Validate-only search space, around each method's hparams defaults: the
# weight times these factors, and for SP/IUSP the default tap and the other
# 62-frame tap (conv3 and rnn have 62 frames in every preset).
WEIGHT_FACTORS = {"kd": (0.25, 1.0, 4.0), "sp": (0.1, 1.0, 10.0)}
WEIGHT_FACTORS["iusp"] = WEIGHT_FACTORS["sp"]
OTHER_TAP = {"rnn": "conv3", "conv3": "rnn"}

logger = logging.getLogger("compare")

# Running train.py processes, stopped with the runner (see stop_on_sigterm).
_children = set()
_children_lock = threading.RLock()
_stopping = threading.Event()


def run_train(hparams, overrides, extra, output_root, log_dir, threads=None):
    """Run train.py once, unless it finished with the same settings.

    A finished run (its ``metrics.json`` exists) is reused only when its
    ``run_info.json`` records the same hparams file and overrides (and the
    same ``--precision`` when one is given); otherwise this stops with the
    folder, the settings that differ and the fix, rather than mixing runs
    of other settings (e.g. other tuned weights) into the table.

    Arguments
    ---------
    hparams : str
        Hyperparameter file, relative to the recipe folder.
    overrides : dict
        ``--key value`` overrides for this run.
    extra : list of str
        Arguments forwarded to every run.
    output_root : Path
        Root of all the runs of the comparison.
    log_dir : Path
        Where the run's stdout/stderr are kept.
    threads : int or None
        CPU threads of the run (OMP_NUM_THREADS); None keeps the default.

    Returns
    -------
    dict
        The run's metrics.json.
    """
    finished = reusable_metrics(hparams, overrides, extra, output_root)
    if finished is not None:
        logger.info("reusing %s", finished.parent)
        return json.loads(finished.read_text())
    cmd = train_command(hparams, overrides, extra, output_root)
    name, seed = overrides["experiment_name"], overrides["seed"]
    launch(cmd, log_dir / f"{name}_{seed}.log", threads)
    return json.loads(
        (run_folder(output_root, overrides) / "metrics.json").read_text()
    )


def run_folder(output_root, overrides):
    """The folder of one run: ``<output_root>/<experiment_name>/<seed>``."""
    return output_root / overrides["experiment_name"] / str(overrides["seed"])


def reusable_metrics(hparams, overrides, extra, output_root):
    """The ``metrics.json`` of a finished run with these settings, or None.

    Raises (:func:`check_reusable`) when the run finished with other
    settings.
    """
    folder = run_folder(output_root, overrides)
    if not (folder / "metrics.json").exists():
        return None
    check_reusable(
        folder, train_command(hparams, overrides, extra, output_root)
    )
    return folder / "metrics.json"


def check_reusable(folder, cmd):
    """Raises unless a finished run was made by the same settings as ``cmd``.

    Arguments
    ---------
    folder : Path
        The finished run's folder (with ``run_info.json``).
    cmd : list of str
        The ``train.py`` command this comparison would run there.

    Raises
    ------
    RuntimeError
        Naming the folder, what differs and the fix.
    """
    hparams_file, run_opts, overrides = sb.parse_arguments(cmd[2:])
    info_path = train.run_info_path(folder)
    fix = f"use a new --output_root, or delete {folder} to train it again"
    if not info_path.is_file():
        raise RuntimeError(
            f"{folder} holds a finished run without run_info.json, so its "
            f"settings cannot be checked: {fix}"
        )
    info = json.loads(info_path.read_text())
    want = yaml.safe_load(overrides or "") or {}
    got = yaml.safe_load(info.get("overrides") or "") or {}
    diffs = [
        f"{key}: {got.get(key, '(default)')} there, "
        f"{want.get(key, '(default)')} now"
        for key in sorted((set(want) | set(got)) - {"output_root"})
        if want.get(key) != got.get(key)
    ]
    there = info.get("hparams_file", "")
    if Path(there).name != Path(hparams_file).name:
        diffs.insert(0, f"hparams file: {there} there, {hparams_file} now")
    given = getattr(run_opts, "overridden_args", run_opts)
    precision = run_opts["precision"] if "precision" in given else None
    if precision is not None and info.get("precision") != precision:
        diffs.append(
            f"precision: {info.get('precision')} there, {precision} now"
        )
    if diffs:
        raise RuntimeError(
            f"{folder} finished with other settings than this comparison "
            f"asks for ({'; '.join(diffs)}): {fix}"
        )


def train_command(hparams, overrides, extra, output_root):
    """The train.py command of one run (``--key=value`` overrides)."""
    cmd = [sys.executable, str(TRAIN), str(RECIPE_DIR / hparams)]
    cmd += [f"--output_root={output_root}"]
    cmd += [f"--{k}={v}" for k, v in overrides.items()]
    return cmd + list(extra)


def launch(cmd, log_file, threads=None):
    """Run a command to its end, stopped with the runner (SIGTERM).

    Arguments
    ---------
    cmd : list of str
        The command.
    log_file : Path
        Where its stdout/stderr are kept.
    threads : int or None
        CPU threads (OMP_NUM_THREADS); None keeps the default.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    logger.info("running %s (log: %s)", " ".join(cmd[2:]), log_file)
    start = time.time()
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    with open(log_file, "w") as log:
        with _children_lock:
            if _stopping.is_set():
                raise RuntimeError(f"stopped before {log_file.stem}")
            proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=die_with_parent,
            )
            _children.add(proc)
        try:
            proc.wait()
        finally:
            with _children_lock:
                _children.discard(proc)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{Path(cmd[1]).name} failed ({proc.returncode}); see {log_file}"
        )
    logger.info("done in %.0f s", time.time() - start)


def ensure_teacher(output_root, extra, log_dir):
    """Train the students' teacher unless its run finished; its metrics.

    The teacher and its command are those of the recipe's automatic teacher
    step (:func:`train.teacher_command`), read from a student hparams file.

    Arguments
    ---------
    output_root : Path
        Root of all the runs of the comparison.
    extra : list of str
        Arguments forwarded to every student run.
    log_dir : Path
        Where the teacher run's output is kept.

    Returns
    -------
    dict
        The teacher run's metrics.json.
    """
    argv = ["hparams/kd.yaml", f"--output_root={output_root}", *extra]
    hparams_file, _, overrides = sb.parse_arguments(argv)
    _, hparams = train.load_hparams(hparams_file, overrides)
    hparams["data_folder"] = train.resolve_data_folder(hparams)
    train.ensure_teacher(
        hparams, argv, run=lambda cmd: launch(cmd, log_dir / "teacher.log")
    )
    folder = Path(hparams["teacher_folder"])
    return json.loads((folder / "metrics.json").read_text())


def stop_on_sigterm():
    """On SIGTERM, stop the running train.py processes, then exit.

    Without this a killed runner leaves its runs going; a re-run would then
    start a second process writing to the same experiment folder.
    """

    def handler(signum, frame):
        with _children_lock:
            _stopping.set()
            running = list(_children)
        for proc in running:
            proc.terminate()
        for proc in running:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        logger.warning(
            "stopped by signal %d; stopped %d runs", signum, len(running)
        )
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def student_epochs(args):
    """The epoch override of student runs (none: the hparams default)."""
    if args.student_epochs is None:
        return {}
    return {"number_of_epochs": args.student_epochs}


WEIGHT_KEYS = {"kd": "kd_weight", "sp": "sp_weight", "iusp": "iusp_weight"}
TAP_KEYS = {"sp": "sp_tap", "iusp": "iusp_tap"}


def hparams_values(hparams_file):
    """The top-level values of a hparams file, without building its objects.

    ``!ref`` values are resolved; tagged values (``!new:`` ...) read as None.

    Arguments
    ---------
    hparams_file : str
        E.g. ``hparams/sp.yaml`` (relative to the cwd or to this recipe).

    Returns
    -------
    dict
    """

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    with open(train.resolve_hparams_file(hparams_file)) as fin:
        text = resolve_references(fin, {}).getvalue()
    return yaml.load(text, Loader=_Loader)


def tuning_grid(method, defaults):
    """The tuning grid of a method, centred on its hparams defaults.

    The weight times :data:`WEIGHT_FACTORS`; for SP and IUSP crossed with
    the default tap and the other 62-frame tap. A grid built from the
    defaults never repeats the default run and stays centred when a study
    changes the defaults.

    Arguments
    ---------
    method : str
        ``kd``, ``sp`` or ``iusp``.
    defaults : dict
        The method's hparams values (:func:`hparams_values`).

    Returns
    -------
    dict
        hparams key -> values to try (see ``speechbrain_iusp.study.tuning``).

    Example
    -------
    >>> tuning_grid("sp", {"sp_weight": 10.0, "sp_tap": "conv3"})
    {'sp_weight': [1.0, 10.0, 100.0], 'sp_tap': ['conv3', 'rnn']}
    """
    key = WEIGHT_KEYS[method]
    weight = defaults.get(key)
    if not isinstance(weight, (int, float)) or weight <= 0:
        raise ValueError(
            f"hparams/{method}.yaml: '{key}' must be a positive number to "
            f"centre the tuning grid on, got {weight!r}"
        )
    grid = {key: [float(weight * f) for f in WEIGHT_FACTORS[method]]}
    tap_key = TAP_KEYS.get(method)
    if tap_key is not None:
        tap = defaults.get(tap_key)
        if tap not in OTHER_TAP:
            raise ValueError(
                f"hparams/{method}.yaml: '{tap_key}' is {tap!r}; the tuning "
                f"grid knows the taps {sorted(OTHER_TAP)}"
            )
        grid[tap_key] = [tap, OTHER_TAP[tap]]
    return grid


def tune(args, pool):
    """Pick each method's settings on the validate split (one seed/size).

    Each method's grid (:func:`tuning_grid`) is tried; while the best weight
    is an edge of the weights tried with its tap, one more weight a grid
    step beyond is tried (at most ``--max_extend`` times), so that the
    chosen weight is bracketed (``speechbrain_iusp.study.tuning.tune``).
    The methods are tuned at the same time, sharing ``pool``.

    Arguments
    ---------
    args : argparse.Namespace
        The runner's arguments.
    pool : RunPool
        Runs the jobs, ``--jobs`` at a time.

    Returns
    -------
    chosen : dict
        method -> chosen overrides.
    summary : dict
        method -> ``trials`` (overrides, validate score), ``chosen``,
        ``weight_key`` and ``bracketed``.
    """
    methods = [m for m in args.methods if m in WEIGHT_KEYS]
    if not methods:
        return {}, {}
    grids = {
        m: tuning_grid(m, hparams_values(f"hparams/{m}.yaml")) for m in methods
    }

    def job(method, choice):
        return {
            "name": f"tune_{method}_{tag(choice)}",
            "hparams": f"hparams/{method}.yaml",
            "overrides": {
                "student_size": args.tune_size,
                "seed": args.tune_seed,
                **student_epochs(args),
                **choice,
                "experiment_name": f"tune_{method}_{tag(choice)}",
            },
        }

    pool.check(
        [job(m, c) for m in methods for c in tuning.expand_grid(grids[m])]
    )

    def score_with(method):
        def score(choices):
            results = pool.map([job(method, c) for c in choices])
            scores = [r["validate"]["coarse"]["micro_auprc"] for r in results]
            for choice, value in zip(choices, scores, strict=True):
                logger.info("%s %s: validate %.4f", method, choice, value)
            return scores

        return score

    with ThreadPoolExecutor(max_workers=len(methods)) as ex:
        futures = {
            m: ex.submit(tuning.tune, grids[m], score_with(m), args.max_extend)
            for m in methods
        }
        summary = {m: f.result() for m, f in futures.items()}
    return {m: res["chosen"] for m, res in summary.items()}, summary


def tag(choice):
    """A run-name fragment for a set of overrides."""
    return "_".join(f"{k}-{v}" for k, v in choice.items())


class RunPool(LocalPool):
    """Runs ``{"hparams", "overrides"}`` jobs (train.py), ``--jobs`` at once.

    Callable from several threads: at most ``--jobs`` runs go at a time.

    Arguments
    ---------
    args : argparse.Namespace
        The runner's arguments (``jobs``, ``threads``).
    extra : list of str
        Arguments forwarded to every run.
    output_root : Path
        Root of all the runs of the comparison.
    log_dir : Path
        Where each run's output is kept.
    """

    def __init__(self, args, extra, output_root, log_dir):
        threads = args.threads if args.jobs > 1 else None
        self.extra, self.output_root = extra, output_root

        def run(job):
            return run_train(
                job["hparams"],
                job["overrides"],
                extra,
                output_root,
                log_dir,
                threads,
            )

        super().__init__(run, jobs=args.jobs)

    def check(self, jobs):
        """Stops before any training if a finished run has other settings.

        Arguments
        ---------
        jobs : list of dict
            Jobs about to run (see :func:`check_reusable`).
        """
        for job in jobs:
            reusable_metrics(
                job["hparams"], job["overrides"], self.extra, self.output_root
            )


def load_run(output_root, name, seed):
    """Test predictions (clip order of the file) and targets of one run."""
    folder = output_root / name / str(seed)
    with open(folder / "save" / "test.json") as fin:
        manifest = json.load(fin)
    truth = {v["audio_filename"]: v["coarse"] for v in manifest.values()}
    files, _, scores = read_predictions(
        folder / "predictions_test.csv", Taxonomy()
    )
    order = np.argsort(files)
    y_true = np.array([truth[files[i]] for i in order])
    return y_true, scores[order]


def summarise(results):
    """Mean and std over seeds of the reported metrics of one cell."""
    out = {}
    for split in ("validate", "test"):
        for mode in ("coarse", "fine"):
            for key in ("micro_auprc", "macro_auprc"):
                vals = [r[split][mode][key] for r in results]
                tag = f"{split}_{mode}_{key}"
                out[tag] = (float(np.mean(vals)), float(np.std(vals)))
    out["params"] = results[0]["params"]
    out["macs"] = results[0]["macs_per_10s"]
    out["n_seeds"] = len(results)
    return out


def write_table(cells, boots, ratios, teacher, args, output_root, wall):
    """Write comparison.md and comparison.csv."""
    fields = [
        "size",
        "method",
        "params",
        "macs",
        "n_seeds",
        "test_micro_mean",
        "test_micro_std",
        "test_macro_mean",
        "test_macro_std",
        "validate_micro_mean",
        "validate_micro_std",
        "test_fine_micro_mean",
        "test_fine_micro_std",
    ]
    rows = []
    for (size, method), c in cells.items():
        rows.append(
            {
                "size": size,
                "method": method,
                "params": c["params"],
                "macs": c["macs"],
                "n_seeds": c["n_seeds"],
                "test_micro_mean": c["test_coarse_micro_auprc"][0],
                "test_micro_std": c["test_coarse_micro_auprc"][1],
                "test_macro_mean": c["test_coarse_macro_auprc"][0],
                "test_macro_std": c["test_coarse_macro_auprc"][1],
                "validate_micro_mean": c["validate_coarse_micro_auprc"][0],
                "validate_micro_std": c["validate_coarse_micro_auprc"][1],
                "test_fine_micro_mean": c["test_fine_micro_auprc"][0],
                "test_fine_micro_std": c["test_fine_micro_auprc"][1],
            }
        )
    with open(output_root / "comparison.csv", "w", newline="") as fout:
        writer = csv.DictWriter(fout, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)

    lines = [
        f"Data: {args.data_label}. Test split, coarse evaluation, mean ± std "
        f"over seeds {args.seeds}. Student epochs: "
        f"{args.student_epochs or 'the hparams default'}. "
        f"Wall time {wall / 60:.1f} min.",
        "",
        f"Teacher: {teacher['params']:,} params, test micro-AUPRC "
        f"{teacher['test']['coarse']['micro_auprc']:.4f}, validate "
        f"{teacher['validate']['coarse']['micro_auprc']:.4f}.",
        "",
        "| size | method | params | MACs/10 s | test micro-AUPRC "
        "| test macro-AUPRC | validate micro-AUPRC | test fine micro-AUPRC |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['method']} | {r['params']:,} "
            f"| {r['macs'] / 1e6:.1f} M "
            f"| {r['test_micro_mean']:.4f} ± {r['test_micro_std']:.4f} "
            f"| {r['test_macro_mean']:.4f} ± {r['test_macro_std']:.4f} "
            f"| {r['validate_micro_mean']:.4f} ± "
            f"{r['validate_micro_std']:.4f} "
            f"| {r['test_fine_micro_mean']:.4f} ± "
            f"{r['test_fine_micro_std']:.4f} |"
        )
    lines += [
        "",
        "Relative improvement r = (IUSP - SP) / (SP - baseline) of the "
        "test micro-AUPRC seed means (95% interval resampling seeds and "
        "clips; r has no meaning unless SP beats the baseline):",
        "",
    ]
    for size in args.sizes:
        lines.append(f"- {size}: {ratio_text(cells, ratios.get(size), size)}")
    if boots:
        lines += [
            "",
            "Paired bootstrap over test clips of the seed-mean micro-AUPRC "
            "difference (95% interval; p = fraction of resamples <= 0):",
            "",
            "| size | comparison | difference | 95% CI | p |",
            "|---|---|---|---|---|",
        ]
        for (size, a, b), res in boots.items():
            lines.append(
                f"| {size} | {a} - {b} | {res['diff']:+.4f} "
                f"| [{res['ci_low']:+.4f}, {res['ci_high']:+.4f}] "
                f"| {res['p_le_0']:.3f} |"
            )
    text = "\n".join(lines) + "\n"
    (output_root / "comparison.md").write_text(text)
    return text


def ratio_text(cells, res, size):
    """One size's relative improvement, as the table states it.

    The ratio comes from the seed means of ``cells``; ``res`` (the result
    of ``relative_improvement_bootstrap``, or None) adds its interval.
    """
    key = "test_coarse_micro_auprc"
    try:
        base, sp, iusp = (
            cells[(size, m)][key][0] for m in ("baseline", "sp", "iusp")
        )
    except KeyError:
        return "n/a (needs baseline, SP and IUSP)"
    ratio = relative_improvement(base, sp, iusp)
    if ratio is None:
        return (
            f"not defined: SP is not above the baseline ({sp - base:+.4f}), "
            f"so compare IUSP and SP directly"
        )
    text = f"{ratio:+.2f}"
    if res is not None and res["ci_low"] is not None:
        text += f" [{res['ci_low']:+.2f}, {res['ci_high']:+.2f}]"
    else:
        text += " (no interval)"
    share = 0.0 if res is None else res["p_sp_le_base"]
    if share > 0:
        text += (
            f"; SP is not above the baseline in {100 * share:.0f}% of resamples"
        )
    return text


def plot(cells, args, output_root):
    """AUPRC against student parameters, one line per method."""
    points = {
        method: [
            (c["params"], *c["test_coarse_micro_auprc"])
            for (size, m), c in cells.items()
            if m == method
        ]
        for method in args.methods
    }
    return plot_auprc_vs_params(
        points, output_root / "comparison.png", f"Students on {args.data_label}"
    )


def as_cell(runs):
    """seed -> (y_true, scores) of one cell, as a RunScores."""
    first = next(iter(runs.values()))[0]
    return RunScores(first, {seed: s for seed, (_, s) in runs.items()})


def split_extra(argv):
    """Split a command line at ``--``: (own arguments, forwarded ones)."""
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, []


def parse_args(argv):
    """Command line of the comparison runner."""
    argv, extra = split_extra(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["tiny", "small"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--output_root", default="results/comparison")
    parser.add_argument("--data_folder", default="")
    parser.add_argument(
        "--data_label",
        default=None,
        help="how the table names its data (default: from --data_folder)",
    )
    parser.add_argument(
        "--student_epochs",
        type=int,
        default=None,
        help="epochs of every student run (default: the hparams file's)",
    )
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--tune_size", default="tiny")
    parser.add_argument("--tune_seed", type=int, default=100)
    parser.add_argument(
        "--max_extend",
        type=int,
        default=3,
        help="extra weights tried beyond an edge of a tuning grid",
    )
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument(
        "--jobs", type=int, default=1, help="train.py runs at a time"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads of each run when --jobs > 1",
    )
    args = parser.parse_args(argv)
    for m in args.methods:
        if m not in METHODS:
            parser.error(f"unknown method '{m}'; choose from {METHODS}")
    if args.data_label is None:
        args.data_label = (
            f"data in {args.data_folder}"
            if args.data_folder
            else "the generated corpus (synthetic, NOT SONYC-UST)"
        )
    if args.data_folder:
        extra = [f"--data_folder={args.data_folder}", *extra]
    return args, extra


def main(argv):
    """Run the whole comparison and write its table and plot."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args, extra = parse_args(argv)
    stop_on_sigterm()
    output_root = Path(args.output_root).resolve()
    log_dir = output_root / "logs"
    start = time.time()

    teacher = ensure_teacher(output_root, extra, log_dir)
    pool = RunPool(args, extra, output_root, log_dir)
    chosen, tuned = {}, {}
    if args.tune:
        chosen, tuned = tune(args, pool)
    (output_root / "tuning.json").write_text(json.dumps(tuned, indent=2))

    grid = [
        (size, method, seed)
        for size in args.sizes
        for method in args.methods
        for seed in args.seeds
    ]
    jobs = [
        {
            "name": f"{method}_{size}_{seed}",
            "hparams": f"hparams/{method}.yaml",
            "overrides": {
                "student_size": size,
                "seed": seed,
                **student_epochs(args),
                "experiment_name": f"{method}_{size}",
                **chosen.get(method, {}),
            },
        }
        for size, method, seed in grid
    ]
    pool.check(jobs)
    results = pool.map(jobs)
    by_cell, runs = {}, {}
    for (size, method, seed), res in zip(grid, results, strict=True):
        by_cell.setdefault((size, method), []).append(res)
        runs.setdefault((size, method), {})[seed] = load_run(
            output_root, f"{method}_{size}", seed
        )
    cells = {key: summarise(val) for key, val in by_cell.items()}

    rng = np.random.default_rng(0)
    boots = {}
    pairs = [("iusp", "sp"), ("sp", "baseline"), ("iusp", "baseline")]
    pairs += [("kd", "baseline")]
    for size in args.sizes:
        for a, b in pairs:
            if (size, a) in runs and (size, b) in runs and args.bootstrap:
                boots[(size, a, b)] = paired_bootstrap(
                    as_cell(runs[(size, a)]),
                    as_cell(runs[(size, b)]),
                    args.bootstrap,
                    rng,
                    seeds=False,
                )
    ratios = {}
    for size in args.sizes:
        trio = [(size, m) for m in ("baseline", "sp", "iusp")]
        if args.bootstrap and all(cell in runs for cell in trio):
            ratios[size] = relative_improvement_bootstrap(
                *(as_cell(runs[cell]) for cell in trio),
                n_boot=args.bootstrap,
                rng=np.random.default_rng(0),
            )
    text = write_table(
        cells, boots, ratios, teacher, args, output_root, time.time() - start
    )
    plot(cells, args, output_root)
    print(text)
    return cells


if __name__ == "__main__":
    main(sys.argv[1:])
