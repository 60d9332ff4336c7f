"""Weights that follow a target gradient share.

A distillation term's weight means nothing outside the setup it was tuned
in: the same IUSP weight pulls a small student's layer much harder than a
large one's. A term given a ``share`` instead says how hard it pulls its
student tap against the task loss: with ``g_task`` and ``g_term`` the
gradients of the task loss and of the unweighted term with respect to the
student's activation at the tap (L2 norms over the batch),

    share = w |g_term| / (w |g_term| + |g_task|)

(what ``gradient_share: True`` logs), so the weight that gives the share
``s`` is

    w = s / (1 - s) * |g_task| / |g_term|.

:class:`ShareWeights` measures the ratio at every training step and sets
the weight from an exponential moving average of its logarithm (decay 0.9,
about the last 10 steps), so one odd batch does not jolt the weight. The
weight is a number, not part of the graph: the term's gradient is
``w * d term``, as with a fixed weight. Before the first training step
(and when evaluating a model that was never trained here) the term's
``weight`` is used.

Authors
 * speechbrain-iusp developers 2026
"""

import logging
import math

import torch

from speechbrain.utils.checkpoints import (
    mark_as_loader,
    mark_as_saver,
    register_checkpoint_hooks,
)

logger = logging.getLogger(__name__)


@register_checkpoint_hooks
class ShareWeights:
    """Per-term weights that hold target gradient shares (a recoverable).

    The state (one moving average per term) is saved with the checkpoints,
    so a resumed run continues with the weights it had.

    Arguments
    ---------
    terms : list of DistillTerm
        The Brain's terms; those with a ``share`` are followed.
    decay : float
        Decay of the moving average of ``log(|g_task| / |g_term|)``.

    Example
    -------
    >>> from speechbrain_iusp.distill.terms import DistillTerm
    >>> term = DistillTerm.from_config(
    ...     {"name": "mse", "loss": lambda s, t, lens: ((s - t) ** 2).sum(),
    ...      "share": 0.5}
    ... )
    >>> weights = ShareWeights([term])
    >>> act = torch.ones(2, 3, requires_grad=True)
    >>> task = (3 * act).sum()              # |g_task| = 3 * sqrt(6)
    >>> value = term(act, torch.zeros(2, 3), None)  # |g_term| = 2 * sqrt(6)
    >>> round(weights.weight(term, task, value, act), 6)  # 0.5/0.5 * 3/2
    1.5
    """

    def __init__(self, terms, decay=0.9):
        self.decay = float(decay)
        self.log_ratio = {t.name: None for t in terms if t.share is not None}

    def __contains__(self, term):
        """Whether ``term`` is followed (has a share)."""
        return term.name in self.log_ratio

    def weight(self, term, task, value, act):
        """Measures the gradients, updates the average; returns the weight.

        Arguments
        ---------
        term : DistillTerm
            A term with a ``share``.
        task : torch.Tensor
            The task loss of the batch (its graph kept).
        value : torch.Tensor
            The unweighted term (its graph kept).
        act : torch.Tensor or None
            The student's activation at the term's tap; None (or one that
            needs no gradient, as in evaluation) leaves the average as it
            is.

        Returns
        -------
        float
            The weight of the term for this batch.
        """
        if act is not None and act.requires_grad:
            g_task = _grad_norm(task, act)
            if g_task is None:
                raise ValueError(off_path(term))
            g_term = _grad_norm(value, act) or 0.0
            if g_task > 0 and g_term > 0 and math.isfinite(g_task / g_term):
                now = math.log(g_task / g_term)
                last = self.log_ratio[term.name]
                self.log_ratio[term.name] = (
                    now
                    if last is None
                    else self.decay * last + (1 - self.decay) * now
                )
        return self.current(term)

    def current(self, term):
        """The weight from the average so far (``term.weight`` before it)."""
        log_ratio = self.log_ratio[term.name]
        if log_ratio is None:
            return term.weight
        return term.share / (1 - term.share) * math.exp(log_ratio)

    @mark_as_saver
    def _save(self, path):
        """Saves the moving averages (plain data)."""
        torch.save({"decay": self.decay, "log_ratio": self.log_ratio}, path)

    @mark_as_loader
    def _recover(self, path, end_of_epoch):
        """Restores the moving averages of the terms still followed."""
        del end_of_epoch
        state = torch.load(path, map_location="cpu", weights_only=True)
        for name, value in state["log_ratio"].items():
            if name in self.log_ratio:
                self.log_ratio[name] = value


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
