"""Single-label sound classifiers over log-mels: an ECAPA-TDNN teacher and
small 1-D convolutional students.

Both take features ``[B, T, F]`` with relative lengths and return class
logits ``[B, C]``. Their layers are tapped by module path (forward hooks):
``encoder.blocks.N`` of :class:`EcapaClassifier` (SpeechBrain's
``ECAPA_TDNN`` blocks) and ``blocks.N`` of :class:`ConvClassifier` give
``[B, C, T]`` maps at the input frame rate, so IUSP needs no alignment
between them (``layout: bct``).

Authors
 * speechbrain-iusp developers 2026
"""

import torch
from torch import nn

from speechbrain.dataio.dataio import length_to_mask
from speechbrain.lobes.models.ECAPA_TDNN import ECAPA_TDNN

from speechbrain_iusp.models.crnn import MaskedInputNorm


def _mask(x, lengths):
    """``[B, T]`` mask of the valid frames of ``x`` (all without lengths)."""
    if lengths is None:
        return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    n_frames = x.shape[1]
    return length_to_mask(
        torch.round(lengths * n_frames), n_frames, device=x.device
    ).bool()


class EcapaClassifier(nn.Module):
    """SpeechBrain's ECAPA-TDNN with a linear class head.

    Input bands are normalised over the valid frames
    (:class:`~speechbrain_iusp.models.crnn.MaskedInputNorm`), the
    ``ECAPA_TDNN`` encoder gives a clip embedding (attentive statistics
    pooling of its blocks), and a linear layer the class logits. Taps:
    ``encoder.blocks.0`` .. ``encoder.blocks.4`` and ``encoder.mfa``
    (``[B, C, T]``). SpeechBrain's TDNN layers pad by reflection, so the
    last frames of a clip shorter than the longest of its batch depend on
    the batch; ESC-50's clips all have the same length.

    Arguments
    ---------
    n_mels : int
        Input bands.
    n_classes : int
        Classes.
    channels : list of int
        ``ECAPA_TDNN`` channels (five blocks, the last the ``mfa``).
    embedding : int
        Embedding size (``lin_neurons``).
    **ecapa
        Other ``ECAPA_TDNN`` options (``attention_channels``,
        ``res2net_scale``, ``se_channels``, ``kernel_sizes``,
        ``dilations``).

    Example
    -------
    >>> model = EcapaClassifier(20, 5, channels=[16, 16, 16, 16, 48],
    ...                         attention_channels=8, res2net_scale=2,
    ...                         se_channels=8)
    >>> model(torch.randn(2, 30, 20), torch.tensor([1.0, 0.5])).shape
    torch.Size([2, 5])
    """

    def __init__(
        self,
        n_mels,
        n_classes,
        channels=(512, 512, 512, 512, 1536),
        embedding=192,
        **ecapa,
    ):
        super().__init__()
        self.norm = MaskedInputNorm(n_mels)
        self.encoder = ECAPA_TDNN(
            n_mels, channels=list(channels), lin_neurons=embedding, **ecapa
        )
        self.head = nn.Linear(embedding, n_classes)

    def forward(self, x, lengths=None):
        """Class logits ``[B, C]`` of features ``[B, T, F]``."""
        x = self.norm(x, _mask(x, lengths))
        return self.head(self.encoder(x, lengths=lengths).squeeze(1))


class ConvClassifier(nn.Module):
    """A small 1-D convolutional classifier over time.

    Input bands normalised over the valid frames, then blocks of
    ``Conv1d`` (same length, dilated), ``BatchNorm1d`` and ``ReLU``
    (``blocks.0`` .. ``blocks.N``, ``[B, C, T]``), masked mean and standard
    deviation over the valid frames, and a linear head. Padded frames are
    zeroed after every block, so they never reach a valid one. The time axis
    is never pooled before the statistics, so every block runs at the input
    frame rate.

    Arguments
    ---------
    n_mels : int
        Input bands.
    n_classes : int
        Classes.
    channels : list of int
        Channels of each block.
    kernel_sizes : list of int
        Kernel size of each block (odd).
    dilations : list of int
        Dilation of each block.
    dropout : float
        Dropout before the head.

    Example
    -------
    >>> model = ConvClassifier(20, 5, channels=[8, 8], kernel_sizes=[3, 3],
    ...                        dilations=[1, 2])
    >>> x = torch.randn(2, 30, 20)
    >>> model(x, torch.tensor([1.0, 0.5])).shape
    torch.Size([2, 5])
    >>> model.blocks[1](model.blocks[0](x.transpose(1, 2))).shape
    torch.Size([2, 8, 30])
    """

    def __init__(
        self,
        n_mels,
        n_classes,
        channels=(64, 64, 64),
        kernel_sizes=(5, 3, 3),
        dilations=(1, 2, 3),
        dropout=0.0,
    ):
        super().__init__()
        if not len(channels) == len(kernel_sizes) == len(dilations):
            raise ValueError(
                f"ConvClassifier: channels {list(channels)}, kernel_sizes "
                f"{list(kernel_sizes)} and dilations {list(dilations)} "
                "must have one entry per block"
            )
        self.norm = MaskedInputNorm(n_mels)
        blocks, width = [], n_mels
        for out, k, d in zip(channels, kernel_sizes, dilations, strict=True):
            blocks.append(
                nn.Sequential(
                    nn.Conv1d(width, out, k, dilation=d, padding=d * (k // 2)),
                    nn.BatchNorm1d(out),
                    nn.ReLU(),
                )
            )
            width = out
        self.blocks = nn.ModuleList(blocks)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * width, n_classes)

    def forward(self, x, lengths=None):
        """Class logits ``[B, C]`` of features ``[B, T, F]``."""
        mask = _mask(x, lengths)
        x = self.norm(x, mask).transpose(1, 2)
        w = mask.unsqueeze(1).to(x.dtype)
        for block in self.blocks:
            x = block(x) * w  # padded frames stay zero
        n = w.sum(dim=2).clamp(min=1.0)
        mean = (x * w).sum(dim=2) / n
        var = (((x - mean.unsqueeze(2)) ** 2) * w).sum(dim=2) / n
        std = var.clamp(min=1e-8).sqrt()
        return self.head(self.dropout(torch.cat([mean, std], dim=1)))


def count_params(model):
    """Trainable parameters of a model.

    Arguments
    ---------
    model : torch.nn.Module

    Returns
    -------
    int

    Example
    -------
    >>> count_params(torch.nn.Linear(4, 3))
    15
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


CLASSIFIER_PRESETS = {
    "ecapa": (
        EcapaClassifier,
        {
            "channels": [64, 64, 64, 64, 192],
            "embedding": 64,
            "attention_channels": 32,
            "res2net_scale": 4,
            "se_channels": 32,
        },
    ),
    "conv": (
        ConvClassifier,
        {"channels": [32, 32, 32], "kernel_sizes": [5, 3, 3]}
        | {"dilations": [1, 2, 3], "dropout": 0.1},
    ),
}
"""Presets: the ESC-50 recipe's ECAPA-TDNN teacher and conv student."""


def classifier_preset(name, n_mels=40, n_classes=50, **overrides):
    """A classifier of :data:`CLASSIFIER_PRESETS`, options overridable.

    Arguments
    ---------
    name : str
        ``ecapa`` or ``conv``.
    n_mels : int
        Input bands.
    n_classes : int
        Classes.
    **overrides
        Options of the preset's class to change.

    Returns
    -------
    torch.nn.Module

    Example
    -------
    >>> count_params(classifier_preset("conv", 40, 10))
    13562
    >>> classifier_preset("resnet")
    Traceback (most recent call last):
    ...
    ValueError: Unknown classifier preset 'resnet'; choose one of ...
    """
    if name not in CLASSIFIER_PRESETS:
        raise ValueError(
            f"Unknown classifier preset {name!r}; choose one of "
            f"{sorted(CLASSIFIER_PRESETS)}"
        )
    cls, options = CLASSIFIER_PRESETS[name]
    return cls(n_mels, n_classes, **{**options, **overrides})
