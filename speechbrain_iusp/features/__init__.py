"""Audio reading and features computed once: the input side of the taggers.

* :mod:`.audio`: :func:`load_audio` (mono, resampled, finite);
* :mod:`.cache`: :class:`FeatureCache`, features kept on disk per file and
  setting, :func:`feature_cache_from_hparams` and
  :func:`features_fingerprint`.

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.features.audio import AudioError, load_audio
from speechbrain_iusp.features.cache import (
    FeatureCache,
    feature_cache_from_hparams,
    features_fingerprint,
)

__all__ = [
    "AudioError",
    "FeatureCache",
    "feature_cache_from_hparams",
    "features_fingerprint",
    "load_audio",
]
