"""A student run's teacher run: found, checked, and trained when missing.

The teacher of a student run is another run of the recipe, in its own run
folder. :class:`TeacherRun` is the one place that decides whether it is
ready (it finished), whether it fits the student (the same validate and
test splits, by :func:`~speechbrain_iusp.runs.folder.eval_digest`), and
trains or resumes it with a given command, one process at a time.

Authors
 * speechbrain-iusp developers 2026
"""

import logging
import subprocess
import sys
from pathlib import Path

import speechbrain as sb
from speechbrain.utils.distributed import if_main_process

from speechbrain_iusp.runs.folder import RunFolder
from speechbrain_iusp.runtime import die_with_parent, folder_lock

logger = logging.getLogger(__name__)

FORWARDED_RUN_OPTS = ("--device", "--precision", "--eval_precision")
FORWARDED_FLAGS = ("--debug", "--debug_persistently", "--noprogressbar")


def forwarded_options(argv):
    """The SpeechBrain run options of a command that its teacher shares.

    Arguments
    ---------
    argv : list of str
        The student's command line.

    Returns
    -------
    list of str

    Example
    -------
    >>> forwarded_options(["x.yaml", "--device", "cpu", "--seed=3", "--debug"])
    ['--device', 'cpu', '--debug']
    """
    out = []
    for i, arg in enumerate(argv):
        key = arg.split("=", 1)[0]
        if key in FORWARDED_FLAGS:
            out.append(arg)
        elif key in FORWARDED_RUN_OPTS:
            if "=" in arg:
                out.append(arg)
            elif i + 1 < len(argv):
                out += [arg, argv[i + 1]]
    return out


def teacher_command(script, hparams, argv):
    """The command that trains (or resumes) a student run's teacher.

    The teacher is a run of the same recipe script with the student's
    ``teacher_hparams_file``, ``teacher_folder`` and ``teacher_seed``, on
    the student's data (and generated corpus folder, when the recipe has
    one), with the student's run options.

    Arguments
    ---------
    script : str
        The recipe's ``train.py``.
    hparams : dict
        The student's hparams, ``data_folder`` resolved; a relative
        ``teacher_hparams_file`` is found from the cwd or the script's
        folder.
    argv : list of str
        The student's command line.

    Returns
    -------
    list of str
    """
    script = Path(script).resolve()
    hparams_file = Path(hparams["teacher_hparams_file"])
    if not hparams_file.is_file():
        hparams_file = script.parent / hparams_file
    cmd = [
        sys.executable,
        str(script),
        str(hparams_file),
        f"--data_folder={hparams['data_folder']}",
    ]
    if "generated_corpus_folder" in hparams:
        cmd.append(
            f"--generated_corpus_folder={hparams['generated_corpus_folder']}"
        )
    cmd += [
        f"--output_root={hparams['output_root']}",
        f"--output_folder={hparams['teacher_folder']}",
        f"--seed={hparams['teacher_seed']}",
    ]
    return cmd + forwarded_options(argv)


def run_child(cmd):
    """Runs a command to its end; it is stopped if this process dies.

    Arguments
    ---------
    cmd : list of str
    """
    with subprocess.Popen(cmd, preexec_fn=die_with_parent) as proc:
        try:
            code = proc.wait()
        except BaseException:  # KeyboardInterrupt, SystemExit: stop it too
            proc.terminate()
            proc.wait()
            raise
    if code != 0:
        raise subprocess.CalledProcessError(code, cmd)


class TeacherRun:
    """The teacher run of a student run.

    Arguments
    ---------
    folder : str or Path
        The teacher's run folder.
    command : list of str, optional
        The command that trains (or resumes) it; None: it must exist.

    Example
    -------
    >>> teacher = TeacherRun(getfixture("tmpdir") / "teacher" / "1234")
    >>> teacher.ready
    False
    >>> teacher.ensure()
    Traceback (most recent call last):
    ...
    FileNotFoundError: No finished teacher run in ...
    """

    def __init__(self, folder, command=None):
        self.run = RunFolder(folder)
        self.command = command

    @property
    def ready(self):
        """True when the teacher run finished."""
        return self.run.finished

    def ensure(self, launch=run_child):
        """Trains the teacher unless its run has finished.

        An interrupted teacher run is resumed by the same command, never
        used half-trained. Runs that need the same teacher at the same time
        take turns (a lock beside the teacher's folder): one trains it, the
        others wait and then use it.

        Arguments
        ---------
        launch : callable
            Runs a command to its end (default: a child process that stops
            when this one dies).
        """
        folder = self.run.path
        if if_main_process() and not self.ready:
            if self.command is None:
                raise FileNotFoundError(
                    f"No finished teacher run in {folder}: train it first, "
                    "or point --teacher_folder at a finished teacher run"
                )
            step = folder.parent / f".{folder.name}.teacher_step"
            with folder_lock(step, wait=True, what="teacher training"):
                if not self.ready:
                    logger.warning(
                        "No finished teacher run in %s: training the teacher "
                        "first: %s",
                        folder,
                        " ".join(self.command),
                    )
                    launch(self.command)
        sb.utils.distributed.ddp_barrier()

    def check_fits(self, eval_splits):
        """Refuses a teacher selected and scored on other evaluation splits.

        A teacher trained on more train clips than the student (with the
        same validate and test clips) fits; one evaluated elsewhere does
        not, since its checkpoint was chosen on other clips.

        Arguments
        ---------
        eval_splits : str
            The student's :func:`~speechbrain_iusp.runs.folder.eval_digest`.
        """
        theirs = self.run.eval_digest()
        if theirs is None or theirs == eval_splits:
            return
        info = self.run.info()
        raise RuntimeError(
            f"The teacher in {self.run.path} was trained on "
            f"{info.get('data_folder', 'other data')}, whose validate/test "
            f"splits differ from this run's (digest {theirs} there, "
            f"{eval_splits} here). Pass --output_root to keep runs on "
            "different data apart, or --teacher_folder to pick a teacher."
        )

    def load(self, model, selection_key, selection_mode="max"):
        """Loads the teacher's best checkpoint into ``model`` (frozen).

        Arguments
        ---------
        model : torch.nn.Module
            The teacher architecture.
        selection_key : str
            The checkpoint meta key that picks the best checkpoint.
        selection_mode : str
            ``"max"`` or ``"min"`` (the teacher's ``selection_mode``).

        Returns
        -------
        torch.nn.Module
        """
        from speechbrain_iusp.distill import load_teacher  # training side

        key = {f"{selection_mode}_key": selection_key}
        return load_teacher(model, self.run.save, **key)
