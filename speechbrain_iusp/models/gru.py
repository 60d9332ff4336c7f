"""The one-pass bidirectional GRU: both directions as one double-width GRU.

:func:`one_pass_bigru` runs a bidirectional ``nn.GRU`` as one unidirectional
GRU whose weights are the two directions' weights, gate by gate,
block-diagonal (:func:`_one_pass_weights`), the backward half reading each
clip reversed within its valid frames. The CRNN uses it in CPU training for
GRUs of up to 64 units (``CRNN.rnn_one_pass``).

Authors
 * speechbrain-iusp developers 2026
"""

import torch
from torch import nn


def one_pass_bigru(gru, x, n_valid):
    """A bidirectional ``nn.GRU`` run as one GRU of twice the hidden size.

    Each layer's two directions become one unidirectional GRU whose input is
    ``[x_t, x'_t]`` (``x'`` each clip reversed within its valid frames) and
    whose weights are the two directions' weights, gate by gate,
    block-diagonal. The directions never mix, so the valid frames get the
    values (and the weights the gradients) of ``gru`` on the packed batch,
    up to float rounding. On CPU it halves the number of small per-step
    operations (forward and backward), which dominate at these sizes.
    Padded frames hold arbitrary values: mask them.

    Arguments
    ---------
    gru : torch.nn.GRU
        A bidirectional, ``batch_first`` GRU.
    x : torch.Tensor
        Input ``[B, T, D]``.
    n_valid : torch.Tensor
        Valid frames per clip ``[B]`` (the valid frames come first).

    Returns
    -------
    torch.Tensor
        Output ``[B, T, 2 * H]``, as ``gru`` would give on the valid frames.

    Example
    -------
    >>> gru = nn.GRU(5, 3, batch_first=True, bidirectional=True)
    >>> x, n_valid = torch.randn(2, 7, 5), torch.tensor([7, 4])
    >>> out = one_pass_bigru(gru, x, n_valid)
    >>> ref, _ = gru(x[1:, :4])
    >>> torch.allclose(out[1, :4], ref[0], atol=1e-6)
    True
    """
    hidden = gru.hidden_size
    batch, n_frames = x.shape[0], x.shape[1]
    if bool((n_valid == n_frames).all()):

        def reverse(t):
            return t.flip(1)

    else:
        steps = torch.arange(n_frames, device=x.device)
        last = n_valid.to(x.device)[:, None] - 1
        index = torch.where(steps[None] <= last, last - steps[None], steps)

        def reverse(t):
            return t.gather(1, index[..., None].expand(-1, -1, t.shape[2]))

    out = x
    for layer in range(gru.num_layers):
        if layer > 0 and gru.dropout > 0 and gru.training:
            out = nn.functional.dropout(out, gru.dropout, training=True)
        weights = _one_pass_weights(gru, layer, hidden)
        h0 = out.new_zeros(1, batch, 2 * hidden)
        both, _ = torch._VF.gru(
            torch.cat([out, reverse(out)], 2),
            h0,
            weights,
            gru.bias,
            1,
            0.0,
            gru.training,
            False,
            True,
        )
        out = torch.cat([both[..., :hidden], reverse(both[..., hidden:])], 2)
    return out


def _one_pass_weights(gru, layer, hidden):
    """One layer's weights for :func:`one_pass_bigru`, gate by gate.

    The gates (r, z, n) of the wide GRU are each ``[forward; backward]``;
    input and hidden weights are block-diagonal over the two directions.
    """

    def pair(name):
        return (
            getattr(gru, f"{name}_l{layer}"),
            getattr(gru, f"{name}_l{layer}_reverse"),
        )

    def block_diagonal(fwd, bwd):
        zeros_f = fwd.new_zeros(hidden, bwd.shape[1])
        zeros_b = bwd.new_zeros(hidden, fwd.shape[1])
        rows = []
        for g in range(3):
            gate = slice(g * hidden, (g + 1) * hidden)
            rows.append(torch.cat([fwd[gate], zeros_f], 1))
            rows.append(torch.cat([zeros_b, bwd[gate]], 1))
        return torch.cat(rows, 0)

    def stacked(fwd, bwd):
        gates = [slice(g * hidden, (g + 1) * hidden) for g in range(3)]
        return torch.cat([t for s in gates for t in (fwd[s], bwd[s])])

    weights = [block_diagonal(*pair("weight_ih"))]
    weights.append(block_diagonal(*pair("weight_hh")))
    if gru.bias:
        weights += [stacked(*pair("bias_ih")), stacked(*pair("bias_hh"))]
    return weights
