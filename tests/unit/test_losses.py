"""Tests of speechbrain_iusp.losses against brute-force float64 references.

The references below are written independently of the package: plain Python
loops over utterances (and, where it matters, over rows), float64, the spec's
zero-row rule spelled out, and SP as Tung & Mori / RepDistiller write it.

Authors
 * speechbrain-iusp developers 2026
"""

import math
import os
import re
import zlib

import pytest
import torch
import torch.nn.functional as F

from speechbrain_iusp import losses
from speechbrain_iusp.losses import (
    LOSSES,
    IUSPLoss,
    KDLoss,
    SPLoss,
    get_loss,
    iusp_choose_method,
    iusp_loss,
    kd_loss,
    register_loss,
    sp_loss,
    tagging_bce_loss,
)

METHODS = ("gram", "factored", "auto")


# ---------------------------------------------------------------------------
# references (float64, loops, no code shared with the package)
# ---------------------------------------------------------------------------


def true_frames(lengths, n, num_frames):
    """T_n = round(lengths[n] * T), at least 1 (Python's round: half even)."""
    if lengths is None:
        return num_frames
    return max(1, min(num_frames, round(float(lengths[n]) * num_frames)))


def unit_rows(gram):
    """Normalise each row to unit L2 norm; an all-zero row stays zero."""
    out = torch.zeros_like(gram)
    for i in range(gram.shape[0]):
        norm = math.sqrt(float((gram[i] * gram[i]).sum()))
        if norm > 0.0:
            out[i] = gram[i] / norm
    return out


def ref_iusp(teacher, student, lengths=None, reduction="mean"):
    """The spec's IUSP: per utterance, Gram of the unpadded slice."""
    batch, num_frames = teacher.shape[0], teacher.shape[1]
    ft = teacher.detach().double().reshape(batch, num_frames, -1)
    fs = student.detach().double().reshape(batch, num_frames, -1)
    values = []
    for n in range(batch):
        tn = true_frames(lengths, n, num_frames)
        a, b = ft[n, :tn], fs[n, :tn]
        diff = unit_rows(a @ a.T) - unit_rows(b @ b.T)
        values.append(float((diff * diff).sum()) / tn**2)
    values = torch.tensor(values, dtype=torch.float64)
    return values if reduction == "none" else values.mean()


def ref_iusp_rowloop(teacher, student):
    """The factored formula of the spec, one row at a time (a_i, b_i, cos_i)."""
    batch, num_frames = teacher.shape[0], teacher.shape[1]
    ft = teacher.detach().double().reshape(batch, num_frames, -1)
    fs = student.detach().double().reshape(batch, num_frames, -1)
    total = 0.0
    for n in range(batch):
        per = 0.0
        for i in range(num_frames):
            gt = ft[n] @ ft[n, i]  # row i of G_t
            gs = fs[n] @ fs[n, i]
            nt, ns = float(gt.norm()), float(gs.norm())
            a, b = float(nt > 0), float(ns > 0)
            cos = float(gt @ gs) / (nt * ns) if nt > 0 and ns > 0 else 0.0
            per += a + b - 2.0 * cos
        total += per / num_frames**2
    return total / batch


def ref_pool(x, out_frames, valid=None):
    """Average pooling over time with PyTorch's adaptive bins, by hand."""
    batch, num_frames = x.shape[0], x.shape[1]
    out = torch.zeros(batch, out_frames, *x.shape[2:], dtype=torch.float64)
    for n in range(batch):
        tv = num_frames if valid is None else valid[n]
        for i in range(out_frames):
            start = (i * num_frames) // out_frames
            end = -((-(i + 1) * num_frames) // out_frames)  # ceil
            frames = [j for j in range(start, end) if j < tv]
            if frames:
                out[n, i] = x[n, frames].double().mean(0)
    return out


def ref_sp(teacher, student):
    """Tung & Mori Eq. (4) with explicit loops over the b x b matrix."""
    b = teacher.shape[0]
    qt = teacher.detach().double().reshape(b, -1)
    qs = student.detach().double().reshape(b, -1)
    gt, gs = unit_rows(qt @ qt.T), unit_rows(qs @ qs.T)
    total = 0.0
    for i in range(b):
        for j in range(b):
            total += float(gt[i, j] - gs[i, j]) ** 2
    return total / b**2


def repdistiller_style_sp(f_s, f_t):
    """SP as RepDistiller / mdistiller write it (student first; own code)."""
    bsz = f_s.shape[0]
    g_s = F.normalize(f_s.reshape(bsz, -1) @ f_s.reshape(bsz, -1).t())
    g_t = F.normalize(f_t.reshape(bsz, -1) @ f_t.reshape(bsz, -1).t())
    g_diff = g_t - g_s
    return (g_diff * g_diff).view(-1, 1).sum(0) / (bsz * bsz)


def ref_kd(student, teacher, tau, weight=None):
    """Elementwise tau^2 * BCE(sigmoid(s/tau), sigmoid(t/tau)), weighted."""
    num, den = 0.0, 0.0
    for s, t, w in zip(
        student.flatten().tolist(),
        teacher.flatten().tolist(),
        (torch.ones_like(student) if weight is None else weight)
        .flatten()
        .tolist(),
        strict=True,
    ):
        p = 1.0 / (1.0 + math.exp(-t / tau))
        q = 1.0 / (1.0 + math.exp(-s / tau))
        bce = -(p * math.log(q) + (1.0 - p) * math.log(1.0 - q))
        num += w * tau * tau * bce
        den += w
    return num / den if den > 0 else 0.0


def ref_bce(logits, targets, weight):
    """Masked mean of the elementwise BCE-with-logits, by hand."""
    num, den = 0.0, 0.0
    for z, y, w in zip(
        logits.flatten().tolist(),
        targets.flatten().tolist(),
        weight.flatten().tolist(),
        strict=True,
    ):
        q = 1.0 / (1.0 + math.exp(-z))
        num += w * -(y * math.log(q) + (1.0 - y) * math.log(1.0 - q))
        den += w
    return num / den if den > 0 else 0.0


def assert_close(value, reference, dtype):
    """1e-5 relative in float32, 1e-10 in float64.

    Where the reference is exactly 0 (e.g. T = 1: both 1 x 1 similarity
    matrices normalise to 1) the rounding of the computation is allowed,
    2e-7 in float32 and 1e-15 in float64.
    """
    rtol = 1e-10 if dtype == torch.float64 else 1e-5
    zero_tol = 1e-15 if dtype == torch.float64 else 2e-7
    value = torch.as_tensor(value, dtype=torch.float64)
    reference = torch.as_tensor(reference, dtype=torch.float64)
    zero = reference == 0
    assert (value[zero].abs() <= zero_tol).all(), (value, reference)
    torch.testing.assert_close(
        value[~zero], reference[~zero], rtol=rtol, atol=0.0
    )


# ---------------------------------------------------------------------------
# IUSP values
# ---------------------------------------------------------------------------

# (teacher shape, student shape, relative lengths or None)
IUSP_CASES = [
    ((3, 17, 8), (3, 17, 5), None),  # D_t != D_s
    ((3, 17, 8), (3, 17, 5), [1.0, 0.53, 0.2]),  # padded
    ((2, 12, 4, 3), (2, 12, 2, 5), [0.75, 1.0]),  # conv maps, folded
    ((1, 9, 6), (1, 9, 6), None),  # B = 1
    ((2, 1, 5), (2, 1, 3), None),  # T = 1
    ((2, 6, 3), (2, 6, 7), [0.01, 1.0]),  # rounds to 0 frames -> 1 frame
    ((2, 700, 12), (2, 700, 4), [1.0, 0.61]),  # long T
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shapes", IUSP_CASES, ids=str)
def test_iusp_matches_reference(shapes, method, dtype):
    t_shape, s_shape, lengths = shapes
    gen = torch.Generator().manual_seed(zlib.crc32(str(shapes).encode()))
    teacher = torch.randn(t_shape, generator=gen, dtype=dtype)
    student = torch.randn(s_shape, generator=gen, dtype=dtype)
    rel = None if lengths is None else torch.tensor(lengths, dtype=dtype)
    value = iusp_loss(student, teacher, rel, method=method, reduction="none")
    assert value.dtype == dtype and value.shape == (t_shape[0],)
    reference = ref_iusp(teacher, student, lengths, reduction="none")
    assert_close(value, reference, dtype)
    mean = iusp_loss(student, teacher, rel, method=method)
    assert_close(mean, reference.mean(), dtype)
    total = iusp_loss(student, teacher, rel, method=method, reduction="sum")
    assert_close(total, reference.sum(), dtype)


def test_iusp_relu_features_and_matching_reference_rowloop():
    # Nonnegative (ReLU-like) features: all Gram entries positive, rows
    # strongly correlated, the regime of real activations.
    torch.manual_seed(1)
    teacher = torch.relu(torch.randn(2, 40, 10, dtype=torch.float64))
    student = torch.relu(torch.randn(2, 40, 6, dtype=torch.float64))
    reference = ref_iusp_rowloop(teacher, student)
    assert_close(ref_iusp(teacher, student), reference, torch.float64)
    for method in METHODS:
        value = iusp_loss(student, teacher, method=method)
        assert_close(value, reference, torch.float64)
        value32 = iusp_loss(student.float(), teacher.float(), method=method)
        assert_close(value32, reference, torch.float32)


def test_iusp_identical_inputs_give_zero():
    x = torch.randn(3, 30, 8)
    for method in METHODS:
        assert iusp_loss(x, x, method=method).item() == 0.0
        # the same similarity structure at another width and scale
        y = torch.cat([x, x], dim=-1) * 3.0
        assert iusp_loss(y, x, method=method).item() == pytest.approx(
            0.0, abs=1e-6
        )


def test_iusp_factored_float64_option_near_parallel_rows():
    # student = teacher + small noise: 1 - cos ~ 1e-6 per row, where float32
    # products lose digits; factored_dtype="float64" restores them.
    gen = torch.Generator().manual_seed(3)
    teacher = torch.randn(2, 300, 16, generator=gen)
    student = teacher + 1e-3 * torch.randn(2, 300, 16, generator=gen)
    reference = ref_iusp(teacher, student)
    gram = iusp_loss(student, teacher, method="gram")
    torch.testing.assert_close(gram.double(), reference, rtol=1e-4, atol=0.0)
    exact = iusp_loss(
        student, teacher, method="factored", factored_dtype="float64"
    )
    assert exact.dtype == torch.float32
    assert_close(exact, reference, torch.float32)
    # the documented float32 error bound: ~1e-7 per row, / T^2 per row sum
    fast = iusp_loss(student, teacher, method="factored")
    assert abs(float(fast) - float(reference)) < 300 * 1e-6 / 300**2


# ---------------------------------------------------------------------------
# IUSP gradients
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["gram", "factored"])
def test_iusp_gradcheck(method):
    torch.manual_seed(4)
    teacher = torch.randn(2, 6, 4, dtype=torch.float64, requires_grad=True)
    student = torch.randn(2, 6, 3, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([1.0, 0.5], dtype=torch.float64)

    def fn(t, s):
        return iusp_loss(s, t, lengths, method=method, reduction="none")

    assert torch.autograd.gradcheck(fn, (teacher, student))


def test_iusp_gram_and_factored_gradients_agree():
    torch.manual_seed(5)
    teacher = torch.randn(3, 20, 7, dtype=torch.float64)
    student = torch.randn(3, 20, 4, dtype=torch.float64)
    lengths = torch.tensor([1.0, 0.7, 0.35], dtype=torch.float64)
    grads = []
    for method in ("gram", "factored"):
        t = teacher.clone().requires_grad_()
        s = student.clone().requires_grad_()
        iusp_loss(s, t, lengths, method=method).backward()
        grads.append((t.grad, s.grad))
    torch.testing.assert_close(grads[0][0], grads[1][0], rtol=1e-9, atol=0)
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-9, atol=0)
    assert grads[0][1].abs().sum() > 0


# ---------------------------------------------------------------------------
# IUSP padding, zero frames
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_iusp_padded_batch_equals_each_clip_alone(method):
    torch.manual_seed(6)
    sizes, width_t, width_s = [13, 7, 10], 6, 4
    clips_t = [torch.randn(1, n, width_t) for n in sizes]
    clips_s = [torch.randn(1, n, width_s) for n in sizes]
    alone = torch.cat(
        [
            iusp_loss(s, t, method=method, reduction="none")
            for t, s in zip(clips_t, clips_s, strict=True)
        ]
    )
    longest = max(sizes)
    lengths = torch.tensor([n / longest for n in sizes])
    for fill in ("zeros", "garbage", "inf"):
        batch_t = torch.zeros(len(sizes), longest, width_t)
        batch_s = torch.zeros(len(sizes), longest, width_s)
        if fill == "garbage":
            batch_t = 1e4 * torch.randn_like(batch_t)
            batch_s = 1e4 * torch.randn_like(batch_s)
        elif fill == "inf":
            batch_t.fill_(float("inf"))
            batch_s.fill_(float("nan"))
        for k, n in enumerate(sizes):
            batch_t[k, :n] = clips_t[k][0]
            batch_s[k, :n] = clips_s[k][0]
        batch_s.requires_grad_()
        per_utt = iusp_loss(
            batch_s, batch_t, lengths, method=method, reduction="none"
        )
        torch.testing.assert_close(per_utt, alone, rtol=1e-5, atol=0)
        mean = iusp_loss(batch_s, batch_t, lengths, method=method)
        torch.testing.assert_close(mean, alone.mean(), rtol=1e-5, atol=0)
        mean.backward()
        grad = batch_s.grad
        assert torch.isfinite(grad).all()
        for k, n in enumerate(sizes):
            assert (grad[k, n:] == 0).all()  # no gradient into padding


@pytest.mark.parametrize("method", METHODS)
def test_iusp_zero_frames_and_zero_utterance(method):
    torch.manual_seed(7)
    teacher = torch.randn(3, 9, 5, dtype=torch.float64)
    student = torch.randn(3, 9, 4, dtype=torch.float64)
    teacher[0, 2] = 0.0  # a zero teacher frame
    student[0, 5] = 0.0  # a zero student frame
    teacher[1, 3] = 0.0  # zero in both at the same frame
    student[1, 3] = 0.0
    student[2] = 0.0  # an all-zero student utterance
    reference = ref_iusp_rowloop(teacher, student)
    assert_close(ref_iusp(teacher, student), reference, torch.float64)
    for dtype in (torch.float64, torch.float32):
        t = teacher.to(dtype).clone().requires_grad_()
        s = student.to(dtype).clone().requires_grad_()
        value = iusp_loss(s, t, method=method)
        assert_close(value, reference, dtype)
        value.backward()
        assert torch.isfinite(t.grad).all() and torch.isfinite(s.grad).all()
    # zero student utterance: every teacher row nonzero, every student row
    # zero, so the utterance's loss is T * 1 / T^2 = 1 / T exactly
    per_utt = iusp_loss(student, teacher, method=method, reduction="none")
    assert per_utt[2].item() == pytest.approx(1.0 / 9, rel=1e-12)
    both_zero = iusp_loss(
        torch.zeros(1, 4, 2), torch.zeros(1, 4, 3), method=method
    )
    assert both_zero.item() == 0.0


def test_iusp_zero_rows_gradcheck_and_path_agreement():
    # The loss jumps when a zero frame becomes nonzero (a_i: 0 -> 1), so it
    # is differentiable in the OTHER frames only: gradcheck keeps the zero
    # frames fixed at zero and varies the rest.
    torch.manual_seed(19)
    teacher = torch.randn(1, 5, 3, dtype=torch.float64)
    teacher[0, 1] = 0.0
    rest = torch.randn(1, 4, 2, dtype=torch.float64, requires_grad=True)
    zero = torch.zeros(1, 1, 2, dtype=torch.float64)

    def with_zero_frame(s_rest, method):
        student = torch.cat([s_rest[:, :3], zero, s_rest[:, 3:]], dim=1)
        return iusp_loss(student, teacher, method=method)

    for method in ("gram", "factored"):
        assert torch.autograd.gradcheck(
            lambda s, m=method: with_zero_frame(s, m), (rest,)
        )
    # The full gradient, zero frames included, is finite and the same on
    # both paths (x / max(|x|, eps) is x / eps near 0: a steep but finite
    # slope, the torch.nn.functional.normalize convention).
    student = torch.randn(1, 5, 2, dtype=torch.float64)
    student[0, 3] = 0.0
    grads = []
    for method in ("gram", "factored"):
        t = teacher.clone().requires_grad_()
        s = student.clone().requires_grad_()
        iusp_loss(s, t, method=method).backward()
        assert torch.isfinite(t.grad).all() and torch.isfinite(s.grad).all()
        grads.append(torch.cat([t.grad.flatten(), s.grad.flatten()]))
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------
# IUSP shapes, alignment, errors, autocast
# ---------------------------------------------------------------------------


def test_iusp_frame_mismatch_error_names_shapes():
    teacher, student = torch.randn(2, 20, 8), torch.randn(2, 10, 4)
    with pytest.raises(ValueError) as err:
        iusp_loss(student, teacher)
    message = str(err.value)
    assert "(2, 20, 8)" in message and "(2, 10, 4)" in message
    assert "time_align='pool'" in message


def test_iusp_batch_mismatch_and_bad_arguments():
    with pytest.raises(ValueError, match=r"batch sizes differ.*\(3, 5, 2\)"):
        iusp_loss(torch.randn(3, 5, 2), torch.randn(2, 5, 2))
    with pytest.raises(ValueError, match="time axis"):
        iusp_loss(torch.randn(2, 5), torch.randn(2, 5))
    x = torch.randn(2, 5, 3)
    with pytest.raises(ValueError, match="method"):
        iusp_loss(x, x, method="fast")
    with pytest.raises(ValueError, match="reduction"):
        iusp_loss(x, x, reduction="batchmean")
    with pytest.raises(ValueError, match="time_align"):
        iusp_loss(x, x, time_align="crop")
    with pytest.raises(ValueError, match=r"shape \[2\]"):
        iusp_loss(x, x, torch.ones(3))
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        iusp_loss(x, x, torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="relative lengths"):
        iusp_loss(x, x, torch.tensor([5, 3]))
    with pytest.raises(ValueError, match="factored_dtype"):
        iusp_loss(x, x, factored_dtype="float16")


@pytest.mark.parametrize("longer", ["teacher", "student"])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_iusp_time_align_pool_matches_hand_pooling(longer, with_lengths):
    torch.manual_seed(8)
    long_t, short_t = 23, 7  # not a multiple: bins overlap
    t_len, s_len = (long_t, short_t) if longer == "teacher" else (7, 23)
    teacher = torch.randn(3, t_len, 5, dtype=torch.float64)
    student = torch.randn(3, s_len, 2, 2, dtype=torch.float64)
    # 0.55: pooled frame 3 (input frames 9..13) is valid but input frame 13
    # is padding (round(0.55 * 23) = 13), a bin that straddles the end
    rel = [1.0, 0.55, 0.3] if with_lengths else None
    lengths = None if rel is None else torch.tensor(rel, dtype=torch.float64)
    if with_lengths:  # garbage in the padding must not leak through pooling
        for x in (teacher, student):
            for n in range(3):
                x[n, true_frames(rel, n, x.shape[1]) :] = 1e6

    def pool(x):
        if x.shape[1] == short_t:
            return x
        valid = None
        if rel is not None:
            valid = [true_frames(rel, n, x.shape[1]) for n in range(3)]
        return ref_pool(x, short_t, valid)

    reference = ref_iusp(pool(teacher), pool(student), rel, reduction="none")
    for method in METHODS:
        value = iusp_loss(
            student,
            teacher,
            lengths,
            method=method,
            time_align="pool",
            reduction="none",
        )
        assert_close(value, reference, torch.float64)
    if not with_lengths:  # equals torch's own adaptive pooling
        x = teacher if longer == "teacher" else student.flatten(2)
        pooled = F.adaptive_avg_pool1d(x.transpose(1, 2), short_t)
        torch.testing.assert_close(
            pooled.transpose(1, 2), pool(x), rtol=1e-12, atol=0
        )


def test_iusp_choose_method_rule():
    assert iusp_choose_method(100, 256, 64) == "gram"
    assert iusp_choose_method(8000, 256, 64) == "factored"
    # huge widths favour the Gram path at moderate T
    assert iusp_choose_method(1000, 4096, 4096) == "gram"
    # monotone in T: one crossover
    picks = [iusp_choose_method(t, 256, 64) for t in range(50, 5000, 50)]
    first = picks.index("factored")
    assert all(p == "factored" for p in picks[first:])


def test_iusp_autocast_computes_in_float32():
    torch.manual_seed(9)
    teacher = torch.randn(2, 16, 8).bfloat16()
    student = torch.randn(2, 16, 4).bfloat16()
    reference = ref_iusp(teacher, student)  # of the bf16-rounded values
    for method in METHODS:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            value = iusp_loss(student, teacher, method=method)
            sp = sp_loss(student, teacher)
            kd = kd_loss(student[:, 0], teacher[:, 0, :4])
        assert value.dtype == torch.float32
        assert sp.dtype == torch.float32 and kd.dtype == torch.float32
        assert_close(value, reference, torch.float32)


# ---------------------------------------------------------------------------
# SP
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shapes",
    [((6, 10), (6, 4)), ((5, 8, 3, 3), (5, 4, 2, 2)), ((1, 7), (1, 3))],
    ids=str,
)
def test_sp_matches_reference_and_repdistiller(shapes):
    torch.manual_seed(10)
    teacher = torch.randn(shapes[0], dtype=torch.float64)
    student = torch.randn(shapes[1], dtype=torch.float64)
    reference = ref_sp(teacher, student)
    assert_close(sp_loss(student, teacher), reference, torch.float64)
    assert_close(
        sp_loss(student.float(), teacher.float()), reference, torch.float32
    )
    parity = repdistiller_style_sp(student, teacher)
    assert_close(sp_loss(student, teacher), parity.squeeze(), torch.float64)
    b = shapes[0][0]
    total = sp_loss(student, teacher, reduction="sum")
    assert_close(total, reference * b * b, torch.float64)
    per_row = sp_loss(student, teacher, reduction="none")
    assert per_row.shape == (b,)
    assert_close(per_row.sum() / b**2, reference, torch.float64)


def test_sp_independent_of_batch_order():
    torch.manual_seed(11)
    teacher, student = torch.randn(9, 12, 5), torch.randn(9, 3, 7)
    base = sp_loss(student, teacher)
    for _ in range(3):
        perm = torch.randperm(9)
        permuted = sp_loss(student[perm], teacher[perm])
        torch.testing.assert_close(permuted, base, rtol=1e-6, atol=0)
    per_row = sp_loss(student, teacher, reduction="none")
    torch.testing.assert_close(
        sp_loss(student[perm], teacher[perm], reduction="none"),
        per_row[perm],
        rtol=1e-5,
        atol=1e-9,
    )


def test_sp_lengths_zero_the_padding():
    torch.manual_seed(12)
    teacher = torch.randn(4, 10, 6, dtype=torch.float64)
    student = torch.randn(4, 5, 3, dtype=torch.float64)
    rel = [1.0, 0.5, 0.8, 0.3]
    lengths = torch.tensor(rel, dtype=torch.float64)
    clean_t, clean_s = teacher.clone(), student.clone()
    for x, clean in ((teacher, clean_t), (student, clean_s)):
        for n in range(4):
            tn = true_frames(rel, n, x.shape[1])
            x[n, tn:] = 1e5 * torch.randn_like(x[n, tn:])
            clean[n, tn:] = 0.0
    reference = ref_sp(clean_t, clean_s)
    assert_close(sp_loss(student, teacher, lengths), reference, torch.float64)
    # a 2-D input has no time axis: lengths are ignored for it
    emb = torch.randn(4, 6, dtype=torch.float64)
    assert_close(
        sp_loss(emb, teacher, lengths), ref_sp(clean_t, emb), torch.float64
    )
    with pytest.raises(ValueError, match="batch sizes differ"):
        sp_loss(torch.randn(5, 3), torch.randn(4, 3))


def test_sp_gradcheck_and_zero_example():
    torch.manual_seed(13)
    teacher = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    student = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(sp_loss, (teacher, student))
    student = student.detach().clone()
    student[1] = 0.0  # an all-zero example: a zero row and column of G_s
    student.requires_grad_()
    value = sp_loss(student, teacher)
    assert_close(value, ref_sp(teacher, student), torch.float64)
    value.backward()
    assert torch.isfinite(student.grad).all()


# ---------------------------------------------------------------------------
# KD and tagging BCE
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [1.0, 2.5])
def test_kd_matches_reference(tau):
    torch.manual_seed(14)
    student = 3 * torch.randn(4, 6, dtype=torch.float64)
    teacher = 3 * torch.randn(4, 6, dtype=torch.float64)
    assert_close(
        kd_loss(student, teacher, temperature=tau),
        ref_kd(student, teacher, tau),
        torch.float64,
    )
    assert_close(
        kd_loss(student.float(), teacher.float(), temperature=tau),
        ref_kd(student, teacher, tau),
        torch.float32,
    )
    weight = (torch.rand(4, 6) > 0.4).double()
    assert_close(
        kd_loss(student, teacher, temperature=tau, weight=weight),
        ref_kd(student, teacher, tau, weight),
        torch.float64,
    )
    elementwise = kd_loss(student, teacher, temperature=tau, reduction="none")
    assert elementwise.shape == (4, 6)
    assert_close(
        kd_loss(student, teacher, temperature=tau, reduction="sum"),
        elementwise.sum(),
        torch.float64,
    )


def test_kd_temperature_squared_scaling():
    torch.manual_seed(15)
    student, teacher = torch.randn(3, 5), torch.randn(3, 5)
    tau = 4.0
    # the tempered problem on scaled logits is the untempered one, times tau^2
    scaled = kd_loss(student * tau, teacher * tau, temperature=tau)
    torch.testing.assert_close(
        scaled, tau**2 * kd_loss(student, teacher), rtol=1e-6, atol=0
    )
    with pytest.raises(ValueError, match="temperature"):
        kd_loss(student, teacher, temperature=0.0)
    with pytest.raises(ValueError, match=r"\(3, 5\).*\(3, 4\)"):
        kd_loss(student, teacher[:, :4])


def test_kd_no_gradient_into_teacher_and_gradcheck():
    student = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    teacher = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    kd_loss(student, teacher, temperature=2.0).backward()
    assert teacher.grad is None and student.grad is not None
    assert torch.autograd.gradcheck(
        lambda s: kd_loss(s, teacher, temperature=2.0), (student,)
    )
    # the gradient is tau * (sigmoid(s/tau) - sigmoid(t/tau)) / numel
    s = student.detach().clone().requires_grad_()
    kd_loss(s, teacher, temperature=2.0).backward()
    expected = (
        2.0 * (torch.sigmoid(s / 2.0) - torch.sigmoid(teacher / 2.0)) / 12
    )
    torch.testing.assert_close(s.grad, expected.detach(), rtol=1e-12, atol=0)


def test_tagging_bce_with_mask():
    torch.manual_seed(16)
    logits = (2 * torch.randn(5, 7, dtype=torch.float64)).requires_grad_()
    targets = (torch.rand(5, 7) > 0.5).double()
    mask = (torch.rand(5, 7) > 0.3).double()
    value = tagging_bce_loss(logits, targets, mask)
    assert_close(value, ref_bce(logits, targets, mask), torch.float64)
    value.backward()
    # masked entries contribute nothing, not even a gradient
    assert (logits.grad[mask == 0] == 0).all()
    # a masked entry may hold anything, e.g. an unknown (-1) target label
    noisy = torch.where(mask.bool(), targets, torch.full_like(targets, 0.3))
    assert_close(
        tagging_bce_loss(logits, noisy, mask.bool()), value, torch.float64
    )
    ones = torch.ones(5, 7, dtype=torch.float64)
    assert_close(
        tagging_bce_loss(logits, targets),
        ref_bce(logits, targets, ones),
        torch.float64,
    )
    assert_close(
        tagging_bce_loss(logits, targets),
        F.binary_cross_entropy_with_logits(logits, targets),
        torch.float64,
    )


def test_tagging_bce_all_masked_is_zero_and_finite():
    logits = torch.randn(2, 3, requires_grad=True)
    value = tagging_bce_loss(logits, torch.ones(2, 3), torch.zeros(2, 3))
    assert value.item() == 0.0
    value.backward()
    assert torch.isfinite(logits.grad).all() and (logits.grad == 0).all()
    with pytest.raises(ValueError, match="does not broadcast"):
        tagging_bce_loss(logits, torch.ones(2, 3), torch.ones(4))


# ---------------------------------------------------------------------------
# golden values (computed once with the float64 references above)
# ---------------------------------------------------------------------------


def _golden_inputs(seed, t_shape, s_shape):
    torch.manual_seed(seed)
    return torch.randn(t_shape), torch.randn(s_shape)


GOLDEN_IUSP = [
    # seed, teacher shape, student shape, lengths, value
    (0, (2, 8, 5), (2, 8, 3), None, 0.21223039233804986),
    (1, (3, 10, 4), (3, 10, 6), [1.0, 0.7, 0.4], 0.1743837242553017),
    (2, (2, 6, 2, 3), (2, 6, 4), [0.5, 1.0], 0.10747449675024288),
]
GOLDEN_SP = [
    (3, (6, 5), (6, 2), 0.25790996074080685),
    (4, (4, 3, 4), (4, 7), 0.15177958761859145),
]
GOLDEN_KD = [
    (5, (3, 4), 1.0, 0.6998577662591768),
    (6, (2, 5), 3.0, 6.2875159316681275),
]


@pytest.mark.parametrize("case", GOLDEN_IUSP, ids=str)
def test_golden_iusp(case):
    seed, t_shape, s_shape, rel, value = case
    teacher, student = _golden_inputs(seed, t_shape, s_shape)
    lengths = None if rel is None else torch.tensor(rel)
    assert ref_iusp(teacher, student, rel).item() == pytest.approx(
        value, rel=1e-12
    )
    for method in METHODS:
        assert iusp_loss(
            student, teacher, lengths, method=method
        ).item() == pytest.approx(value, rel=1e-5)


@pytest.mark.parametrize("case", GOLDEN_SP, ids=str)
def test_golden_sp(case):
    seed, t_shape, s_shape, value = case
    teacher, student = _golden_inputs(seed, t_shape, s_shape)
    assert ref_sp(teacher, student) == pytest.approx(value, rel=1e-12)
    assert sp_loss(student, teacher).item() == pytest.approx(value, rel=1e-5)


@pytest.mark.parametrize("case", GOLDEN_KD, ids=str)
def test_golden_kd(case):
    seed, shape, tau, value = case
    teacher, student = _golden_inputs(seed, shape, shape)
    assert ref_kd(student, teacher, tau) == pytest.approx(value, rel=1e-12)
    assert kd_loss(student, teacher, temperature=tau).item() == pytest.approx(
        value, rel=1e-5
    )


# ---------------------------------------------------------------------------
# modules, registry, hyperpyyaml
# ---------------------------------------------------------------------------


def test_modules_share_one_protocol():
    torch.manual_seed(17)
    teacher, student = torch.randn(3, 12, 6), torch.randn(3, 12, 2)
    lengths = torch.tensor([1.0, 0.5, 0.75])
    torch.testing.assert_close(
        IUSPLoss(method="factored")(student, teacher, lengths),
        iusp_loss(student, teacher, lengths, method="factored"),
    )
    torch.testing.assert_close(
        SPLoss()(student, teacher, lengths), sp_loss(student, teacher, lengths)
    )
    t_logits, s_logits = torch.randn(3, 4), torch.randn(3, 4)
    kd = KDLoss(temperature=2.0)
    torch.testing.assert_close(
        kd(s_logits, t_logits, lengths),
        kd_loss(s_logits, t_logits, temperature=2.0),
    )
    # student first: swapping the arguments changes the value
    assert not torch.allclose(kd(s_logits, t_logits), kd(t_logits, s_logits))
    with pytest.raises(TypeError, match="temperature by keyword"):
        kd_loss(s_logits, t_logits, 2.0)
    with pytest.raises(TypeError, match="valid options"):
        IUSPLoss(lengths=1)
    with pytest.raises(ValueError, match="method"):
        IUSPLoss(method="fast")


def test_registry_names_and_errors():
    assert {"iusp", "sp", "kd"} <= set(LOSSES)
    assert isinstance(get_loss("iusp"), IUSPLoss)
    assert isinstance(get_loss("sp"), SPLoss)
    assert get_loss("kd", temperature=3.0).temperature == 3.0
    assert get_loss("iusp", method="gram").kwargs == {"method": "gram"}
    module = IUSPLoss()
    assert get_loss(module) is module
    assert get_loss(iusp_loss) is iusp_loss
    with pytest.raises(KeyError) as err:
        get_loss("iusb")
    assert all(name in str(err.value) for name in ("iusp", "sp", "kd"))
    with pytest.raises(ValueError, match="ignored"):
        get_loss(module, method="gram")
    with pytest.raises(TypeError):
        get_loss(3)

    @register_loss("test_tmp_loss")
    class TmpLoss(torch.nn.Module):
        def forward(self, student, teacher, lengths=None):
            return (student - teacher).sum()

    try:
        assert LOSSES["test_tmp_loss"] is TmpLoss
        assert isinstance(get_loss("test_tmp_loss"), TmpLoss)
        with pytest.raises(ValueError, match="already registered"):
            register_loss("test_tmp_loss")(KDLoss)

        @register_loss
        class BareLoss(TmpLoss):
            pass

        assert LOSSES.pop("bareloss") is BareLoss
    finally:
        LOSSES.pop("test_tmp_loss", None)


def test_hyperpyyaml_loading():
    from hyperpyyaml import load_hyperpyyaml

    hparams = load_hyperpyyaml(
        """
iusp_fn: !name:speechbrain_iusp.iusp_loss
    method: factored
iusp: !new:speechbrain_iusp.IUSPLoss
    method: gram
    time_align: pool
sp: !new:speechbrain_iusp.SPLoss
kd: !new:speechbrain_iusp.KDLoss
    temperature: 2.0
"""
    )
    torch.manual_seed(18)
    teacher, student = torch.randn(2, 10, 4), torch.randn(2, 10, 3)
    lengths = torch.tensor([1.0, 0.6])
    expected = iusp_loss(student, teacher, lengths)
    torch.testing.assert_close(
        hparams["iusp_fn"](student, teacher, lengths), expected
    )
    assert isinstance(hparams["iusp"], IUSPLoss)
    torch.testing.assert_close(
        hparams["iusp"](student, teacher, lengths), expected
    )
    pooled = hparams["iusp"](student[:, :5], teacher, lengths)
    assert torch.isfinite(pooled)
    assert torch.isfinite(hparams["sp"](student, teacher, lengths))
    assert hparams["kd"].temperature == 2.0


def test_module_is_torch_only():
    # the losses package must stay importable without SpeechBrain
    folder = os.path.dirname(losses.__file__)
    pattern = re.compile(r"^\s*(import|from)\s+speechbrain\b(?!_iusp)", re.M)
    for name in os.listdir(folder):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), encoding="utf-8") as fin:
                assert not pattern.search(fin.read()), name


# ---------------------------------------------------------------------------
# IUSP with the cosine similarity of normalised frames
# ---------------------------------------------------------------------------


def ref_iusp_cosine(student, teacher, lengths=None, reduction="mean"):
    """Cosine variant: S = unit frames times unit frames^T, per utterance."""
    batch, num_frames = teacher.shape[0], teacher.shape[1]
    ft = teacher.detach().double().reshape(batch, num_frames, -1)
    fs = student.detach().double().reshape(batch, num_frames, -1)

    def cosines(frames):
        out = torch.zeros(frames.shape[0], frames.shape[0], dtype=torch.float64)
        for i in range(frames.shape[0]):
            for j in range(frames.shape[0]):
                ni, nj = float(frames[i].norm()), float(frames[j].norm())
                if ni > 0 and nj > 0:
                    out[i, j] = float(frames[i] @ frames[j]) / (ni * nj)
        return out

    values = []
    for n in range(batch):
        tn = true_frames(lengths, n, num_frames)
        diff = cosines(ft[n, :tn]) - cosines(fs[n, :tn])
        values.append(float((diff * diff).sum()) / tn**2)
    values = torch.tensor(values, dtype=torch.float64)
    return values if reduction == "none" else values.mean()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_iusp_cosine_matches_reference(method, dtype):
    torch.manual_seed(31)
    student = torch.randn(3, 17, 5, dtype=dtype)
    teacher = torch.randn(3, 17, 4, 3, dtype=dtype)
    student[1, 4] = 0.0  # a zero frame stays a zero row and column
    lengths = torch.tensor([1.0, 0.7, 0.4])
    got = iusp_loss(
        student,
        teacher,
        lengths,
        method=method,
        similarity="cosine",
        reduction="none",
    )
    want = ref_iusp_cosine(student, teacher, lengths, reduction="none")
    assert_close(got, want, dtype)
    # it is another quantity than the row-normalised Gram
    gram = iusp_loss(student, teacher, lengths, method=method)
    assert not torch.allclose(got.mean(), gram)


@pytest.mark.parametrize("method", ["gram", "factored"])
def test_iusp_cosine_gradcheck_and_padding(method):
    torch.manual_seed(32)
    student = torch.randn(2, 9, 3, dtype=torch.float64, requires_grad=True)
    teacher = torch.randn(2, 9, 4, dtype=torch.float64)
    lengths = torch.tensor([1.0, 0.6])
    assert torch.autograd.gradcheck(
        lambda s: iusp_loss(
            s, teacher, lengths, method=method, similarity="cosine"
        ),
        (student,),
    )
    # a padded clip equals the clip alone, whatever the padding holds
    padded = student.detach().clone()
    padded[1, 5:] = 1e6
    alone = iusp_loss(
        student[1:, :5], teacher[1:, :5], method=method, similarity="cosine"
    )
    both = iusp_loss(
        padded,
        teacher,
        lengths,
        method=method,
        similarity="cosine",
        reduction="none",
    )
    assert_close(both[1], alone, torch.float64)
    with pytest.raises(ValueError, match="similarity"):
        iusp_loss(student, teacher, similarity="dot")


@pytest.mark.parametrize("similarity", ["gram", "cosine"])
def test_frame_similarity_is_what_iusp_compares(similarity):
    """Summed squared differences of frame_similarity give iusp_loss."""
    from speechbrain_iusp.losses import frame_similarity

    torch.manual_seed(0)
    teacher = torch.randn(3, 9, 5, dtype=torch.float64)
    student = torch.randn(3, 9, 4, dtype=torch.float64)
    lengths = torch.tensor([1.0, 0.6, 0.8], dtype=torch.float64)
    st = frame_similarity(teacher, lengths, similarity)
    ss = frame_similarity(student, lengths, similarity)
    assert st.shape == (3, 9, 9) and st.dtype == torch.float64
    frames = torch.round(lengths * 9)
    assert (st[1, 5:] == 0).all() and (st[1, :, 5:] == 0).all()
    manual = ((st - ss).square().sum((1, 2)) / frames.square()).mean()
    loss = iusp_loss(student, teacher, lengths, similarity=similarity)
    torch.testing.assert_close(loss, manual, rtol=1e-10, atol=1e-12)
    # brute force for one clip: rows of F F^T / norms, or frame cosines
    f = teacher[0]
    if similarity == "gram":
        g = f @ f.T
        ref = g / g.norm(dim=1, keepdim=True)
    else:
        unit = f / f.norm(dim=1, keepdim=True)
        ref = unit @ unit.T
    torch.testing.assert_close(st[0], ref)
