#!/usr/bin/env python3
"""The IUSP study: does IUSP beat SP, at which sizes and taps, by how much?

Stages (``--stages``, all by default), as set in ``study.yaml``:

1. ``teacher``: train the teacher candidates; the best on validate teaches
   every student;
2. ``tune``: validate-only tuning of each method on one size and seed; a
   weight at the edge of its grid is extended until it is inside;
3. ``final``: every size x method x seed with the tuned settings;
4. ``report``: ``study.md``/``study.csv`` (test micro/macro-AUPRC mean ± std,
   params, MACs, paired bootstrap intervals over seeds and clips, the
   paper's relative improvement), ``auprc_vs_params.png``,
   ``per_class.md``, and ``similarity.png`` (teacher and student T x T
   frame similarities on test clips, before and after IUSP).

Finished runs are reused: each run leaves a record (its metrics and test
scores, keyed by its settings, the corpus and the teacher) in ``--records``,
a folder meant to be kept (the recipe keeps the study's in git), so a study
that takes days continues where it stopped, in a later call or on
another machine. Runs whose teacher or corpus changed are not reused.

Runs execute in a local pool (``--jobs``) or, with ``--storage``, as
enqueued trials of an Optuna study that workers on other machines join:
> python study.py --storage sqlite:///results/study/optuna.db --jobs 2
> python study.py worker --storage <same URL>    # on any other machine
(workers need the same paths: a shared file system on a cluster).

The quick comparison of the recipe README is a study too, with its own
definition and records:
> python study.py --spec compare.yaml --records results/comparison/records \
      --output_root results/comparison --jobs 2

To run this recipe:
> python study.py --jobs 2 --threads 1

The machinery lives in :mod:`speechbrain_iusp.study` (runner, records,
teachers, report); this script only names the recipe.

Authors
 * speechbrain-iusp developers 2026
"""

import sys
from pathlib import Path

from speechbrain_iusp.study.cli import main

if __name__ == "__main__":
    main(sys.argv[1:], Path(__file__).resolve().parent, __doc__.split("\n")[0])
