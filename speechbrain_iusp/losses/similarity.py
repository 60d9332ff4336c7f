"""Similarity-preserving losses: IUSP (frames of one clip) and SP (clips).

Both compare row-normalised similarity matrices of a student and a teacher
activation and take the student first: ``loss(student, teacher, lengths)``.
The maths is specified in ``docs/losses.md``.

Authors
 * speechbrain-iusp developers 2026
"""

import torch
import torch.nn.functional as F

from speechbrain_iusp.losses.common import (
    DEFAULT_EPS,
    REDUCTIONS,
    check_choice,
    check_eps,
    compute_dtype,
    frame_mask,
    no_autocast,
    reduce_batch,
    true_lengths,
)
from speechbrain_iusp.losses.layouts import (
    check_time_axes,
    parse_layout,
    to_btd,
)

IUSP_METHODS = ("auto", "gram", "factored")
IUSP_SIMILARITIES = ("gram", "cosine")
TIME_ALIGN = ("error", "pool")

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


def _factored_dtype(value):
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


def check_iusp_options(
    method="auto",
    time_align="error",
    eps=DEFAULT_EPS,
    reduction="mean",
    factored_dtype=None,
    similarity="gram",
    layout=None,
):
    """Validate the options of :func:`iusp_loss` (raises ValueError).

    Arguments
    ---------
    method : str
        ``"auto"``, ``"gram"`` or ``"factored"``.
    time_align : str
        ``"error"`` or ``"pool"``.
    eps : float
        Positive normalisation epsilon.
    reduction : str
        ``"mean"``, ``"sum"`` or ``"none"``.
    factored_dtype : torch.dtype or str, optional
        None, float32 or float64.
    similarity : str
        ``"gram"`` or ``"cosine"``.
    layout : str, tuple or None
        A layout name or a ``(student, teacher)`` pair (see
        :mod:`~speechbrain_iusp.losses.layouts`).

    Returns
    -------
    torch.dtype or None
        The factored path's matmul dtype.

    Example
    -------
    >>> check_iusp_options(method="fast")
    Traceback (most recent call last):
    ...
    ValueError: method='fast' is not supported; use one of 'auto', ...
    """
    check_choice("method", method, IUSP_METHODS)
    check_choice("similarity", similarity, IUSP_SIMILARITIES)
    check_choice("time_align", time_align, TIME_ALIGN)
    check_choice("reduction", reduction, REDUCTIONS)
    check_eps(eps)
    parse_layout(layout)
    return _factored_dtype(factored_dtype)


def check_sp_options(eps=DEFAULT_EPS, reduction="mean", layout=None):
    """Validate the options of :func:`sp_loss` (raises ValueError).

    Arguments
    ---------
    eps : float
        Positive normalisation epsilon.
    reduction : str
        ``"mean"``, ``"sum"`` or ``"none"``.
    layout : str, tuple or None
        A layout name or a ``(student, teacher)`` pair.
    """
    check_choice("reduction", reduction, REDUCTIONS)
    check_eps(eps)
    parse_layout(layout)


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


def _cosine_distance(ft, fs, method, matmul_dtype):
    """Per-utterance ``||S_t - S_s||_F^2`` of frame cosine similarities.

    ``ft``, ``fs`` hold unit (or zero) frames. ``gram`` builds the T x T
    matrices; ``factored`` uses ``||A A^T - B B^T||_F^2 = ||A^T A||_F^2 +
    ||B^T B||_F^2 - 2 ||A^T B||_F^2`` (linear memory in T), combined in
    float64 and clamped at 0.
    """
    if method == "gram":
        st = torch.bmm(ft, ft.transpose(1, 2))
        ss = torch.bmm(fs, fs.transpose(1, 2))
        return (st - ss).square().sum(dim=(1, 2))
    ft, fs = ft.to(matmul_dtype), fs.to(matmul_dtype)
    tt = torch.bmm(ft.transpose(1, 2), ft).double().square().sum((1, 2))
    ss = torch.bmm(fs.transpose(1, 2), fs).double().square().sum((1, 2))
    ts = torch.bmm(ft.transpose(1, 2), fs).double().square().sum((1, 2))
    return (tt + ss - 2.0 * ts).clamp_min(0.0)


def iusp_loss(
    student,
    teacher,
    lengths=None,
    method="auto",
    time_align="error",
    eps=DEFAULT_EPS,
    reduction="mean",
    factored_dtype=None,
    similarity="gram",
    layout=None,
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
        # ECAPA-TDNN blocks give [B, C, T]: say where time is
        iusp_ecapa: !new:speechbrain_iusp.IUSPLoss
            layout: bct

    Arguments
    ---------
    student : torch.Tensor
        Student frame activations [B, T, D_s] or [B, T, F', C'], or
        channel-first as ``layout`` says.
    teacher : torch.Tensor
        Teacher frame activations [B, T, D_t] or [B, T, F, C] (any trailing
        feature dims are folded), or as ``layout`` says.
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
    similarity : str
        The frame similarity that is matched. ``"gram"`` (default, the
        paper's IUSP): the rows of ``G = F F^T`` L2-normalised.
        ``"cosine"``: the cosine similarity of L2-normalised frames,
        ``S = F^ F^^T`` (``F^`` the frames scaled to unit norm, a zero frame
        staying zero), compared without further normalisation; its
        ``factored`` path uses the Frobenius identity
        ``||A A^T - B B^T||^2 = ||A^T A||^2 + ||B^T B||^2 - 2 ||A^T B||^2``.
    factored_dtype : torch.dtype or str, optional
        The dtype of the factored path's matrix products. ``None`` (default)
        uses the compute dtype (float32 unless an input is float64).
        ``torch.float64`` (or ``"float64"``) makes the factored path as
        accurate as the Gram path when teacher and student similarity rows
        are nearly parallel (``1 - cos`` below ~1e-4, where float32 leaves
        about 1e-7 absolute error per row, i.e. ~1e-7 / T_n on an
        utterance's loss), at about 3x the CPU time. The Gram path, which
        subtracts the normalised rows explicitly, does not need it.
    layout : str, tuple or None
        Where time is: ``"btd"`` (``[B, T, *feature]``), ``"btfc"``,
        ``"bct"``, ``"bcft"`` or ``"bctf"``, or a pair ``(student,
        teacher)``. Each tensor is moved to ``[B, T, D]`` first, so the
        value equals the default computation on the transposed tensors.
        ``None`` (default) reads time on axis 1 but refuses shapes that
        look channel-first (see ``docs/losses.md``, "Layouts").

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
    >>> loss = iusp_loss(student, teacher, lengths)
    >>> loss.shape
    torch.Size([])
    >>> other = iusp_loss(student, teacher, lengths, method="factored")
    >>> torch.allclose(loss, other, rtol=1e-5)
    True
    >>> iusp_loss(student, teacher, lengths, reduction="none").shape
    torch.Size([2])
    >>> iusp_loss(teacher, teacher).item()
    0.0
    >>> ecapa_t, ecapa_s = torch.randn(2, 32, 50), torch.randn(2, 8, 50)
    >>> bct = iusp_loss(ecapa_s, ecapa_t, lengths, layout="bct")
    >>> btd = iusp_loss(ecapa_s.mT, ecapa_t.mT, lengths)
    >>> torch.equal(bct, btd)
    True
    """
    who = "iusp_loss"
    matmul_dtype = check_iusp_options(
        method, time_align, eps, reduction, factored_dtype, similarity
    )
    layouts = parse_layout(layout)
    fs = to_btd(student, layouts[0], who, "student")
    ft = to_btd(teacher, layouts[1], who, "teacher")
    check_time_axes(student, teacher, layouts, who)
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
        where = (
            "time on axis 1, the default; pass layout= if it is elsewhere"
            if layouts == (None, None)
            else f"layouts (student, teacher) {layouts}"
        )
        raise ValueError(
            f"{who}: teacher and student frame counts differ: teacher shape "
            f"{tuple(teacher.shape)} (T={t_t}) vs student shape "
            f"{tuple(student.shape)} (T={t_s}) ({where}). Tap layers with "
            "the same time resolution, or pass time_align='pool' to "
            "average-pool the longer one over time to the shorter length."
        )
    dtype = compute_dtype(ft, fs)
    with no_autocast(ft):
        ft = ft.to(dtype)
        fs = fs.to(dtype)
        num_frames = min(t_t, t_s)
        frames = true_lengths(lengths, batch, num_frames, ft.device, who)
        mask = frame_mask(frames, num_frames)
        if t_t != t_s:  # time_align == "pool"
            for side in ("teacher", "student"):
                x = ft if side == "teacher" else fs
                if x.shape[1] == num_frames:
                    continue
                long_frames = true_lengths(
                    lengths, batch, x.shape[1], x.device, who
                )
                long_mask = frame_mask(long_frames, x.shape[1])
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
        if similarity == "cosine":
            ft = F.normalize(ft, dim=-1, eps=eps)
            fs = F.normalize(fs, dim=-1, eps=eps)
            per_utt = _cosine_distance(ft, fs, method, matmul_dtype or dtype)
        elif method == "gram":
            per_utt = _iusp_gram(ft, fs, eps)
        else:
            per_utt = _iusp_factored(ft, fs, eps, matmul_dtype or dtype)
        per_utt = per_utt / frames.to(per_utt.dtype).square()
        per_utt = per_utt.to(dtype)
    return reduce_batch(per_utt, reduction)


def frame_similarity(
    x, lengths=None, similarity="gram", eps=DEFAULT_EPS, layout=None
):
    """The T x T frame similarity matrices that :func:`iusp_loss` compares.

    ``gram``: ``G = F F^T`` with each row L2-normalised; ``cosine``: the
    cosine similarities of the frames. Padded frames give zero rows and
    columns. For inspection and figures; the loss never builds these
    matrices on its factored path.

    Arguments
    ---------
    x : torch.Tensor
        Activations ``[B, T, *feature]``.
    lengths : torch.Tensor, optional
        Relative lengths ``[B]`` (None = all frames valid).
    similarity : str
        ``"gram"`` or ``"cosine"``.
    eps : float
        Norm floor, as in :func:`iusp_loss`.
    layout : str, optional
        Where time is in ``x`` (see :func:`iusp_loss`); None: axis 1.

    Returns
    -------
    torch.Tensor
        ``[B, T, T]``, float32 (float64 stays float64).

    Example
    -------
    >>> x = torch.tensor([[[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]]])
    >>> frame_similarity(x, similarity="cosine")[0]
    tensor([[1., 1., 0.],
            [1., 1., 0.],
            [0., 0., 1.]])
    """
    if similarity not in IUSP_SIMILARITIES:
        raise ValueError(
            f"frame_similarity: similarity must be one of "
            f"{IUSP_SIMILARITIES}, got {similarity!r}"
        )
    parse_layout(layout)
    f = to_btd(x, layout, "frame_similarity", "x")
    f = f.to(compute_dtype(f, f))
    frames = true_lengths(
        lengths, f.shape[0], f.shape[1], f.device, "frame_similarity"
    )
    f = torch.where(frame_mask(frames, f.shape[1]).unsqueeze(-1), f, 0.0)
    if similarity == "cosine":
        f = F.normalize(f, dim=-1, eps=eps)
        return torch.bmm(f, f.transpose(1, 2))
    return F.normalize(torch.bmm(f, f.transpose(1, 2)), dim=-1, eps=eps)


# ---------------------------------------------------------------------------
# SP
# ---------------------------------------------------------------------------


def _mask_time_axis(x, lengths, who, layout=None, role="x"):
    """Zero the padded frames of ``x`` [B, T, ...] (no-op for [B, D]).

    With a layout other than ``btd``, ``x`` is first moved to [B, T, D].
    """
    if layout not in (None, "btd"):
        x = to_btd(x, layout, who, role)
    if lengths is None or x.dim() < 3:
        return x
    frames = true_lengths(lengths, x.shape[0], x.shape[1], x.device, who)
    mask = frame_mask(frames, x.shape[1])
    mask = mask.reshape(mask.shape + (1,) * (x.dim() - 2))
    return torch.where(mask, x, 0.0)


def sp_loss(
    student,
    teacher,
    lengths=None,
    eps=DEFAULT_EPS,
    reduction="mean",
    layout=None,
):
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
        # channel-first maps (time is only needed to mask the padding)
        sp_cnn14: !new:speechbrain_iusp.SPLoss
            layout: bctf

    Arguments
    ---------
    student : torch.Tensor
        Student activations [b, ...].
    teacher : torch.Tensor
        Teacher activations [b, ...] (any feature shape).
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
    layout : str, tuple or None
        Where time is, as for :func:`iusp_loss`: the padding is masked
        along that axis. ``None`` (default): axis 1, and with ``lengths``
        the shapes that look channel-first are refused. A 2-D side needs
        ``None`` or ``"btd"`` (a pair gives each side its own).

    Returns
    -------
    torch.Tensor
        A scalar, or a [b] vector for ``reduction="none"``.

    Example
    -------
    >>> _ = torch.manual_seed(0)
    >>> teacher = torch.randn(8, 64, 4, 4)
    >>> student = torch.randn(8, 16, 2, 2)
    >>> loss = sp_loss(student, teacher)
    >>> loss.shape
    torch.Size([])
    >>> perm = torch.randperm(8)
    >>> torch.allclose(loss, sp_loss(student[perm], teacher[perm]))
    True
    >>> lengths = torch.linspace(0.5, 1.0, 8)
    >>> bcft = sp_loss(student, teacher, lengths, layout="bcft")
    >>> btd = sp_loss(student.permute(0, 3, 1, 2), teacher.permute(0, 3, 1, 2),
    ...               lengths)
    >>> torch.allclose(bcft, btd)
    True
    """
    who = "sp_loss"
    check_sp_options(eps, reduction)
    layouts = parse_layout(layout)
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
    if lengths is not None:
        check_time_axes(student, teacher, layouts, who)
    dtype = compute_dtype(teacher, student)
    batch = teacher.shape[0]
    with no_autocast(teacher):
        qt = _mask_time_axis(
            teacher.to(dtype), lengths, who, layouts[1], "teacher"
        ).reshape(batch, -1)
        qs = _mask_time_axis(
            student.to(dtype), lengths, who, layouts[0], "student"
        ).reshape(batch, -1)
        gt = F.normalize(qt @ qt.T, dim=1, eps=eps)
        gs = F.normalize(qs @ qs.T, dim=1, eps=eps)
        per_row = (gt - gs).square().sum(dim=1)
    if reduction == "mean":
        return per_row.sum() / (batch * batch)
    if reduction == "sum":
        return per_row.sum()
    return per_row
