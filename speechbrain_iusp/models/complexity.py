"""Model complexity: trainable parameters and multiply-accumulates per clip.

Authors
 * speechbrain-iusp developers 2026
"""

import torch
from torch import nn

from speechbrain_iusp.models.crnn import (
    CRNN,
    PRESETS,
    TimePoolingHead,
    crnn_preset,
)
from speechbrain_iusp.models.wrapping import unwrap


def count_params_macs(model, n_mels=64, n_frames=251):
    """Counts trainable parameters and multiply-accumulates per clip.

    The MACs are measured with forward hooks on one dummy clip of
    ``n_frames`` x ``n_mels`` (batch of 1, eval mode, full length):

    * ``Conv2d``: output elements x (in_channels / groups) x kernel area;
    * ``Linear``: output elements x in_features;
    * ``GRU``: per layer and direction, frames x 3 x (input x hidden +
      hidden x hidden) (the gate matrix products; element-wise gate maths
      and biases are not counted);
    * attention pooling: the weighted sum over frames (frames x classes).

    BatchNorm (foldable into the convolution at inference), activations,
    pooling, softmax and dropout are not counted.

    Arguments
    ---------
    model : torch.nn.Module
        A :class:`CRNN` (or any module called as ``model(x, lengths,
        return_hidden=True)``; other modules get ``model(x)`` and no taps).
    n_mels : int
        Number of mel bands of the dummy input.
    n_frames : int
        Frames of the dummy clip (251 = 10 s at a 40 ms hop).

    Returns
    -------
    dict
        ``params`` (trainable), ``macs`` (per clip), ``frames`` (tap ->
        frames) and ``widths`` (tap -> features per frame).

    Example
    -------
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 3))
    >>> stats = count_params_macs(model, n_mels=4, n_frames=10)
    >>> stats["params"], stats["macs"]
    (15, 120)
    """
    model = unwrap(model)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    macs = [0]

    def conv_hook(module, inputs, output):
        """Counts a Conv2d call."""
        kernel = module.kernel_size[0] * module.kernel_size[1]
        per_out = module.in_channels // module.groups * kernel
        macs[0] += output.numel() * per_out

    def linear_hook(module, inputs, output):
        """Counts a Linear call."""
        macs[0] += output.numel() * module.in_features

    def gru_hook(module, inputs, output):
        """Counts a GRU call (all layers and directions)."""
        seq = inputs[0]
        if hasattr(seq, "batch_sizes"):
            steps = int(seq.batch_sizes.sum())
        else:
            steps = seq.shape[0] * seq.shape[1]
        dirs = 2 if module.bidirectional else 1
        hid = module.hidden_size
        for layer in range(module.num_layers):
            in_size = module.input_size if layer == 0 else hid * dirs
            macs[0] += steps * dirs * 3 * (in_size * hid + hid * hid)

    def head_hook(module, inputs, output):
        """Counts the attention-weighted sum over frames."""
        if module.pool_type == "attention":
            macs[0] += output[1].numel()

    handles = []
    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            handles.append(mod.register_forward_hook(conv_hook))
        elif isinstance(mod, nn.Linear):
            handles.append(mod.register_forward_hook(linear_hook))
        elif isinstance(mod, nn.GRU):
            handles.append(mod.register_forward_hook(gru_hook))
        elif isinstance(mod, TimePoolingHead):
            handles.append(mod.register_forward_hook(head_hook))

    was_training = model.training
    model.eval()
    frames, widths = {}, {}
    try:
        with torch.no_grad():
            device = next(model.parameters()).device
            x = torch.zeros(1, n_frames, n_mels, device=device)
            if isinstance(model, CRNN):
                lens = torch.ones(1, device=device)
                _, hidden = model(x, lens, return_hidden=True)
                for name, act in hidden.items():
                    if act.dim() >= 3:
                        frames[name] = act.shape[1]
                        widths[name] = int(act[0, 0].numel())
            else:
                model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return {
        "params": params,
        "macs": macs[0],
        "frames": frames,
        "widths": widths,
    }


def presets_table(n_mels=64, n_frames=251, n_classes=37, tap="rnn"):
    """Renders the size presets as a Markdown table.

    Arguments
    ---------
    n_mels : int
        Mel bands of the input.
    n_frames : int
        Frames per clip (251 = 10 s at a 40 ms hop).
    n_classes : int
        Number of outputs.
    tap : str
        Tap whose frame count and width are reported.

    Returns
    -------
    str
        The Markdown table (one row per preset, smallest first).

    Example
    -------
    >>> print(presets_table().splitlines()[0])
    | Preset | Params | MMACs / 10 s clip | Frames at `rnn` | `rnn` width |
    """
    lines = [
        f"| Preset | Params | MMACs / 10 s clip | Frames at `{tap}` "
        f"| `{tap}` width |",
        "|---|---:|---:|---:|---:|",
    ]
    rows = []
    for name in PRESETS:
        model = crnn_preset(name, n_mels=n_mels, n_classes=n_classes)
        stats = count_params_macs(model, n_mels, n_frames)
        rows.append((stats["params"], name, stats))
    for params, name, stats in sorted(rows, key=lambda r: r[0]):
        lines.append(
            f"| {name} | {params:,} | {stats['macs'] / 1e6:.1f} "
            f"| {stats['frames'][tap]} | {stats['widths'][tap]} |"
        )
    return "\n".join(lines)
