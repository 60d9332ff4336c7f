"""Distillation terms: one weighted loss between a student and a teacher tap.

Every term is called as ``term(student, teacher, lengths)``, the protocol of
every loss in :mod:`speechbrain_iusp.losses`, so a registry name, a plain
function and a module are interchangeable.

Authors
 * speechbrain-iusp developers 2026
"""

import inspect
from dataclasses import dataclass, field

import torch

from speechbrain_iusp.distill.taps import LOGITS
from speechbrain_iusp.losses import get_loss


@dataclass
class DistillTerm:
    """One weighted distillation loss between a student and a teacher tap.

    In YAML, ``distill_terms`` is a list of dicts with the same keys (any other
    key goes to ``kwargs``)::

        distill_terms:
            - name: kd
              loss: kd
              weight: 1.0
              temperature: 2.0
            - name: iusp
              loss: !name:speechbrain_iusp.iusp_loss
              weight: 10.0
              student_tap: rnn
              teacher_tap: rnn

    Taps: ``"logits"`` (clip logits), a key of the model's ``hidden`` dict
    (models called with ``return_hidden=True``, e.g. ``rnn``, ``conv2``), or a
    module path (``"rnn"``, ``"encoder.block_2"``) captured by a forward hook
    for models that do not return named activations.

    The loss is called as ``loss(student, teacher, lengths, **kwargs)``:

    * a registry name (``"iusp"``, ``"sp"``, ``"kd"``): built once with
      ``get_loss(name, **kwargs)``;
    * a function or ``!name:`` partial: ``kwargs`` are passed at each call;
    * a module (``!new:``): its options belong to its constructor.

    ``build`` checks that the loss accepts ``(student, teacher, lengths)``
    and the keyword arguments, so a wrong loss fails before training.

    Arguments
    ---------
    name : str
        Name used in the logs (e.g. ``kd``, ``iusp``); must be unique.
    loss : str, callable or torch.nn.Module
        Registry name, function or module (see above).
    weight : float
        Weight of the term in the objective.
    student_tap : str
        Tap of the student's output.
    teacher_tap : str
        Tap of the teacher's output.
    kwargs : dict
        Extra loss arguments (constructor for registry names, call for
        functions).

    Example
    -------
    >>> def my_loss(student, teacher, lengths=None):
    ...     return ((student - teacher) ** 2).mean()
    >>> term = DistillTerm.from_config(
    ...     {"name": "mse", "loss": my_loss, "weight": 0.5}
    ... )
    >>> term(torch.zeros(2, 3), torch.ones(2, 3), torch.ones(2))
    tensor(1.)
    >>> term.student_tap, term.teacher_tap
    ('logits', 'logits')
    """

    name: str
    loss: object
    weight: float = 1.0
    student_tap: str = LOGITS
    teacher_tap: str = LOGITS
    kwargs: dict = field(default_factory=dict)

    _FIELDS = ("name", "loss", "weight", "student_tap", "teacher_tap")

    @classmethod
    def from_config(cls, config):
        """Builds a term from a dict (YAML) or returns a term unchanged.

        Arguments
        ---------
        config : dict or DistillTerm
            Term description; unknown keys become ``kwargs``.

        Returns
        -------
        DistillTerm
            The term.
        """
        if isinstance(config, DistillTerm):
            return config
        if not isinstance(config, dict) or "loss" not in config:
            raise ValueError(
                "each distill_terms entry must be a DistillTerm or a dict "
                f"with at least a 'loss' key, got {config!r}"
            )
        config = dict(config)
        kwargs = dict(config.pop("kwargs", None) or {})
        known = {k: config.pop(k) for k in cls._FIELDS if k in config}
        kwargs.update(config)
        if "name" not in known:
            loss = known["loss"]
            known["name"] = (
                loss
                if isinstance(loss, str)
                else getattr(
                    getattr(loss, "func", loss),
                    "__name__",
                    type(loss).__name__.lower(),
                )
            )
        known["weight"] = float(known.get("weight", 1.0))
        return cls(kwargs=kwargs, **known)

    def __post_init__(self):
        """Initialises the resolved-loss state (see ``build``)."""
        self._fn = None
        self._call_kwargs = {}

    def build(self):
        """Resolves the loss into a callable and checks how it is called.

        Returns
        -------
        DistillTerm
            self, ready to be called.
        """
        loss, call_kwargs = self.loss, {}
        if isinstance(loss, str):
            loss = get_loss(loss, **self.kwargs)
        elif isinstance(loss, torch.nn.Module):
            if self.kwargs:
                raise ValueError(
                    f"distill term {self.name!r}: extra arguments "
                    f"{sorted(self.kwargs)} cannot be passed to a loss module;"
                    " give them to its constructor"
                )
        elif callable(loss):
            call_kwargs = dict(self.kwargs)
        else:
            raise TypeError(
                f"distill term {self.name!r}: loss must be a registry name, "
                f"a callable or a module, got {loss!r}"
            )
        target = loss.forward if isinstance(loss, torch.nn.Module) else loss
        try:
            signature = inspect.signature(target)
        except (TypeError, ValueError):  # a builtin: nothing to check
            signature = None
        if signature is not None:
            try:
                signature.bind(None, None, None, **call_kwargs)
            except TypeError as err:
                raise TypeError(
                    f"distill term {self.name!r}: the loss {loss!r} must be "
                    "callable as loss(student, teacher, lengths"
                    + "".join(f", {k}=..." for k in call_kwargs)
                    + f"), the protocol of every distillation loss ({err})"
                ) from None
        self._fn = loss
        self._call_kwargs = call_kwargs
        return self

    def __call__(self, student, teacher, lengths=None):
        """Computes the (unweighted) term.

        Arguments
        ---------
        student : torch.Tensor
            Student activation at ``student_tap``.
        teacher : torch.Tensor
            Teacher activation at ``teacher_tap``.
        lengths : torch.Tensor, optional
            Relative input lengths ``[B]``.

        Returns
        -------
        torch.Tensor
            Scalar loss.
        """
        if self._fn is None:
            self.build()
        return self._fn(student, teacher, lengths, **self._call_kwargs)
