"""The files of one training run, read and written in one place.

A run folder (``results/<experiment>/<seed>/``) holds:

* ``hyperparams.yaml`` (the resolved hparams), ``train_log.txt``,
  ``log.txt``, ``env.log`` (SpeechBrain's);
* ``save/``: the checkpoints and the data manifests (``train.json``,
  ``valid.json``, ``test.json``);
* ``run_info.json``: what the run was made from (data folder, hparams file,
  overrides, precision) and ``eval_splits``, the digest of its validate and
  test splits, which says whose teacher it can be;
* ``predictions_validate.csv``, ``predictions_test.csv``: the official
  prediction format;
* ``metrics.json``: the official metrics; written last, so it marks the run
  as finished;
* ``model/``: the self-contained model folder
  (:mod:`speechbrain_iusp.export`);
* ``study_key.txt``: in a study's runs, the key of the job that made it.

Authors
 * speechbrain-iusp developers 2026
"""

import hashlib
import json
import os
from datetime import date
from pathlib import Path

from speechbrain_iusp.runtime import atomic_write_text

MANIFESTS = {
    "train": "train.json",
    "validate": "valid.json",
    "test": "test.json",
}
"""The manifest file of each split, in ``save/``."""

EVAL_SPLITS = ("validate", "test")


def eval_digest(manifests):
    """Digest of the evaluation splits: their clips and their targets.

    Two runs with the same digest were selected and scored on the same
    validate and test clips with the same ground truth, wherever their data
    folders are and whatever their train splits hold.

    Arguments
    ---------
    manifests : dict
        Split name -> path of its SpeechBrain JSON manifest (``validate``
        and ``test`` are read).

    Returns
    -------
    str
        16 hex characters.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> entry = {"audio_filename": "a.wav", "coarse": [1, 0], "fine": [0]}
    >>> for name in ("v.json", "t.json"):
    ...     _ = (tmp / name).write_text(json.dumps({"a": entry}), "utf-8")
    >>> split = {"validate": tmp / "v.json", "test": tmp / "t.json"}
    >>> len(eval_digest(split))
    16
    """
    rows = {}
    for split in EVAL_SPLITS:
        with open(manifests[split]) as fin:
            entries = json.load(fin).values()
        rows[split] = sorted(
            [e["audio_filename"], e.get("coarse"), e.get("fine")]
            for e in entries
        )
    text = json.dumps(rows, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class NotFinished(FileNotFoundError):
    """A run folder without ``metrics.json``; the message says what to do."""


class RunFolder(os.PathLike):
    """One run's folder: the one reader and writer of its files.

    Arguments
    ---------
    path : str or Path
        The run folder (it need not exist yet).

    Example
    -------
    >>> run = RunFolder(getfixture("tmpdir") / "iusp_small" / "1234")
    >>> run.finished
    False
    >>> run.write_info(data_folder="/data", eval_splits="0123456789abcdef")
    >>> run.info()["data_folder"], run.eval_digest()
    ('/data', '0123456789abcdef')
    >>> run.write_metrics({"validate": {}})
    >>> run.finished, run.metrics()
    (True, {'validate': {}})
    """

    def __init__(self, path):
        self.path = Path(path)

    def __fspath__(self):
        return str(self.path)

    def __repr__(self):
        return f"RunFolder({str(self.path)!r})"

    @property
    def save(self):
        """The checkpoints and manifests folder."""
        return self.path / "save"

    @property
    def model(self):
        """The model folder (``model/``)."""
        return self.path / "model"

    @property
    def metrics_path(self):
        """``metrics.json``."""
        return self.path / "metrics.json"

    @property
    def info_path(self):
        """``run_info.json``."""
        return self.path / "run_info.json"

    def predictions_path(self, split):
        """The official prediction CSV of a split."""
        return self.path / f"predictions_{split}.csv"

    def manifest_path(self, split):
        """The data manifest of a split, in ``save/``."""
        return self.save / MANIFESTS[split]

    @property
    def hparams_path(self):
        """``hyperparams.yaml``: the run's hparams, resolved."""
        return self.path / "hyperparams.yaml"

    def write_hparams(self, text, source):
        """Writes the run's resolved hparams (as SpeechBrain does).

        Arguments
        ---------
        text : str
            The resolved YAML.
        source : str
            The hparams file it came from (named in the header).
        """
        self.path.mkdir(parents=True, exist_ok=True)
        header = (
            f"# Generated {date.today()} from:\n"
            f"# {os.path.abspath(source)}\n# yamllint disable\n"
        )
        atomic_write_text(self.hparams_path, header + text)

    @property
    def key_path(self):
        """``study_key.txt``: the key of the study job that made the run."""
        return self.path / "study_key.txt"

    def key(self):
        """The key of the job that made the run, or None."""
        if not self.key_path.is_file():
            return None
        return self.key_path.read_text().strip()

    def write_key(self, key):
        """Stamps the run with the key of the job that makes it."""
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.key_path, key)

    @property
    def finished(self):
        """True once the run wrote its metrics (its last step)."""
        return self.metrics_path.is_file()

    def metrics(self):
        """The run's metrics; :class:`NotFinished` when it has none.

        Returns
        -------
        dict
        """
        if not self.finished:
            raise NotFinished(
                f"{self.path} is not a finished run (no metrics.json): run "
                "it to its end (the same command resumes it), or give the "
                "folder of a run that completed, e.g. results/iusp_small/1234"
            )
        return _read_json(self.metrics_path)

    def write_metrics(self, metrics):
        """Writes ``metrics.json`` (atomically; it marks the run finished).

        Arguments
        ---------
        metrics : dict
        """
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.metrics_path, json.dumps(metrics, indent=2))

    def info(self):
        """``run_info.json`` as a dict (empty when the run has none)."""
        if not self.info_path.is_file():
            return {}
        return _read_json(self.info_path)

    def write_info(self, **fields):
        """Writes ``run_info.json`` with these fields (others are kept).

        Arguments
        ---------
        **fields
            E.g. ``data_folder``, ``hparams_file``, ``overrides``,
            ``precision``, ``eval_splits``.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        info = {**self.info(), **fields}
        atomic_write_text(self.info_path, json.dumps(info, indent=2))

    def eval_digest(self):
        """The digest of the run's validate and test splits, or None.

        From ``run_info.json``; a run that did not record it gets it from
        its own manifests in ``save/``.

        Returns
        -------
        str or None
        """
        digest = self.info().get("eval_splits")
        if digest is None and all(
            self.manifest_path(s).is_file() for s in EVAL_SPLITS
        ):
            digest = eval_digest({s: self.manifest_path(s) for s in MANIFESTS})
        return digest

    def manifest(self, split):
        """The data manifest of a split (id -> entry).

        Returns
        -------
        dict
        """
        return _read_json(self.manifest_path(split))

    def predictions(self, split, taxonomy=None):
        """The run's prediction CSV of a split.

        Returns
        -------
        names, fine, coarse
            As :func:`speechbrain_iusp.sonyc.read_predictions`.
        """
        from speechbrain_iusp.sonyc import Taxonomy, read_predictions

        return read_predictions(
            self.predictions_path(split), taxonomy or Taxonomy()
        )

    def coarse_scores(self, split="test"):
        """Coarse targets and predicted scores of a split, by file name.

        Returns
        -------
        y_true : numpy.ndarray
            ``[N, C]`` coarse targets of the clips, sorted by file name.
        scores : numpy.ndarray
            ``[N, C]`` the run's coarse scores of the same clips.
        """
        import numpy as np

        truth = {
            v["audio_filename"]: v["coarse"]
            for v in self.manifest(split).values()
        }
        files, _, scores = self.predictions(split)
        order = np.argsort(files)
        return np.array([truth[files[i]] for i in order]), scores[order]

    def write_predictions(self, split, names, scores, labels, taxonomy=None):
        """Writes the official prediction CSV of a split.

        Arguments
        ---------
        split : str
            ``validate`` or ``test``.
        names : list of str
            One audio file name per row.
        scores : array-like
            ``[N, len(labels)]`` probabilities.
        labels : list of str
            The columns of ``scores``.
        taxonomy : Taxonomy, optional
        """
        from speechbrain_iusp.sonyc import write_predictions_csv

        self.path.mkdir(parents=True, exist_ok=True)
        write_predictions_csv(
            self.predictions_path(split), names, scores, labels, taxonomy
        )


def _read_json(path):
    """A JSON file, or a ValueError naming it."""
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{path}: not readable JSON ({err}); the run that wrote it was "
            "probably killed while writing: run it again"
        ) from err
