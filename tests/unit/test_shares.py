"""Gradient shares: each term's share of the gradient at its student tap.

Authors
 * speechbrain-iusp developers 2026
"""

import logging
import re
from types import SimpleNamespace

import pytest
import torch
from distill_toy import make_hparams, make_student, make_teacher

from speechbrain_iusp.distill import DistillationBrain
from speechbrain_iusp.distill.shares import gradient_shares


def test_share_against_a_hand_computed_value():
    torch.manual_seed(0)
    act = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    other = torch.randn(3, 5, dtype=torch.float64)
    task = (act * other).sum() ** 2  # g = 2 (act . other) other
    term = SimpleNamespace(name="mse", student_tap="x")
    value = 4.0 * (act**2).sum()  # g = 8 act
    got = gradient_shares(task, [(term, value)], {"x": act})
    g_task = abs(2 * float((act * other).sum())) * float(other.norm())
    g_term = 8 * float(act.norm())
    assert got["mse_share"] == pytest.approx(g_term / (g_term + g_task))


class OffPath(torch.nn.Module):
    """Returns, as its tap, a view its forward path does not use."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)

    def forward(self, x, lengths=None, return_hidden=False):
        h = self.linear(x)
        logits = h.mean(1)
        hidden = {"frames": h.permute(0, 2, 1)}
        return (logits, hidden) if return_hidden else logits


def test_a_tap_off_the_forward_path_is_named_not_logged(caplog):
    logits, hidden = OffPath()(torch.randn(2, 5, 4), return_hidden=True)
    act = hidden["frames"]
    term = SimpleNamespace(name="offpath_term", student_tap="frames")
    with caplog.at_level(logging.WARNING):
        got = gradient_shares(
            logits.sum(), [(term, act.sum())], {"frames": act}
        )
    assert got == {}
    assert "tap 'frames'" in caplog.text and "cannot be measured" in caplog.text


def test_crnn_conv_taps_are_on_the_forward_path():
    """The task's gradient reaches every CRNN tap (shares are measurable)."""
    model = make_student(seed=0)
    x = torch.randn(2, 24, 16)
    logits, hidden = model(x, torch.ones(2), return_hidden=True)
    for name in ("conv1", "conv2", "rnn"):
        (grad,) = torch.autograd.grad(
            logits.sum(), hidden[name], retain_graph=True, allow_unused=True
        )
        assert grad is not None and float(grad.norm()) > 0, name


def test_logged_share_at_a_conv_tap_follows_the_weight(tmp_path, data):
    """At a conv tap the share moves with the weight (it was stuck at 1)."""
    shares = []
    for weight in (1.0, 1000.0):
        out = tmp_path / str(weight)
        hparams = make_hparams(
            str(out),
            make_student(seed=0),
            epochs=1,
            teacher=make_teacher(seed=1),
            gradient_share=True,
            distill_terms=[
                {"name": "sp", "loss": "sp", "weight": weight,
                 "student_tap": "conv2", "teacher_tap": "conv2"},
            ],
        )  # fmt: skip
        brain = DistillationBrain(
            modules=hparams["modules"],
            opt_class=hparams["opt_class"],
            hparams=hparams,
            run_opts={"device": "cpu", "noprogressbar": True},
        )
        brain.fit(
            hparams["epoch_counter"],
            data[0],
            train_loader_kwargs={"batch_size": 8},
        )
        log = (out / "train_log.txt").read_text()
        shares.append(float(re.findall(r"train sp_share: ([^,\s]+)", log)[0]))
    assert 0.0 < shares[0] < shares[1] < 1.0, shares
