"""Tagging models and their complexity.

* :mod:`.classifiers`: single-label classifiers with ``[B, C, T]`` taps:
  :class:`EcapaClassifier` (SpeechBrain's ECAPA-TDNN and a head) and
  :class:`ConvClassifier` (a small 1-D conv net);
* :mod:`.crnn`: :class:`CRNN`, a length-aware CRNN tagger with named taps,
  and its size presets (:func:`crnn_preset`);
* :mod:`.gru`: :func:`one_pass_bigru`, a bidirectional GRU run as one GRU
  of twice the width (the CRNN's in CPU training);
* :mod:`.complexity`: :func:`count_params_macs` and :func:`presets_table`;
* :mod:`.ensemble`: :class:`TeacherEnsemble` (members' probabilities
  averaged, taps per member) and :func:`teacher_model`;
* :mod:`.wrapping`: :func:`unwrap`, the module inside DDP or compile
  wrappers.

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.models.classifiers import (
    CLASSIFIER_PRESETS,
    ConvClassifier,
    EcapaClassifier,
    classifier_preset,
    count_params,
)
from speechbrain_iusp.models.complexity import count_params_macs, presets_table
from speechbrain_iusp.models.crnn import (
    CRNN,
    PRESET_PARAM_RANGES,
    PRESETS,
    crnn_preset,
)
from speechbrain_iusp.models.ensemble import TeacherEnsemble, teacher_model
from speechbrain_iusp.models.wrapping import unwrap

__all__ = [
    "CLASSIFIER_PRESETS",
    "CRNN",
    "ConvClassifier",
    "EcapaClassifier",
    "PRESETS",
    "PRESET_PARAM_RANGES",
    "TeacherEnsemble",
    "classifier_preset",
    "count_params",
    "count_params_macs",
    "crnn_preset",
    "presets_table",
    "teacher_model",
    "unwrap",
]
