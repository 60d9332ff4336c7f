"""ESC-50 (Piczak 2015): single-label environmental sound classification.

* :mod:`.meta`: ``meta/esc50.csv`` read and checked (:func:`read_meta`,
  :func:`check_audio`, :func:`clip_name`);
* :mod:`.download`: :func:`download_esc50`, the release archive;
* :mod:`.prepare`: :func:`prepare_esc50`, the fold split as SpeechBrain
  JSON manifests;
* :mod:`.dataio`: :func:`esc50_datasets` and :func:`label_encoder`;
* :mod:`.scoring`: :class:`ClassificationStats` (error, accuracy) and
  :func:`score_classification`.

The recipe's comparison of a teacher and its students over seeds is
:mod:`speechbrain_iusp.study.compare`.

The built-in stand-in in the same layout (synthetic, NOT ESC-50) is
:mod:`speechbrain_iusp.demo.esc50_standin`.

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.esc50.dataio import (
    esc50_datasets,
    label_encoder,
    manifest_audio,
)
from speechbrain_iusp.esc50.download import ESC50_URL, download_esc50
from speechbrain_iusp.esc50.meta import (
    COLUMNS,
    MetaError,
    categories,
    check_audio,
    clip_name,
    read_meta,
)
from speechbrain_iusp.esc50.prepare import (
    find_release,
    prepare_esc50,
    resolve_folds,
)
from speechbrain_iusp.esc50.scoring import (
    ClassificationStats,
    score_classification,
)

__all__ = [
    "COLUMNS",
    "ESC50_URL",
    "ClassificationStats",
    "MetaError",
    "categories",
    "check_audio",
    "clip_name",
    "download_esc50",
    "esc50_datasets",
    "find_release",
    "label_encoder",
    "manifest_audio",
    "prepare_esc50",
    "read_meta",
    "resolve_folds",
    "score_classification",
]
