"""Running a study's jobs: train.py processes, one reuse rule.

:func:`run_job` runs one job unless its record exists. A run folder that
holds another job's run (its stamp has another key) is never resumed or
reported as this job's: it is set aside, with what differs named.
:func:`launch` starts a run as a child process that stops with the
runner (SIGTERM included).

Authors
 * speechbrain-iusp developers 2026
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from speechbrain_iusp.runs import RunFolder
from speechbrain_iusp.runtime import die_with_parent
from speechbrain_iusp.study.records import (
    record_ok,
    run_folder,
    write_record,
)
from speechbrain_iusp.study.teachers import build_ensemble_run

logger = logging.getLogger("study")

_children = set()
_children_lock = threading.RLock()
_stopping = threading.Event()


def train_command(script, hparams, overrides, extra, output_root):
    """The train.py command of one run (``--key=value`` overrides).

    Arguments
    ---------
    script : str
        The recipe's ``train.py``; ``hparams`` is relative to its folder.
    hparams : str
        E.g. ``hparams/iusp.yaml``.
    overrides : dict
        hparams overrides.
    extra : list of str
        Further arguments (run options).
    output_root : str
        The runs' root.

    Returns
    -------
    list of str

    Example
    -------
    >>> cmd = train_command("/r/train.py", "hparams/kd.yaml", {"seed": 1},
    ...                     ["--debug"], "/out")
    >>> cmd[1:3]
    ['/r/train.py', '/r/hparams/kd.yaml']
    >>> cmd[3:]
    ['--output_root=/out', '--seed=1', '--debug']
    """
    script = Path(script)
    cmd = [sys.executable, str(script), str(script.parent / hparams)]
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


def split_extra(argv):
    """Split a command line at ``--``: (own arguments, forwarded ones)."""
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, []


def settings_diff(run, job):
    """What differs between a finished run and a job, as text (or "").

    Arguments
    ---------
    run : RunFolder
        A run folder (its ``run_info.json`` is read).
    job : dict
        A job (``hparams``, ``overrides``).

    Returns
    -------
    str
        E.g. ``"sp_weight: 30.0 there, 300.0 now"``.
    """
    info = run.info()
    if not info:
        return "no run_info.json there"
    there = yaml.safe_load(info.get("overrides") or "") or {}
    skip = {"output_root", "data_folder", "teacher_folder"}
    now = {k: v for k, v in job["overrides"].items() if k not in skip}
    diffs = [
        f"{key}: {there.get(key, '(default)')} there, "
        f"{now.get(key, '(default)')} now"
        for key in sorted((set(now) | set(there)) - skip)
        if str(now.get(key)) != str(there.get(key))
    ]
    hparams = Path(info.get("hparams_file", "")).name
    if hparams != Path(job["hparams"]).name:
        diffs.insert(0, f"hparams file: {hparams} there, {job['hparams']} now")
    return "; ".join(diffs)


def set_aside(run, why):
    """Moves a run folder that is not the job's run out of its way.

    Arguments
    ---------
    run : RunFolder
        The folder (it must exist).
    why : str
        What differs, for the log.
    """
    aside = run.path.with_name(f"{run.path.name}.stale-{int(time.time())}")
    logger.warning(
        "%s is not this job's run: moved to %s (%s)", run.path, aside, why
    )
    run.path.rename(aside)


def run_job(job):
    """Run one train.py job unless its record exists; its validate score.

    A job is a JSON-able dict (so that an Optuna worker on another machine
    can run it): ``name``, ``script`` (the recipe's ``train.py``),
    ``hparams``, ``overrides``, ``extra``, ``output_root``, ``record``
    (path of its record), ``key`` (the digest of everything that determines
    the run) and ``need_folder`` (run it again if its run folder is gone,
    e.g. the teacher, whose checkpoint the students need).

    The one reuse rule: a job's record with its key is its result; its run
    folder is resumed only if stamped with its key. A folder made for other
    settings, or outside the runner, is set aside (never resumed or
    reported as this job's), with what differs in the log.
    """
    overrides = job["overrides"]
    root = Path(job["output_root"])
    run = RunFolder(run_folder(job))
    folder = run.path
    saved = record_ok(job)
    if (
        saved is not None
        and saved.get("folder") == str(folder)
        and run.finished
        and run.key() is None
    ):
        run.write_key(job["key"])  # its record says this folder made it
    if folder.exists() and run.key() != job["key"]:
        set_aside(run, settings_diff(run, job) or "made for other settings")
    done = run.finished
    if saved is not None and (done or not job.get("need_folder")):
        return saved["validate"]["coarse"]["micro_auprc"]
    run.write_key(job["key"])
    if not done and job.get("members"):
        build_ensemble_run(
            job["members"],
            folder,
            overrides["data_folder"],
            Path(job["script"]).parent / "hparams" / "teacher.yaml",
        )
    elif not done:
        extra = list(job["extra"])
        if not any(e.startswith("--precision") for e in extra):
            # the recipe's precision: auto depends on the CPU; the study's
            # runs must not (its records were all made in fp32)
            extra.append("--precision=fp32")
        cmd = train_command(
            job["script"], job["hparams"], overrides, extra, root
        )
        log = root / "logs" / f"{job['name'].replace('/', '_')}.log"
        launch(cmd, log, job.get("threads"))
    return write_record(job, folder)["validate"]["coarse"]["micro_auprc"]
