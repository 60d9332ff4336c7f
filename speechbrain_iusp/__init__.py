"""speechbrain-iusp: similarity-preserving distillation for SpeechBrain taggers.

The package has one folder per concept:

* ``losses``: IUSP, SP, KD and the task losses (pure PyTorch);
* ``distill``: the distillation Brain, terms, taps and the teacher;
* ``models``: the CRNN tagger, its presets and complexity counts;
* ``sonyc``: SONYC-UST taxonomy, targets, preparation, download, metrics;
* ``features``: audio reading and the feature cache;
* ``inference``: the tagger as a product (``AudioTagger``, ``OnnxTagger``);
* ``demo``: the generated corpus (synthetic, NOT SONYC-UST);
* ``evaluate``, ``export``, ``tag``: the command lines (score a prediction
  CSV; turn a run into a model folder; tag recordings);
* ``runtime``: process settings (allocator, locks, child processes).

The public names below are imported lazily, so that ``import
speechbrain_iusp.losses`` does not pull in SpeechBrain, and so that
hyperpyyaml's ``!name:speechbrain_iusp.iusp_loss`` resolves through the
package top level.

Authors
 * speechbrain-iusp developers 2026
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    # losses
    "iusp_loss": "losses",
    "sp_loss": "losses",
    "kd_loss": "losses",
    "tagging_bce_loss": "losses",
    "classification_loss": "losses",
    "IUSPLoss": "losses",
    "SPLoss": "losses",
    "KDLoss": "losses",
    "register_loss": "losses",
    "get_loss": "losses",
    "iusp_choose_method": "losses",
    "LOSSES": "losses",
    # models
    "CRNN": "models",
    "crnn_preset": "models",
    "PRESETS": "models",
    "count_params_macs": "models",
    "presets_table": "models",
    "unwrap": "models",
    # distillation
    "DistillationBrain": "distill",
    "DistillTerm": "distill",
    "ForwardHookTap": "distill",
    "TeacherCache": "distill",
    "load_teacher": "distill",
    "run_with_taps": "distill",
    "mixup": "distill",
    "teacher_fingerprint": "distill",
    # SONYC-UST
    "AUPRCStats": "sonyc",
    "evaluate_coarse": "sonyc",
    "evaluate_fine": "sonyc",
    "read_predictions": "sonyc",
    "write_predictions_csv": "sonyc",
    "prediction_columns": "sonyc",
    "Taxonomy": "sonyc",
    "load_taxonomy": "sonyc",
    "prepare_sonyc_ust": "sonyc",
    # the generated corpus
    "generate_corpus": "demo",
    # inference
    "AudioTagger": "inference",
    "OnnxTagger": "inference",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    """Import a public name from its submodule on first access."""
    if name in _EXPORTS:
        module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
