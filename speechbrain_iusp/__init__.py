"""speechbrain-iusp: similarity-preserving distillation for SpeechBrain taggers.

The public names are imported lazily, so that ``import speechbrain_iusp.losses``
does not pull in SpeechBrain and the recipe code, and so that hyperpyyaml's
``!name:speechbrain_iusp.iusp_loss`` resolves through the package top level.

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
    "IUSPLoss": "losses",
    "SPLoss": "losses",
    "KDLoss": "losses",
    "register_loss": "losses",
    "get_loss": "losses",
    "LOSSES": "losses",
    # models
    "CRNN": "models",
    "crnn_preset": "models",
    "PRESETS": "models",
    "count_params_macs": "models",
    "presets_table": "models",
    # distillation
    "DistillationBrain": "distill",
    "DistillTerm": "distill",
    "ForwardHookTap": "distill",
    "TeacherCache": "distill",
    "load_teacher": "distill",
    "run_with_taps": "distill",
    "mixup": "distill",
    # metrics
    "AUPRCStats": "metrics",
    "evaluate_coarse": "metrics",
    "evaluate_fine": "metrics",
    "write_predictions_csv": "metrics",
    "prediction_columns": "metrics",
    # taxonomy
    "Taxonomy": "taxonomy",
    "load_taxonomy": "taxonomy",
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
