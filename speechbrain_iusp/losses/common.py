"""Helpers shared by the loss functions: option checks, lengths and masks.

Authors
 * speechbrain-iusp developers 2026
"""

import math

import torch

DEFAULT_EPS = 1e-12
"""Default ``eps`` of the row normalisation ``x / max(||x||, eps)``, the
same as :func:`torch.nn.functional.normalize`."""

REDUCTIONS = ("mean", "sum", "none")


def check_choice(name, value, choices):
    """Raise a ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(
            f"{name}={value!r} is not supported; use one of "
            f"{', '.join(repr(c) for c in choices)}."
        )


def check_eps(eps):
    """Raise a ValueError unless ``eps`` is a positive finite number."""
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive float, got {eps!r}.")


def compute_dtype(*tensors):
    """Float32, or float64 if any input is float64 (never half precision)."""
    if any(t.dtype == torch.float64 for t in tensors):
        return torch.float64
    return torch.float32


def no_autocast(tensor):
    """A context manager that switches autocast off on ``tensor``'s device."""
    return torch.autocast(device_type=tensor.device.type, enabled=False)


def true_lengths(lengths, batch, num_frames, device, who):
    """Absolute frame counts ``T_n = round(lengths * T)`` as a long [B].

    ``lengths`` are SpeechBrain relative lengths in (0, 1]. The product is
    taken in float64 and rounded half-to-even (``torch.round``); the result
    is clamped to [1, T] so that every utterance keeps at least one frame.
    ``None`` means every utterance is ``T`` frames long.
    """
    if lengths is None:
        return torch.full((batch,), num_frames, dtype=torch.long, device=device)
    lengths = torch.as_tensor(lengths, device=device)
    if lengths.dim() != 1 or lengths.shape[0] != batch:
        raise ValueError(
            f"{who}: lengths must be a 1-D tensor of relative lengths with "
            f"one value per utterance, shape [{batch}]; got shape "
            f"{tuple(lengths.shape)}."
        )
    if not torch.is_floating_point(lengths):
        raise ValueError(
            f"{who}: lengths must be SpeechBrain relative lengths (floats in "
            f"(0, 1]), got dtype {lengths.dtype}; divide absolute frame "
            "counts by the padded length first."
        )
    lengths = lengths.detach().to(torch.float64)
    if not bool(torch.isfinite(lengths).all()) or bool(
        ((lengths <= 0) | (lengths > 1.0 + 1e-6)).any()
    ):
        raise ValueError(
            f"{who}: relative lengths must lie in (0, 1], got "
            f"{lengths.tolist()}."
        )
    frames = torch.round(lengths * num_frames).to(torch.long)
    return frames.clamp(1, num_frames)


def frame_mask(frames, num_frames):
    """Boolean [B, T] mask, True on the first ``frames[n]`` frames."""
    steps = torch.arange(num_frames, device=frames.device)
    return steps.unsqueeze(0) < frames.unsqueeze(1)


def reduce_batch(per_item, reduction):
    """Apply a batch ``reduction`` to a per-utterance loss vector."""
    if reduction == "mean":
        return per_item.mean()
    if reduction == "sum":
        return per_item.sum()
    return per_item
