"""Distillation and tagging losses: IUSP, SP, multi-label KD and masked BCE.

This module is the package's one home for losses. It depends on PyTorch
only (no SpeechBrain import), so it is cheap to import.

Functions (the maths, see ``docs/iusp-spec.md``):

* :func:`iusp_loss` -- intra-utterance similarity preserving KD (Chang et
  al., Interspeech 2020, arXiv 2009.01759): frame-by-frame similarity
  matrices per utterance, padding-aware, with a direct ``gram`` path and a
  linear-memory ``factored`` path that give the same value.
* :func:`sp_loss` -- similarity-preserving KD (Tung & Mori, ICCV 2019,
  arXiv 1907.09682): example-by-example similarities within a mini-batch.
* :func:`kd_loss` -- soft-label KD for multi-label (sigmoid) taggers.
* :func:`tagging_bce_loss` -- the task loss, BCE with an optional mask.

Modules and the distillation calling protocol:

:class:`IUSPLoss`, :class:`SPLoss` and :class:`KDLoss` wrap the functions
with ONE calling protocol, the one the distillation Brain uses for every
distillation term::

    loss = term(teacher, student, lengths=None)  # -> scalar tensor

``teacher`` and ``student`` are the tapped activations (or logits) of the
two models for the same batch, ``lengths`` are SpeechBrain relative lengths
of shape ``[B]``. Note the argument order: teacher first. The functional
:func:`kd_loss` follows the PyTorch convention (prediction first,
``kd_loss(student_logits, teacher_logits)``), so in a config use
``KDLoss`` / ``get_loss("kd")`` for a distillation term, not
``!name:speechbrain_iusp.kd_loss``.

Registry: :data:`LOSSES` maps names (``"iusp"``, ``"sp"``, ``"kd"``) to the
module classes, :func:`register_loss` adds one (``@register_loss("name")``)
and :func:`get_loss` builds an instance from a name, or passes a ready
callable through unchanged.

Precision: all losses here switch autocast off and compute in float32 (or
float64 when given float64), so bf16/fp16 activations from a mixed
precision forward pass are upcast first.

Authors
 * speechbrain-iusp developers 2026
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "LOSSES",
    "IUSPLoss",
    "KDLoss",
    "SPLoss",
    "get_loss",
    "iusp_loss",
    "kd_loss",
    "register_loss",
    "sp_loss",
    "tagging_bce_loss",
]

DEFAULT_EPS = 1e-12
"""Default ``eps`` of the row normalisation ``x / max(||x||, eps)``, the
same as :func:`torch.nn.functional.normalize`."""

_IUSP_METHODS = ("auto", "gram", "factored")
_TIME_ALIGN = ("error", "pool")
_REDUCTIONS = ("mean", "sum", "none")

# Cost model of ``method="auto"``: forward+backward seconds per utterance,
# up to a common factor, fitted on CPU (single thread, float32, teacher
# without grad and student with grad, as in distillation) with
# benchmarks/bench_losses.py; see benchmarks/RESULTS.md.
#   gram     ~ T^2 * (D_t + 2.2 D_s + 270)
#   factored ~ T * (1.3 D_t^2 + 5.5 D_s^2 + 2.05 D_t D_s + 125 (D_t + D_s)
#                   + 7700)
# The student widths weigh more (the backward pass runs on the student side
# only); the constant 270 stands for the memory-bound elementwise passes over
# the T x T matrices (normalise, subtract, square and their backward), and
# 125 (D_t + D_s) + 7700 for the factored path's per-frame overhead.
AUTO_GRAM_COST = (1.0, 2.2, 270.0)  # D_t, D_s, 1
AUTO_FACTORED_COST = (1.3, 5.5, 2.05, 125.0, 7700.0)  # D_t^2, D_s^2, ...


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _check_choice(name, value, choices):
    """Raise a ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(
            f"{name}={value!r} is not supported; use one of "
            f"{', '.join(repr(c) for c in choices)}."
        )


def _check_eps(eps):
    """Raise a ValueError unless ``eps`` is a positive finite number."""
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive float, got {eps!r}.")


def _check_factored_dtype(value):
    """None, or torch.float32/float64 (also given as a string)."""
    if value is None:
        return None
    names = {"float32": torch.float32, "float64": torch.float64}
    dtype = names.get(value, value)
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(
            f"factored_dtype={value!r} is not supported; use None, "
            "torch.float32, torch.float64, 'float32' or 'float64'."
        )
    return dtype


def _compute_dtype(*tensors):
    """Float32, or float64 if any input is float64 (never half precision)."""
    if any(t.dtype == torch.float64 for t in tensors):
        return torch.float64
    return torch.float32


def _no_autocast(tensor):
    """A context manager that switches autocast off on ``tensor``'s device."""
    return torch.autocast(device_type=tensor.device.type, enabled=False)


def _true_lengths(lengths, batch, num_frames, device, who):
    """Absolute frame counts ``T_n = round(lengths * T)`` as a long [B].

    ``lengths`` are SpeechBrain relative lengths in (0, 1]. The product is
    taken in float64 and rounded half-to-even (``torch.round``); the result
    is clamped to [1, T] so that every utterance keeps at least one frame.
    ``None`` means every utterance is ``T`` frames long.
    """
    if lengths is None:
        return torch.full((batch,), num_frames, dtype=torch.long, device=device)
    lengths = torch.as_tensor(lengths, device=device)
    if lengths.dim() != 1 or lengths.shape[0] != batch:
        raise ValueError(
            f"{who}: lengths must be a 1-D tensor of relative lengths with "
            f"one value per utterance, shape [{batch}]; got shape "
            f"{tuple(lengths.shape)}."
        )
    if not torch.is_floating_point(lengths):
        raise ValueError(
            f"{who}: lengths must be SpeechBrain relative lengths (floats in "
            f"(0, 1]), got dtype {lengths.dtype}; divide absolute frame "
            "counts by the padded length first."
        )
    lengths = lengths.detach().to(torch.float64)
    if not bool(torch.isfinite(lengths).all()) or bool(
        ((lengths <= 0) | (lengths > 1.0 + 1e-6)).any()
    ):
        raise ValueError(
            f"{who}: relative lengths must lie in (0, 1], got "
            f"{lengths.tolist()}."
        )
    frames = torch.round(lengths * num_frames).to(torch.long)
    return frames.clamp(1, num_frames)


def _frame_mask(frames, num_frames):
    """Boolean [B, T] mask, True on the first ``frames[n]`` frames."""
    steps = torch.arange(num_frames, device=frames.device)
    return steps.unsqueeze(0) < frames.unsqueeze(1)


def _reduce(per_item, reduction):
    """Apply a batch ``reduction`` to a per-utterance loss vector."""
    if reduction == "mean":
        return per_item.mean()
    if reduction == "sum":
        return per_item.sum()
    return per_item


def _fold_frames(x, who, role):
    """View ``[B, T, *feature]`` as ``[B, T, D]`` with ``D = prod(feature)``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{who}: {role} must be a torch.Tensor, got {type(x)}.")
    if x.dim() < 3:
        raise ValueError(
            f"{who}: {role} must have a time axis, shape [B, T, D] or "
            f"[B, T, F, C]; got shape {tuple(x.shape)}. For clip-level "
            "embeddings [B, D] use sp_loss instead."
        )
    return x.reshape(x.shape[0], x.shape[1], -1)


def _masked_time_pool(x, mask, out_frames):
    """Masked adaptive average pooling over time.

    Output frame ``i`` averages the VALID frames among input frames
    ``floor(i*T/T') .. ceil((i+1)*T/T') - 1`` (PyTorch's adaptive pooling
    bins), so padded frames never leak into valid ones. With no padding it
    equals ``F.adaptive_avg_pool1d`` over time.

    Arguments
    ---------
    x : torch.Tensor
        Frames [B, T, D].
    mask : torch.Tensor
        Boolean [B, T], True on valid frames.
    out_frames : int
        T', the number of output frames (T' <= T).

    Returns
    -------
    torch.Tensor
        Pooled frames [B, T', D] (all-zero where a bin has no valid frame).
    """
    weights = mask.to(x.dtype).unsqueeze(1)  # [B, 1, T]
    summed = F.adaptive_avg_pool1d(x.transpose(1, 2), out_frames)
    counts = F.adaptive_avg_pool1d(weights, out_frames)
    has_valid = counts > 0
    pooled = torch.where(
        has_valid, summed / torch.where(has_valid, counts, 1.0), 0.0
    )
    return pooled.transpose(1, 2)


# ---------------------------------------------------------------------------
# IUSP
# ---------------------------------------------------------------------------


def iusp_choose_method(num_frames, teacher_dim, student_dim):
    """Pick the cheaper IUSP path, ``"gram"`` or ``"factored"``.

    Compares the calibrated forward+backward cost model of the two paths
    (module constants ``AUTO_GRAM_COST`` and ``AUTO_FACTORED_COST``)::

        gram     ~ T^2 * (D_t + 2.2 D_s + 270)
        factored ~ T * (1.3 D_t^2 + 5.5 D_s^2 + 2.05 D_t D_s
                        + 125 (D_t + D_s) + 7700)

    and returns ``"factored"`` when its cost is lower, i.e. for T above a
    crossover (about 280 frames for D_t=256, D_s=64; 600 for 512/128).
    Both costs scale with the batch size, which does not enter the rule.
    The model was fitted on CPU; on a GPU the crossover differs, so pin
    ``method`` there if the choice matters.

    Arguments
    ---------
    num_frames : int
        T, the (padded) number of frames.
    teacher_dim : int
        D_t, the folded teacher feature width.
    student_dim : int
        D_s, the folded student feature width.

    Returns
    -------
    str
        ``"gram"`` or ``"factored"``.

    Example
    -------
    >>> iusp_choose_method(100, 256, 64)
    'gram'
    >>> iusp_choose_method(500, 256, 64)
    'factored'
    """
    t, dt, ds = float(num_frames), float(teacher_dim), float(student_dim)
    g_t, g_s, g_1 = AUTO_GRAM_COST
    f_tt, f_ss, f_ts, f_lin, f_1 = AUTO_FACTORED_COST
    gram = t * t * (g_t * dt + g_s * ds + g_1)
    factored = t * (
        f_tt * dt * dt
        + f_ss * ds * ds
        + f_ts * dt * ds
        + f_lin * (dt + ds)
        + f_1
    )
    return "factored" if factored < gram else "gram"


def _iusp_gram(ft, fs, eps):
    """Per-utterance ``||G~_t - G~_s||_F^2`` from the T x T Gram matrices.

    ``ft`` [B, T, D_t] and ``fs`` [B, T, D_s] have their padded frames set to
    zero already, so padded rows and columns of G are zero, and the padded
    rows stay zero after normalisation on both sides.
    """
    gt = F.normalize(torch.bmm(ft, ft.transpose(1, 2)), dim=-1, eps=eps)
    gs = F.normalize(torch.bmm(fs, fs.transpose(1, 2)), dim=-1, eps=eps)
    return (gt - gs).square().sum(dim=(1, 2))


def _iusp_factored(ft, fs, eps, matmul_dtype):
    """Per-utterance ``||G~_t - G~_s||_F^2`` in linear memory (no T x T).

    With ``f_i`` the frames (padded frames set to zero already)::

        n_t,i = ||G_t[i,:]||^2       = f_t,i (F_t^T F_t) f_t,i^T
        n_s,i = ||G_s[i,:]||^2       = f_s,i (F_s^T F_s) f_s,i^T
        c_i   = <G_t[i,:], G_s[i,:]> = f_t,i (F_t^T F_s) f_s,i^T

    and, with ``x / max(||x||, eps)`` normalisation (exactly what
    ``F.normalize`` does in the Gram path),

        ||G~_t[i] - G~_s[i]||^2 = a_i + b_i - 2 c_i / (m_t,i * m_s,i)
        a_i = n_t,i / m_t,i^2,  b_i = n_s,i / m_s,i^2,
        m_t,i = max(sqrt(n_t,i), eps),  m_s,i = max(sqrt(n_s,i), eps).

    A zero frame gives ``n = 0`` and ``c = 0`` exactly, hence ``a_i = 0``
    (or ``b_i = 0``) and a cross term of 0: the spec's indicator rule. For a
    nonzero row ``a_i = n / n = 1`` exactly.

    Numerics: the D x D moments and the projections are matrix products in
    the compute dtype (float32 for float32/16 inputs). The per-row
    combination (cosine, ``a + b - 2 cos``, the sum over rows) is done in
    float64, the cosine as ``c / sqrt(n_t * n_s)`` so that identical rows
    give exactly 1. The row term is clamped at 0 (Cauchy-Schwarz; rounding
    can make ``cos`` exceed 1 by an ulp). The remaining float32 error is in
    ``cos_i`` itself, about 1e-7 absolute per row, so when teacher and
    student rows are nearly parallel (``1 - cos ~ 1e-4``) the loss has about
    1e-3 relative error; ``matmul_dtype=torch.float64`` (the
    ``factored_dtype`` option) removes it at about 3x the CPU time.
    """
    ft = ft.to(matmul_dtype)
    fs = fs.to(matmul_dtype)
    mtt = torch.bmm(ft.transpose(1, 2), ft)  # [B, D_t, D_t]
    mss = torch.bmm(fs.transpose(1, 2), fs)  # [B, D_s, D_s]
    mts = torch.bmm(ft.transpose(1, 2), fs)  # [B, D_t, D_s]
    nt = (torch.bmm(ft, mtt) * ft).sum(-1).double()  # [B, T]
    ns = (torch.bmm(fs, mss) * fs).sum(-1).double()
    ct = (torch.bmm(ft, mts) * fs).sum(-1).double()
    nt = nt.clamp_min(0.0)
    ns = ns.clamp_min(0.0)
    eps2 = eps * eps
    nt_den = nt.clamp_min(eps2)
    ns_den = ns.clamp_min(eps2)
    row = nt / nt_den + ns / ns_den - 2.0 * ct / torch.sqrt(nt_den * ns_den)
    return row.clamp_min(0.0).sum(-1)


def iusp_loss(
    teacher,
    student,
    lengths=None,
    method="auto",
    time_align="error",
    eps=DEFAULT_EPS,
    reduction="mean",
    factored_dtype=None,
):
    r"""Intra-utterance similarity preserving (IUSP) distillation loss.

    Chang, Kao, Sun, Wang, "Intra-Utterance Similarity Preserving Knowledge
    Distillation for Audio Tagging", Interspeech 2020, arXiv 2009.01759.

    For utterance ``n`` with frames :math:`F_n \in R^{T_n \times D}` (a conv
    map ``[T, F, C]`` is folded to ``D = F*C``), the frame similarity matrix
    :math:`G_n = F_n F_n^T` (T x T) has each row L2-normalised as
    ``x / max(||x||, eps)`` (an all-zero frame gives a zero row, no NaN),
    and

    .. math::

        L_{IUSP} = \frac{1}{N} \sum_n \frac{1}{T_n^2}
                   \| \tilde G_{n,teacher} - \tilde G_{n,student} \|_F^2

    with :math:`T_n` the TRUE length of utterance ``n``: padded frames are
    excluded from G, from the row norms and from the :math:`1/T_n^2`.

    An all-zero frame gives an all-zero row of G on its side, which stays
    zero; the loss and gradient are finite. As with
    ``torch.nn.functional.normalize``, the normalisation is ``x / eps``
    near zero, so the gradient INTO an exactly-zero frame is large,
    O(1/eps), wherever the other model's frame is nonzero (a ReLU that
    zeroed the frame blocks it; padded frames get exactly 0).
    Teacher and student widths may differ; their frame counts must agree
    (or be aligned with ``time_align="pool"``). The teacher is NOT detached:
    run it under ``torch.no_grad()`` (the distillation Brain does).

    Two paths compute the same value:

    * ``"gram"``: the direct batched T x T matrices, O(B T^2 (D_t+D_s))
      time and O(B T^2) memory.
    * ``"factored"``: the linear-memory form of the spec, with row norms
      from ``F^T F`` and cross terms from ``F_t^T F_s``;
      O(B T (D_t^2 + D_s^2 + D_t D_s)) time and O(B (T D + D^2)) memory.
      Its per-row terms are combined in float64 (see ``_iusp_factored``).
    * ``"auto"`` (default): the cheaper of the two for the shapes, by the
      cost model of :func:`iusp_choose_method`.

    The loss is computed in float32 with autocast switched off (float64
    inputs stay float64), so bf16/fp16 activations are upcast first.

    Config (hyperpyyaml)::

        distill_loss: !name:speechbrain_iusp.iusp_loss
            method: auto
            time_align: pool
        # or, as a module with the distillation protocol:
        iusp: !new:speechbrain_iusp.IUSPLoss
            time_align: pool

    Arguments
    ---------
    teacher : torch.Tensor
        Teacher frame activations [B, T, D_t] or [B, T, F, C] (any trailing
        feature dims are folded).
    student : torch.Tensor
        Student frame activations [B, T, D_s] or [B, T, F', C'].
    lengths : torch.Tensor, optional
        SpeechBrain relative lengths [B] in (0, 1]. Utterance ``n`` keeps
        its first ``T_n = round(lengths[n] * T)`` frames (float64 product,
        round half to even, at least 1 frame). ``None``: no padding.
    method : str
        ``"auto"``, ``"gram"`` or ``"factored"``.
    time_align : str
        What to do when the teacher and student frame counts differ.
        ``"error"`` (default) raises a ValueError. ``"pool"`` average-pools
        the longer sequence over time to the shorter length T' with
        PyTorch's adaptive pooling bins (output frame ``i`` averages input
        frames ``floor(i*T/T')`` to ``ceil((i+1)*T/T') - 1``), counting only
        valid frames when ``lengths`` is given. The same relative
        ``lengths`` then apply to both sides, ``T'_n = round(lengths * T')``;
        each pooled valid frame has at least one valid input frame. Note
        that a clip's pooling bins depend on the padded T, so with pooling
        a padded clip is not exactly the clip alone unless T/T' is an
        integer.
    eps : float
        The ``eps`` of the row normalisation ``x / max(||x||, eps)``.
    reduction : str
        ``"mean"`` (over utterances, the 1/N above), ``"sum"`` or
        ``"none"`` (the per-utterance values, shape [B]).
    factored_dtype : torch.dtype or str, optional
        The dtype of the factored path's matrix products. ``None`` (default)
        uses the compute dtype (float32 unless an input is float64).
        ``torch.float64`` (or ``"float64"``) makes the factored path as
        accurate as the Gram path when teacher and student similarity rows
        are nearly parallel (``1 - cos`` below ~1e-4, where float32 leaves
        about 1e-7 absolute error per row, i.e. ~1e-7 / T_n on an
        utterance's loss), at about 3x the CPU time. The Gram path, which
        subtracts the normalised rows explicitly, does not need it.

    Returns
    -------
    torch.Tensor
        A scalar, or a [B] vector for ``reduction="none"``, in float32
        (float64 for float64 inputs).

    Example
    -------
    >>> _ = torch.manual_seed(0)
    >>> teacher = torch.randn(2, 50, 16)
    >>> student = torch.randn(2, 50, 4, 2)  # a conv map, folded to D = 8
    >>> lengths = torch.tensor([1.0, 0.6])
    >>> loss = iusp_loss(teacher, student, lengths)
    >>> loss.shape
    torch.Size([])
    >>> other = iusp_loss(teacher, student, lengths, method="factored")
    >>> torch.allclose(loss, other, rtol=1e-5)
    True
    >>> iusp_loss(teacher, student, lengths, reduction="none").shape
    torch.Size([2])
    >>> iusp_loss(teacher, teacher).item()
    0.0
    """
    who = "iusp_loss"
    _check_choice("method", method, _IUSP_METHODS)
    _check_choice("time_align", time_align, _TIME_ALIGN)
    _check_choice("reduction", reduction, _REDUCTIONS)
    _check_eps(eps)
    matmul_dtype = _check_factored_dtype(factored_dtype)
    ft = _fold_frames(teacher, who, "teacher")
    fs = _fold_frames(student, who, "student")
    if ft.shape[0] != fs.shape[0]:
        raise ValueError(
            f"{who}: teacher and student batch sizes differ: teacher shape "
            f"{tuple(teacher.shape)} vs student shape {tuple(student.shape)}. "
            "Both must hold the same utterances in the same order."
        )
    if ft.device != fs.device:
        raise ValueError(
            f"{who}: teacher is on {ft.device} but student on {fs.device}."
        )
    batch, t_t, t_s = ft.shape[0], ft.shape[1], fs.shape[1]
    if t_t != t_s and time_align == "error":
        raise ValueError(
            f"{who}: teacher and student frame counts differ: teacher shape "
            f"{tuple(teacher.shape)} (T={t_t}) vs student shape "
            f"{tuple(student.shape)} (T={t_s}). Tap layers with the same "
            "time resolution, or pass time_align='pool' to average-pool the "
            "longer one over time to the shorter length."
        )
    dtype = _compute_dtype(ft, fs)
    with _no_autocast(ft):
        ft = ft.to(dtype)
        fs = fs.to(dtype)
        num_frames = min(t_t, t_s)
        frames = _true_lengths(lengths, batch, num_frames, ft.device, who)
        mask = _frame_mask(frames, num_frames)
        if t_t != t_s:  # time_align == "pool"
            for side in ("teacher", "student"):
                x = ft if side == "teacher" else fs
                if x.shape[1] == num_frames:
                    continue
                long_frames = _true_lengths(
                    lengths, batch, x.shape[1], x.device, who
                )
                long_mask = _frame_mask(long_frames, x.shape[1])
                x = torch.where(long_mask.unsqueeze(-1), x, 0.0)
                x = _masked_time_pool(x, long_mask, num_frames)
                if side == "teacher":
                    ft = x
                else:
                    fs = x
        # Padded frames -> exact zeros (torch.where, so that inf/NaN garbage
        # in the padding cannot leak in through 0 * inf).
        keep = mask.unsqueeze(-1)
        ft = torch.where(keep, ft, 0.0)
        fs = torch.where(keep, fs, 0.0)
        if method == "auto":
            method = iusp_choose_method(num_frames, ft.shape[2], fs.shape[2])
        if method == "gram":
            per_utt = _iusp_gram(ft, fs, eps)
        else:
            per_utt = _iusp_factored(ft, fs, eps, matmul_dtype or dtype)
        per_utt = per_utt / frames.to(per_utt.dtype).square()
        per_utt = per_utt.to(dtype)
    return _reduce(per_utt, reduction)


# ---------------------------------------------------------------------------
# SP
# ---------------------------------------------------------------------------


def _mask_time_axis(x, lengths, who):
    """Zero the padded frames of ``x`` [B, T, ...] (no-op for [B, D])."""
    if lengths is None or x.dim() < 3:
        return x
    frames = _true_lengths(lengths, x.shape[0], x.shape[1], x.device, who)
    mask = _frame_mask(frames, x.shape[1])
    mask = mask.reshape(mask.shape + (1,) * (x.dim() - 2))
    return torch.where(mask, x, 0.0)


def sp_loss(teacher, student, lengths=None, eps=DEFAULT_EPS, reduction="mean"):
    r"""Similarity-preserving (SP) distillation loss of Tung & Mori.

    Tung & Mori, "Similarity-Preserving Knowledge Distillation", ICCV 2019,
    arXiv 1907.09682. Each example of the mini-batch is flattened to a
    vector, :math:`Q \in R^{b \times D}`, :math:`G = Q Q^T` (b x b), each
    ROW of G is L2-normalised as ``x / max(||x||, eps)`` (G is normalised,
    not Q; cf. RepDistiller issue #45), and

    .. math::

        L_{SP} = \frac{1}{b^2} \| \tilde G_{teacher} - \tilde G_{student}
                 \|_F^2

    Teacher and student widths may differ (G is b x b either way). The loss
    does not depend on the order of the batch. It is computed in float32
    with autocast off (float64 stays float64). The teacher is not detached.

    Config (hyperpyyaml)::

        sp: !new:speechbrain_iusp.SPLoss
        # or the function:
        distill_loss: !name:speechbrain_iusp.sp_loss

    Arguments
    ---------
    teacher : torch.Tensor
        Teacher activations [b, ...] (any feature shape).
    student : torch.Tensor
        Student activations [b, ...].
    lengths : torch.Tensor, optional
        SpeechBrain relative lengths [b]. For an input with a time axis
        (``dim >= 3``, time on axis 1) the padded frames, those after
        ``round(lengths * T)`` (its own T for each side), are set to zero
        before flattening, so padding content cannot change the loss. A 2-D
        input [b, D] has no time axis and ignores ``lengths``.
    eps : float
        The ``eps`` of the row normalisation.
    reduction : str
        ``"mean"`` (the paper's 1/b^2 above, torchdistill's
        ``batchmean``), ``"sum"`` (the plain squared Frobenius norm) or
        ``"none"``: the per-row squared errors
        ``||G~_t[i] - G~_s[i]||^2`` (shape [b]; ``mean`` is their sum / b^2).

    Returns
    -------
    torch.Tensor
        A scalar, or a [b] vector for ``reduction="none"``.

    Example
    -------
    >>> _ = torch.manual_seed(0)
    >>> teacher = torch.randn(8, 64, 4, 4)
    >>> student = torch.randn(8, 16, 2, 2)
    >>> loss = sp_loss(teacher, student)
    >>> loss.shape
    torch.Size([])
    >>> perm = torch.randperm(8)
    >>> torch.allclose(loss, sp_loss(teacher[perm], student[perm]))
    True
    """
    who = "sp_loss"
    _check_choice("reduction", reduction, _REDUCTIONS)
    _check_eps(eps)
    for role, x in (("teacher", teacher), ("student", student)):
        if not isinstance(x, torch.Tensor) or x.dim() < 2:
            raise ValueError(
                f"{who}: {role} must be a tensor [b, ...] with a batch axis "
                f"and features; got "
                f"{tuple(x.shape) if isinstance(x, torch.Tensor) else x!r}."
            )
    if teacher.shape[0] != student.shape[0]:
        raise ValueError(
            f"{who}: teacher and student batch sizes differ: teacher shape "
            f"{tuple(teacher.shape)} vs student shape {tuple(student.shape)}."
        )
    dtype = _compute_dtype(teacher, student)
    batch = teacher.shape[0]
    with _no_autocast(teacher):
        qt = _mask_time_axis(teacher.to(dtype), lengths, who).reshape(batch, -1)
        qs = _mask_time_axis(student.to(dtype), lengths, who).reshape(batch, -1)
        gt = F.normalize(qt @ qt.T, dim=1, eps=eps)
        gs = F.normalize(qs @ qs.T, dim=1, eps=eps)
        per_row = (gt - gs).square().sum(dim=1)
    if reduction == "mean":
        return per_row.sum() / (batch * batch)
    if reduction == "sum":
        return per_row.sum()
    return per_row


# ---------------------------------------------------------------------------
# KD and task loss
# ---------------------------------------------------------------------------


def _check_weight(weight, shape, who):
    """Validate an elementwise weight/mask that broadcasts to ``shape``."""
    if weight is None:
        return None
    weight = torch.as_tensor(weight)
    try:
        torch.broadcast_shapes(weight.shape, shape)
    except RuntimeError:
        raise ValueError(
            f"{who}: weight of shape {tuple(weight.shape)} does not broadcast "
            f"to the logits shape {tuple(shape)}."
        ) from None
    return weight


def _weighted_reduce(elementwise, weight, reduction):
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


def kd_loss(
    student_logits,
    teacher_logits,
    temperature=1.0,
    weight=None,
    reduction="mean",
):
    r"""Soft-label knowledge distillation for multi-label (sigmoid) taggers.

    Hinton et al.'s soft targets, for independent sigmoid tags: binary
    cross-entropy between the tempered student and the tempered teacher,
    scaled by :math:`\tau^2` so that gradient magnitudes do not shrink with
    the temperature (not a softmax KL):

    .. math::

        L_{KD} = \tau^2 \, \mathrm{mean}_{b,c}\,
                 \mathrm{BCE}(\sigma(z^s_{bc} / \tau),
                              \sigma(z^t_{bc} / \tau))

    The teacher side is detached (gradients never reach the teacher). The
    BCE against soft targets equals the Bernoulli KL divergence plus the
    teacher's entropy, a constant: same gradient, but its minimum is not 0.
    Computed in float32 with autocast off.

    Note the argument order (student first, as in PyTorch losses). The
    module :class:`KDLoss` takes ``(teacher, student)``, the distillation
    protocol; use it (or ``get_loss("kd")``) in a config.

    Arguments
    ---------
    student_logits : torch.Tensor
        Student logits [B, C] (any shape).
    teacher_logits : torch.Tensor
        Teacher logits, the same shape.
    temperature : float
        The temperature :math:`\tau > 0`.
    weight : torch.Tensor, optional
        Elementwise weight or mask broadcastable to the logits ([B, C]);
        the mean is then taken over the weighted elements,
        ``sum(w * l) / sum(w)`` (0 if all weights are 0).
    reduction : str
        ``"mean"``, ``"sum"`` or ``"none"`` (elementwise, weighted).

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
    """
    who = "kd_loss"
    _check_choice("reduction", reduction, _REDUCTIONS)
    if not (
        isinstance(temperature, (int, float))
        and math.isfinite(temperature)
        and temperature > 0
    ):
        raise ValueError(
            f"{who}: temperature must be a positive number, got "
            f"{temperature!r}."
        )
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"{who}: student logits shape {tuple(student_logits.shape)} "
            f"differs from teacher logits shape "
            f"{tuple(teacher_logits.shape)}."
        )
    weight = _check_weight(weight, student_logits.shape, who)
    dtype = _compute_dtype(student_logits, teacher_logits)
    with _no_autocast(student_logits):
        zs = student_logits.to(dtype) / temperature
        target = torch.sigmoid(teacher_logits.detach().to(dtype) / temperature)
        loss = F.binary_cross_entropy_with_logits(zs, target, reduction="none")
        loss = loss * (temperature * temperature)
        return _weighted_reduce(loss, weight, reduction)


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
    _check_choice("reduction", reduction, _REDUCTIONS)
    if logits.shape != targets.shape:
        raise ValueError(
            f"{who}: logits shape {tuple(logits.shape)} differs from targets "
            f"shape {tuple(targets.shape)}."
        )
    weight = _check_weight(weight, logits.shape, who)
    dtype = _compute_dtype(logits)
    with _no_autocast(logits):
        loss = F.binary_cross_entropy_with_logits(
            logits.to(dtype), targets.to(dtype), reduction="none"
        )
        return _weighted_reduce(loss, weight, reduction)


# ---------------------------------------------------------------------------
# Registry and modules
# ---------------------------------------------------------------------------

LOSSES = {}
"""Registered distillation losses: name -> ``nn.Module`` class (or factory)
whose instances follow ``forward(teacher, student, lengths=None)``."""


def register_loss(name):
    """Register a distillation loss class under ``name`` (a decorator).

    Usable as ``@register_loss("name")`` or bare, ``@register_loss`` (then
    the class name, lower-cased, is the key). Re-registering a name for a
    different object is an error.

    Arguments
    ---------
    name : str or type
        The registry key (or, used bare, the class itself).

    Returns
    -------
    callable
        The decorator (or, used bare, the class unchanged).

    Example
    -------
    >>> @register_loss("my_l2")
    ... class MyL2(torch.nn.Module):
    ...     def forward(self, teacher, student, lengths=None):
    ...         return (teacher - student).square().mean()
    >>> type(get_loss("my_l2")).__name__
    'MyL2'
    >>> _ = LOSSES.pop("my_l2")
    """
    if callable(name) and not isinstance(name, str):
        obj = name
        return register_loss(obj.__name__.lower())(obj)
    if not isinstance(name, str) or not name:
        raise TypeError(f"register_loss: name must be a string, got {name!r}.")

    def decorator(obj):
        if not callable(obj):
            raise TypeError(
                f"register_loss({name!r}): can only register a class or "
                f"callable, got {obj!r}."
            )
        if name in LOSSES and LOSSES[name] is not obj:
            raise ValueError(
                f"register_loss: the name {name!r} is already registered "
                f"for {LOSSES[name]!r}; pick another name."
            )
        LOSSES[name] = obj
        return obj

    return decorator


def get_loss(name_or_obj, **kwargs):
    """Build a registered loss by name, or pass a ready loss through.

    Arguments
    ---------
    name_or_obj : str or callable
        A registered name (``"iusp"``, ``"sp"``, ``"kd"``, ...), or an
        ``nn.Module`` / callable, which is returned unchanged.
    **kwargs
        Constructor arguments for a named loss (not allowed with an object).

    Returns
    -------
    nn.Module or callable
        ``LOSSES[name](**kwargs)``, or ``name_or_obj`` itself.

    Example
    -------
    >>> get_loss("iusp", method="factored")
    IUSPLoss(method='factored')
    >>> get_loss("kd", temperature=2.0)
    KDLoss(temperature=2.0)
    >>> f = get_loss(sp_loss)
    >>> f is sp_loss
    True
    """
    if isinstance(name_or_obj, str):
        if name_or_obj not in LOSSES:
            raise KeyError(
                f"get_loss: unknown loss {name_or_obj!r}; registered names: "
                f"{', '.join(sorted(LOSSES))}. Register a new one with "
                "@register_loss('name')."
            )
        return LOSSES[name_or_obj](**kwargs)
    if callable(name_or_obj):
        if kwargs:
            raise ValueError(
                f"get_loss: keyword arguments {sorted(kwargs)} given with an "
                f"already built loss {name_or_obj!r}; they would be ignored."
            )
        return name_or_obj
    raise TypeError(
        "get_loss: expected a registered name or a callable loss, got "
        f"{type(name_or_obj).__name__} {name_or_obj!r}."
    )


def _kwargs_repr(kwargs):
    """``k=v, ...`` for an extra_repr."""
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


@register_loss("iusp")
class IUSPLoss(nn.Module):
    """IUSP distillation term: ``forward(teacher, student, lengths=None)``.

    A module form of :func:`iusp_loss` (see it for the maths), with the
    options fixed at construction.

    Config (hyperpyyaml)::

        iusp: !new:speechbrain_iusp.IUSPLoss
            method: auto
            time_align: pool

    Arguments
    ---------
    **kwargs
        Options of :func:`iusp_loss`: ``method``, ``time_align``, ``eps``,
        ``reduction``, ``factored_dtype``.

    Example
    -------
    >>> loss_fn = IUSPLoss(method="gram")
    >>> teacher, student = torch.randn(2, 10, 8), torch.randn(2, 10, 3)
    >>> loss_fn(teacher, student, torch.tensor([1.0, 0.5])).shape
    torch.Size([])
    """

    _OPTIONS = ("method", "time_align", "eps", "reduction", "factored_dtype")

    def __init__(self, **kwargs):
        super().__init__()
        unknown = sorted(set(kwargs) - set(self._OPTIONS))
        if unknown:
            raise TypeError(
                f"IUSPLoss: unknown option(s) {unknown}; valid options: "
                f"{', '.join(self._OPTIONS)}."
            )
        _check_choice("method", kwargs.get("method", "auto"), _IUSP_METHODS)
        _check_choice(
            "time_align", kwargs.get("time_align", "error"), _TIME_ALIGN
        )
        _check_choice("reduction", kwargs.get("reduction", "mean"), _REDUCTIONS)
        _check_eps(kwargs.get("eps", DEFAULT_EPS))
        _check_factored_dtype(kwargs.get("factored_dtype"))
        self.kwargs = dict(kwargs)

    def forward(self, teacher, student, lengths=None):
        """Compute the loss; see :func:`iusp_loss`.

        Arguments
        ---------
        teacher : torch.Tensor
            Teacher frames [B, T, D_t] (or [B, T, F, C]).
        student : torch.Tensor
            Student frames [B, T, D_s] (or [B, T, F, C]).
        lengths : torch.Tensor, optional
            Relative lengths [B].

        Returns
        -------
        torch.Tensor
            The loss.
        """
        return iusp_loss(teacher, student, lengths, **self.kwargs)

    def extra_repr(self):
        """The construction options."""
        return _kwargs_repr(self.kwargs)


@register_loss("sp")
class SPLoss(nn.Module):
    """SP distillation term: ``forward(teacher, student, lengths=None)``.

    A module form of :func:`sp_loss` (see it for the maths). ``lengths``
    zero the padded frames of inputs with a time axis.

    Config (hyperpyyaml)::

        sp: !new:speechbrain_iusp.SPLoss

    Arguments
    ---------
    **kwargs
        Options of :func:`sp_loss`: ``eps``, ``reduction``.

    Example
    -------
    >>> loss_fn = SPLoss()
    >>> loss_fn(torch.randn(4, 10, 8), torch.randn(4, 3)).shape
    torch.Size([])
    """

    _OPTIONS = ("eps", "reduction")

    def __init__(self, **kwargs):
        super().__init__()
        unknown = sorted(set(kwargs) - set(self._OPTIONS))
        if unknown:
            raise TypeError(
                f"SPLoss: unknown option(s) {unknown}; valid options: "
                f"{', '.join(self._OPTIONS)}."
            )
        _check_choice("reduction", kwargs.get("reduction", "mean"), _REDUCTIONS)
        _check_eps(kwargs.get("eps", DEFAULT_EPS))
        self.kwargs = dict(kwargs)

    def forward(self, teacher, student, lengths=None):
        """Compute the loss; see :func:`sp_loss`.

        Arguments
        ---------
        teacher : torch.Tensor
            Teacher activations [b, ...].
        student : torch.Tensor
            Student activations [b, ...].
        lengths : torch.Tensor, optional
            Relative lengths [b].

        Returns
        -------
        torch.Tensor
            The loss.
        """
        return sp_loss(teacher, student, lengths, **self.kwargs)

    def extra_repr(self):
        """The construction options."""
        return _kwargs_repr(self.kwargs)


@register_loss("kd")
class KDLoss(nn.Module):
    """Soft-label KD term: ``forward(teacher, student, lengths=None)``.

    A module form of :func:`kd_loss` with the distillation protocol's
    argument order (teacher first); it calls
    ``kd_loss(student, teacher, temperature, weight, reduction)``. Logits
    are clip-level, so ``lengths`` is accepted and ignored.

    Config (hyperpyyaml)::

        kd: !new:speechbrain_iusp.KDLoss
            temperature: 2.0

    Arguments
    ---------
    temperature : float
        The temperature tau > 0.
    reduction : str
        ``"mean"``, ``"sum"`` or ``"none"``.

    Example
    -------
    >>> loss_fn = KDLoss(temperature=2.0)
    >>> teacher, student = torch.randn(4, 8), torch.randn(4, 8)
    >>> bool(loss_fn(teacher, student) == kd_loss(student, teacher, 2.0))
    True
    """

    def __init__(self, temperature=1.0, reduction="mean"):
        super().__init__()
        _check_choice("reduction", reduction, _REDUCTIONS)
        if not (isinstance(temperature, (int, float)) and temperature > 0):
            raise ValueError(
                f"KDLoss: temperature must be a positive number, got "
                f"{temperature!r}."
            )
        self.temperature = float(temperature)
        self.reduction = reduction

    def forward(self, teacher, student, lengths=None, weight=None):
        """Compute the loss; see :func:`kd_loss`.

        Arguments
        ---------
        teacher : torch.Tensor
            Teacher logits [B, C].
        student : torch.Tensor
            Student logits [B, C].
        lengths : torch.Tensor, optional
            Ignored (clip-level logits); part of the protocol.
        weight : torch.Tensor, optional
            Elementwise weight/mask [B, C].

        Returns
        -------
        torch.Tensor
            The loss.
        """
        return kd_loss(
            student, teacher, self.temperature, weight, self.reduction
        )

    def extra_repr(self):
        """The construction options."""
        text = f"temperature={self.temperature!r}"
        if self.reduction != "mean":
            text += f", reduction={self.reduction!r}"
        return text
