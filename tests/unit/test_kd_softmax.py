"""Softmax (single-label) KD against a float64 reference, gradients included.

The reference is plain Python over examples and classes:
tau^2 * mean_b sum_c p_t (log p_t - log p_s), p = softmax(z / tau), and its
gradient with respect to the student logits, tau * (p_s - p_t) / B.

Authors
 * speechbrain-iusp developers 2026
"""

import math

import pytest
import torch

from speechbrain_iusp.losses import kd_loss


def _softmax(row, tau):
    top = max(row)
    exps = [math.exp((v - top) / tau) for v in row]
    total = sum(exps)
    return [e / total for e in exps]


def ref_softmax_kd(student, teacher, tau, weight=None):
    """Loss and d loss / d student, by loops (mean over weighted examples)."""
    n = len(student)
    weight = weight or [1.0] * n
    total_w = sum(weight)
    loss, grad = 0.0, []
    for b in range(n):
        ps = _softmax(student[b], tau)
        pt = _softmax(teacher[b], tau)
        kl = sum(
            t * (math.log(t) - math.log(s)) for s, t in zip(ps, pt, strict=True)
        )
        loss += weight[b] * tau * tau * kl
        grad.append(
            [
                weight[b] * tau * (s - t) / total_w
                for s, t in zip(ps, pt, strict=True)
            ]
        )
    return loss / total_w, grad


@pytest.mark.parametrize("tau", [1.0, 2.0, 4.5])
@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_kd_matches_reference(tau, weighted):
    torch.manual_seed(3)
    student = (torch.randn(5, 7, dtype=torch.float64) * 3).requires_grad_()
    teacher = torch.randn(5, 7, dtype=torch.float64) * 3
    weight = [0.0, 1.0, 2.0, 0.5, 1.0] if weighted else None
    want, want_grad = ref_softmax_kd(
        student.tolist(), teacher.tolist(), tau, weight
    )
    got = kd_loss(
        student,
        teacher,
        temperature=tau,
        mode="softmax",
        weight=None if weight is None else torch.tensor(weight),
    )
    assert got.dtype == torch.float64
    assert got.item() == pytest.approx(want, abs=1e-12)
    got.backward()
    assert torch.allclose(
        student.grad, torch.tensor(want_grad, dtype=torch.float64), atol=1e-12
    )


def test_softmax_kd_gradcheck_and_teacher_untouched():
    torch.manual_seed(4)
    student = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    teacher = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda s: kd_loss(s, teacher, temperature=2.0, mode="softmax"),
        (student,),
    )
    kd_loss(student, teacher, mode="softmax").backward()
    assert teacher.grad is None


def test_softmax_kd_differs_from_sigmoid_kd_and_is_zero_at_agreement():
    torch.manual_seed(5)
    logits = torch.randn(4, 6)
    other = torch.randn(4, 6)
    soft = kd_loss(logits, other, temperature=2.0, mode="softmax")
    sig = kd_loss(logits, other, temperature=2.0)
    assert abs(soft.item() - sig.item()) > 1e-3
    same = kd_loss(logits, logits + 3.0, mode="softmax")  # shift-invariant
    assert abs(same.item()) < 1e-6
    per_example = kd_loss(logits, other, mode="softmax", reduction="none")
    assert per_example.shape == (4,)


def test_softmax_kd_options_are_checked():
    s, t = torch.randn(2, 3), torch.randn(2, 3)
    with pytest.raises(ValueError, match="mode"):
        kd_loss(s, t, mode="softmx")
    with pytest.raises(ValueError, match="does not broadcast"):
        kd_loss(s, t, mode="softmax", weight=torch.ones(2, 3, 1))
