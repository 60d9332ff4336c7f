"""Audio reading and features computed once: the input side of the taggers.

* :mod:`.audio`: :func:`load_audio` (mono, resampled, finite);
* :mod:`.cache`: :class:`FeatureCache`, features kept on disk per file and
  setting, :func:`feature_cache_from_hparams` and
  :func:`features_fingerprint`;
* :mod:`.items`: :func:`input_item`, a clip's waveform or cached features
  as a SpeechBrain dynamic item.

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.features.audio import AudioError, load_audio
from speechbrain_iusp.features.cache import (
    FeatureCache,
    feature_cache_from_hparams,
    features_fingerprint,
)
from speechbrain_iusp.features.items import input_item

__all__ = [
    "AudioError",
    "FeatureCache",
    "feature_cache_from_hparams",
    "features_fingerprint",
    "input_item",
    "load_audio",
]
