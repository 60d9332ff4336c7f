"""Look through the wrappers (DDP, DataParallel, torch.compile) of a model.

Authors
 * speechbrain-iusp developers 2026
"""

import torch


def unwrap(model):
    """Returns the module inside DDP / DataParallel / torch.compile wrappers.

    Arguments
    ---------
    model : torch.nn.Module
        A module, possibly wrapped (several times).

    Returns
    -------
    torch.nn.Module
        The innermost module.

    Example
    -------
    >>> inner = torch.nn.Linear(2, 2)
    >>> unwrap(torch.nn.DataParallel(inner)) is inner
    True
    """
    while True:
        inner = getattr(model, "module", None)
        if not isinstance(inner, torch.nn.Module):
            inner = getattr(model, "_orig_mod", None)
        if not isinstance(inner, torch.nn.Module):
            return model
        model = inner
