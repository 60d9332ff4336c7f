"""A length-aware CRNN audio tagger with named activation taps, and presets.

The :class:`CRNN` lobe maps log-mel features ``[B, T, F]`` (channels-last,
like SpeechBrain layers) with SpeechBrain relative lengths to clip logits
``[B, n_classes]``. With ``return_hidden=True`` it also returns a dict of named
frame-level activations (``conv1``..``convN``, ``rnn``, ...) for feature
distillation losses such as IUSP and SP.

Length handling (the same rule at every tap):

* the input has ``n = round(lengths * T)`` valid frames (SpeechBrain rounding);
* a block that pools time by ``p`` (floor mode, stride ``p``) keeps
  ``n // p`` valid frames (at least 1): exactly the frames a clip of ``n``
  frames would produce on its own;
* padded frames are set to zero before every convolution and at every tap, the
  GRU packs the sequences (in CPU training its backward direction reads each
  clip reversed within its valid frames, see :func:`one_pass_bigru`), and the
  pooling head masks them, so padding never enters a valid frame or the clip
  logits.

The relative length of a clip at a tap is therefore ``(n // P) / (T // P)``
(``P`` the product of the time pools so far), i.e. the input relative length up
to one frame of rounding. Losses that recompute ``round(lengths * T_tap)`` from
the input relative lengths can be one frame off either way: one padded (zero)
frame too many, or the last valid frame left out (about 1 padded clip in 10 at
the recipe's 251 input frames). :meth:`CRNN.tap_lengths` gives the exact value;
``DistillationBrain`` passes it to the distillation terms and the teacher
cache.

Authors
 * speechbrain-iusp developers 2026
"""

import copy

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from speechbrain_iusp.models.gru import one_pass_bigru

# Size presets. All of them pool time by 4 over the first two blocks, so with
# the recipe's features (64 log-mel bands at a 40 ms hop, 251 frames per 10 s
# clip) every preset has 62 frames at the ``rnn`` tap and IUSP needs no time
# alignment between them.
PRESETS = {
    "teacher": {
        "conv_channels": (32, 64, 128, 256),
        "kernel_sizes": 3,
        "time_pool": (2, 2, 1, 1),
        "freq_pool": (4, 4, 2, 2),
        "rnn_hidden": 160,
        "rnn_layers": 1,
        "bidirectional": True,
        "dropout": 0.1,
        "head": "attention",
        "input_norm": True,
    },
    "medium": {
        "conv_channels": (24, 48, 96, 128),
        "kernel_sizes": 3,
        "time_pool": (2, 2, 1, 1),
        "freq_pool": (4, 4, 2, 2),
        "rnn_hidden": 80,
        "rnn_layers": 1,
        "bidirectional": True,
        "dropout": 0.1,
        "head": "attention",
        "input_norm": True,
    },
    "small": {
        "conv_channels": (16, 32, 64),
        "kernel_sizes": 3,
        "time_pool": (2, 2, 1),
        "freq_pool": (4, 4, 4),
        "rnn_hidden": 48,
        "rnn_layers": 1,
        "bidirectional": True,
        "dropout": 0.1,
        "head": "attention",
        "input_norm": True,
    },
    "tiny": {
        "conv_channels": (8, 16, 24),
        "kernel_sizes": 3,
        "time_pool": (2, 2, 1),
        "freq_pool": (4, 4, 4),
        "rnn_hidden": 24,
        "rnn_layers": 1,
        "bidirectional": False,
        "dropout": 0.0,
        "head": "attention",
        "input_norm": True,
    },
}

# Parameter ranges the presets are designed (and tested) to fall in.
PRESET_PARAM_RANGES = {
    "tiny": (7_000, 14_000),
    "small": (50_000, 80_000),
    "medium": (250_000, 300_000),
    "teacher": (700_000, 1_000_000),
}


def _per_block(value, n_blocks, name):
    """Expands an int/tuple or a per-block list into a list of 2-tuples."""
    if isinstance(value, int):
        return [(value, value)] * n_blocks
    value = list(value)
    if len(value) == 2 and all(isinstance(v, int) for v in value):
        if n_blocks != 2:
            return [tuple(value)] * n_blocks
    if len(value) != n_blocks:
        raise ValueError(
            f"{name} needs one entry per conv block ({n_blocks}), got {value}"
        )
    return [(v, v) if isinstance(v, int) else tuple(v) for v in value]


def _per_block_int(value, n_blocks, name):
    """Expands an int or a per-block list of ints into a list of ints."""
    if isinstance(value, int):
        return [value] * n_blocks
    value = [int(v) for v in value]
    if len(value) != n_blocks:
        raise ValueError(
            f"{name} needs one entry per conv block ({n_blocks}), got {value}"
        )
    return value


class ConvBlock(nn.Module):
    """Stacked Conv2d -> BatchNorm2d -> activation, then pooling and dropout.

    Works in torch layout ``[B, C, T, F]``; the input must already be zero on
    padded frames. Between convolutions the padded frames are zeroed again
    (so "same" padding never carries them into valid frames), and the output
    is zeroed on the padded frames of its pooled time axis.

    Arguments
    ---------
    in_channels : int
        Number of input channels.
    out_channels : int
        Number of output channels.
    kernel_size : tuple
        Odd (time, frequency) kernel size; zero "same" padding.
    pool_size : tuple
        (time, frequency) pooling factors (kernel = stride, floor mode).
    pool_type : str
        "max" or "avg".
    activation : type
        Activation class (instantiated with ``inplace=True`` when it takes
        it, else without arguments).
    dropout : float
        Channel dropout rate (``Dropout2d``).
    n_convs : int
        Number of stacked convolutions (VGG style); all but the first map
        ``out_channels`` to ``out_channels``.

    Example
    -------
    >>> block = ConvBlock(1, 4, (3, 3), (2, 4), n_convs=2)
    >>> x = torch.randn(2, 1, 10, 16)
    >>> mask = torch.ones(2, 1, 5, 1)
    >>> block(x, mask, in_mask=torch.ones(2, 1, 10, 1)).shape
    torch.Size([2, 4, 5, 4])
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size=(3, 3),
        pool_size=(1, 2),
        pool_type="max",
        activation=nn.ReLU,
        dropout=0.0,
        n_convs=1,
    ):
        super().__init__()
        if kernel_size[0] % 2 == 0 or kernel_size[1] % 2 == 0:
            raise ValueError(f"kernel sizes must be odd, got {kernel_size}")
        if n_convs < 1:
            raise ValueError(f"n_convs must be at least 1, got {n_convs}")
        padding = (kernel_size[0] // 2, kernel_size[1] // 2)
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for i in range(n_convs):
            self.convs.append(
                nn.Conv2d(
                    in_channels if i == 0 else out_channels,
                    out_channels,
                    kernel_size,
                    padding=padding,
                    bias=False,
                )
            )
            self.norms.append(nn.BatchNorm2d(out_channels))
        try:  # in place after BatchNorm saves a full-size tensor per block
            self.act = activation(inplace=True)
        except TypeError:
            self.act = activation()
        pool_size = tuple(pool_size)
        if pool_size == (1, 1):
            self.pool = nn.Identity()
        elif pool_type == "max":
            self.pool = nn.MaxPool2d(pool_size)
        elif pool_type == "avg":
            self.pool = nn.AvgPool2d(pool_size)
        else:
            raise ValueError(f"pool_type must be max or avg, got {pool_type}")
        self.drop = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        # Max-pooling commutes with a non-decreasing activation, so the
        # activation can run on the pooled tensor (4-8x smaller): same
        # outputs and gradients, a cheaper step.
        self.pool_first = isinstance(self.pool, nn.MaxPool2d) and _monotone(
            self.act
        )

    def forward(self, x, mask, in_mask=None):
        """Applies the block; ``mask`` is ``[B, 1, T_out, 1]`` (1 = valid).

        Arguments
        ---------
        x : torch.Tensor
            Input ``[B, C_in, T, F]``, zero on padded frames.
        mask : torch.Tensor
            Float mask of the valid output frames ``[B, 1, T_out, 1]``.
        in_mask : torch.Tensor, optional
            Mask of the valid input frames ``[B, 1, T, 1]``, applied between
            stacked convolutions (needed when ``n_convs > 1`` and the batch
            is padded; None = all valid).

        Returns
        -------
        torch.Tensor
            Output ``[B, C_out, T_out, F_out]``, zero on padded frames.
        """
        for i, (conv, norm) in enumerate(
            zip(self.convs, self.norms, strict=True)
        ):
            if i > 0 and in_mask is not None:
                x = x * in_mask.to(x.dtype)
            x = norm(conv(x))
            if i < len(self.convs) - 1 or not self.pool_first:
                x = self.act(x)
        x = self.pool(x)
        if self.pool_first:
            x = self.act(x)
        x = self.drop(x)
        return x * mask.to(x.dtype)


def _monotone(act):
    """Whether an activation module is non-decreasing (commutes with max)."""
    if isinstance(act, nn.LeakyReLU):
        return act.negative_slope >= 0
    return isinstance(
        act, (nn.ReLU, nn.ReLU6, nn.ELU, nn.CELU, nn.Sigmoid, nn.Tanh)
    )


class MaskedInputNorm(nn.Module):
    """Per-band batch normalisation of ``[B, T, F]`` inputs over valid frames.

    Like the input BatchNorm of PANNs, but the statistics (and the running
    estimates used in eval mode) come from the unpadded frames only; padded
    frames come out as zeros.

    Arguments
    ---------
    n_mels : int
        Number of frequency bins ``F``.

    Example
    -------
    >>> norm = MaskedInputNorm(4)
    >>> x = torch.randn(2, 5, 4) * 10 + 3
    >>> mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]).bool()
    >>> y = norm(x, mask)
    >>> y[1, 3:].abs().sum().item()
    0.0
    >>> bool(y[mask].mean().abs() < 1e-5)
    True
    """

    def __init__(self, n_mels):
        super().__init__()
        self.bn = nn.BatchNorm1d(n_mels)

    def forward(self, x, mask):
        """Normalises the frames where ``mask [B, T]`` is True."""
        if bool(mask.all()):  # no padding: the same frames, no gather
            return self.bn(x.reshape(-1, x.shape[-1])).view_as(x).to(x.dtype)
        out = torch.zeros_like(x)
        out[mask] = self.bn(x[mask]).to(x.dtype)
        return out


class TimePoolingHead(nn.Module):
    """Length-aware pooling over time plus a linear classifier.

    * ``attention``: class-wise attention (frame logits weighted by a softmax
      over the valid frames, per class), as in the DCASE 2019 Task 4 baseline;
    * ``mean`` / ``max``: masked mean / max of the frame embeddings, then a
      linear layer.

    Arguments
    ---------
    input_size : int
        Frame embedding size.
    n_classes : int
        Number of output logits.
    pool_type : str
        "attention", "mean" or "max".

    Example
    -------
    >>> head = TimePoolingHead(8, 3, "attention")
    >>> x = torch.randn(2, 5, 8)
    >>> mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]]).bool()
    >>> logits, extra = head(x, mask)
    >>> logits.shape, extra.shape
    (torch.Size([2, 3]), torch.Size([2, 5, 3]))
    """

    def __init__(self, input_size, n_classes, pool_type="attention"):
        super().__init__()
        if pool_type not in ("attention", "mean", "max"):
            raise ValueError(
                f"head must be attention, mean or max, got {pool_type}"
            )
        self.pool_type = pool_type
        self.classifier = nn.Linear(input_size, n_classes)
        if pool_type == "attention":
            self.attention = nn.Linear(input_size, n_classes)

    def forward(self, x, mask):
        """Pools ``x`` [B, T, D] over its valid frames (``mask`` [B, T] bool).

        Arguments
        ---------
        x : torch.Tensor
            Frame embeddings ``[B, T, D]``.
        mask : torch.Tensor
            Boolean mask of the valid frames ``[B, T]``.

        Returns
        -------
        logits : torch.Tensor
            Clip logits ``[B, n_classes]``.
        extra : torch.Tensor
            Frame logits ``[B, T, n_classes]`` (attention, zero on padded
            frames) or the pooled embedding ``[B, D]`` (mean, max).
        """
        m = mask.unsqueeze(-1)
        if self.pool_type == "attention":
            frame_logits = self.classifier(x)
            scores = self.attention(x)
            neg = torch.finfo(scores.dtype).min
            weights = torch.softmax(scores.masked_fill(~m, neg), dim=1)
            logits = (weights * frame_logits).sum(dim=1)
            return logits, frame_logits.masked_fill(~m, 0.0)
        if self.pool_type == "mean":
            count = m.sum(dim=1).clamp(min=1).to(x.dtype)
            emb = (x * m.to(x.dtype)).sum(dim=1) / count
        else:
            neg = torch.finfo(x.dtype).min
            emb = x.masked_fill(~m, neg).max(dim=1).values
        return self.classifier(emb), emb


class CRNN(nn.Module):
    """Convolutional-recurrent audio tagger with named activation taps.

    ``[B, T, F]`` log-mel -> conv blocks (Conv2d, BatchNorm, activation,
    time/frequency pooling, dropout) -> GRU (optionally bidirectional, packed
    by length) -> length-aware time pooling head -> clip logits
    ``[B, n_classes]``. Padded frames never reach a valid frame or the logits
    (see the module docstring for the length rule).

    Taps returned with ``return_hidden=True``:

    * ``conv1``..``convN``: ``[B, T_i, F_i, C_i]`` (channels-last views);
    * ``rnn``: GRU output ``[B, T', H]`` (``H = 2 * rnn_hidden`` if
      bidirectional), zero on padded frames;
    * ``frame_logits``: ``[B, T', n_classes]`` (attention head), or
      ``embedding``: the pooled ``[B, H]`` (mean / max head).

    Arguments
    ---------
    n_mels : int
        Number of frequency bins ``F`` of the input.
    n_classes : int
        Number of output logits.
    conv_channels : sequence of int
        Output channels of each conv block.
    kernel_sizes : int, tuple or list
        Odd kernel size, one for all blocks or one per block (int or
        (time, freq) tuple).
    time_pool : int or list
        Time pooling factor per block (1 = none). Pool early: the frame rate
        at ``rnn`` is the input rate divided by their product.
    freq_pool : int or list
        Frequency pooling factor per block.
    convs_per_block : int or list
        Stacked convolutions per block, one for all blocks or one per block.
    pool_type : str
        "max" or "avg" pooling in the conv blocks.
    activation : type
        Activation class, e.g. ``torch.nn.ReLU``.
    dropout : float
        Dropout rate in the conv blocks and before the head.
    rnn_hidden : int
        GRU hidden size per direction.
    rnn_layers : int
        Number of GRU layers.
    bidirectional : bool
        Whether the GRU is bidirectional.
    rnn_dropout : float
        Dropout between GRU layers.
    head : str
        Time pooling: "attention", "mean" or "max".
    input_norm : bool
        Normalise each input band over the valid frames of the batch
        (:class:`MaskedInputNorm`), so raw log-mels can be fed directly.
    input_shape : tuple, optional
        SpeechBrain-style ``[None, None, n_mels]``; overrides ``n_mels``.
    channels_last : bool
        Run the conv blocks in the ``channels_last`` memory format (the
        same values up to float rounding, and faster on CPU; see
        ``benchmarks/RESULTS.md``).

    Example
    -------
    >>> model = CRNN(n_mels=16, n_classes=5, conv_channels=(4, 8),
    ...     time_pool=(2, 2), freq_pool=(4, 4), rnn_hidden=6)
    >>> x = torch.randn(3, 41, 16)
    >>> lengths = torch.tensor([1.0, 0.7, 0.5])
    >>> logits, hidden = model(x, lengths, return_hidden=True)
    >>> logits.shape
    torch.Size([3, 5])
    >>> {k: tuple(v.shape) for k, v in hidden.items()}
    ... # doctest: +NORMALIZE_WHITESPACE
    {'conv1': (3, 20, 4, 4), 'conv2': (3, 10, 1, 8), 'rnn': (3, 10, 12),
     'frame_logits': (3, 10, 5)}
    >>> model.tap_lengths(lengths, 41)["rnn"]
    tensor([1.0000, 0.7000, 0.5000])
    """

    def __init__(
        self,
        n_mels=64,
        n_classes=37,
        conv_channels=(16, 32, 64),
        kernel_sizes=3,
        time_pool=(2, 2, 1),
        freq_pool=(4, 4, 4),
        convs_per_block=1,
        pool_type="max",
        activation=nn.ReLU,
        dropout=0.1,
        rnn_hidden=64,
        rnn_layers=1,
        bidirectional=True,
        rnn_dropout=0.0,
        head="attention",
        input_norm=False,
        input_shape=None,
        channels_last=True,
    ):
        super().__init__()
        if input_shape is not None:
            n_mels = int(input_shape[-1])
        n_blocks = len(conv_channels)
        kernels = _per_block(kernel_sizes, n_blocks, "kernel_sizes")
        t_pools = _per_block_int(time_pool, n_blocks, "time_pool")
        f_pools = _per_block_int(freq_pool, n_blocks, "freq_pool")
        n_convs = _per_block_int(convs_per_block, n_blocks, "convs_per_block")
        self.n_mels = n_mels
        self.n_classes = n_classes
        self.time_pools = t_pools
        self.head_type = head
        self.input_norm = MaskedInputNorm(n_mels) if input_norm else None

        blocks = []
        in_ch, n_freq = 1, n_mels
        for i, out_ch in enumerate(conv_channels):
            blocks.append(
                ConvBlock(
                    in_ch,
                    out_ch,
                    kernels[i],
                    (t_pools[i], f_pools[i]),
                    pool_type,
                    activation,
                    dropout,
                    n_convs[i],
                )
            )
            in_ch = out_ch
            n_freq = n_freq // f_pools[i]
            if n_freq < 1:
                raise ValueError(
                    f"freq_pool {f_pools} reduces {n_mels} bins to zero"
                )
        self.conv_blocks = nn.ModuleList(blocks)
        self.memory_format = (
            torch.channels_last if channels_last else torch.contiguous_format
        )
        self.conv_blocks.to(memory_format=self.memory_format)
        self.rnn = nn.GRU(
            input_size=in_ch * n_freq,
            hidden_size=rnn_hidden,
            num_layers=rnn_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=rnn_dropout if rnn_layers > 1 else 0.0,
        )
        self.rnn_size = rnn_hidden * (2 if bidirectional else 1)
        # Training on CPU runs the two directions as one GRU of twice the
        # width (see one_pass_bigru): same values; a faster step at the
        # student widths, a slower one from 80 units up (benchmarks/RESULTS.md).
        self.rnn_one_pass = rnn_hidden <= 64
        self.head_dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.head = TimePoolingHead(self.rnn_size, n_classes, head)

    @property
    def tap_names(self):
        """Names of the activations returned with ``return_hidden=True``."""
        names = [f"conv{i + 1}" for i in range(len(self.conv_blocks))]
        extra = "frame_logits" if self.head_type == "attention" else "embedding"
        return names + ["rnn", extra]

    def _valid_frames(self, lengths, n_frames):
        """Absolute valid frame counts at the input and after every block."""
        n = torch.round(lengths.float() * n_frames).long().clamp(min=1)
        counts = [n]
        for p in self.time_pools:
            n = torch.div(n, p, rounding_mode="floor").clamp(min=1)
            counts.append(n)
        return counts

    def tap_lengths(self, lengths, n_frames):
        """Exact relative lengths at every tap for inputs of ``n_frames``.

        Arguments
        ---------
        lengths : torch.Tensor
            Relative input lengths ``[B]``.
        n_frames : int
            Padded number of input frames ``T``.

        Returns
        -------
        dict
            Tap name -> relative lengths ``[B]`` (valid frames / frames).
        """
        counts = self._valid_frames(lengths, n_frames)
        out = {}
        total = n_frames
        for i, p in enumerate(self.time_pools):
            total = total // p
            out[f"conv{i + 1}"] = counts[i + 1].float() / total
        for name in self.tap_names[len(self.conv_blocks) :]:
            out[name] = counts[-1].float() / total
        return out

    def _run_rnn(self, x, n_valid, mask):
        """Runs the GRU on [B, T', D]; padded frames stay out of valid ones.

        A unidirectional GRU or a batch of full-length clips needs no packing
        (the padded frames come after the valid ones); otherwise the batch is
        packed by length, which is about 2x slower on CPU.
        """
        if x.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            # On CPU a GRU under bf16 autocast casts at every time step and
            # is 1.5x slower than in float32 (benchmarks/RESULTS.md).
            with torch.autocast("cpu", enabled=False):
                return self._run_rnn(x.float(), n_valid, mask)
        if (
            self.rnn_one_pass
            and self.training
            and self.rnn.bidirectional
            and x.device.type == "cpu"
            and not _has_hooks(self.rnn)  # a hooked GRU must be called
        ):
            out = one_pass_bigru(self.rnn, x, n_valid)
            return out * mask.unsqueeze(-1).to(out.dtype)
        if not self.rnn.bidirectional or bool((n_valid == x.shape[1]).all()):
            out, _ = self.rnn(x)
            return out * mask.unsqueeze(-1).to(out.dtype)
        packed = pack_padded_sequence(
            x, n_valid.cpu(), batch_first=True, enforce_sorted=False
        )
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(
            out, batch_first=True, total_length=x.shape[1]
        )
        return out

    def forward(self, x, lengths=None, return_hidden=False):
        """Computes clip logits (and the named activations).

        Arguments
        ---------
        x : torch.Tensor
            Log-mel features ``[B, T, F]`` (or ``[B, T, F, 1]``).
        lengths : torch.Tensor, optional
            Relative lengths ``[B]`` (SpeechBrain convention), None = all full.
        return_hidden : bool
            Whether to also return the dict of named activations.

        Returns
        -------
        logits : torch.Tensor
            Clip logits ``[B, n_classes]``.
        hidden : dict
            Only with ``return_hidden``: tap name -> activation.
        """
        if x.dim() == 4:
            x = x.squeeze(-1)
        batch, n_frames = x.shape[0], x.shape[1]
        if lengths is None:
            lengths = torch.ones(batch, device=x.device)
        counts = self._valid_frames(lengths.to(x.device), n_frames)
        hidden = {}

        # [B, T, F] -> [B, 1, T, F]; zero the padded frames
        t_idx = torch.arange(n_frames, device=x.device)
        valid = t_idx[None, :] < counts[0][:, None]
        if self.input_norm is not None:
            x = self.input_norm(x, valid)
        mask = valid.to(x.dtype)
        x = x.unsqueeze(1) * mask[:, None, :, None]
        x = x.contiguous(memory_format=self.memory_format)
        for i, block in enumerate(self.conv_blocks):
            in_mask = mask
            n_out = x.shape[2] // self.time_pools[i]
            t_idx = torch.arange(n_out, device=x.device)
            mask = t_idx[None, :] < counts[i + 1][:, None]
            x = block(x, mask[:, None, :, None], in_mask[:, None, :, None])
            # the tap is on the forward path (the task's gradient reaches it)
            hidden[f"conv{i + 1}"] = x.permute(0, 2, 3, 1)
            x = hidden[f"conv{i + 1}"].permute(0, 3, 1, 2)

        # [B, C, T', F'] -> [B, T', F' * C] (channels-last flattening)
        n_out = x.shape[2]
        x = x.permute(0, 2, 3, 1).flatten(start_dim=2)
        x = self._run_rnn(x, counts[-1], mask)
        hidden["rnn"] = x
        if self.head_dropout is not None:
            x = self.head_dropout(x)
        logits, extra = self.head(x, mask)
        if self.head_type == "attention":
            hidden["frame_logits"] = extra
        else:
            hidden["embedding"] = extra
        if return_hidden:
            return logits, hidden
        return logits


def _has_hooks(module):
    """Whether calling ``module`` runs forward hooks (its own or global)."""
    from torch.nn.modules import module as torch_module

    return bool(
        module._forward_hooks
        or module._forward_pre_hooks
        or torch_module._global_forward_hooks
        or torch_module._global_forward_pre_hooks
    )


def crnn_preset(name, n_mels=64, n_classes=37, **overrides):
    """Builds a :class:`CRNN` from a named size preset (see ``PRESETS``).

    Arguments
    ---------
    name : str
        One of ``PRESETS``: "teacher", "medium", "small", "tiny".
    n_mels : int
        Number of mel bands of the input.
    n_classes : int
        Number of output logits (37 = 29 fine + 8 coarse SONYC-UST tags).
    **overrides
        Any :class:`CRNN` argument replacing the preset's value.

    Returns
    -------
    CRNN
        The model.

    Example
    -------
    >>> model = crnn_preset("tiny", n_classes=8, dropout=0.0)
    >>> model(torch.randn(2, 101, 64)).shape
    torch.Size([2, 8])
    """
    if name not in PRESETS:
        raise ValueError(
            f"unknown CRNN preset {name!r}; valid presets: {sorted(PRESETS)}"
        )
    kwargs = copy.deepcopy(PRESETS[name])
    kwargs.update(overrides)
    return CRNN(n_mels=n_mels, n_classes=n_classes, **kwargs)
