"""A clip's input as a SpeechBrain dynamic item: waveform or cached features.

Authors
 * speechbrain-iusp developers 2026
"""

import speechbrain as sb

from speechbrain_iusp.features.audio import load_audio


def input_item(sample_rate, cache=None):
    """The dynamic item that reads a clip's input from its ``wav`` path.

    Without a cache it provides ``sig`` (the waveform at ``sample_rate``,
    featurised by the Brain); with a
    :class:`~speechbrain_iusp.features.FeatureCache`, ``feats`` and
    ``feats_key`` (the features, and their entry key, which keys the
    teacher cache). Both are the batch contract of
    :class:`~speechbrain_iusp.distill.DistillationBrain`.

    Arguments
    ---------
    sample_rate : int
        The waveform's rate (other rates are resampled).
    cache : FeatureCache, optional
        Gives ``feats`` instead of ``sig`` when set.

    Returns
    -------
    tuple
        The dynamic item and its output keys.

    Example
    -------
    >>> item, keys = input_item(16000)
    >>> keys
    ['sig']
    """
    if cache is None:

        @sb.utils.data_pipeline.takes("wav")
        @sb.utils.data_pipeline.provides("sig")
        def audio_item(wav):
            return load_audio(wav, sample_rate)

        return audio_item, ["sig"]

    @sb.utils.data_pipeline.takes("wav")
    @sb.utils.data_pipeline.provides("feats", "feats_key")
    def feature_item(wav):
        feats, key = cache.load_with_key(wav)
        yield feats
        yield key

    return feature_item, ["feats", "feats_key"]
