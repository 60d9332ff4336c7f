"""Share-targeted weights: a term given a gradient share gets the weight
that holds it.

Authors
 * speechbrain-iusp developers 2026
"""

import math
import re

import pytest
import torch
from distill_toy import make_hparams, make_student, make_teacher

from speechbrain_iusp.distill import DistillationBrain, DistillTerm
from speechbrain_iusp.distill.shares import ShareWeights


def _term(share, name="t"):
    return DistillTerm.from_config(
        {"name": name, "loss": lambda s, t, lens: ((s - t) ** 2).sum(),
         "share": share, "weight": 7.0}
    )  # fmt: skip


def test_weight_gives_the_share_on_one_batch():
    """With no history the weight makes the measured share the target."""
    torch.manual_seed(0)
    act = torch.randn(3, 5, requires_grad=True)
    other = torch.randn(3, 5)
    for share in (0.1, 0.5, 0.9):
        term = _term(share)
        weights = ShareWeights([term])
        task = (act * other).sum() ** 2
        value = term(act, torch.zeros(3, 5), None)
        w = weights.weight(term, task, value, act)
        (g_task,) = torch.autograd.grad(task, act, retain_graph=True)
        (g_term,) = torch.autograd.grad(w * value, act, retain_graph=True)
        got = g_term.norm() / (g_term.norm() + g_task.norm())
        assert float(got) == pytest.approx(share, rel=1e-5)


def test_moving_average_of_the_log_ratio():
    term = _term(0.5)
    weights = ShareWeights([term], decay=0.9)
    assert weights.current(term) == 7.0  # the starting weight
    ratios = [2.0, 8.0, 0.5]
    for r in ratios:
        act = torch.ones(4, requires_grad=True)
        task = (r * 2 * act).sum()  # |g_task| = 2 r |1|; |g_term| = 2 |1|
        weights.weight(term, task, term(act, torch.zeros(4), None), act)
    want = math.log(2.0)
    for r in ratios[1:]:
        want = 0.9 * want + 0.1 * math.log(r)
    assert weights.current(term) == pytest.approx(math.exp(want), rel=1e-6)
    # without a gradient (evaluation) the weight stays
    before = weights.current(term)
    with torch.no_grad():
        act = torch.ones(4)
        w = weights.weight(term, act.sum(), term(act, act, None), act)
    assert w == before


def test_state_is_saved_and_restored(tmp_path):
    term = _term(0.3)
    weights = ShareWeights([term])
    weights.log_ratio["t"] = 1.25
    weights._save(tmp_path / "w.ckpt")
    other = ShareWeights([term, _term(0.2, name="u")])
    other._recover(tmp_path / "w.ckpt", end_of_epoch=True)
    assert other.log_ratio == {"t": 1.25, "u": None}


@pytest.mark.parametrize("share", [0.0, 1.0, -0.2, "half", True])
def test_share_must_be_in_the_open_unit_interval(share):
    with pytest.raises(ValueError, match="share must be a number in"):
        _term(share)


def test_brain_holds_the_target_share(tmp_path, data, one_thread):
    """Trained with a share, the logged share sits near the target."""
    student, teacher = make_student(seed=0), make_teacher(seed=1)
    hparams = make_hparams(
        tmp_path,
        student,
        epochs=3,
        teacher=teacher,
        gradient_share=True,
        distill_terms=[
            {"name": "iusp", "loss": "iusp", "student_tap": "rnn",
             "teacher_tap": "rnn", "share": 0.3, "weight": 1.0},
        ],
    )  # fmt: skip
    brain = DistillationBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts={"device": "cpu"},
        checkpointer=hparams["checkpointer"],
    )
    assert "share_weights" in hparams["checkpointer"].recoverables
    brain.fit(
        hparams["epoch_counter"],
        data[0],
        data[1],
        train_loader_kwargs={"batch_size": 4},
        valid_loader_kwargs={"batch_size": 8},
    )
    log = (tmp_path / "train_log.txt").read_text()
    shares = [float(v) for v in re.findall(r"train iusp_share: ([^,\s]+)", log)]
    weights = re.findall(r"train iusp_weight: ([^,\s]+)", log)
    assert len(shares) == 3 and len(weights) == 3
    # the first steps start from weight 1.0; later epochs hold the target
    assert shares[-1] == pytest.approx(0.3, abs=0.05)
    assert float(weights[-1]) != 1.0
    saved = torch.load(
        hparams["checkpointer"].find_checkpoint().path / "share_weights.ckpt",
        weights_only=True,
    )
    assert saved["log_ratio"]["iusp"] == brain.share_weights.log_ratio["iusp"]


class OffPath(torch.nn.Module):
    """Returns, as its tap, a view its forward path does not use."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)

    def forward(self, x, lengths=None, return_hidden=False):
        h = self.linear(x)
        logits = h.mean(1)
        return (
            (logits, {"frames": h.permute(0, 2, 1)})
            if return_hidden
            else logits
        )


def test_a_tap_off_the_forward_path_is_named():
    term = _term(0.5)
    term.student_tap = "frames"
    x = torch.randn(2, 5, 4)
    logits, hidden = OffPath()(x, return_hidden=True)
    act = hidden["frames"]
    value = term(act, torch.zeros_like(act), None)
    with pytest.raises(ValueError, match="tap 'frames' .* cannot be measured"):
        ShareWeights([term]).weight(term, logits.sum(), value, act)


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
