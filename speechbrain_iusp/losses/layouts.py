"""Where time is in an activation: the ``layout`` option of the losses.

A layout names the axes of a tensor, batch first: ``btd`` (``[B, T, D]``,
any trailing feature axes folded, e.g. a ``[B, T, F, C]`` conv map),
``btfc``, ``bct`` (SpeechBrain's ECAPA-TDNN and x-vector blocks,
``Conv1d`` in PyTorch's order), ``bcft`` and ``bctf`` (``Conv2d`` maps;
SpeechBrain's CNN14 gives ``[B, C, T, F]``). Every tensor is moved to
``[B, T, D]`` (``D`` = every other axis, flattened) before the loss, so a
value equals the ``[B, T, D]`` computation on the transposed tensor.

``layout`` is one name for both tensors, or a pair ``(student, teacher)``;
``None`` (the default, or one side of a pair) reads time on axis 1 like
``btd``, but refuses teacher/student shapes that look channel-first
(:func:`check_time_axes`; the rule is in ``docs/losses.md``).

Authors
 * speechbrain-iusp developers 2026
"""

import torch

TIME_AXES = {"btd": 1, "btfc": 1, "bct": 2, "bctf": 2, "bcft": 3}
"""Layout name -> the time axis of the batch tensor."""


def check_layout_name(value, what="layout"):
    """Raise a ValueError unless ``value`` is None or a layout name.

    Arguments
    ---------
    value : str or None
        A layout name.
    what : str
        The option's name, for the message.
    """
    if value is not None and value not in TIME_AXES:
        raise ValueError(
            f"{what}={value!r} is not supported; use None (time on axis 1, "
            f"checked) or one of {', '.join(repr(n) for n in TIME_AXES)}."
        )


def parse_layout(layout):
    """The ``(student, teacher)`` layouts of a ``layout`` option.

    Arguments
    ---------
    layout : str, list, tuple or None
        One name for both sides, a pair ``(student, teacher)`` (either may
        be None), or None.

    Returns
    -------
    tuple
        ``(student_layout, teacher_layout)``, each a name or None.

    Example
    -------
    >>> parse_layout("bct")
    ('bct', 'bct')
    >>> parse_layout(["btd", "bct"])
    ('btd', 'bct')
    >>> parse_layout("tbd")
    Traceback (most recent call last):
    ...
    ValueError: layout='tbd' is not supported; use None (time on axis 1, ...
    """
    if isinstance(layout, (list, tuple)):
        if len(layout) != 2:
            raise ValueError(
                f"layout={layout!r}: give one name or a pair "
                "(student_layout, teacher_layout)."
            )
        pair = tuple(layout)
    else:
        pair = (layout, layout)
    for value in pair:
        check_layout_name(value, "layout")
    return pair


def time_axis(layout):
    """The time axis of a batch tensor in ``layout`` (1 for None).

    Arguments
    ---------
    layout : str or None
        A layout name.

    Returns
    -------
    int

    Example
    -------
    >>> time_axis("bcft"), time_axis(None)
    (3, 1)
    """
    check_layout_name(layout, "layout")
    return 1 if layout is None else TIME_AXES[layout]


def to_btd(x, layout, who, role, min_dim=3):
    """``x`` as ``[B, T, D]``, time moved to axis 1, the rest flattened.

    ``None``, ``btd`` and ``btfc`` are a plain reshape (time is axis 1).

    Arguments
    ---------
    x : torch.Tensor
        The activation.
    layout : str or None
        Its layout.
    who : str
        The loss, for messages.
    role : str
        ``student`` or ``teacher``, for messages.
    min_dim : int
        The fewest dimensions the loss accepts with ``layout=None``.

    Returns
    -------
    torch.Tensor
        ``[B, T, D]``.

    Example
    -------
    >>> to_btd(torch.zeros(2, 32, 7), "bct", "iusp_loss", "student").shape
    torch.Size([2, 7, 32])
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{who}: {role} must be a torch.Tensor, got {type(x)}.")
    if layout in (None, "btd"):
        if x.dim() < min_dim:
            raise ValueError(
                f"{who}: {role} must have a time axis, shape [B, T, D] or "
                f"[B, T, F, C]; got shape {tuple(x.shape)}. For clip-level "
                "embeddings [B, D] use sp_loss instead."
            )
        return x.reshape(x.shape[0], x.shape[1], -1)
    if x.dim() != len(layout):
        raise ValueError(
            f"{who}: {role} has shape {tuple(x.shape)}, but layout "
            f"{layout!r} is {len(layout)}-D [{', '.join(layout.upper())}]. "
            "Give each side its own layout with a pair layout=(student, "
            "teacher) (student_layout / teacher_layout on a distill term)."
        )
    x = x.movedim(TIME_AXES[layout], 1)
    # contiguous: the matmuls then sum as on a transposed copy
    return x.reshape(x.shape[0], x.shape[1], -1).contiguous()


def check_time_axes(student, teacher, layouts, who):
    """Refuse shapes whose time axis the default layout cannot tell.

    Only when neither side has a layout and both have 3+ dimensions, with
    ``s`` and ``t`` the two shapes:

    1. ``s[1] != t[1]`` while a later axis agrees (the last axes, or the
       same axis when the ranks are equal): time is probably that later
       axis, as in ``[B, C, T]`` maps with different channel counts;
    2. ``s[1] != t[1]`` while axis 1 of one side equals the last axis of
       the other, as ``[B, T, D]`` next to ``[B, C, T]`` does;
    3. a 4-D side with ``s[1] == t[1]`` and ``s[-1] == t[-1]``: ``[B, T,
       F, C]`` with equal channel counts looks like a channel-first map
       with equal channel and frame counts.

    A 3-D pair with equal shapes is read as ``[B, T, D]``.

    Arguments
    ---------
    student, teacher : torch.Tensor
        The two activations.
    layouts : tuple
        ``(student_layout, teacher_layout)``.
    who : str
        The loss, for messages.

    Example
    -------
    >>> s, t = torch.zeros(2, 32, 50), torch.zeros(2, 128, 50)
    >>> check_time_axes(s, t, ("bct", "bct"), "iusp_loss")
    >>> check_time_axes(s, t, (None, None), "iusp_loss")
    Traceback (most recent call last):
    ...
    ValueError: iusp_loss: cannot tell where time is: ...
    """
    if layouts != (None, None) or min(student.dim(), teacher.dim()) < 3:
        return
    s, t = tuple(student.shape), tuple(teacher.shape)
    later = [k for k in range(2, min(len(s), len(t))) if s[k] == t[k]]
    if len(s) != len(t):
        later = [-1] if s[-1] == t[-1] else []
    shapes = f"student shape {s} and teacher shape {t}"
    crossed = s[1] == t[-1] or t[1] == s[-1]
    if s[1] != t[1] and (later or crossed):
        if later:
            axis = len(s) - 1 if later[-1] == -1 else later[-1]
            looks = (
                f"differ on axis 1 but agree on axis {axis}, as channel-first"
                " maps [B, C, ..., T] with different channel counts do"
            )
        else:
            looks = (
                "differ on axis 1, but axis 1 of one is the last axis of the "
                "other, as [B, T, D] next to [B, C, T] is"
            )
        raise ValueError(
            f"{who}: cannot tell where time is: {shapes} {looks}. Pass "
            "layout= (e.g. 'bct' for ECAPA-TDNN or x-vector blocks, 'bcft' "
            "or 'bctf' for Conv2d maps; a pair (student, teacher) if they "
            "differ), or layout='btd' if axis 1 really is time."
        )
    if max(len(s), len(t)) == 4 and s[1] == t[1] and s[-1] == t[-1]:
        raise ValueError(
            f"{who}: cannot tell where time is: {shapes} agree on axis 1 "
            "and on the last axis, so they read as [B, T, F, C] maps with "
            "equal channel counts or as channel-first maps [B, C, F, T] or "
            "[B, C, T, F] with equal channel counts. Pass layout= ('btfc', "
            "'bcft' or 'bctf'; a pair (student, teacher) if they differ)."
        )
