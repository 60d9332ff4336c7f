#!/usr/bin/env python3
"""The comparison: the teacher against its students over three seeds.

Trains the ECAPA-TDNN teacher once (next to the baselines, which need no
teacher), then the KD, SP and IUSP students, each with seeds 1-3, two runs
at a time on one thread each, and writes ``comparison.md``, ``.csv`` and
``.json`` (test and validation accuracy, mean ± std over seeds, the gain
over the baseline) into ``results_standin/`` (``records`` in
``compare.yaml``). Finished runs are reused.

To run this recipe:
> python compare.py
> python compare.py --data_folder /path/to/ESC-50 --records results_esc50 \
      -- --n_classes=50

The machinery lives in :mod:`speechbrain_iusp.study.compare`.

Authors
 * speechbrain-iusp developers 2026
"""

import sys
from pathlib import Path

from speechbrain_iusp.study.compare import main

if __name__ == "__main__":
    main(sys.argv[1:], Path(__file__).resolve().parent, __doc__.split("\n")[0])
