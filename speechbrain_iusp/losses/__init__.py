"""Distillation and tagging losses: IUSP, SP, multi-label KD and masked BCE.

Pure PyTorch (no SpeechBrain import), so it is cheap to import. Every
distillation loss takes the student first, as SpeechBrain's and PyTorch's
losses take the prediction first::

    loss = iusp_loss(student, teacher, lengths)   # functions
    loss = IUSPLoss(method="auto")(student, teacher, lengths)   # modules

so a plain function (``!name:speechbrain_iusp.kd_loss``) and a module
(``!new:speechbrain_iusp.KDLoss``) are interchangeable as distillation
terms. ``lengths`` are SpeechBrain relative lengths ``[B]``.

* :mod:`.similarity`: :func:`iusp_loss` (Chang et al., Interspeech 2020)
  and :func:`sp_loss` (Tung & Mori, ICCV 2019);
* :mod:`.logits`: :func:`kd_loss` and the task losses
  :func:`tagging_bce_loss` (multi-label) and :func:`classification_loss`
  (single-label);
* :mod:`.registry`: the modules, :data:`LOSSES`, :func:`register_loss`,
  :func:`get_loss`;
* :mod:`.layouts`: the ``layout`` option of IUSP and SP, where time is
  (``btd``, ``btfc``, ``bct``, ``bcft``, ``bctf``).

All losses switch autocast off and compute in float32 (float64 inputs stay
float64). The maths is specified in ``docs/losses.md``.

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.losses.logits import (
    classification_loss,
    kd_loss,
    tagging_bce_loss,
)
from speechbrain_iusp.losses.registry import (
    LOSSES,
    IUSPLoss,
    KDLoss,
    SPLoss,
    get_loss,
    register_loss,
)
from speechbrain_iusp.losses.similarity import (
    frame_similarity,
    iusp_choose_method,
    iusp_loss,
    sp_loss,
)

__all__ = [
    "classification_loss",
    "frame_similarity",
    "LOSSES",
    "IUSPLoss",
    "KDLoss",
    "SPLoss",
    "get_loss",
    "iusp_choose_method",
    "iusp_loss",
    "kd_loss",
    "register_loss",
    "sp_loss",
    "tagging_bce_loss",
]
