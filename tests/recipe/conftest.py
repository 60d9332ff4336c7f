"""Fixtures shared by the recipe tests: where the recipe is, how to run its
scripts as a user would (a subprocess from the repository root), and the
tiny generated corpora they train on.

Authors
 * speechbrain-iusp developers 2026
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from speechbrain_iusp.demo import generate_corpus


class Recipe:
    """The DCASE2019 recipe and how the tests run it.

    Attributes
    ----------
    root : Path
        The repository root, where the scripts run by default.
    dir : Path
        The recipe folder, ``recipes/DCASE2019``.
    train : Path
        The recipe's ``train.py``.
    study : Path
        The recipe's ``study.py``.
    """

    def __init__(self, root):
        self.root = Path(root)
        self.dir = self.root / "recipes" / "DCASE2019"
        self.train = self.dir / "train.py"
        self.study = self.dir / "study.py"

    @staticmethod
    def env():
        """The environment of the scripts: one thread, unbuffered output."""
        return dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")

    def call(self, args, cwd=None, timeout=600):
        """Runs ``python ARGS`` (a script, or ``-m`` and a module) from
        ``cwd`` (default: the repository root); its return code and output
        (stdout, then stderr)."""
        proc = subprocess.run(
            [sys.executable, *map(str, args)],
            cwd=self.root if cwd is None else cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return proc.returncode, proc.stdout + proc.stderr

    def run(self, args, cwd=None, timeout=600):
        """As ``call``, asserting success; the output."""
        code, out = self.call(args, cwd, timeout)
        assert code == 0, out[-6000:]
        return out

    @staticmethod
    def processes_mentioning(text):
        """PIDs of the processes whose command line contains ``text``
        (Linux)."""
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if text.encode() in cmdline:
                found.append(int(proc.name))
        return found


@pytest.fixture(scope="session")
def recipe():
    """The recipe's paths and the subprocess helpers (a ``Recipe``)."""
    return Recipe(Path(__file__).resolve().parents[2])


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """``tiny_corpus(seed)``: the folder of a tiny generated corpus (8 clips
    per split), made once per seed and session. Shared: a test that breaks
    a corpus breaks a copy of it."""
    made = {}

    def make(seed):
        if seed not in made:
            folder = tmp_path_factory.mktemp(f"corpus_seed{seed}") / "sonyc"
            generate_corpus(folder, size="tiny", seed=seed, workers=1)
            made[seed] = folder
        return made[seed]

    return make
