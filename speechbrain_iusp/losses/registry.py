"""Loss modules and the registry of distillation losses.

Every distillation loss follows one protocol, the student first::

    loss = term(student, teacher, lengths=None)  # -> scalar tensor

:class:`IUSPLoss`, :class:`SPLoss` and :class:`KDLoss` are the module forms
of :func:`iusp_loss`, :func:`sp_loss` and :func:`kd_loss`, with the options
fixed (and checked) at construction. :data:`LOSSES` maps names to them,
:func:`register_loss` adds one and :func:`get_loss` builds one by name.

Authors
 * speechbrain-iusp developers 2026
"""

import inspect

from torch import nn

from speechbrain_iusp.losses.layouts import parse_layout
from speechbrain_iusp.losses.logits import check_kd_options, kd_loss
from speechbrain_iusp.losses.similarity import (
    check_iusp_options,
    check_sp_options,
    iusp_loss,
    sp_loss,
)

LOSSES = {}
"""Registered distillation losses: name -> ``nn.Module`` class (or factory)
whose instances follow ``forward(student, teacher, lengths=None)``."""

_PROTOCOL_ARGS = 3  # student, teacher, lengths


def register_loss(name):
    """Register a distillation loss class under ``name`` (a decorator).

    Usable as ``@register_loss("name")`` or bare, ``@register_loss`` (then
    the class name, lower-cased, is the key). Re-registering a name for a
    different object is an error.

    Arguments
    ---------
    name : str or type
        The registry key (or, used bare, the class itself).

    Returns
    -------
    callable
        The decorator (or, used bare, the class unchanged).

    Example
    -------
    >>> import torch
    >>> @register_loss("my_l2")
    ... class MyL2(torch.nn.Module):
    ...     def forward(self, student, teacher, lengths=None):
    ...         return (student - teacher).square().mean()
    >>> type(get_loss("my_l2")).__name__
    'MyL2'
    >>> _ = LOSSES.pop("my_l2")
    """
    if callable(name) and not isinstance(name, str):
        obj = name
        return register_loss(obj.__name__.lower())(obj)
    if not isinstance(name, str) or not name:
        raise TypeError(f"register_loss: name must be a string, got {name!r}.")

    def decorator(obj):
        if not callable(obj):
            raise TypeError(
                f"register_loss({name!r}): can only register a class or "
                f"callable, got {obj!r}."
            )
        if name in LOSSES and LOSSES[name] is not obj:
            raise ValueError(
                f"register_loss: the name {name!r} is already registered "
                f"for {LOSSES[name]!r}; pick another name."
            )
        LOSSES[name] = obj
        return obj

    return decorator


def get_loss(name_or_obj, **kwargs):
    """Build a registered loss by name, or pass a ready loss through.

    Arguments
    ---------
    name_or_obj : str or callable
        A registered name (``"iusp"``, ``"sp"``, ``"kd"``, ...), or an
        ``nn.Module`` / callable, which is returned unchanged.
    **kwargs
        Constructor arguments for a named loss (not allowed with an object).

    Returns
    -------
    nn.Module or callable
        ``LOSSES[name](**kwargs)``, or ``name_or_obj`` itself.

    Example
    -------
    >>> get_loss("iusp", method="factored")
    IUSPLoss(method='factored')
    >>> get_loss("kd", temperature=2.0)
    KDLoss(temperature=2.0)
    >>> get_loss(sp_loss) is sp_loss
    True
    """
    if isinstance(name_or_obj, str):
        if name_or_obj not in LOSSES:
            raise KeyError(
                f"get_loss: unknown loss {name_or_obj!r}; registered names: "
                f"{', '.join(sorted(LOSSES))}. Register a new one with "
                "@register_loss('name')."
            )
        return LOSSES[name_or_obj](**kwargs)
    if callable(name_or_obj):
        if kwargs:
            raise ValueError(
                f"get_loss: keyword arguments {sorted(kwargs)} given with an "
                f"already built loss {name_or_obj!r}; they would be ignored."
            )
        return name_or_obj
    raise TypeError(
        "get_loss: expected a registered name or a callable loss, got "
        f"{type(name_or_obj).__name__} {name_or_obj!r}."
    )


class _FunctionLoss(nn.Module):
    """A loss function as a module, its options fixed at construction.

    Subclasses set ``function`` (called as ``function(student, teacher,
    lengths, **options)``) and ``check`` (validates the options, raises on
    a bad value). The valid option names are the function's keyword
    arguments after the protocol's three.
    """

    function = None
    check = None

    def __init__(self, **kwargs):
        super().__init__()
        valid = self.options()
        unknown = sorted(set(kwargs) - set(valid))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unknown option(s) {unknown}; valid "
                f"options: {', '.join(valid)}."
            )
        type(self).check(**kwargs)
        self.kwargs = dict(kwargs)

    @classmethod
    def options(cls):
        """The option names of the wrapped function.

        Returns
        -------
        list of str
        """
        params = list(inspect.signature(cls.function).parameters)
        return params[_PROTOCOL_ARGS:]

    def forward(self, student, teacher, lengths=None, **extra):
        """Computes the loss with the fixed options.

        Arguments
        ---------
        student : torch.Tensor
            Student activation (or logits).
        teacher : torch.Tensor
            Teacher activation (or logits), the same utterances.
        lengths : torch.Tensor, optional
            Relative lengths [B].
        **extra
            Per-call arguments of the function (e.g. ``weight`` for KD).

        Returns
        -------
        torch.Tensor
            The loss.
        """
        fn = type(self).function
        return fn(student, teacher, lengths, **self.kwargs, **extra)

    @property
    def layouts(self):
        """The ``(student, teacher)`` layouts (None where not given).

        Returns
        -------
        tuple
        """
        if "layout" not in self.options():
            return (None, None)
        return parse_layout(self.kwargs.get("layout"))

    def extra_repr(self):
        """The construction options."""
        return ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())


@register_loss("iusp")
class IUSPLoss(_FunctionLoss):
    """IUSP distillation term: ``forward(student, teacher, lengths=None)``.

    The module form of :func:`iusp_loss` (see it for the maths).

    Config (hyperpyyaml)::

        iusp: !new:speechbrain_iusp.IUSPLoss
            method: auto
            time_align: pool
        iusp_ecapa: !new:speechbrain_iusp.IUSPLoss
            layout: [btd, bct]  # student [B, T, D], teacher [B, C, T]

    Arguments
    ---------
    **kwargs
        Options of :func:`iusp_loss`: ``method``, ``time_align``, ``eps``,
        ``reduction``, ``factored_dtype``, ``similarity``, ``layout``.

    Example
    -------
    >>> import torch
    >>> loss_fn = IUSPLoss(method="gram")
    >>> student, teacher = torch.randn(2, 10, 3), torch.randn(2, 10, 8)
    >>> loss_fn(student, teacher, torch.tensor([1.0, 0.5])).shape
    torch.Size([])
    >>> get_loss("iusp", layout="bct").layouts
    ('bct', 'bct')
    """

    function = staticmethod(iusp_loss)
    check = staticmethod(check_iusp_options)


@register_loss("sp")
class SPLoss(_FunctionLoss):
    """SP distillation term: ``forward(student, teacher, lengths=None)``.

    The module form of :func:`sp_loss` (see it for the maths). ``lengths``
    zero the padded frames of inputs with a time axis.

    Config (hyperpyyaml)::

        sp: !new:speechbrain_iusp.SPLoss
        sp_ecapa: !new:speechbrain_iusp.SPLoss
            layout: bct

    Arguments
    ---------
    **kwargs
        Options of :func:`sp_loss`: ``eps``, ``reduction``, ``layout``.

    Example
    -------
    >>> import torch
    >>> SPLoss()(torch.randn(4, 3), torch.randn(4, 10, 8)).shape
    torch.Size([])
    """

    function = staticmethod(sp_loss)
    check = staticmethod(check_sp_options)


@register_loss("kd")
class KDLoss(_FunctionLoss):
    """Soft-label KD term: ``forward(student, teacher, lengths=None)``.

    The module form of :func:`kd_loss`. Logits are clip-level, so
    ``lengths`` is accepted and ignored; ``weight=`` may be given per call.

    Config (hyperpyyaml)::

        kd: !new:speechbrain_iusp.KDLoss
            temperature: 2.0
            mode: sigmoid  # multi-label; softmax for a single-label task

    Arguments
    ---------
    **kwargs
        Options of :func:`kd_loss`: ``temperature``, ``weight``,
        ``reduction``, ``mode``.

    Example
    -------
    >>> import torch
    >>> loss_fn = KDLoss(temperature=2.0)
    >>> student, teacher = torch.randn(4, 8), torch.randn(4, 8)
    >>> bool(loss_fn(student, teacher) == kd_loss(student, teacher,
    ...                                            temperature=2.0))
    True
    """

    function = staticmethod(kd_loss)

    @staticmethod
    def check(temperature=1.0, weight=None, reduction="mean", mode="sigmoid"):
        """Validates the KD options (see :func:`check_kd_options`)."""
        check_kd_options(temperature, reduction, mode)

    @property
    def temperature(self):
        """The temperature tau."""
        return float(self.kwargs.get("temperature", 1.0))
