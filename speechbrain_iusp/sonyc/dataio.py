"""SpeechBrain datasets of the SONYC-UST manifests.

Authors
 * speechbrain-iusp developers 2026
"""

import json

import torch

import speechbrain as sb

from speechbrain_iusp.features import input_item


def manifest_audio(manifest, data_folder):
    """The audio file paths of a manifest, in its order.

    Arguments
    ---------
    manifest : str
        A JSON manifest of :func:`~speechbrain_iusp.sonyc.prepare_sonyc_ust`.
    data_folder : str
        The value of ``{data_root}`` in its ``wav`` entries.

    Returns
    -------
    list of str
    """
    with open(manifest) as fin:
        entries = json.load(fin).values()
    return [e["wav"].replace("{data_root}", str(data_folder)) for e in entries]


def sonyc_datasets(manifests, data_folder, sample_rate, feature_cache=None):
    """Datasets of the tagging targets and the audio or its cached features.

    Output keys: ``id``; ``feats`` and ``feats_key`` (from
    ``feature_cache``) or ``sig`` (the waveform, mono, at ``sample_rate``);
    ``targets`` (the fine then the coarse tags, as the official prediction
    columns) and ``target_weight`` (the fine mask, then ones).

    Arguments
    ---------
    manifests : dict
        split -> manifest path.
    data_folder : str
        The release folder (``{data_root}``).
    sample_rate : int
        The features' sample rate (other rates are resampled).
    feature_cache : FeatureCache, optional
        Gives ``feats`` instead of ``sig`` when set.

    Returns
    -------
    dict
        split -> ``DynamicItemDataset``.
    """

    @sb.utils.data_pipeline.takes("fine", "coarse", "fine_mask")
    @sb.utils.data_pipeline.provides("targets", "target_weight")
    def label_pipeline(fine, coarse, fine_mask):
        yield torch.tensor(fine + coarse, dtype=torch.float32)
        yield torch.tensor(fine_mask + [1.0] * len(coarse))

    inputs, keys = input_item(sample_rate, feature_cache)
    datasets = {}
    for split, path in manifests.items():
        datasets[split] = sb.dataio.dataset.DynamicItemDataset.from_json(
            json_path=path,
            replacements={"data_root": str(data_folder)},
            dynamic_items=[inputs, label_pipeline],
            output_keys=["id", *keys, "targets", "target_weight"],
        )
    return datasets
