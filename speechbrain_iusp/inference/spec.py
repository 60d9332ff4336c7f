"""A model folder's description as plain data (``tagger.json``).

``tagger.json`` holds what a tagger needs besides its weights: the tag
names, their thresholds, the sample rate, the clip length and the feature
settings (a class from a short allow-list and its keyword arguments). It is
read with :mod:`json`, never executed, so a backend that reads it and
``model.onnx`` (:class:`~speechbrain_iusp.inference.OnnxTagger`) runs a
model folder without trusting it. ``hyperparams.yaml``, SpeechBrain's
format, is run through hyperpyyaml, which can call any Python function.

Authors
 * speechbrain-iusp developers 2026
"""

import importlib
import json
from pathlib import Path

import yaml

SPEC_FILE = "tagger.json"
SPEC_FORMAT = 1
FEATURE_CLASSES = (
    "speechbrain.lobes.features.Fbank",
    "speechbrain.lobes.features.MFCC",
)
"""The feature extractors a ``tagger.json`` may name."""


class ModelFolderError(ValueError):
    """A model folder that cannot be used; the message names the file."""


class _NewLoader(yaml.SafeLoader):
    """Reads ``!new:`` tags as plain ``{"class", "kwargs"}`` data."""


def _construct_new(loader, suffix, node):
    kwargs = loader.construct_mapping(node, deep=True) if node.value else {}
    return {"class": suffix, "kwargs": dict(kwargs)}


_NewLoader.add_multi_constructor("!new:", _construct_new)


def feature_spec(yaml_text, key="compute_features"):
    """The feature settings of a resolved hparams file, as plain data.

    Arguments
    ---------
    yaml_text : str
        A hparams file whose references are resolved (the
        ``hyperparams.yaml`` SpeechBrain writes into a run folder), or just
        its ``key`` entry.
    key : str
        The entry that builds the features.

    Returns
    -------
    dict
        ``{"class": dotted name, "kwargs": {name: value}}``.

    Example
    -------
    >>> text = '''compute_features: !new:speechbrain.lobes.features.Fbank
    ...     sample_rate: 44100
    ...     n_mels: 64
    ... '''
    >>> spec = feature_spec(text)
    >>> spec["class"], spec["kwargs"]
    ('speechbrain.lobes.features.Fbank', {'sample_rate': 44100, 'n_mels': 64})
    """
    try:
        spec = yaml.load(yaml_text, Loader=_NewLoader).get(key)
    except (yaml.YAMLError, AttributeError) as err:
        raise ValueError(f"cannot read {key} from the hparams: {err}") from err
    return _check_features(spec, f"{key} in the hparams")


def _check_features(spec, where):
    """The feature spec if it names an allowed class with plain values."""
    if not isinstance(spec, dict) or set(spec) != {"class", "kwargs"}:
        raise ValueError(
            f"{where} must be a !new: of one of {list(FEATURE_CLASSES)} "
            "with plain keyword arguments"
        )
    if spec["class"] not in FEATURE_CLASSES:
        raise ValueError(
            f"{where}: {spec['class']!r} is not an allowed feature class "
            f"({list(FEATURE_CLASSES)})"
        )
    plain = (str, int, float, bool, type(None))
    if not isinstance(spec["kwargs"], dict) or not all(
        isinstance(v, plain) for v in spec["kwargs"].values()
    ):
        raise ValueError(f"{where}: the feature arguments must be plain values")
    return spec


def build_features(spec):
    """The feature module a spec names (allow-listed classes only).

    Arguments
    ---------
    spec : dict
        From :func:`feature_spec`.

    Returns
    -------
    torch.nn.Module

    Example
    -------
    >>> fbank = build_features(
    ...     {"class": "speechbrain.lobes.features.Fbank",
    ...      "kwargs": {"n_mels": 8}})
    >>> import torch
    >>> fbank(torch.zeros(1, 16000)).shape
    torch.Size([1, 101, 8])
    """
    spec = _check_features(spec, "features")
    module_name, name = spec["class"].rsplit(".", 1)
    cls = getattr(importlib.import_module(module_name), name)
    return cls(**spec["kwargs"]).eval()


def write_spec(folder, tags, thresholds, sample_rate, clip_seconds, features):
    """Writes ``tagger.json`` into a model folder.

    Arguments
    ---------
    folder : str
        The model folder.
    tags : list of str
        Output names, in column order.
    thresholds : list of float
        One decision threshold per tag.
    sample_rate : int
        The rate the features take.
    clip_seconds : float
        The training clip length.
    features : dict
        From :func:`feature_spec`.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    spec = {
        "format": SPEC_FORMAT,
        "tags": list(tags),
        "thresholds": [float(v) for v in thresholds],
        "sample_rate": int(sample_rate),
        "clip_seconds": float(clip_seconds),
        "features": _check_features(features, "features"),
    }
    path = Path(folder) / SPEC_FILE
    path.write_text(json.dumps(spec, indent=2) + "\n")
    return path


def read_spec(folder):
    """Reads and checks ``tagger.json`` (plain JSON, nothing is executed).

    Arguments
    ---------
    folder : str
        The model folder.

    Returns
    -------
    dict
        ``tags``, ``thresholds``, ``sample_rate``, ``clip_seconds``,
        ``features``.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> fb = {"class": "speechbrain.lobes.features.Fbank", "kwargs": {}}
    >>> _ = write_spec(tmp, ["a", "b"], [0.5, 0.4], 16000, 10.0, fb)
    >>> read_spec(tmp)["thresholds"]
    [0.5, 0.4]
    """
    path = Path(folder) / SPEC_FILE
    fix = (
        "; write the folder again with python -m speechbrain_iusp.export "
        f"RUN_FOLDER {folder}"
    )
    if not path.is_file():
        raise ModelFolderError(f"{path}: no such file{fix}")
    try:
        spec = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFolderError(
            f"{path}: not readable JSON ({err}){fix}"
        ) from err
    if not isinstance(spec, dict):
        raise ModelFolderError(f"{path}: not a JSON object{fix}")
    needed = ("tags", "thresholds", "sample_rate", "clip_seconds", "features")
    missing = [key for key in needed if key not in spec]
    if missing:
        raise ModelFolderError(f"{path}: no {missing}{fix}")
    if spec.get("format") != SPEC_FORMAT:
        raise ModelFolderError(
            f"{path}: format {spec.get('format')!r}, this version reads "
            f"{SPEC_FORMAT}{fix}"
        )
    tags, thresholds = spec["tags"], spec["thresholds"]
    if not (
        isinstance(tags, list)
        and all(isinstance(t, str) for t in tags)
        and len(set(tags)) == len(tags)
    ):
        raise ModelFolderError(
            f"{path}: tags must be a list of distinct names{fix}"
        )
    if not isinstance(thresholds, list) or len(thresholds) != len(tags):
        raise ModelFolderError(
            f"{path}: thresholds must list one number per tag "
            f"({len(tags)}){fix}"
        )
    try:
        _check_features(spec["features"], f"{path}: features")
    except ValueError as err:
        raise ModelFolderError(f"{err}{fix}") from err
    feature_rate = spec["features"]["kwargs"].get("sample_rate", 16000)
    if feature_rate != spec["sample_rate"]:
        raise ModelFolderError(
            f"{path}: sample_rate is {spec['sample_rate']} but the features "
            f"take {feature_rate} Hz{fix}"
        )
    return spec
