"""Losses on clip logits: soft-label KD (multi-label sigmoid or single-label
softmax), the tagging BCE and the single-label cross-entropy.

``kd_loss`` follows the distillation protocol, student first:
``kd_loss(student_logits, teacher_logits, lengths=None, temperature=...)``.
The maths is specified in ``docs/losses.md``.

Authors
 * speechbrain-iusp developers 2026
"""

import math

import torch
import torch.nn.functional as F

from speechbrain_iusp.losses.common import (
    REDUCTIONS,
    check_choice,
    compute_dtype,
    no_autocast,
)


def check_weight(weight, shape, who):
    """Validate an elementwise weight/mask that broadcasts to ``shape``."""
    if weight is None:
        return None
    weight = torch.as_tensor(weight)
    try:
        fits = torch.broadcast_shapes(weight.shape, shape) == tuple(shape)
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(
            f"{who}: weight of shape {tuple(weight.shape)} does not broadcast "
            f"to the logits shape {tuple(shape)}."
        )
    return weight


def _weightedreduce_batch(elementwise, weight, reduction):
    """Mean over the weighted elements (0 if all weights are 0), or sum."""
    if weight is not None:
        weight = weight.to(device=elementwise.device, dtype=elementwise.dtype)
        elementwise = elementwise * weight
    if reduction == "none":
        return elementwise
    total = elementwise.sum()
    if reduction == "sum":
        return total
    if weight is None:
        return total / elementwise.numel()
    count = torch.broadcast_to(weight, elementwise.shape).sum()
    # All masked: the sum is exactly 0; return it (keeps the graph) rather
    # than 0 / 0.
    return torch.where(count > 0, total / torch.where(count > 0, count, 1), 0)


KD_MODES = ("sigmoid", "softmax")


def check_kd_options(temperature=1.0, reduction="mean", mode="sigmoid"):
    """Validate the options of :func:`kd_loss` (raises ValueError).

    Arguments
    ---------
    temperature : float
        The temperature, a positive finite number.
    reduction : str
        ``"mean"``, ``"sum"`` or ``"none"``.
    mode : str
        ``"sigmoid"`` (multi-label) or ``"softmax"`` (single-label).

    Example
    -------
    >>> check_kd_options(temperature=float("inf"))
    Traceback (most recent call last):
    ...
    ValueError: kd_loss: temperature must be a positive number, got inf.
    """
    check_choice("reduction", reduction, REDUCTIONS)
    check_choice("mode", mode, KD_MODES)
    if not (
        isinstance(temperature, (int, float))
        and math.isfinite(temperature)
        and temperature > 0
    ):
        raise ValueError(
            "kd_loss: temperature must be a positive number, got "
            f"{temperature!r}."
        )


def kd_loss(
    student_logits,
    teacher_logits,
    lengths=None,
    temperature=1.0,
    weight=None,
    reduction="mean",
    mode="sigmoid",
):
    r"""Soft-label knowledge distillation (Hinton et al., 2015).

    ``mode="sigmoid"`` (the default), for multi-label taggers with
    independent sigmoid tags: binary cross-entropy between the tempered
    student and the tempered teacher, scaled by :math:`\tau^2` so that
    gradient magnitudes do not shrink with the temperature:

    .. math::

        L_{KD} = \tau^2 \, \mathrm{mean}_{b,c}\,
                 \mathrm{BCE}(\sigma(z^s_{bc} / \tau),
                              \sigma(z^t_{bc} / \tau))

    ``mode="softmax"``, for single-label classifiers (what a classifier
    distils): the KL divergence from the tempered teacher to the tempered
    student over the classes (the last axis), scaled by :math:`\tau^2`,
    averaged over the examples:

    .. math::

        L_{KD} = \tau^2 \, \mathrm{mean}_{b} \sum_c p^t_{bc}
                 (\log p^t_{bc} - \log p^s_{bc}), \quad
        p_{b} = \mathrm{softmax}(z_b / \tau)

    The teacher side is detached (gradients never reach the teacher). The
    sigmoid BCE against soft targets equals the Bernoulli KL divergence plus
    the teacher's entropy, a constant: same gradient, but its minimum is not
    0; the softmax KL is 0 when the two distributions agree. Computed in
    float32 (float64 inputs in float64) with autocast off.

    It follows the distillation protocol, student first, so
    ``!name:speechbrain_iusp.kd_loss`` works as a distillation term.

    Config (hyperpyyaml)::

        distill_terms:
            - {name: kd, loss: !name:speechbrain_iusp.kd_loss, temperature: 2.0}
            # a single-label classifier:
            - {name: kd, loss: kd, temperature: 4.0, mode: softmax}

    Arguments
    ---------
    student_logits : torch.Tensor
        Student logits [B, C] (any shape).
    teacher_logits : torch.Tensor
        Teacher logits, the same shape.
    lengths : torch.Tensor, optional
        Relative lengths; ignored (clip logits have no time axis), accepted
        so that the function is a distillation term.
    temperature : float
        The temperature :math:`\tau > 0`.
    weight : torch.Tensor, optional
        Sigmoid: an elementwise weight or mask broadcastable to the logits
        ([B, C]); softmax: a weight per example, broadcastable to [B]. The
        mean is then taken over the weighted terms, ``sum(w * l) / sum(w)``
        (0 if all weights are 0).
    reduction : str
        ``"mean"``, ``"sum"`` or ``"none"`` (per element for sigmoid, per
        example for softmax, weighted).
    mode : str
        ``"sigmoid"`` (multi-label) or ``"softmax"`` (single-label).

    Returns
    -------
    torch.Tensor
        The loss, a scalar unless ``reduction="none"``.

    Example
    -------
    >>> student = torch.tensor([[2.0, -1.0, 0.0]], requires_grad=True)
    >>> teacher = torch.tensor([[3.0, -2.0, 0.5]], requires_grad=True)
    >>> loss = kd_loss(student, teacher, temperature=2.0)
    >>> round(loss.item(), 4)
    2.3965
    >>> loss.backward()
    >>> teacher.grad is None
    True
    >>> same = kd_loss(teacher, teacher, mode="softmax")
    >>> round(same.item(), 6)
    0.0
    """
    who = "kd_loss"
    check_kd_options(temperature, reduction, mode)
    if lengths is not None and not isinstance(lengths, torch.Tensor):
        raise TypeError(
            f"{who}: the third argument is the relative lengths (ignored for "
            f"clip logits), got {lengths!r}; pass the temperature by keyword, "
            "kd_loss(student_logits, teacher_logits, temperature=2.0)."
        )
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"{who}: student logits shape {tuple(student_logits.shape)} "
            f"differs from teacher logits shape "
            f"{tuple(teacher_logits.shape)}."
        )
    softmax = mode == "softmax"
    shape = student_logits.shape[:-1] if softmax else student_logits.shape
    weight = check_weight(weight, shape, who)
    dtype = compute_dtype(student_logits, teacher_logits)
    with no_autocast(student_logits):
        zs = student_logits.to(dtype) / temperature
        zt = teacher_logits.detach().to(dtype) / temperature
        if softmax:
            log_pt = F.log_softmax(zt, dim=-1)
            log_ps = F.log_softmax(zs, dim=-1)
            loss = (log_pt.exp() * (log_pt - log_ps)).sum(dim=-1)
        else:
            loss = F.binary_cross_entropy_with_logits(
                zs, torch.sigmoid(zt), reduction="none"
            )
        loss = loss * (temperature * temperature)
        return _weightedreduce_batch(loss, weight, reduction)


def tagging_bce_loss(logits, targets, weight=None, reduction="mean"):
    """The tagging task loss: BCE-with-logits with an optional mask.

    ``weight`` is an elementwise weight or 0/1 mask broadcastable to the
    logits ([B, C]); masked entries contribute nothing (used for the
    SONYC-UST "X" fine tags, whose fine labels are unknown). The mean is
    over the unmasked (weighted) elements, ``sum(w * l) / sum(w)``; an
    all-masked batch gives 0 (with a gradient of 0), not NaN. Targets may be
    soft (floats in [0, 1]). Computed in float32 with autocast off.

    Arguments
    ---------
    logits : torch.Tensor
        Predicted logits [B, C].
    targets : torch.Tensor
        Targets in [0, 1], the same shape.
    weight : torch.Tensor, optional
        Elementwise weight/mask broadcastable to [B, C].
    reduction : str
        ``"mean"`` (over the weighted elements), ``"sum"`` or ``"none"``.

    Returns
    -------
    torch.Tensor
        The loss, a scalar unless ``reduction="none"``.

    Example
    -------
    >>> logits = torch.tensor([[0.0, 2.0], [-1.0, 5.0]])
    >>> targets = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    >>> mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])  # unknown tag masked
    >>> round(tagging_bce_loss(logits, targets, mask).item(), 4)
    0.3778
    >>> tagging_bce_loss(logits, targets, torch.zeros(2, 2)).item()
    0.0
    """
    who = "tagging_bce_loss"
    check_choice("reduction", reduction, REDUCTIONS)
    if logits.shape != targets.shape:
        raise ValueError(
            f"{who}: logits shape {tuple(logits.shape)} differs from targets "
            f"shape {tuple(targets.shape)}."
        )
    weight = check_weight(weight, logits.shape, who)
    dtype = compute_dtype(logits)
    with no_autocast(logits):
        loss = F.binary_cross_entropy_with_logits(
            logits.to(dtype), targets.to(dtype), reduction="none"
        )
        return _weightedreduce_batch(loss, weight, reduction)


def classification_loss(
    logits, targets, weight=None, label_smoothing=0.0, reduction="mean"
):
    """The single-label task loss: cross-entropy on logits.

    ``targets`` are class indices (``[B]`` or ``[B, 1]``, integers, as
    SpeechBrain's ``label_encoder.encode_label_torch`` gives them) or class
    probabilities ``[B, C]`` (one-hot, soft, or mixed by mixup). ``weight``
    is a per-example weight ``[B]`` (or ``[B, 1]``); the mean is
    ``sum(w * l) / sum(w)``, 0 when every weight is 0. Computed in float32
    with autocast off.

    Arguments
    ---------
    logits : torch.Tensor
        Predicted logits [B, C].
    targets : torch.Tensor
        Class indices [B] or [B, 1], or probabilities [B, C].
    weight : torch.Tensor, optional
        Per-example weight [B] or [B, 1].
    label_smoothing : float
        As in ``torch.nn.functional.cross_entropy``.
    reduction : str
        ``"mean"`` (over the weighted examples), ``"sum"`` or ``"none"``.

    Returns
    -------
    torch.Tensor
        The loss, a scalar unless ``reduction="none"`` (then ``[B]``).

    Example
    -------
    >>> logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    >>> round(classification_loss(logits, torch.tensor([0, 2])).item(), 4)
    0.1672
    >>> onehot = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    >>> round(classification_loss(logits, onehot).item(), 4)
    0.1672
    >>> classification_loss(logits, torch.tensor([0, 3]))
    Traceback (most recent call last):
    ...
    ValueError: classification_loss: target class 3 is out of range ...
    """
    who = "classification_loss"
    check_choice("reduction", reduction, REDUCTIONS)
    if logits.dim() != 2:
        raise ValueError(
            f"{who}: logits must be [B, C], got {list(logits.shape)}."
        )
    n, classes = logits.shape
    if targets.dim() == 2 and targets.shape[1] == 1 and classes != 1:
        targets = targets[:, 0]
    if targets.dim() == 1:
        if targets.is_floating_point():
            raise ValueError(
                f"{who}: targets [B] must be integer class indices, got "
                f"{targets.dtype}; pass class probabilities as [B, C]."
            )
        if targets.shape[0] != n:
            raise ValueError(
                f"{who}: {targets.shape[0]} targets for {n} logits."
            )
        bad = (targets < 0) | (targets >= classes)
        if bool(bad.any()):
            raise ValueError(
                f"{who}: target class {int(targets[bad][0])} is out of range "
                f"for {classes} classes (logits {list(logits.shape)}); "
                f"targets are class indices 0..{classes - 1}."
            )
    elif targets.shape != logits.shape:
        raise ValueError(
            f"{who}: targets {list(targets.shape)} fit neither class indices "
            f"[{n}] nor class probabilities {list(logits.shape)}."
        )
    if weight is not None:
        weight = torch.as_tensor(weight)
        if weight.dim() == 2 and weight.shape[1] == 1:
            weight = weight[:, 0]
        if tuple(weight.shape) != (n,):
            raise ValueError(
                f"{who}: weight {list(weight.shape)} must be one per example "
                f"([{n}])."
            )
    dtype = compute_dtype(logits)
    with no_autocast(logits):
        if targets.dim() == 2:
            targets = targets.to(dtype)
        loss = F.cross_entropy(
            logits.to(dtype),
            targets,
            reduction="none",
            label_smoothing=label_smoothing,
        )
        return _weightedreduce_batch(loss, weight, reduction)


# ---------------------------------------------------------------------------
# Registry and modules
