"""Tests of the losses' ``layout`` option: where time is in a tensor.

Channel-first inputs with their layout must give exactly the ``[B, T, D]``
computation on the transposed tensors (values and gradients, float64);
shapes the default layout cannot read are refused naming the option.

Authors
 * speechbrain-iusp developers 2026
"""

import pytest
import torch

from speechbrain_iusp.losses import (
    IUSPLoss,
    SPLoss,
    frame_similarity,
    get_loss,
    iusp_loss,
    sp_loss,
)

LENGTHS = torch.tensor([1.0, 0.6, 0.35], dtype=torch.float64)
# layout -> (time axis, the order that makes it [B, T, ...])
LAYOUTS = {
    "bct": (0, 2, 1),
    "bcft": (0, 3, 1, 2),
    "bctf": (0, 2, 1, 3),
}
LOSSES = {
    "iusp_gram": lambda s, t, lens, **kw: iusp_loss(
        s, t, lens, method="gram", **kw
    ),
    "iusp_factored": lambda s, t, lens, **kw: iusp_loss(
        s, t, lens, method="factored", **kw
    ),
    "iusp_cosine": lambda s, t, lens, **kw: iusp_loss(
        s, t, lens, similarity="cosine", **kw
    ),
    "sp": sp_loss,
}


def channel_first(layout, batch, channels, frames, freq=3, seed=0):
    """A float64 map in ``layout`` and its ``[B, T, ...]`` transposition."""
    gen = torch.Generator().manual_seed(seed)
    shape = {
        "bct": (batch, channels, frames),
        "bcft": (batch, channels, freq, frames),
        "bctf": (batch, channels, frames, freq),
    }[layout]
    x = torch.randn(shape, generator=gen, dtype=torch.float64)
    return x, x.permute(LAYOUTS[layout]).contiguous()


def grads(fn, *inputs):
    """The loss and its gradients with respect to ``inputs``."""
    inputs = [x.detach().clone().requires_grad_() for x in inputs]
    value = fn(*inputs)
    return value, torch.autograd.grad(value, inputs)


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_layout_equals_the_btd_computation_on_transposed_tensors(name, layout):
    fn = LOSSES[name]
    student, s_btd = channel_first(layout, 3, 4, 9, seed=1)
    teacher, t_btd = channel_first(layout, 3, 7, 9, freq=2, seed=2)
    value, (g_s, g_t) = grads(
        lambda s, t: fn(s, t, LENGTHS, layout=layout), student, teacher
    )
    ref, (r_s, r_t) = grads(lambda s, t: fn(s, t, LENGTHS), s_btd, t_btd)
    assert value.dtype == torch.float64 and value > 0
    torch.testing.assert_close(value, ref, rtol=0, atol=0)
    order = LAYOUTS[layout]
    back = [order.index(axis) for axis in range(len(order))]
    torch.testing.assert_close(g_s, r_s.permute(back), rtol=0, atol=0)
    torch.testing.assert_close(g_t, r_t.permute(back), rtol=0, atol=0)
    # the padding along time (not along channels) is what is masked
    garbage = student.clone()
    index = [slice(None)] * student.dim()
    index[0], index[order[1]] = 2, slice(4, None)  # round(0.35 * 9) = 3
    garbage[tuple(index)] = 1e6
    torch.testing.assert_close(
        fn(garbage, teacher, LENGTHS, layout=layout), value, rtol=0, atol=0
    )


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("layout", ["bct", "bcft"])
def test_layout_gradcheck(name, layout):
    fn = LOSSES[name]
    student = channel_first(layout, 2, 2, 5, freq=2, seed=3)[0]
    teacher = channel_first(layout, 2, 3, 5, freq=2, seed=4)[0]
    lengths = torch.tensor([1.0, 0.6], dtype=torch.float64)
    student.requires_grad_()
    teacher.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda s, t: fn(s, t, lengths, layout=layout), (student, teacher)
    )


def test_student_and_teacher_layouts_may_differ():
    student, s_btd = channel_first("bcft", 3, 4, 9, seed=5)
    teacher, t_btd = channel_first("bct", 3, 6, 9, seed=6)
    for fn in (iusp_loss, sp_loss):
        pair = fn(student, teacher, LENGTHS, layout=("bcft", "bct"))
        torch.testing.assert_close(
            pair, fn(s_btd, t_btd, LENGTHS), rtol=0, atol=0
        )
        # a side left None reads time on axis 1
        mixed = fn(s_btd, teacher, LENGTHS, layout=[None, "bct"])
        torch.testing.assert_close(mixed, pair, rtol=0, atol=0)
    # SP: a clip embedding [B, D] next to a [B, C, T] map
    embedding = torch.randn(3, 5, dtype=torch.float64)
    torch.testing.assert_close(
        sp_loss(embedding, teacher, LENGTHS, layout=(None, "bct")),
        sp_loss(embedding, t_btd, LENGTHS),
        rtol=0,
        atol=0,
    )
    with pytest.raises(ValueError, match=r"layout 'bct' is 3-D.*pair"):
        sp_loss(embedding, teacher, LENGTHS, layout="bct")


def test_modules_registry_and_frame_similarity_take_the_layout():
    student, s_btd = channel_first("bct", 3, 4, 9, seed=7)
    teacher, t_btd = channel_first("bct", 3, 6, 9, seed=8)
    expected = iusp_loss(s_btd, t_btd, LENGTHS)
    for loss in (IUSPLoss(layout="bct"), get_loss("iusp", layout="bct")):
        assert loss.layouts == ("bct", "bct")
        torch.testing.assert_close(loss(student, teacher, LENGTHS), expected)
    torch.testing.assert_close(
        SPLoss(layout="bct")(student, teacher, LENGTHS),
        sp_loss(s_btd, t_btd, LENGTHS),
    )
    assert IUSPLoss().layouts == (None, None)
    torch.testing.assert_close(
        frame_similarity(teacher, LENGTHS, layout="bct"),
        frame_similarity(t_btd, LENGTHS),
    )
    for bad in ("tbd", ("bct",), ("bct", "bct", "bct")):
        with pytest.raises(ValueError, match="layout"):
            IUSPLoss(layout=bad)
        with pytest.raises(ValueError, match="layout"):
            get_loss("sp", layout=bad)


def test_hyperpyyaml_layouts():
    from hyperpyyaml import load_hyperpyyaml

    hparams = load_hyperpyyaml(
        """
ecapa: !new:speechbrain_iusp.IUSPLoss
    layout: bct
pair: !new:speechbrain_iusp.IUSPLoss
    layout: [btd, bct]
"""
    )
    student, s_btd = channel_first("bct", 3, 4, 9, seed=9)
    teacher, t_btd = channel_first("bct", 3, 6, 9, seed=10)
    expected = iusp_loss(s_btd, t_btd, LENGTHS)
    torch.testing.assert_close(
        hparams["ecapa"](student, teacher, LENGTHS), expected
    )
    torch.testing.assert_close(
        hparams["pair"](s_btd, teacher, LENGTHS), expected
    )


# ---------------------------------------------------------------------------
# the default layout's ambiguity rule
# ---------------------------------------------------------------------------

REFUSED = {  # (student shape, teacher shape): channel-first looks
    "bct, other channel counts": ((2, 32, 50), (2, 128, 50)),
    "bcft, other channel counts": ((2, 8, 4, 50), (2, 16, 4, 50)),
    "bctf, other channel counts": ((2, 8, 50, 4), (2, 16, 50, 8)),
    "mixed ranks, time last": ((2, 32, 50), (2, 16, 4, 50)),
    "btd next to bct": ((2, 50, 8), (2, 12, 50)),
    "bcft next to btfc": ((2, 8, 4, 50), (2, 50, 4, 16)),
    "4-D, axis 1 and last agree": ((2, 16, 8, 50), (2, 16, 4, 50)),
    "4-D, equal shapes": ((2, 6, 4, 6), (2, 6, 4, 6)),
}
ACCEPTED = {  # read as [B, T, ...] by the default
    "btd": ((2, 50, 8), (2, 50, 16)),
    "btd, equal shapes": ((2, 50, 8), (2, 50, 8)),
    "btfc": ((2, 50, 4, 8), (2, 50, 4, 16)),
    "btd and btfc": ((2, 50, 8), (2, 50, 4, 16)),
}


@pytest.mark.parametrize("shapes", list(REFUSED.values()), ids=list(REFUSED))
def test_ambiguous_shapes_are_refused_by_the_default(shapes):
    student, teacher = torch.randn(shapes[0]), torch.randn(shapes[1])
    lengths = torch.tensor([1.0, 0.5])
    for fn, kwargs in (
        (iusp_loss, {}),
        (iusp_loss, {"time_align": "pool"}),  # following a wrong hint
        (sp_loss, {}),
    ):
        with pytest.raises(ValueError, match="cannot tell where time is") as e:
            fn(student, teacher, lengths, **kwargs)
        message = str(e.value)
        assert "layout=" in message and "time_align" not in message
        assert str(shapes[0]) in message and str(shapes[1]) in message
    # SP without lengths does not need time: nothing to refuse
    assert torch.isfinite(sp_loss(student, teacher))


@pytest.mark.parametrize("shapes", list(ACCEPTED.values()), ids=list(ACCEPTED))
def test_time_on_axis_1_is_accepted_by_the_default(shapes):
    student, teacher = torch.randn(shapes[0]), torch.randn(shapes[1])
    lengths = torch.tensor([1.0, 0.5])
    assert torch.isfinite(iusp_loss(student, teacher, lengths))
    assert torch.isfinite(sp_loss(student, teacher, lengths))


def test_an_explicit_layout_is_trusted():
    student, teacher = torch.randn(2, 32, 50), torch.randn(2, 128, 50)
    assert torch.isfinite(iusp_loss(student, teacher, layout="bct"))
    # 'btd' says axis 1 is time: then the frame counts differ
    with pytest.raises(ValueError, match="frame counts differ"):
        iusp_loss(student, teacher, layout="btd")
    x = torch.randn(2, 6, 4, 6)
    assert iusp_loss(x, x, layout="btfc") == 0.0
    assert iusp_loss(x, x, layout="bcft") == 0.0


def test_the_pool_hint_only_when_time_differs():
    # under 'bct' the channels differ: no error, no hint
    same_t = torch.randn(2, 8, 40), torch.randn(2, 16, 40)
    assert torch.isfinite(iusp_loss(*same_t, layout="bct"))
    # under 'bct' time differs: the hint, and pooling follows the layout
    student, teacher = torch.randn(2, 8, 40), torch.randn(2, 16, 20)
    with pytest.raises(ValueError, match="time_align='pool'") as err:
        iusp_loss(student, teacher, layout="bct")
    assert "(T=20)" in str(err.value) and "(T=40)" in str(err.value)
    lengths = torch.tensor([1.0, 0.5])
    pooled = iusp_loss(student, teacher, lengths, "gram", "pool", layout="bct")
    reference = iusp_loss(
        student.mT, teacher.mT, lengths, "gram", "pool", layout="btd"
    )
    torch.testing.assert_close(pooled, reference, rtol=0, atol=0)
    # the default with a channel-first look: the layout, not the hint
    with pytest.raises(ValueError, match="layout=") as err:
        iusp_loss(torch.randn(2, 32, 50), torch.randn(2, 128, 50))
    assert "time_align" not in str(err.value)
    # the default with time on axis 1 differing: the hint
    with pytest.raises(ValueError, match="time_align='pool'"):
        iusp_loss(torch.randn(2, 50, 8), torch.randn(2, 25, 16))


def test_a_rank_that_does_not_fit_the_layout_is_refused():
    with pytest.raises(ValueError, match=r"layout 'bct' is 3-D \[B, C, T\]"):
        iusp_loss(torch.randn(2, 4, 3, 9), torch.randn(2, 4, 9), layout="bct")
    with pytest.raises(ValueError, match="time axis"):
        iusp_loss(torch.randn(2, 9), torch.randn(2, 9, 4))
