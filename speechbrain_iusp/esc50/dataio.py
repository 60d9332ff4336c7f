"""SpeechBrain datasets and label encoder of the ESC-50 manifests.

Authors
 * speechbrain-iusp developers 2026
"""

import json

import speechbrain as sb
from speechbrain.dataio.encoder import CategoricalEncoder

from speechbrain_iusp.features import input_item


def read_manifest(path):
    """A manifest of :func:`~speechbrain_iusp.esc50.prepare_esc50`.

    Arguments
    ---------
    path : str or Path
        The JSON manifest.

    Returns
    -------
    dict
        clip id -> entry.
    """
    with open(path) as fin:
        return json.load(fin)


def label_encoder(manifests, path, n_classes=None):
    """The classes, ordered by ESC-50 target, as a ``CategoricalEncoder``.

    Made once and saved to ``path`` (``save/label_encoder.txt``); a later
    run loads it (SpeechBrain's ``load_or_create``, safe under DDP). With
    the classes ordered by target, a clip's class index is its position
    among the targets present (its target itself when they are 0..C-1).

    Arguments
    ---------
    manifests : dict
        split -> manifest path (all splits are read).
    path : str or Path
        The encoder's file.
    n_classes : int, optional
        The model's outputs; a different number of classes is refused
        naming the fix.

    Returns
    -------
    CategoricalEncoder

    Example
    -------
    >>> from pathlib import Path
    >>> tmp = Path(getfixture("tmpdir"))
    >>> entry = {"target": 1, "category": "rooster"}
    >>> _ = (tmp / "m.json").write_text(json.dumps({"a": entry}))
    >>> enc = label_encoder({"train": tmp / "m.json"}, tmp / "enc.txt")
    >>> enc.encode_label("rooster")
    0
    >>> label_encoder({"train": tmp / "m.json"}, tmp / "e2.txt", 50)
    Traceback (most recent call last):
    ...
    ValueError: n_classes is 50 but the data has 1 classes ...
    """
    names = {}
    for manifest in manifests.values():
        for entry in read_manifest(manifest).values():
            names[entry["target"]] = entry["category"]
    ordered = [names[t] for t in sorted(names)]
    if n_classes is not None and len(ordered) != int(n_classes):
        raise ValueError(
            f"n_classes is {n_classes} but the data has {len(ordered)} "
            f"classes ({', '.join(ordered[:4])}, ...); pass "
            f"--n_classes={len(ordered)} (ESC-50 has 50)"
        )
    encoder = CategoricalEncoder()
    encoder.load_or_create(str(path), from_iterables=[ordered])
    encoder.expect_len(len(ordered))
    return encoder


def esc50_datasets(manifests, data_root, sample_rate, encoder, cache=None):
    """Datasets of the class index and the audio or its cached features.

    Output keys: ``id``; ``feats`` and ``feats_key`` (from ``cache``) or
    ``sig`` (the waveform, mono, at ``sample_rate``); ``targets``, the
    class index ``[1]`` (``encoder.encode_label_torch`` of the category).

    Arguments
    ---------
    manifests : dict
        split -> manifest path.
    data_root : str or Path
        The release folder (``{data_root}`` of the manifests).
    sample_rate : int
        The features' rate (other rates are resampled).
    encoder : CategoricalEncoder
        From :func:`label_encoder`.
    cache : FeatureCache, optional
        Gives ``feats`` instead of ``sig`` when set.

    Returns
    -------
    dict
        split -> ``DynamicItemDataset``.
    """

    @sb.utils.data_pipeline.takes("category")
    @sb.utils.data_pipeline.provides("targets")
    def label_pipeline(category):
        return encoder.encode_label_torch(category)

    inputs, keys = input_item(sample_rate, cache)
    return {
        split: sb.dataio.dataset.DynamicItemDataset.from_json(
            json_path=path,
            replacements={"data_root": str(data_root)},
            dynamic_items=[inputs, label_pipeline],
            output_keys=["id", *keys, "targets"],
        )
        for split, path in manifests.items()
    }


def manifest_audio(manifests, data_root):
    """Every audio file of the manifests (for filling a feature cache).

    Arguments
    ---------
    manifests : dict
        split -> manifest path.
    data_root : str or Path
        The release folder.

    Returns
    -------
    list of str
    """
    return [
        e["wav"].replace("{data_root}", str(data_root))
        for path in manifests.values()
        for e in read_manifest(path).values()
    ]
