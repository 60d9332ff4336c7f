"""Each term's share of the gradient at its student tap.

A weight says little by itself: the same IUSP weight pulls a small
student's layer much harder than a large one's. With ``gradient_share:
True`` the Brain logs, per training stage, each term's share of the
gradient at its student tap,

    share = |g_term| / (|g_term| + |g_task|),

with ``g_task`` and ``g_term`` the gradients of the task loss and of the
weighted term with respect to the student's activation at the tap (L2
norms over the batch): 0.5 pulls the layer as hard as the task loss.

Authors
 * speechbrain-iusp developers 2026
"""

import logging

import torch

logger = logging.getLogger(__name__)


def off_path(term):
    """The message for a tap tensor the task loss does not depend on."""
    return (
        f"distill term {term.name!r}: the task loss does not depend on the "
        f"student's tensor at tap {term.student_tap!r} (the model returns a "
        "copy or view of the activation that its forward path does not "
        "use), so the term's gradient share cannot be measured there; tap "
        "the module that makes it (its module path) or return the tensor "
        "the model goes on with"
    )


def _grad_norm(loss, act):
    """``|d loss / d act|``; None when ``loss`` does not depend on ``act``."""
    (grad,) = torch.autograd.grad(
        loss, act, retain_graph=True, allow_unused=True
    )
    return None if grad is None else float(grad.norm())


_WARNED = set()  # terms whose off-path tap was reported


def gradient_shares(task, weighted, student):
    """Each term's share of the gradient at its student tap.

    ``share = |g_term| / (|g_term| + |g_task|)``, with ``g`` the gradient of
    the weighted term and of the task loss with respect to the student's
    activation at the term's tap (L2 norms over the batch). 0.5 means the
    term pulls that layer as hard as the task.

    Arguments
    ---------
    task : torch.Tensor
        The task loss (its graph kept).
    weighted : list
        ``(term, weighted value)`` pairs.
    student : dict
        Student tap -> activation.

    Returns
    -------
    dict
        ``{"<name>_share": share}`` for the terms whose tap needs a
        gradient and is on the task's path (a warning names the others).

    Example
    -------
    >>> from types import SimpleNamespace
    >>> act = torch.ones(4, requires_grad=True)
    >>> term = SimpleNamespace(name="t", student_tap="x")
    >>> gradient_shares((3 * act).sum(), [(term, act.sum())], {"x": act})
    {'t_share': 0.25}
    """
    shares, task_norms = {}, {}
    for term, value in weighted:
        act = student[term.student_tap]
        if not act.requires_grad:
            continue
        if term.student_tap not in task_norms:
            task_norms[term.student_tap] = _grad_norm(task, act)
        if task_norms[term.student_tap] is None:
            if term.name not in _WARNED:
                _WARNED.add(term.name)
                logger.warning(
                    "%s; %s_share is not logged", off_path(term), term.name
                )
            continue
        norm = _grad_norm(value, act) or 0.0
        both = norm + task_norms[term.student_tap]
        shares[f"{term.name}_share"] = norm / both if both > 0 else 0.0
    return shares
