"""Training runs as files and processes.

* :mod:`.folder`: :class:`RunFolder`, the one reader and writer of a run's
  files (metrics, run info, predictions, manifests, the model folder), and
  :func:`eval_digest`, the provenance of its evaluation splits;
* :mod:`.teacher`: :class:`TeacherRun`, a student run's teacher run, found,
  checked and trained when missing;
* :mod:`.launch`: :func:`run_recipe`, the start of a recipe's run
  (arguments, DDP, hparams with their base, precision, the folder lock);
* :mod:`.hparams`: hparams files with a base (per-method deltas).

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.runs.folder import NotFinished, RunFolder, eval_digest
from speechbrain_iusp.runs.teacher import TeacherRun

__all__ = ["NotFinished", "RunFolder", "TeacherRun", "eval_digest"]
