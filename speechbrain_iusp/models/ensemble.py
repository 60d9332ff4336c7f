"""An ensemble of taggers used as one teacher.

Authors
 * speechbrain-iusp developers 2026
"""

import torch
from torch import nn

from speechbrain_iusp.models.crnn import crnn_preset

__all__ = ["TeacherEnsemble", "teacher_model"]

_EPS = 1e-6


class TeacherEnsemble(nn.Module):
    """Taggers whose clip probabilities are averaged; taps kept per member.

    The ensemble's probabilities are the mean of the members' sigmoid
    outputs, and its logits are their logit, ``logit(mean_k sigmoid(z_k))``
    (clamped to ``[1e-6, 1 - 1e-6]``), so KD distils the averaged
    probabilities and the ensemble scores exactly as the average of its
    members' prediction files. Activations are never averaged (the members'
    spaces differ): member ``k``'s tap ``rnn`` is ``rnn@k``, and a similarity
    term on ``rnn`` averages its loss over the members
    (:class:`~speechbrain_iusp.distill.DistillationBrain` does this through
    :meth:`member_taps`). For squared-distance losses between normalised
    similarity matrices (IUSP, SP), the mean of the member losses equals the
    loss against the members' averaged matrix plus a constant that does not
    depend on the student, so the student gets the same gradient as from
    the averaged matrix.

    Arguments
    ---------
    members : list of torch.nn.Module
        Taggers called as ``member(x, lengths, return_hidden=True)``.

    Example
    -------
    >>> members = [crnn_preset("tiny", n_classes=3) for _ in range(2)]
    >>> ens = TeacherEnsemble(members).eval()
    >>> logits, hidden = ens(torch.randn(2, 40, 64), return_hidden=True)
    >>> logits.shape, sorted(hidden)[:2], ens.member_taps("rnn")
    (torch.Size([2, 3]), ['conv1@0', 'conv1@1'], ['rnn@0', 'rnn@1'])
    """

    def __init__(self, members):
        super().__init__()
        if len(members) < 2:
            raise ValueError(
                f"TeacherEnsemble needs at least 2 members, got {len(members)}"
            )
        self.members = nn.ModuleList(members)

    @property
    def tap_names(self):
        """Member taps, ``<tap>@<k>``."""
        return [
            f"{tap}@{k}"
            for k, member in enumerate(self.members)
            for tap in getattr(member, "tap_names", [])
        ]

    def member_taps(self, tap):
        """The per-member names of a tap (``logits`` is the ensemble's own).

        Arguments
        ---------
        tap : str
            A member tap name, e.g. ``rnn``.

        Returns
        -------
        list of str
        """
        if tap == "logits":
            return [tap]
        return [f"{tap}@{k}" for k in range(len(self.members))]

    def tap_lengths(self, lengths, n_frames):
        """Relative lengths at every member tap (see ``CRNN.tap_lengths``).

        Arguments
        ---------
        lengths : torch.Tensor
            Relative input lengths ``[B]``.
        n_frames : int
            Input frames.

        Returns
        -------
        dict
        """
        out = {}
        for k, member in enumerate(self.members):
            if hasattr(member, "tap_lengths"):
                for tap, value in member.tap_lengths(lengths, n_frames).items():
                    out[f"{tap}@{k}"] = value
        return out

    def forward(self, x, lengths=None, return_hidden=False):
        """Ensemble logits (and every member's taps).

        Arguments
        ---------
        x : torch.Tensor
            Input features ``[B, T, F]``.
        lengths : torch.Tensor, optional
            Relative lengths ``[B]``.
        return_hidden : bool
            Also return ``<tap>@<k>`` -> activation.

        Returns
        -------
        logits : torch.Tensor
        hidden : dict
            Only with ``return_hidden``.
        """
        probs, hidden = [], {}
        for k, member in enumerate(self.members):
            logits, taps = member(x, lengths, return_hidden=True)
            probs.append(torch.sigmoid(logits.float()))
            hidden.update({f"{tap}@{k}": v for tap, v in taps.items()})
        mean = torch.stack(probs).mean(0).clamp(_EPS, 1 - _EPS)
        logits = torch.logit(mean)
        return (logits, hidden) if return_hidden else logits


def teacher_model(name="teacher", members=1, **kwargs):
    """A teacher preset, or an ensemble of ``members`` copies of it.

    Arguments
    ---------
    name : str
        CRNN preset (see :func:`crnn_preset`).
    members : int
        1: the preset itself; more: a :class:`TeacherEnsemble` of them (their
        weights come from the teacher checkpoint).
    **kwargs
        Passed to :func:`crnn_preset`.

    Returns
    -------
    torch.nn.Module

    Example
    -------
    >>> type(teacher_model("tiny", members=3)).__name__
    'TeacherEnsemble'
    """
    if int(members) < 1:
        raise ValueError(f"teacher members must be at least 1, got {members}")
    if int(members) == 1:
        return crnn_preset(name, **kwargs)
    return TeacherEnsemble(
        [crnn_preset(name, **kwargs) for _ in range(int(members))]
    )
