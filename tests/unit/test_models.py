"""Tests for the CRNN lobe, its size presets and the params/MACs counter.

Authors
 * speechbrain-iusp developers 2026
"""

import pytest
import torch

from speechbrain_iusp.models import (
    CRNN,
    PRESET_PARAM_RANGES,
    PRESETS,
    count_params_macs,
    crnn_preset,
    presets_table,
)


def _small_crnn(**kw):
    args = {
        "n_mels": 16,
        "n_classes": 5,
        "conv_channels": (4, 6, 8),
        "time_pool": (2, 2, 1),
        "freq_pool": (2, 2, 4),
        "rnn_hidden": 5,
        "bidirectional": True,
        "dropout": 0.0,
    }
    args.update(kw)
    return CRNN(**args)


@pytest.mark.parametrize("head", ["attention", "mean", "max"])
def test_shapes_of_logits_and_taps(head):
    torch.manual_seed(0)
    model = _small_crnn(head=head)
    x = torch.randn(3, 43, 16)
    logits, hidden = model(x, torch.tensor([1.0, 0.6, 0.3]), True)
    assert logits.shape == (3, 5)
    assert hidden["conv1"].shape == (3, 21, 8, 4)
    assert hidden["conv2"].shape == (3, 10, 4, 6)
    assert hidden["conv3"].shape == (3, 10, 1, 8)
    assert hidden["rnn"].shape == (3, 10, 10)
    if head == "attention":
        assert hidden["frame_logits"].shape == (3, 10, 5)
    else:
        assert hidden["embedding"].shape == (3, 10)
    assert sorted(hidden) == sorted(model.tap_names)
    # logits only by default
    assert model(x).shape == (3, 5)


@pytest.mark.parametrize("head", ["attention", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("convs_per_block", [1, (2, 3, 1)])
def test_padding_does_not_change_logits(head, bidirectional, convs_per_block):
    torch.manual_seed(1)
    model = _small_crnn(
        head=head, bidirectional=bidirectional, convs_per_block=convs_per_block
    ).eval()
    n_frames = 57
    valid = [57, 41, 30, 23]  # not multiples of the x4 time pooling
    clips = [torch.randn(n, 16) for n in valid]
    batch = torch.randn(len(valid), n_frames, 16) * 100  # padding garbage
    for i, clip in enumerate(clips):
        batch[i, : clip.shape[0]] = clip
    lengths = torch.tensor([n / n_frames for n in valid])
    with torch.no_grad():
        logits, hidden = model(batch, lengths, return_hidden=True)
        rel = model.tap_lengths(lengths, n_frames)
        for i, clip in enumerate(clips):
            alone, alone_hidden = model(clip[None], return_hidden=True)
            assert torch.allclose(logits[i], alone[0], atol=1e-5)
            for name in ("conv1", "conv2", "rnn"):
                n = alone_hidden[name].shape[1]
                frames = hidden[name].shape[1]
                assert round(float(rel[name][i]) * frames) == n
                assert torch.allclose(
                    hidden[name][i, :n], alone_hidden[name][0], atol=1e-5
                )
                # padded frames are zero at every tap
                if n < frames:
                    assert hidden[name][i, n:].abs().max() == 0


def test_presets_param_ranges_and_frame_rate():
    frames = set()
    for name in PRESETS:
        stats = count_params_macs(crnn_preset(name), n_mels=64, n_frames=501)
        low, high = PRESET_PARAM_RANGES[name]
        assert low <= stats["params"] <= high, (name, stats["params"])
        frames.add(stats["frames"]["rnn"])
        if name == "teacher":
            assert stats["macs"] <= 0.5e9
    assert frames == {125}
    table = presets_table()
    assert table.count("\n") == len(PRESETS) + 1
    assert "| teacher |" in table


def test_count_params_macs_hand_count():
    model = CRNN(
        n_mels=8,
        n_classes=3,
        conv_channels=(2,),
        kernel_sizes=3,
        time_pool=(2,),
        freq_pool=(4,),
        rnn_hidden=4,
        bidirectional=False,
        dropout=0.0,
        head="attention",
    )
    stats = count_params_macs(model, n_mels=8, n_frames=10)
    # conv: 10 x 8 x 2 outputs x 9 taps; GRU: 5 frames x 3 gates x (4x4 + 4x4)
    # two Linear(4, 3) over 5 frames; attention weighted sum 5 x 3
    assert stats["macs"] == 1440 + 480 + 60 + 60 + 15
    # conv 18, BN 4, GRU 3 x (16 + 16 + 4 + 4), two Linear 15
    assert stats["params"] == 18 + 4 + 120 + 30
    assert stats["frames"] == {"conv1": 5, "rnn": 5, "frame_logits": 5}
    assert stats["widths"]["rnn"] == 4
    # frozen parameters are not counted
    model.head.requires_grad_(False)
    assert count_params_macs(model, 8, 10)["params"] == 18 + 4 + 120

    # a second stacked conv (2 -> 2 channels) runs before the pooling:
    # 10 x 8 x 2 outputs x 9 taps x 2 inputs MACs, 36 weights + 4 BN
    model = CRNN(
        n_mels=8,
        n_classes=3,
        conv_channels=(2,),
        time_pool=(2,),
        freq_pool=(4,),
        convs_per_block=2,
        rnn_hidden=4,
        bidirectional=False,
        dropout=0.0,
    )
    stats = count_params_macs(model, n_mels=8, n_frames=10)
    assert stats["macs"] == 1440 + 2880 + 480 + 60 + 60 + 15
    assert stats["params"] == 18 + 4 + 36 + 4 + 120 + 30


def test_preset_overrides_and_errors():
    model = crnn_preset("tiny", n_mels=128, n_classes=4, head="mean")
    assert model(torch.randn(2, 40, 128)).shape == (2, 4)
    with pytest.raises(ValueError, match="valid presets"):
        crnn_preset("huge")
    with pytest.raises(ValueError, match="one entry per conv block"):
        CRNN(conv_channels=(4, 8), time_pool=(2, 2, 2))
    with pytest.raises(ValueError, match="one entry per conv block"):
        CRNN(
            conv_channels=(4, 8),
            time_pool=2,
            freq_pool=2,
            convs_per_block=(1, 2, 2),
        )
    with pytest.raises(ValueError, match="n_convs must be at least 1"):
        CRNN(conv_channels=(4, 8), time_pool=2, freq_pool=2, convs_per_block=0)


def test_training_step_and_bf16_autocast():
    torch.manual_seed(0)
    model = _small_crnn()
    x = torch.randn(2, 40, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(x, torch.tensor([1.0, 0.5]))
    logits.float().sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("name", ["tiny", "teacher"])
def test_channels_last_gives_the_same_model(name):
    torch.manual_seed(0)
    plain = crnn_preset(name, channels_last=False)
    fast = crnn_preset(name)  # channels_last by default
    fast.load_state_dict(plain.state_dict())
    conv = fast.conv_blocks[0].convs[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert fast.conv_blocks[0].act.inplace
    x = torch.randn(3, 101, 64)
    lengths = torch.tensor([1.0, 0.6, 0.8])
    plain.eval(), fast.eval()
    out_plain, taps_plain = plain(x, lengths, return_hidden=True)
    out_fast, taps_fast = fast(x, lengths, return_hidden=True)
    torch.testing.assert_close(out_fast, out_plain, rtol=1e-5, atol=1e-5)
    for tap, value in taps_plain.items():
        torch.testing.assert_close(taps_fast[tap], value, rtol=1e-5, atol=1e-5)
    # gradients of a training step agree too
    plain.train(), fast.train()
    for model in (plain, fast):
        torch.manual_seed(1)
        model(x, lengths).square().sum().backward()
    for (name, p), (_, f) in zip(
        plain.named_parameters(), fast.named_parameters(), strict=True
    ):
        torch.testing.assert_close(
            f.grad, p.grad, rtol=1e-4, atol=1e-4, msg=name
        )


@pytest.mark.parametrize(
    "activation", [torch.nn.ReLU, torch.nn.Tanh, torch.nn.GELU]
)
def test_pool_first_is_exact(activation):
    """The activation after the max-pool gives the same outputs and grads."""
    from speechbrain_iusp.models.crnn import ConvBlock

    torch.manual_seed(0)
    block = ConvBlock(3, 4, (3, 3), (2, 4), activation=activation, n_convs=2)
    # only non-decreasing activations commute with a max
    assert block.pool_first == (activation is not torch.nn.GELU)
    x = torch.randn(2, 3, 10, 16)
    mask = torch.ones(2, 1, 5, 1)
    mask[1, :, 3:] = 0
    in_mask = torch.ones(2, 1, 10, 1)
    in_mask[1, :, 7:] = 0
    results = []
    for pool_first in (False, True):
        block.pool_first = pool_first and block.pool_first
        block.zero_grad()
        inp = (x * in_mask).requires_grad_(True)
        out = block(inp, mask, in_mask)
        out.square().sum().backward()
        results.append((out, inp.grad, block.convs[0].weight.grad.clone()))
    for plain, fast in zip(*results, strict=True):
        torch.testing.assert_close(fast, plain, rtol=0, atol=1e-6)


def test_gru_stays_float32_under_cpu_autocast():
    """bf16 autocast on CPU runs the GRU in float32 (faster there)."""
    torch.manual_seed(0)
    model = _small_crnn().eval()
    x = torch.randn(2, 40, 16)
    seen = []
    model.rnn.register_forward_hook(
        lambda m, i, o: seen.append(getattr(i[0], "data", i[0]).dtype)
    )
    with torch.autocast("cpu", dtype=torch.bfloat16):
        _, taps = model(x, torch.tensor([1.0, 0.5]), return_hidden=True)
    assert seen == [torch.float32]
    assert taps["rnn"].dtype == torch.float32


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("valid", [[9, 9, 9], [9, 6, 1]])
def test_one_pass_bigru_matches_a_float64_packed_gru(layers, valid):
    """Values and gradients on the valid frames, against nn.GRU in float64
    on the packed batch (each direction sees only its clip's frames)."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from speechbrain_iusp.models.gru import one_pass_bigru

    torch.manual_seed(0)
    gru = torch.nn.GRU(4, 3, layers, batch_first=True, bidirectional=True)
    ref_gru = torch.nn.GRU(4, 3, layers, batch_first=True, bidirectional=True)
    ref_gru.load_state_dict(gru.state_dict())
    ref_gru.double()
    n_valid = torch.tensor(valid)
    x = torch.randn(3, 9, 4) * 2
    mask = (torch.arange(9)[None] < n_valid[:, None]).unsqueeze(-1)
    grad_out = torch.randn(3, 9, 6) * mask

    x_ref = x.double().requires_grad_(True)
    packed = pack_padded_sequence(
        x_ref, n_valid, batch_first=True, enforce_sorted=False
    )
    ref, _ = pad_packed_sequence(
        ref_gru(packed)[0], batch_first=True, total_length=9
    )
    (ref * grad_out.double()).sum().backward()

    x_got = x.clone().requires_grad_(True)
    got = one_pass_bigru(gru, x_got, n_valid)
    (got * grad_out).sum().backward()

    torch.testing.assert_close(
        got * mask, ref.float() * mask, rtol=0, atol=2e-6
    )
    torch.testing.assert_close(
        x_got.grad, x_ref.grad.float(), rtol=0, atol=1e-5
    )
    for (name, p), (_, r) in zip(
        gru.named_parameters(), ref_gru.named_parameters(), strict=True
    ):
        torch.testing.assert_close(
            p.grad, r.grad.float(), rtol=0, atol=1e-5, msg=name
        )


def test_training_step_is_the_same_with_the_one_pass_gru():
    """CRNN in training: one-pass GRU (the default on CPU) or nn.GRU."""
    torch.manual_seed(0)
    model = _small_crnn()
    x = torch.randn(4, 57, 16)
    lengths = torch.tensor([1.0, 0.8, 0.5, 0.3])
    results = []
    for one_pass in (False, True):
        model.rnn_one_pass = one_pass
        model.zero_grad()
        logits, taps = model(x, lengths, return_hidden=True)
        (logits.square().sum() + taps["rnn"].square().sum()).backward()
        grads = [p.grad.clone() for p in model.parameters()]
        results.append((logits, taps["rnn"], *grads))
    for plain, fast in zip(*results, strict=True):
        torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-5)


def test_one_pass_gru_is_on_where_it_pays():
    """On for the student widths (up to 64 units), off for wider GRUs."""
    on = {name: crnn_preset(name).rnn_one_pass for name in PRESETS}
    assert on == {n: PRESETS[n]["rnn_hidden"] <= 64 for n in PRESETS}
    assert on["small"] and not on["teacher"]


def test_a_hooked_gru_is_still_called_in_training():
    """A forward hook on the GRU (a tap by module path) still fires."""
    model = _small_crnn()
    seen = []
    model.rnn.register_forward_hook(lambda m, i, o: seen.append(m))
    model(torch.randn(2, 40, 16), torch.tensor([1.0, 0.5]))
    assert len(seen) == 1
