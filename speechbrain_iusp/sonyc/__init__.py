"""SONYC-UST (DCASE 2019 Task 5, urban sound tagging): data and metrics.

* :mod:`.taxonomy`: the tag taxonomy and the ``annotations.csv`` reader;
* :mod:`.targets`: train-target aggregation, verified targets, fine mask;
* :mod:`.prepare`: :func:`prepare_sonyc_ust`, the SpeechBrain manifests;
* :mod:`.dataio`: :func:`sonyc_datasets`, their datasets (audio or cached
  features, targets, fine mask);
* :mod:`.releases` and :mod:`.download`: the releases and their download;
* :mod:`.metrics`: the official metrics and :class:`AUPRCStats`;
* :mod:`.predictions`: the official prediction CSV format.

The command line ``python -m speechbrain_iusp.evaluate`` scores a
prediction CSV. The maths and the data format are described in
``docs/data.md``.

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.sonyc.metrics import (
    AUPRCStats,
    evaluate_coarse,
    evaluate_fine,
)
from speechbrain_iusp.sonyc.predictions import (
    prediction_columns,
    read_predictions,
    write_predictions_csv,
)
from speechbrain_iusp.sonyc.prepare import prepare_sonyc_ust
from speechbrain_iusp.sonyc.taxonomy import Taxonomy, load_taxonomy

__all__ = [
    "AUPRCStats",
    "Taxonomy",
    "evaluate_coarse",
    "evaluate_fine",
    "load_taxonomy",
    "prediction_columns",
    "prepare_sonyc_ust",
    "read_predictions",
    "write_predictions_csv",
]
