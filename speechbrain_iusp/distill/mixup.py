"""Mixup for multi-label tagging, applied to a batch of features.

Authors
 * speechbrain-iusp developers 2026
"""

import torch


def mixup(feats, lengths, targets, weight, alpha):
    """Mixup for multi-label tagging (Zhang et al., ICLR 2018).

    Each clip is mixed with a random other clip of the batch:
    ``x = lam * x_i + (1 - lam) * x_j`` with ``lam ~ Beta(alpha, alpha)``
    folded to ``lam >= 0.5`` (the clip keeps the larger share), targets mixed
    with the same ``lam`` (soft labels for BCE), lengths the longer of the
    two, and a target weight (mask) kept only where both clips have it.

    Arguments
    ---------
    feats : torch.Tensor
        Features ``[B, T, ...]``.
    lengths : torch.Tensor
        Relative lengths ``[B]``.
    targets : torch.Tensor
        Multi-hot targets ``[B, C]``.
    weight : torch.Tensor or None
        Elementwise target weight ``[B, C]``.
    alpha : float
        Beta distribution parameter.

    Returns
    -------
    feats, lengths, targets, weight : torch.Tensor
        The mixed batch (``weight`` stays None when it was None).

    Example
    -------
    >>> _ = torch.manual_seed(0)
    >>> x, y = torch.randn(4, 10, 3), torch.eye(4)
    >>> x2, lens, y2, w = mixup(x, torch.ones(4), y, None, alpha=0.4)
    >>> x2.shape, bool((y2.sum(1) - 1).abs().max() < 1e-6), w is None
    (torch.Size([4, 10, 3]), True, True)
    """
    batch = feats.shape[0]
    lam = torch.distributions.Beta(alpha, alpha).sample((batch,))
    lam = torch.maximum(lam, 1 - lam).to(feats.device)
    perm = torch.randperm(batch, device=feats.device)
    lam_x = lam.view((-1,) + (1,) * (feats.dim() - 1)).to(feats.dtype)
    feats = lam_x * feats + (1 - lam_x) * feats[perm]
    lengths = torch.maximum(lengths, lengths[perm])
    lam_y = lam.view(-1, 1).to(targets.dtype)
    targets = lam_y * targets + (1 - lam_y) * targets[perm]
    if weight is not None:
        weight = weight * weight[perm]
    return feats, lengths, targets, weight
