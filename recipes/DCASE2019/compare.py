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

import speechbrain as sb

from speechbrain_iusp.runtime import die_with_parent
from speechbrain_iusp.sonyc import Taxonomy, read_predictions
from speechbrain_iusp.study import RunScores, paired_bootstrap
from speechbrain_iusp.study.figures import plot_auprc_vs_params

RECIPE_DIR = Path(__file__).resolve().parent
TRAIN = RECIPE_DIR / "train.py"
METHODS = ("baseline", "kd", "sp", "iusp")

# Validate-only search space: override sets tried per method (weights, and
# for SP/IUSP the tapped layer; conv3 and rnn have 62 frames in every preset).
TUNING_GRID = {
    "kd": [{"kd_weight": w} for w in (0.5, 2.0)],
    "sp": [{"sp_weight": w} for w in (30.0, 300.0, 3000.0)]
    + [{"sp_weight": 300.0, "sp_tap": "conv3"}],
    "iusp": [{"iusp_weight": w} for w in (100.0, 1000.0, 10000.0)]
    + [{"iusp_weight": 1000.0, "iusp_tap": "conv3"}],
}

logger = logging.getLogger("compare")

# Running train.py processes, stopped with the runner (see stop_on_sigterm).
_children = set()
_children_lock = threading.RLock()
_stopping = threading.Event()


def run_train(hparams, overrides, extra, output_root, log_dir, threads=None):
    """Run train.py once, unless its metrics.json already exists.

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
    name = overrides["experiment_name"]
    seed = overrides["seed"]
    metrics = output_root / name / str(seed) / "metrics.json"
    if metrics.exists():
        logger.info("reusing %s", metrics.parent)
        return json.loads(metrics.read_text())
    cmd = train_command(hparams, overrides, extra, output_root)
    launch(cmd, log_dir / f"{name}_{seed}.log", threads)
    return json.loads(metrics.read_text())


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


def bracket_step(method, scores):
    """The weight to try next so that the best one is inside its grid.

    Only the weight-only trials of ``method`` count (tap variants are
    compared as they are). When the best weight is the largest (smallest)
    tried, the next one is a grid step beyond it, the step being the ratio
    of the two closest weights; otherwise the optimum is bracketed.

    Arguments
    ---------
    method : str
        ``kd``, ``sp`` or ``iusp``.
    scores : list of (dict, float)
        (overrides of a trial, validate score).

    Returns
    -------
    float or None
        The next weight, or None when the best is strictly inside.

    Example
    -------
    >>> runs = [({"sp_weight": 30.0}, 0.52), ({"sp_weight": 300.0}, 0.50)]
    >>> bracket_step("sp", runs)
    3.0
    >>> bracket_step("sp", runs + [({"sp_weight": 3.0}, 0.51)]) is None
    True
    """
    key = WEIGHT_KEYS.get(method)
    points = sorted(
        (choice[key], score) for choice, score in scores if set(choice) == {key}
    )
    if len(points) < 2:
        return None
    weights = [w for w, _ in points]
    best = max(points, key=lambda p: p[1])[0]
    if best == weights[-1]:
        return best * weights[-1] / weights[-2]
    if best == weights[0]:
        return best * weights[0] / weights[1]
    return None


def tune(args, output_root, extra, log_dir):
    """Pick each method's settings on the validate split (one seed/size).

    After the grid of ``TUNING_GRID``, a method whose best weight is an edge
    of what was tried gets one more weight beyond that edge, and so on (at
    most ``--max_extend`` times), so that the chosen weight is bracketed.

    Returns
    -------
    chosen : dict
        method -> chosen overrides.
    trials : dict
        method -> list of (overrides, validate score), with ``bracketed``.
    """

    def overrides(method, choice):
        tag = "_".join(f"{k}-{v}" for k, v in choice.items())
        return {
            "student_size": args.tune_size,
            "seed": args.tune_seed,
            **student_epochs(args),
            **choice,
            "experiment_name": f"tune_{method}_{tag}",
        }

    def score_all(pairs):
        results = run_many(
            [(f"hparams/{m}.yaml", overrides(m, c)) for m, c in pairs],
            args,
            extra,
            output_root,
            log_dir,
        )
        for (method, choice), res in zip(pairs, results, strict=True):
            score = res["validate"]["coarse"]["micro_auprc"]
            logger.info("%s %s: validate %.4f", method, choice, score)
            scores.setdefault(method, []).append((choice, score))

    scores = {}
    score_all([(m, c) for m in args.methods for c in TUNING_GRID.get(m, [])])
    for _ in range(args.max_extend):
        pending = []
        for method in scores:
            weight = bracket_step(method, scores[method])
            if weight is not None:
                pending.append((method, {WEIGHT_KEYS[method]: weight}))
        if not pending:
            break
        logger.info("extending the grids: %s", pending)
        score_all(pending)
    chosen, summary = {}, {}
    for method, runs in scores.items():
        chosen[method] = max(runs, key=lambda run: run[1])[0]
        summary[method] = {
            "trials": [{"overrides": c, "validate": s} for c, s in runs],
            "chosen": chosen[method],
            "bracketed": bracket_step(method, runs) is None,
        }
    return chosen, summary


def run_many(jobs, args, extra, output_root, log_dir):
    """Run (hparams, overrides) jobs, ``args.jobs`` at a time."""
    threads = args.threads if args.jobs > 1 else None

    def one(job):
        return run_train(*job, extra, output_root, log_dir, threads)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        return list(pool.map(one, jobs))


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


def relative_improvement(cells, size):
    """(AUPRC_IUSP - AUPRC_SP) / (AUPRC_SP - AUPRC_baseline), test micro."""
    try:
        base = cells[(size, "baseline")]["test_coarse_micro_auprc"][0]
        sp = cells[(size, "sp")]["test_coarse_micro_auprc"][0]
        iusp = cells[(size, "iusp")]["test_coarse_micro_auprc"][0]
    except KeyError:
        return None
    if sp == base:
        return None
    return (iusp - sp) / (sp - base)


def write_table(cells, boots, teacher, args, output_root, wall):
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
    lines += ["", "Relative improvement (IUSP - SP) / (SP - baseline), "]
    lines += ["test micro-AUPRC seed means:", ""]
    for size in args.sizes:
        rel = relative_improvement(cells, size)
        text = "n/a" if rel is None else f"{100 * rel:.1f}%"
        lines.append(f"- {size}: {text}")
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
    chosen, tuning = {}, {}
    if args.tune:
        chosen, tuning = tune(args, output_root, extra, log_dir)
    (output_root / "tuning.json").write_text(json.dumps(tuning, indent=2))

    grid = [
        (size, method, seed)
        for size in args.sizes
        for method in args.methods
        for seed in args.seeds
    ]
    jobs = [
        (
            f"hparams/{method}.yaml",
            {
                "student_size": size,
                "seed": seed,
                **student_epochs(args),
                "experiment_name": f"{method}_{size}",
                **chosen.get(method, {}),
            },
        )
        for size, method, seed in grid
    ]
    results = run_many(jobs, args, extra, output_root, log_dir)
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
    text = write_table(
        cells, boots, teacher, args, output_root, time.time() - start
    )
    plot(cells, args, output_root)
    print(text)
    return cells


if __name__ == "__main__":
    main(sys.argv[1:])
