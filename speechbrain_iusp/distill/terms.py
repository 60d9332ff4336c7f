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
from speechbrain_iusp.losses.layouts import check_layout_name, parse_layout

# Re-raised with the term's context under their own class; others as
# RuntimeError.
_KEPT_ERRORS = (ValueError, TypeError, RuntimeError)


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
            - name: iusp_ecapa      # a SpeechBrain ECAPA-TDNN teacher
              loss: iusp
              student_tap: rnn      # [B, T, D]
              teacher_tap: blocks.2 # [B, C, T]
              teacher_layout: bct

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

    Layouts (where time is in each tap; ``docs/losses.md``): ``layout``
    sets both sides, ``student_layout`` / ``teacher_layout`` override one.
    They reach the loss as its ``layout`` option (a module takes it in its
    constructor instead) and tell the teacher cache where to cut time.
    An exception inside the loss is raised again naming the term, its
    taps, the shapes and the layouts, the original as its cause.

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
    layout : str or tuple, optional
        Layout of both taps (``btd``, ``btfc``, ``bct``, ``bcft``,
        ``bctf``), or a pair ``(student, teacher)``; None: the loss's
        default.
    student_layout : str, optional
        Layout of the student tap (overrides ``layout``).
    teacher_layout : str, optional
        Layout of the teacher tap (overrides ``layout``).

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
    >>> term(torch.zeros(2, 3), torch.ones(3, 3))
    Traceback (most recent call last):
    ...
    RuntimeError: distill term 'mse' (loss my_loss) failed ... The size of ...
    >>> iusp = DistillTerm.from_config(
    ...     {"loss": "iusp", "student_tap": "rnn", "teacher_tap": "blocks.2",
    ...      "teacher_layout": "bct"}
    ... ).build()
    >>> iusp.layouts, iusp._fn
    ((None, 'bct'), IUSPLoss(layout=(None, 'bct')))
    """

    name: str
    loss: object
    weight: float = 1.0
    student_tap: str = LOGITS
    teacher_tap: str = LOGITS
    kwargs: dict = field(default_factory=dict)
    layout: object = None
    student_layout: str = None
    teacher_layout: str = None

    _FIELDS = (
        "name",
        "loss",
        "weight",
        "student_tap",
        "teacher_tap",
        "layout",
        "student_layout",
        "teacher_layout",
    )

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
        self.layouts = (None, None)

    def _term_layouts(self):
        """``(student, teacher)`` from ``layout`` and the per-side keys."""
        student, teacher = parse_layout(self.layout)
        check_layout_name(self.student_layout, "student_layout")
        check_layout_name(self.teacher_layout, "teacher_layout")
        if self.student_layout is not None:
            student = self.student_layout
        if self.teacher_layout is not None:
            teacher = self.teacher_layout
        return student, teacher

    def build(self):
        """Resolves the loss into a callable and checks how it is called.

        Returns
        -------
        DistillTerm
            self, ready to be called.
        """
        loss, call_kwargs = self.loss, {}
        try:
            layouts = self._term_layouts()
        except ValueError as err:
            raise ValueError(f"distill term {self.name!r}: {err}") from None
        options = dict(self.kwargs)
        if layouts != (None, None):
            both = layouts[0] == layouts[1]
            options["layout"] = layouts[0] if both else layouts
        if isinstance(loss, str):
            loss = get_loss(loss, **options)
        elif isinstance(loss, torch.nn.Module):
            if options:
                raise ValueError(
                    f"distill term {self.name!r}: extra arguments "
                    f"{sorted(options)} cannot be passed to a loss module;"
                    " give them to its constructor"
                )
            layouts = getattr(loss, "layouts", layouts)
        elif callable(loss):
            call_kwargs = options
            partial = getattr(loss, "keywords", None) or {}
            if layouts == (None, None) and "layout" in partial:
                layouts = parse_layout(partial["layout"])
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
        self.layouts = tuple(layouts)
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
        try:
            return self._fn(student, teacher, lengths, **self._call_kwargs)
        except torch.OutOfMemoryError:
            raise
        except Exception as err:
            raise self._error(err, student, teacher, lengths) from err

    def _error(self, err, student, teacher, lengths):
        """``err`` again, with the term, its taps, shapes and layouts."""
        loss = self.loss if isinstance(self.loss, str) else self._fn
        loss = getattr(getattr(loss, "func", loss), "__name__", loss)
        sides = []
        for side, tap, x, layout in (
            ("student", self.student_tap, student, self.layouts[0]),
            ("teacher", self.teacher_tap, teacher, self.layouts[1]),
        ):
            sides.append(
                f"{side} tap {tap!r} {_describe(x)}, layout "
                f"{layout or 'default'}"
            )
        cls = next((c for c in _KEPT_ERRORS if type(err) is c), RuntimeError)
        return cls(
            f"distill term {self.name!r} (loss {loss}) failed on "
            f"{'; '.join(sides)}; lengths {_describe(lengths)}: "
            f"{type(err).__name__}: {err}"
        )


def _describe(x):
    """``shape (B, ...) dtype`` of a tensor, else its type."""
    if isinstance(x, torch.Tensor):
        return f"shape {tuple(x.shape)} {str(x.dtype).replace('torch.', '')}"
    return "None" if x is None else type(x).__name__
