"""Where a study's runs execute: a local pool, or an Optuna study's queue.

Both run *jobs*: JSON-able dicts with a unique ``"name"``, given to a
``run(job) -> float`` function (the job's validate score). The local pool
runs them in threads of this process (each job is a child process of its
own). :class:`OptunaPool` puts them in an Optuna study in shared storage (an
RDB URL such as ``sqlite:///study.db`` or a PostgreSQL/MySQL URL reachable
from every machine) as enqueued trials; workers on any machine that sees the
same storage and output folder take trials from the queue (:func:`work`),
and this process waits until every job has a finished trial.

Authors
 * speechbrain-iusp developers 2026
"""

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

logger = logging.getLogger(__name__)

__all__ = ["LocalPool", "OptunaPool", "work"]

JOB_ATTR = "job"


class LocalPool:
    """Runs jobs ``jobs`` at a time in this process.

    Arguments
    ---------
    run : callable
        ``run(job) -> float``.
    jobs : int
        Jobs at a time.

    Example
    -------
    >>> pool = LocalPool(lambda job: job["x"] * 2.0, jobs=2)
    >>> pool.map([{"name": "a", "x": 1}, {"name": "b", "x": 3}])
    [2.0, 6.0]
    """

    def __init__(self, run, jobs=1):
        self.run = run
        self.slots = threading.Semaphore(max(1, int(jobs)))
        self.jobs = max(1, int(jobs))

    def _one(self, job):
        with self.slots:
            return self.run(job)

    def map(self, jobs):
        """Run jobs (callable from several threads at once); their scores.

        Arguments
        ---------
        jobs : list of dict
            The jobs.

        Returns
        -------
        list of float
        """
        with ThreadPoolExecutor(max_workers=self.jobs) as ex:
            return list(ex.map(self._one, jobs))


def _optuna():
    try:
        import optuna
    except ImportError as err:  # pragma: no cover - optuna is a dependency
        raise ImportError(
            "the Optuna backend needs optuna: pip install optuna"
        ) from err
    return optuna


def _job_name(trial):
    job = trial.user_attrs.get(JOB_ATTR)
    return None if job is None else json.loads(job)["name"]


def work(study, run, stop=None, idle_exit=True, poll_s=5.0):
    """A worker: takes enqueued trials of ``study`` and runs their jobs.

    Arguments
    ---------
    study : optuna.Study
        The study in shared storage.
    run : callable
        ``run(job) -> float``.
    stop : threading.Event, optional
        Set to stop after the current job.
    idle_exit : bool
        Return when no trial waits (True), or keep polling (a long-lived
        cluster worker).
    poll_s : float
        Seconds between polls of an empty queue.

    Returns
    -------
    int
        Jobs run by this worker.
    """
    optuna = _optuna()
    waiting = optuna.trial.TrialState.WAITING
    done = 0
    while stop is None or not stop.is_set():
        if not study.get_trials(deepcopy=False, states=(waiting,)):
            if idle_exit:
                return done
            time.sleep(poll_s)
            continue
        trial = study.ask()  # pops an enqueued trial (atomic in the storage)
        job = trial.user_attrs.get(JOB_ATTR)
        if job is None:  # another worker took the last one
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        try:
            value = float(run(json.loads(job)))
        except Exception as err:
            trial.set_user_attr("error", repr(err)[:1000])
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            logger.error("job %s failed: %s", json.loads(job)["name"], err)
            continue
        study.tell(trial, value)
        done += 1
    return done


class OptunaPool:
    """Runs jobs as enqueued trials of an Optuna study in shared storage.

    Arguments
    ---------
    run : callable
        ``run(job) -> float`` (used by this process's own workers).
    storage : str
        Optuna storage URL, e.g. ``sqlite:///results/study/optuna.db``.
    study_name : str
        Name of the Optuna study (shared by every worker).
    jobs : int
        Workers in this process (0: only remote workers run the jobs).
    poll_s : float
        Seconds between polls while waiting for other machines' workers.

    Example
    -------
    >>> url = f"sqlite:///{getfixture('tmpdir')}/o.db"
    >>> pool = OptunaPool(lambda job: job["x"] + 0.5, url, "demo", jobs=1)
    >>> pool.map([{"name": "a", "x": 1}, {"name": "b", "x": 2}])
    [1.5, 2.5]
    """

    def __init__(self, run, storage, study_name, jobs=1, poll_s=10.0):
        optuna = _optuna()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.run = run
        self.jobs = max(0, int(jobs))
        self.poll_s = poll_s
        self.study = optuna.create_study(
            storage=storage,
            study_name=study_name,
            direction="maximize",
            load_if_exists=True,
        )
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(max(1, self.jobs))

    def _run(self, job):
        with self._slots:  # at most ``jobs`` here, however many map() calls
            return self.run(job)

    def _finished(self, names):
        """name -> value of the finished trials; raises on failed ones."""
        state = _optuna().trial.TrialState
        latest = {}
        for trial in sorted(
            self.study.get_trials(deepcopy=False), key=lambda t: t.number
        ):
            name = _job_name(trial)
            if name in names:
                latest[name] = trial
        values = {
            n: t.value for n, t in latest.items() if t.state == state.COMPLETE
        }
        failed = {
            n: t.user_attrs.get("error", "unknown error")
            for n, t in latest.items()
            if t.state == state.FAIL
        }
        return values, failed

    def map(self, jobs):
        """Enqueue the jobs that have no trial yet, work, wait; scores.

        Arguments
        ---------
        jobs : list of dict
            The jobs.

        Returns
        -------
        list of float
        """
        names = {job["name"] for job in jobs}
        state = _optuna().trial.TrialState
        with self._lock:
            queued = {
                _job_name(t)
                for t in self.study.get_trials(deepcopy=False)
                if t.state != state.FAIL
            }
            for job in jobs:
                if job["name"] not in queued:
                    self.study.enqueue_trial(
                        {}, user_attrs={JOB_ATTR: json.dumps(job)}
                    )
        workers = [
            threading.Thread(target=work, args=(self.study, self._run))
            for _ in range(self.jobs)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        while True:
            values, failed = self._finished(names)
            if failed:
                name, err = next(iter(failed.items()))
                raise RuntimeError(
                    f"job {name} failed in a worker: {err}. Fix it, then "
                    "run again: failed trials are queued again."
                )
            if len(values) == len(names):
                return [values[job["name"]] for job in jobs]
            logger.info(
                "waiting for %d jobs of other workers", len(names) - len(values)
            )
            time.sleep(self.poll_s)
