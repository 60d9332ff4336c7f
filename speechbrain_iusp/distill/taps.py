"""Taps: named activations of a model, from its ``hidden`` dict or hooks.

A tap is ``"logits"`` (the model's output), a name the model returns in its
``hidden`` dict when called with ``return_hidden=True`` (the CRNN's
``conv1``..``convN``, ``rnn``), or a module path (``"rnn"``,
``"encoder.block_2"``) captured with a forward hook.

Authors
 * speechbrain-iusp developers 2026
"""

import difflib
import inspect

import torch
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from speechbrain_iusp.models.wrapping import unwrap

LOGITS = "logits"


class UnknownTapError(ValueError):
    """A tap name that the model does not offer.

    Arguments
    ---------
    message : str
        The error message.
    tap : str
        The unknown tap.
    hidden : list of str
        The names of the model's ``hidden`` dict.
    paths : list of str
        The model's module paths.

    Example
    -------
    >>> from collections import OrderedDict
    >>> model = torch.nn.Sequential(OrderedDict(encoder=torch.nn.Linear(4, 3)))
    >>> try:
    ...     _ = run_with_taps(model, torch.randn(1, 4), None, ["encodr"])
    ... except UnknownTapError as err:
    ...     print(err.tap, err.suggestions())
    encodr ['encoder']
    """

    def __init__(self, message, tap, hidden, paths):
        super().__init__(message)
        self.tap = tap
        self.hidden = list(hidden)
        self.paths = list(paths)

    def valid(self, suffix=""):
        """The valid taps; with ``suffix`` (e.g. an ensemble member's ``@0``)
        only those ending with it, the suffix removed.

        Arguments
        ---------
        suffix : str
            A suffix the model adds to tap names.

        Returns
        -------
        list of str
        """
        names = [LOGITS, *self.hidden, *self.paths]
        if not suffix:
            return names
        return [n[: -len(suffix)] for n in names if n.endswith(suffix)]

    def suggestions(self, tap=None, suffix=""):
        """Close matches of ``tap`` (default: the unknown tap).

        Arguments
        ---------
        tap : str, optional
            The name to match, e.g. an ensemble's ``rnm`` for ``rnm@0``.
        suffix : str
            As for :meth:`valid`.

        Returns
        -------
        list of str
        """
        valid = self.valid(suffix)
        return difflib.get_close_matches(tap or self.tap, valid, n=3)


def _accepted_args(fn):
    """Names of the arguments ``fn`` (or a module's forward) accepts."""
    target = fn.forward if isinstance(fn, torch.nn.Module) else fn
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return set(), False
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    return set(params), var_kw


class ForwardHookTap:
    """Captures submodule outputs by module path, stored per device.

    Like torchdistill's hook manager, the outputs are stored under the device
    of the tensor, so replicas on several devices (DataParallel) or processes
    (DDP, each with its own model) never mix them up. Use it as a context
    manager around one forward pass: the hooks are removed on exit. A tuple
    output keeps its first element (e.g. a GRU's output sequence) and a
    ``PackedSequence`` is padded (``batch_first``).

    Arguments
    ---------
    model : torch.nn.Module
        The model (DDP / DataParallel wrappers are looked through).
    paths : list of str
        Module paths as in ``model.named_modules()`` (e.g. ``"rnn"``).

    Example
    -------
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
    >>> x = torch.randn(2, 4)
    >>> with ForwardHookTap(model, ["0"]) as tap:
    ...     out = model(x)
    ...     acts = tap.pop(x.device)
    >>> torch.equal(acts["0"], model[0](x))
    True
    >>> len(model[0]._forward_hooks)
    0
    """

    def __init__(self, model, paths):
        self.model = unwrap(model)
        self.paths = list(paths)
        self.outputs = {}
        self.handles = []

    def __enter__(self):
        """Registers the hooks."""
        self.register()
        return self

    def __exit__(self, *exc):
        """Removes the hooks."""
        self.remove()
        return False

    def register(self):
        """Registers one forward hook per path (error for unknown paths)."""
        modules = dict(self.model.named_modules())
        for path in self.paths:
            if path not in modules or path == "":
                valid = [name for name in modules if name]
                raise ValueError(
                    f"no module {path!r} in {type(self.model).__name__}; "
                    f"valid module paths: {valid}"
                )
            handle = modules[path].register_forward_hook(self._make_hook(path))
            self.handles.append(handle)

    def _make_hook(self, path):
        """Builds the hook storing the output of ``path``."""

        def hook(module, inputs, output):
            """Stores the output of the hooked module per device."""
            if isinstance(output, (tuple, list)):
                output = output[0]
            if isinstance(output, PackedSequence):
                output = pad_packed_sequence(output, batch_first=True)[0]
            key = str(output.device)
            self.outputs.setdefault(key, {})[path] = output

        return hook

    def pop(self, device):
        """Returns and forgets the outputs captured on ``device``.

        Arguments
        ---------
        device : torch.device or str
            Device of the forward pass.

        Returns
        -------
        dict
            Path -> captured output.
        """
        return self.outputs.pop(str(torch.device(device)), {})

    def remove(self):
        """Removes all hooks and captured outputs."""
        for handle in self.handles:
            handle.remove()
        self.handles = []
        self.outputs = {}


def _module_paths(model):
    """Module paths of a (possibly wrapped) model."""
    return [name for name, _ in unwrap(model).named_modules() if name]


def run_with_taps(model, feats, lengths, taps):
    """Runs ``model`` and returns its logits and the requested taps.

    The model is called as ``model(feats, lengths, return_hidden=True)`` when
    its forward accepts ``return_hidden`` (``lengths`` only if accepted). Taps
    are looked up in the returned ``hidden`` dict first, then in forward hooks
    on module paths.

    Arguments
    ---------
    model : torch.nn.Module
        A model, possibly wrapped in DDP.
    feats : torch.Tensor
        Input features.
    lengths : torch.Tensor
        Relative lengths.
    taps : iterable of str
        Tap names; ``"logits"`` is always available.

    Returns
    -------
    logits : torch.Tensor
        The model's output.
    acts : dict
        Tap name -> activation (including ``"logits"``).

    Example
    -------
    >>> lin = torch.nn.Linear
    >>> model = torch.nn.Sequential(lin(4, 3), lin(3, 2))
    >>> logits, acts = run_with_taps(model, torch.randn(5, 4), None, ["0"])
    >>> acts["0"].shape, acts["logits"].shape
    (torch.Size([5, 3]), torch.Size([5, 2]))
    """
    raw = unwrap(model)
    names, var_kw = _accepted_args(raw)
    wants = [t for t in dict.fromkeys(taps) if t != LOGITS]
    known_hidden = getattr(raw, "tap_names", None)
    paths = set(_module_paths(raw))
    hook_paths = [
        t
        for t in wants
        if t in paths and (known_hidden is None or t not in known_hidden)
    ]
    kwargs = {}
    if "lengths" in names or var_kw:
        kwargs["lengths"] = lengths
    hidden_ok = "return_hidden" in names and wants
    if hidden_ok:
        kwargs["return_hidden"] = True
    with ForwardHookTap(model, hook_paths) as tap:
        out = model(feats, **kwargs)
        hooked = tap.pop(feats.device)
    if hidden_ok:
        logits, hidden = out
    else:
        logits, hidden = out, {}
    acts = {LOGITS: logits}
    for t in wants:
        if t in hidden:
            acts[t] = hidden[t]
        elif t in hooked:
            acts[t] = hooked[t]
        else:
            names = list(hidden or known_hidden or [])
            valid = [LOGITS] + names + sorted(paths)
            raise UnknownTapError(
                f"unknown tap {t!r} for {type(raw).__name__}; valid taps: "
                f"{valid}",
                t,
                names,
                sorted(paths),
            )
    return logits, acts
