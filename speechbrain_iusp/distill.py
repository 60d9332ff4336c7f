"""A SpeechBrain Brain for audio taggers with optional knowledge distillation.

:class:`DistillationBrain` trains ``modules["model"]`` on multi-label tags
(task loss) plus any number of weighted distillation terms between a frozen
teacher and the model (logit KD, SP, IUSP, ...). It only overrides
``compute_forward``, ``compute_objectives`` and the stage hooks, so the
SpeechBrain ``fit_batch`` / ``evaluate_batch`` keep AMP, gradient accumulation,
checkpoint resuming and DDP working.

The teacher lives outside ``modules`` (SpeechBrain's frozen-model pattern): it
is never optimised, never wrapped in DDP, never part of the checkpoints, always
in eval mode and always run under ``torch.no_grad()``.

Also here: :class:`DistillTerm` (one weighted loss between a teacher tap and a
student tap), :class:`ForwardHookTap` (module-path taps for models that do not
return their activations), :class:`TeacherCache` (teacher outputs computed once
per utterance ID) and :func:`load_teacher`.

Authors
 * speechbrain-iusp developers 2026
"""

import hashlib
import inspect
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

import speechbrain as sb
from speechbrain.utils.checkpoints import Checkpointer
from speechbrain.utils.distributed import if_main_process, run_on_main

logger = logging.getLogger(__name__)

LOGITS = "logits"


def _unwrap(model):
    """Returns the module inside DDP / DataParallel / torch.compile wrappers."""
    while True:
        inner = getattr(model, "module", None)
        if not isinstance(inner, torch.nn.Module):
            inner = getattr(model, "_orig_mod", None)
        if not isinstance(inner, torch.nn.Module):
            return model
        model = inner


def _accepted_args(fn):
    """Names of the arguments ``fn`` (or a module's forward) accepts."""
    target = fn.forward if isinstance(fn, torch.nn.Module) else fn
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return set(), False
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    return set(params), var_kw


def _as_dtype(dtype):
    """Maps None, a torch.dtype or a name like "float16" to a dtype."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    value = getattr(torch, str(dtype).replace("torch.", ""), None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"not a torch dtype: {dtype!r}")
    return value


# --------------------------------------------------------------------------
# Distillation terms
# --------------------------------------------------------------------------


@dataclass
class DistillTerm:
    """One weighted distillation loss between a teacher tap and a student tap.

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
              teacher_tap: rnn
              student_tap: rnn

    Taps: ``"logits"`` (clip logits), a key of the model's ``hidden`` dict
    (models called with ``return_hidden=True``, e.g. ``rnn``, ``conv2``), or a
    module path (``"rnn"``, ``"encoder.block_2"``) captured by a forward hook
    for models that do not return named activations.

    How the loss is called with (teacher activation, student activation,
    relative input lengths):

    * a registry name (``"iusp"``, ``"sp"``, ``"kd"``): built once with
      ``get_loss(name, **kwargs)``, then called like a module;
    * a function or ``!name:`` partial: by keyword, through its signature:
      ``teacher=`` / ``student=`` or ``teacher_logits=`` / ``student_logits=``
      (``lengths=`` only if it accepts it), plus ``kwargs``; so the teacher
      and student can never be swapped silently;
    * a module (``!new:``): the same keywords when its ``forward`` names them,
      else ``forward(teacher, student, lengths)`` positionally.

    Arguments
    ---------
    name : str
        Name used in the logs (e.g. ``kd``, ``iusp``); must be unique.
    loss : str, callable or torch.nn.Module
        Registry name, function or module (see above).
    weight : float
        Weight of the term in the objective.
    teacher_tap : str
        Tap of the teacher's output.
    student_tap : str
        Tap of the student's output.
    kwargs : dict
        Extra loss arguments (constructor for registry names, call for
        functions).

    Example
    -------
    >>> def my_loss(teacher, student, lengths=None):
    ...     return ((teacher - student) ** 2).mean()
    >>> term = DistillTerm.from_config(
    ...     {"name": "mse", "loss": my_loss, "weight": 0.5}
    ... )
    >>> term(torch.ones(2, 3), torch.zeros(2, 3), torch.ones(2))
    tensor(1.)
    >>> term.teacher_tap, term.student_tap
    ('logits', 'logits')
    """

    name: str
    loss: object
    weight: float = 1.0
    teacher_tap: str = LOGITS
    student_tap: str = LOGITS
    kwargs: dict = field(default_factory=dict)

    _FIELDS = ("name", "loss", "weight", "teacher_tap", "student_tap")

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
        self._mode = None
        self._call_kwargs = {}
        self._pass_lengths = False

    def build(self):
        """Resolves the loss into a callable and checks its signature.

        Returns
        -------
        DistillTerm
            self, ready to be called.
        """
        loss, call_kwargs = self.loss, {}
        if isinstance(loss, str):
            from speechbrain_iusp.losses import get_loss

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
        names, var_kw = _accepted_args(loss)
        if {"teacher", "student"} <= names:
            mode = ("teacher", "student")
        elif {"teacher_logits", "student_logits"} <= names:
            mode = ("teacher_logits", "student_logits")
        elif isinstance(loss, torch.nn.Module):
            mode = "positional"
        else:
            raise TypeError(
                f"distill term {self.name!r}: cannot tell which argument of "
                f"{loss!r} is the teacher; a loss function must take "
                "teacher=/student= or teacher_logits=/student_logits= "
                f"(it takes {sorted(names)})"
            )
        self._fn = loss
        self._mode = mode
        self._call_kwargs = call_kwargs
        self._pass_lengths = "lengths" in names or var_kw
        return self

    def __call__(self, teacher, student, lengths=None):
        """Computes the (unweighted) term.

        Arguments
        ---------
        teacher : torch.Tensor
            Teacher activation at ``teacher_tap``.
        student : torch.Tensor
            Student activation at ``student_tap``.
        lengths : torch.Tensor, optional
            Relative input lengths ``[B]``.

        Returns
        -------
        torch.Tensor
            Scalar loss.
        """
        if self._fn is None:
            self.build()
        if self._mode == "positional":
            return self._fn(teacher, student, lengths)
        kwargs = dict(self._call_kwargs)
        kwargs[self._mode[0]] = teacher
        kwargs[self._mode[1]] = student
        if self._pass_lengths:
            kwargs["lengths"] = lengths
        return self._fn(**kwargs)


# --------------------------------------------------------------------------
# Taps
# --------------------------------------------------------------------------


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
        self.model = _unwrap(model)
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
    return [name for name, _ in _unwrap(model).named_modules() if name]


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
    raw = _unwrap(model)
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
            valid = (
                [LOGITS] + list(hidden or known_hidden or []) + sorted(paths)
            )
            raise ValueError(
                f"unknown tap {t!r} for {type(raw).__name__}; valid taps: "
                f"{valid}"
            )
    return logits, acts


# --------------------------------------------------------------------------
# Teacher
# --------------------------------------------------------------------------


def teacher_fingerprint(teacher, taps=()):
    """A hash of the teacher's weights (and buffers) and of a tap set.

    Arguments
    ---------
    teacher : torch.nn.Module
        The teacher.
    taps : iterable of str
        Tap names whose outputs are cached.

    Returns
    -------
    str
        Hex digest; equal for equal weights and taps.

    Example
    -------
    >>> m = torch.nn.Linear(2, 2)
    >>> teacher_fingerprint(m, ["logits"]) == teacher_fingerprint(m, ["logits"])
    True
    >>> teacher_fingerprint(m, ["logits"]) == teacher_fingerprint(m, ["rnn"])
    False
    """
    digest = hashlib.sha1()
    for name, value in sorted(_unwrap(teacher).state_dict().items()):
        digest.update(name.encode())
        data = value.detach().cpu().contiguous().reshape(-1)
        digest.update(str(data.dtype).encode())
        digest.update(data.view(torch.uint8).numpy().tobytes())
    digest.update(repr(sorted(set(taps))).encode())
    return digest.hexdigest()


def load_teacher(
    teacher,
    source,
    max_key="micro_auprc",
    min_key=None,
    key="model",
    collect_in=None,
):
    """Loads trained weights into a teacher module and freezes it.

    Two kinds of ``source``:

    * a teacher run's checkpoint folder (its ``save_folder``, holding
      ``CKPT+...`` sub-folders written by a SpeechBrain ``Checkpointer``): the
      checkpoint with the highest ``max_key`` (or lowest ``min_key``; the
      latest if both are None) is loaded with
      ``Checkpointer(source, {key: teacher}).recover_if_possible(...)``;
      the other recoverables there (optimizer, counter, ...) are ignored.
      A single ``CKPT+...`` folder also works.
    * a file (``.../model.ckpt``, or a HuggingFace ``repo/file.ckpt``): loaded
      with SpeechBrain's ``Pretrainer``, collected into ``collect_in``
      (default: a temporary folder).

    Arguments
    ---------
    teacher : torch.nn.Module
        The (untrained) teacher architecture, e.g. ``crnn_preset("teacher")``.
    source : str or path
        Checkpoint folder or parameter file (see above).
    max_key : str, optional
        Checkpoint meta key to maximise (folders only).
    min_key : str, optional
        Checkpoint meta key to minimise (folders only).
    key : str
        Name of the model recoverable in the teacher run (``model``).
    collect_in : str, optional
        Where the Pretrainer collects a file source.

    Returns
    -------
    torch.nn.Module
        The teacher, in eval mode with ``requires_grad`` off.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> trained = torch.nn.Linear(2, 2)
    >>> ckpt = Checkpointer(str(tmp), {"model": trained})
    >>> _ = ckpt.save_checkpoint(meta={"micro_auprc": 0.5})
    >>> teacher = load_teacher(torch.nn.Linear(2, 2), str(tmp))
    >>> torch.equal(teacher.weight, trained.weight), teacher.training
    (True, False)
    """
    source = str(source)
    if os.path.isdir(source):
        direct = os.path.join(source, f"{key}.ckpt")
        if os.path.isfile(direct):
            sb.utils.checkpoints.torch_parameter_transfer(teacher, direct)
            logger.info(f"Loaded teacher weights from {direct}")
        else:
            checkpointer = Checkpointer(source, {key: teacher})
            found = checkpointer.recover_if_possible(
                max_key=max_key, min_key=min_key
            )
            if found is None:
                available = [
                    (os.path.basename(c.path), c.meta)
                    for c in checkpointer.list_checkpoints()
                ]
                sel = max_key or min_key
                raise FileNotFoundError(
                    f"no teacher checkpoint found in {source!r}"
                    + (f" with meta key {sel!r}" if sel else "")
                    + f" (checkpoints there: {available or 'none'}). Train a "
                    "teacher first (e.g. the DCASE2019 recipe with the "
                    "teacher hparams) and point the source at its "
                    "save_folder, or give the path of a model.ckpt file."
                )
            logger.info(f"Loaded teacher weights from {found.path}")
    else:
        from speechbrain.utils.parameter_transfer import Pretrainer

        if collect_in is None:
            collect_in = tempfile.mkdtemp(prefix="teacher_")
        pretrainer = Pretrainer(
            collect_in=collect_in,
            loadables={key: teacher},
            paths={key: source},
        )
        run_on_main(pretrainer.collect_files)
        pretrainer.load_collected()
        logger.info(f"Loaded teacher weights from {source}")
    teacher.eval()
    teacher.requires_grad_(False)
    return teacher


class TeacherCache:
    """Teacher outputs computed once per utterance ID and reused.

    Entries are keyed by utterance ID (never by batch position), stored on
    CPU per utterance without padding, and re-padded with zeros on
    ``fetch`` (to the longest clip of the batch, which is the padded length
    of SpeechBrain batches), so shuffling and any batch composition work.
    Time-major outputs (``dim >= 3``: ``[B, T, ...]``) are cut to
    ``round(length * T)`` frames; ``[B, D]`` outputs (logits) are stored per
    row.

    The cache is bound to a fingerprint of the teacher's weights and of the
    cached taps (:func:`teacher_fingerprint`); binding another fingerprint
    empties it, so a cache built for one teacher or tap set is never reused
    for another. It is only valid when the teacher's input is the same every
    epoch: no augmentation (``DistillationBrain`` disables it otherwise) and
    deterministic features / normalisation. Under DDP (``RANK`` set) every
    process keeps its own cache, in its own file (``<path>.rank<r><ext>``).

    Arguments
    ---------
    dtype : torch.dtype or str, optional
        Storage dtype (e.g. "float16" to halve the memory); None keeps the
        computed dtype.
    path : str, optional
        File to persist the cache to (``save``) and reload it from (``bind``),
        e.g. ``<output_folder>/teacher_cache.pt``.

    Example
    -------
    >>> cache = TeacherCache()
    >>> cache.bind("teacher-a")
    >>> outputs = {"logits": torch.randn(2, 3), "rnn": torch.randn(2, 4, 5)}
    >>> lengths = torch.tensor([1.0, 0.5])
    >>> cache.store(["a", "b"], outputs, lengths)
    >>> cache.has_all(["b", "a"]), len(cache)
    (True, 2)
    >>> out = cache.fetch(["b", "a"], "cpu")
    >>> out["rnn"].shape
    torch.Size([2, 4, 5])
    >>> torch.equal(out["rnn"][1], outputs["rnn"][0])
    True
    >>> cache.bind("teacher-b")
    >>> len(cache)
    0
    """

    def __init__(self, dtype=None, path=None):
        self.dtype = _as_dtype(dtype)
        self.path = None if path is None else str(path)
        rank = os.environ.get("RANK")
        if self.path is not None and rank is not None:
            root, ext = os.path.splitext(self.path)
            self.path = f"{root}.rank{rank}{ext}"
        self.fingerprint = None
        self.entries = {}
        self.dirty = False
        self.hits = 0
        self.misses = 0

    def __len__(self):
        """Number of cached utterances."""
        return len(self.entries)

    def __contains__(self, uid):
        """Whether an utterance ID is cached."""
        return uid in self.entries

    def bind(self, fingerprint):
        """Binds the cache to a teacher/tap fingerprint (empties on change).

        Arguments
        ---------
        fingerprint : str
            From :func:`teacher_fingerprint`.
        """
        if fingerprint == self.fingerprint:
            return
        self.fingerprint = fingerprint
        self.entries = {}
        self.dirty = False
        if self.path is not None and os.path.isfile(self.path):
            saved = torch.load(self.path, map_location="cpu")
            if saved.get("fingerprint") == fingerprint:
                self.entries = saved["entries"]
                logger.info(
                    f"Loaded {len(self.entries)} cached teacher outputs "
                    f"from {self.path}"
                )
            else:
                logger.info(
                    f"Ignoring the teacher cache in {self.path}: it was built "
                    "for another teacher or tap set"
                )

    def has_all(self, ids):
        """Whether every ID of the batch is cached.

        Arguments
        ---------
        ids : list of str
            Utterance IDs.

        Returns
        -------
        bool
        """
        return all(uid in self.entries for uid in ids)

    def store(self, ids, outputs, lengths):
        """Stores the unpadded per-utterance slices of a batch's outputs.

        Arguments
        ---------
        ids : list of str
            Utterance IDs, in batch order.
        outputs : dict
            Tap name -> tensor with the batch first.
        lengths : torch.Tensor
            Relative lengths ``[B]``.
        """
        lengths = lengths.detach().float().cpu()
        per_tap = {}
        for name, value in outputs.items():
            value = value.detach()
            if self.dtype is not None:
                value = value.to(self.dtype)
            value = value.cpu()
            if value.dim() >= 3:
                n = torch.round(lengths * value.shape[1]).long()
                n = n.clamp(1, value.shape[1]).tolist()
                per_tap[name] = [
                    value[i, : n[i]].clone() for i in range(len(n))
                ]
            else:
                per_tap[name] = [value[i].clone() for i in range(len(ids))]
        for i, uid in enumerate(ids):
            self.entries[uid] = {name: v[i] for name, v in per_tap.items()}
        self.dirty = True

    def fetch(self, ids, device):
        """Returns the batch's outputs, re-padded with zeros.

        Arguments
        ---------
        ids : list of str
            Utterance IDs, in batch order (all cached).
        device : torch.device or str
            Where to put the tensors.

        Returns
        -------
        dict
            Tap name -> tensor ``[B, ...]``.
        """
        entries = [self.entries[uid] for uid in ids]
        out = {}
        for name in entries[0]:
            values = [e[name] for e in entries]
            if values[0].dim() >= 2:
                value = torch.nn.utils.rnn.pad_sequence(
                    values, batch_first=True
                )
            else:
                value = torch.stack(values)
            out[name] = value.to(device, non_blocking=True)
        return out

    def save(self):
        """Writes the cache to ``path`` (if set and changed)."""
        if self.path is None or not self.dirty:
            return
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        tmp = self.path + ".tmp"
        torch.save(
            {"fingerprint": self.fingerprint, "entries": self.entries}, tmp
        )
        os.replace(tmp, self.path)
        self.dirty = False


# --------------------------------------------------------------------------
# The Brain
# --------------------------------------------------------------------------


def mixup(feats, lengths, targets, weight, alpha):
    """Mixup for multi-label tagging (Zhang et al., ICLR 2018).

    Each clip is mixed with a random other clip of the batch:
    ``x = lam * x_i + (1 - lam) * x_j`` with ``lam ~ Beta(alpha, alpha)``
    folded to ``lam >= 0.5`` (the clip keeps the larger share), targets mixed
    with the same ``lam`` (soft labels for BCE), lengths the longer of the
    two, and a target weight (mask) kept only where both clips have it.

    Arguments
    ---------
    feats : torch.Tensor
        Features ``[B, T, ...]``.
    lengths : torch.Tensor
        Relative lengths ``[B]``.
    targets : torch.Tensor
        Multi-hot targets ``[B, C]``.
    weight : torch.Tensor or None
        Elementwise target weight ``[B, C]``.
    alpha : float
        Beta distribution parameter.

    Returns
    -------
    feats, lengths, targets, weight : torch.Tensor
        The mixed batch (``weight`` stays None when it was None).

    Example
    -------
    >>> _ = torch.manual_seed(0)
    >>> x, y = torch.randn(4, 10, 3), torch.eye(4)
    >>> x2, lens, y2, w = mixup(x, torch.ones(4), y, None, alpha=0.4)
    >>> x2.shape, bool((y2.sum(1) - 1).abs().max() < 1e-6), w is None
    (torch.Size([4, 10, 3]), True, True)
    """
    batch = feats.shape[0]
    lam = torch.distributions.Beta(alpha, alpha).sample((batch,))
    lam = torch.maximum(lam, 1 - lam).to(feats.device)
    perm = torch.randperm(batch, device=feats.device)
    lam_x = lam.view((-1,) + (1,) * (feats.dim() - 1)).to(feats.dtype)
    feats = lam_x * feats + (1 - lam_x) * feats[perm]
    lengths = torch.maximum(lengths, lengths[perm])
    lam_y = lam.view(-1, 1).to(targets.dtype)
    targets = lam_y * targets + (1 - lam_y) * targets[perm]
    if weight is not None:
        weight = weight * weight[perm]
    return feats, lengths, targets, weight


def discard_incomplete_checkpoints(checkpointer):
    """Set aside checkpoints that a killed run left half-written.

    SpeechBrain writes a checkpoint's ``CKPT.yaml`` before its parameter
    files, so a run killed while saving leaves a newest checkpoint that
    cannot be loaded, and every later run would fail on it. A checkpoint is
    incomplete when its ``CKPT.yaml`` is missing or unreadable, when a
    required recoverable has no ``.ckpt`` file, or when a file is empty or a
    truncated torch archive. Incomplete folders are renamed
    ``incomplete-CKPT+...`` (the Checkpointer ignores them) with a warning.

    Arguments
    ---------
    checkpointer : speechbrain.utils.checkpoints.Checkpointer
        The checkpointer whose folder is checked (on the main process).

    Returns
    -------
    list of pathlib.Path
        The folders set aside.

    Example
    -------
    >>> import os
    >>> from speechbrain.utils.checkpoints import Checkpointer
    >>> from speechbrain.utils.epoch_loop import EpochCounter
    >>> tmp = getfixture("tmpdir")
    >>> model = torch.nn.Linear(2, 2)
    >>> ckp = Checkpointer(tmp, {"model": model, "counter": EpochCounter(3)})
    >>> good = ckp.save_checkpoint(name="good")
    >>> bad = ckp.save_checkpoint(name="bad")
    >>> os.remove(bad.paramfiles["model"])
    >>> [p.name for p in discard_incomplete_checkpoints(ckp)]
    ['incomplete-CKPT+bad']
    >>> [c.path.name for c in ckp.list_checkpoints()]
    ['CKPT+good']
    """
    folder = Path(checkpointer.checkpoints_dir)
    if not folder.is_dir() or not if_main_process():
        return []
    optional = getattr(checkpointer, "optional_recoverables", {})
    required = [
        name
        for name in checkpointer.recoverables
        if "dataloader" not in name and not optional.get(name, False)
    ]
    moved = []
    for ckpt in sorted(folder.glob("CKPT*")):
        if not ckpt.is_dir():
            continue
        reason = _incomplete_reason(ckpt, required)
        if reason is None:
            continue
        target = ckpt.with_name(f"incomplete-{ckpt.name}")
        ckpt.rename(target)
        logger.warning(
            "Checkpoint %s is incomplete (%s), probably from a run killed "
            "while saving; moved to %s and resuming from the one before.",
            ckpt,
            reason,
            target,
        )
        moved.append(target)
    return moved


def _incomplete_reason(ckpt, required):
    """Why a checkpoint folder cannot be loaded, or None if it can."""
    meta = ckpt / "CKPT.yaml"
    try:
        if not isinstance(yaml.safe_load(meta.read_text()), dict):
            return "unreadable CKPT.yaml"
    except (OSError, ValueError, yaml.YAMLError):
        return "missing or unreadable CKPT.yaml"
    for name in required:
        path = ckpt / f"{name}.ckpt"
        if not path.is_file():
            return f"no {path.name}"
    for path in ckpt.glob("*.ckpt"):
        if path.stat().st_size == 0:
            return f"empty {path.name}"
        with open(path, "rb") as fin:
            is_zip_header = fin.read(4) == b"PK\x03\x04"
        if is_zip_header and not zipfile.is_zipfile(path):
            return f"truncated {path.name}"
    return None


class DistillationBrain(sb.Brain):
    """Tagger Brain with an optional frozen teacher and distillation terms.

    One Brain for every run of the recipe: the trained model is
    ``modules["model"]`` (the teacher itself when training a teacher, the
    student otherwise). Without a teacher and terms it is a plain tagger.

    Batch contract: ``batch.id``, ``batch.sig`` (waveforms, relative lengths),
    ``batch.targets`` (``[B, C]`` multi-hot) and optionally
    ``batch.target_weight`` (``[B, C]`` element-wise task-loss weight, e.g. the
    SONYC-UST mask of fine tags under an "X" tag).

    hparams read (``*`` = required):

    * ``compute_features*``: ``wavs -> feats [B, T, F]`` (e.g. ``Fbank``);
    * ``normalize``: ``(feats, lens) -> feats``. Use a stateless sentence
      normalisation (``InputNormalization(norm_type="sentence")``): the
      teacher and the student see the features after this one call, and a
      global normaliser that keeps updating would also invalidate the
      teacher cache;
    * ``augment``: ``(feats, lens) -> (feats, lens)``, train only, applied
      before both models (they see the same augmented features); if it grows
      the batch, labels are replicated with its ``replicate_labels``;
    * ``mixup_alpha``: train only, mixes each clip's features and targets
      with another clip of the batch (:func:`mixup`), after ``augment``;
      0 or absent switches it off;
    * ``teacher``: the frozen teacher module (or ``teacher=`` here);
    * ``distill_terms``: list of :class:`DistillTerm` dicts;
    * ``task_loss``: ``(logits, targets, weight=None) -> loss`` (default
      ``speechbrain_iusp.losses.tagging_bce_loss``);
    * ``metric_stats``: factory of an ``AUPRCStats``-like object
      (``append(ids, scores, targets)``, ``summarize(mode=...)``) for
      VALID / TEST; ``metric_mode`` (default ``"coarse"``) picks the mode
      whose ``micro_auprc`` selects checkpoints;
    * ``lr_annealing``: ``NewBobScheduler`` (fed ``1 - micro_auprc``) or an
      epoch-based scheduler (fed the epoch);
    * ``train_logger``, ``epoch_counter``;
    * ``teacher_cache``: ``True`` / ``False`` or a :class:`TeacherCache`.

    Logged per stage (averages over the stage's batches): ``loss`` (the
    total objective), ``task`` and one entry per term name (unweighted
    values; the objective is ``task + sum(weight * term)``); VALID / TEST add
    ``micro_auprc``, ``macro_auprc``, ``micro_f1`` (x100) when
    ``metric_stats`` is set. On VALID the checkpoint is saved with
    ``meta={"micro_auprc": ...}`` (a fraction) keeping the best one; without
    metrics, ``meta={"loss": ...}`` keeping the lowest. After TEST the
    summary and the metric object stay on ``self.last_stats`` /
    ``self.last_metric_stats``. ``self.stage_terms`` holds the last stage's
    term averages.

    Arguments
    ---------
    modules : dict
        Must contain ``model``; must not contain the teacher.
    opt_class : callable
        Optimiser factory.
    hparams : dict
        See above.
    run_opts : dict
        SpeechBrain run options.
    checkpointer : Checkpointer
        Its recoverables must not contain the teacher.
    teacher : torch.nn.Module, optional
        Overrides ``hparams["teacher"]``.

    Example
    -------
    >>> from speechbrain.dataio.batch import PaddedBatch
    >>> model = torch.nn.Linear(8, 3)
    >>> brain = DistillationBrain(
    ...     modules={"model": model},
    ...     opt_class=lambda p: torch.optim.SGD(p, lr=0.1),
    ...     hparams={
    ...         "compute_features": lambda w: w,
    ...         "task_loss": lambda logits, targets, weight=None: (
    ...             torch.nn.functional.binary_cross_entropy_with_logits(
    ...                 logits, targets
    ...             )
    ...         ),
    ...     },
    ...     run_opts={"device": "cpu"},
    ... )
    >>> batch = PaddedBatch([
    ...     {"id": "a", "sig": torch.randn(8), "targets": torch.ones(3)}
    ... ])
    >>> out = brain.compute_forward(batch, sb.Stage.TRAIN)
    >>> out["logits"].shape
    torch.Size([1, 3])
    >>> brain.compute_objectives(out, batch, sb.Stage.TRAIN).shape
    torch.Size([])
    """

    def __init__(
        self,
        modules=None,
        opt_class=None,
        hparams=None,
        run_opts=None,
        checkpointer=None,
        teacher=None,
    ):
        super().__init__(modules, opt_class, hparams, run_opts, checkpointer)
        if "model" not in self.modules:
            raise ValueError('DistillationBrain needs modules["model"]')
        hp = self.hparams
        self.teacher = (
            teacher if teacher is not None else getattr(hp, "teacher", None)
        )
        terms = getattr(hp, "distill_terms", None) or []
        self.terms = [DistillTerm.from_config(t).build() for t in terms]
        names = [t.name for t in self.terms]
        if len(set(names)) != len(names) or {"task", "loss"} & set(names):
            raise ValueError(
                f"distill term names must be unique and not 'task'/'loss': "
                f"{names}"
            )
        if self.terms and self.teacher is None:
            raise ValueError(
                "distill_terms are set but there is no teacher: set "
                "hparams['teacher'] or pass teacher= to the Brain"
            )
        if self.teacher is not None:
            self._check_teacher_outside()
            self.teacher.eval()
            self.teacher.requires_grad_(False)
            if not self.terms:
                logger.warning("A teacher was given without distill_terms.")
        self.teacher_taps = sorted({t.teacher_tap for t in self.terms})
        self.student_taps = sorted({t.student_tap for t in self.terms})
        self.cache = self._make_cache()
        self.metric_stats = None
        self.last_stats = None
        self.last_metric_stats = None
        self.stage_terms = {}
        self.train_stats = None
        self._term_sums = {}
        self._term_count = 0
        self._has_valid = True

    # ---------------------------------------------------------------- setup
    def _check_teacher_outside(self):
        """Errors if the teacher is inside modules or the checkpointer."""
        teacher_params = {id(p) for p in self.teacher.parameters()}
        for name, module in self.modules.items():
            if any(id(p) in teacher_params for p in module.parameters()):
                raise ValueError(
                    f"the teacher shares parameters with modules[{name!r}]: "
                    "keep the teacher out of `modules` (it would be trained "
                    "and saved)"
                )
        if self.checkpointer is not None:
            for name, obj in self.checkpointer.recoverables.items():
                if obj is self.teacher or (
                    isinstance(obj, torch.nn.Module)
                    and any(id(p) in teacher_params for p in obj.parameters())
                ):
                    raise ValueError(
                        f"the checkpointer recoverable {name!r} holds the "
                        "teacher: remove it, the student's checkpoints must "
                        "not contain the teacher"
                    )

    def _make_cache(self):
        """Builds the TeacherCache from ``hparams.teacher_cache``."""
        setting = getattr(self.hparams, "teacher_cache", False)
        if not setting or self.teacher is None or not self.terms:
            return None
        if self._input_varies():
            logger.warning(
                "teacher_cache is disabled: with augmentation or mixup the "
                "teacher's input changes every epoch"
            )
            return None
        if isinstance(setting, TeacherCache):
            return setting
        return TeacherCache()

    def _prepare_teacher(self):
        """Moves the teacher to the device, freezes it, binds the cache."""
        if self.teacher is None:
            return
        self.teacher.to(self.device)
        self.teacher.eval()
        self.teacher.requires_grad_(False)
        if self.cache is not None:
            taps = [LOGITS] + self.teacher_taps
            self.cache.bind(teacher_fingerprint(self.teacher, taps))

    def fit(self, epoch_counter, train_set, valid_set=None, *args, **kwargs):
        """Runs ``sb.Brain.fit``; remembers whether there is a valid set.

        Without a valid set the TRAIN stage logs and saves the checkpoint.

        Arguments
        ---------
        epoch_counter : iterable
            Epoch counter.
        train_set : Dataset or DataLoader
            Training data.
        valid_set : Dataset or DataLoader, optional
            Validation data.
        *args
            Passed to ``sb.Brain.fit``.
        **kwargs
            Passed to ``sb.Brain.fit``.
        """
        self._has_valid = valid_set is not None
        return super().fit(epoch_counter, train_set, valid_set, *args, **kwargs)

    def _wrap_distributed(self):
        """DDP-wraps the trainable modules; on CPU without SyncBatchNorm.

        SpeechBrain converts BatchNorm to ``SyncBatchNorm`` before wrapping,
        which PyTorch refuses for CPU modules ("SyncBatchNorm layers only
        work with GPU modules"), so CPU/gloo runs keep per-process BatchNorm
        statistics (the DDP default). GPU runs use SpeechBrain's wrapping.
        """
        if not (self.distributed_launch and self.device_type == "cpu"):
            return super()._wrap_distributed()
        for name, module in self.modules.items():
            if any(p.requires_grad for p in module.parameters()):
                self.modules[name] = torch.nn.parallel.DistributedDataParallel(
                    module,
                    device_ids=None,
                    find_unused_parameters=self.find_unused_parameters,
                )

    def _discard_incomplete_checkpoints(self):
        """Sets aside half-written checkpoints (main process), if any."""
        if self.checkpointer is not None:
            run_on_main(
                discard_incomplete_checkpoints, args=[self.checkpointer]
            )

    def on_fit_start(self):
        """Default start (compile, DDP, optimiser, resume), then teacher.

        Half-written checkpoints of a killed run are set aside first
        (:func:`discard_incomplete_checkpoints`), so the run resumes from
        the last complete one.
        """
        self._discard_incomplete_checkpoints()
        super().on_fit_start()
        if self.teacher is not None:
            self._check_teacher_outside()
        self._prepare_teacher()

    def on_evaluate_start(self, max_key=None, min_key=None):
        """Loads the best checkpoint, then prepares the teacher.

        Arguments
        ---------
        max_key : str, optional
            Checkpoint meta key to maximise.
        min_key : str, optional
            Checkpoint meta key to minimise.
        """
        self._discard_incomplete_checkpoints()
        super().on_evaluate_start(max_key=max_key, min_key=min_key)
        self._prepare_teacher()

    # -------------------------------------------------------------- forward
    def _input_varies(self):
        """True when the training input changes from epoch to epoch."""
        mixup = float(getattr(self.hparams, "mixup_alpha", 0.0) or 0.0)
        return getattr(self.hparams, "augment", None) is not None or mixup > 0

    def _teacher_outputs(self, batch, feats, lens, stage):
        """Teacher taps for the batch, live or from the cache."""
        ids = list(batch.id)
        use_cache = self.cache is not None and not (
            stage == sb.Stage.TRAIN and self._input_varies()
        )
        if use_cache and self.cache.has_all(ids):
            self.cache.hits += len(ids)
            return self.cache.fetch(ids, self.device)
        self.teacher.eval()
        with torch.no_grad():
            _, acts = run_with_taps(
                self.teacher, feats, lens, self.teacher_taps
            )
        acts = {k: v.detach() for k, v in acts.items()}
        if use_cache:
            self.cache.misses += len(ids)
            self.cache.store(ids, acts, lens)
        return acts

    def compute_forward(self, batch, stage):
        """Features (+ normalisation, + train augmentation), model, teacher.

        Arguments
        ---------
        batch : PaddedBatch
            See the batch contract in the class docstring.
        stage : sb.Stage
            The stage.

        Returns
        -------
        dict
            ``logits``, ``student`` (tap -> activation), ``teacher``
            (tap -> activation, or None), ``lengths``, ``targets``,
            ``target_weight`` (the last two replicated if augmentation grew
            the batch).
        """
        batch = batch.to(self.device)
        wavs, lens = batch.sig
        targets = _data(batch.targets)
        weight = _data(_get(batch, "target_weight"))

        feats = self.hparams.compute_features(wavs)
        normalize = getattr(self.hparams, "normalize", None)
        if normalize is not None:
            feats = normalize(feats, lens)
        augment = getattr(self.hparams, "augment", None)
        if stage == sb.Stage.TRAIN and augment is not None:
            n_before = feats.shape[0]
            feats, lens = augment(feats, lens)
            if feats.shape[0] != n_before:
                if not hasattr(augment, "replicate_labels"):
                    raise ValueError(
                        "augment changed the batch size but has no "
                        "replicate_labels() to replicate the targets"
                    )
                targets = augment.replicate_labels(targets)
                if weight is not None:
                    weight = augment.replicate_labels(weight)
        alpha = float(getattr(self.hparams, "mixup_alpha", 0.0) or 0.0)
        if stage == sb.Stage.TRAIN and alpha > 0:
            feats, lens, targets, weight = mixup(
                feats, lens, targets, weight, alpha
            )

        logits, student = run_with_taps(
            self.modules.model, feats, lens, self.student_taps
        )
        teacher = None
        if self.teacher is not None and self.terms:
            teacher = self._teacher_outputs(batch, feats, lens, stage)
        return {
            "logits": logits,
            "student": student,
            "teacher": teacher,
            "lengths": lens,
            "targets": targets,
            "target_weight": weight,
        }

    def compute_objectives(self, predictions, batch, stage):
        """Task loss + weighted distillation terms; metrics on VALID/TEST.

        The terms are computed in float32 with autocast disabled (Gram
        matrices are fragile in bf16/fp16).

        Arguments
        ---------
        predictions : dict
            Output of ``compute_forward``.
        batch : PaddedBatch
            The batch.
        stage : sb.Stage
            The stage.

        Returns
        -------
        torch.Tensor
            The total objective.
        """
        logits = predictions["logits"].float()
        targets = predictions["targets"].float()
        weight = predictions["target_weight"]
        task_loss = getattr(self.hparams, "task_loss", None)
        if task_loss is None:
            from speechbrain_iusp.losses import tagging_bce_loss

            task_loss = tagging_bce_loss
        task = task_loss(logits, targets, weight=weight)
        total = task
        values = {"task": task.detach()}
        if predictions["teacher"] is not None:
            lens = predictions["lengths"]
            with torch.autocast(device_type=self.device_type, enabled=False):
                for term in self.terms:
                    t_act = predictions["teacher"][term.teacher_tap].float()
                    s_act = predictions["student"][term.student_tap].float()
                    value = term(t_act, s_act, lens)
                    values[term.name] = value.detach()
                    total = total + term.weight * value
        for name, value in values.items():
            self._term_sums[name] = self._term_sums.get(name, 0.0) + float(
                value
            )
        self._term_count += 1

        if stage != sb.Stage.TRAIN and self.metric_stats is not None:
            self.metric_stats.append(
                batch.id, torch.sigmoid(logits).detach().cpu(), targets.cpu()
            )
        return total

    # --------------------------------------------------------------- stages
    def on_stage_start(self, stage, epoch=None):
        """Resets the term averages, re-freezes the teacher, new metrics.

        Arguments
        ---------
        stage : sb.Stage
            The stage.
        epoch : int, optional
            The epoch.
        """
        self._term_sums, self._term_count = {}, 0
        if self.teacher is not None:
            self.teacher.eval()
        factory = getattr(self.hparams, "metric_stats", None)
        if stage != sb.Stage.TRAIN and factory is not None:
            self.metric_stats = factory()
        else:
            self.metric_stats = None

    def _stage_terms(self):
        """Averages of the logged terms over the stage."""
        count = max(self._term_count, 1)
        return {k: v / count for k, v in self._term_sums.items()}

    def _summarize(self):
        """Metric summary (or None) and the logged (x100) metric values."""
        if self.metric_stats is None:
            return None, {}
        mode = getattr(self.hparams, "metric_mode", "coarse")
        summary = self.metric_stats.summarize(mode=mode)
        logged = {
            k: 100.0 * float(summary[k])
            for k in ("micro_auprc", "macro_auprc", "micro_f1")
            if k in summary
        }
        return summary, logged

    def _log(self, **kwargs):
        """Logs through ``hparams.train_logger`` if there is one."""
        train_logger = getattr(self.hparams, "train_logger", None)
        if train_logger is not None:
            train_logger.log_stats(**kwargs)
        elif if_main_process():
            logger.info(str(kwargs))

    def _current_lr(self):
        """Learning rate of the first parameter group (or None)."""
        opt = getattr(self, "optimizer", None)
        if opt is None:
            return None
        return opt.param_groups[0]["lr"]

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Logs, anneals the learning rate, saves / keeps the best checkpoint.

        Arguments
        ---------
        stage : sb.Stage
            The stage.
        stage_loss : float
            Average total objective over the stage.
        epoch : int, optional
            The epoch.
        """
        self.stage_terms = self._stage_terms()
        stats = {"loss": stage_loss, **self.stage_terms}
        if stage == sb.Stage.TRAIN:
            self.train_stats = stats
            if self.cache is not None:
                self.cache.save()
            if not self._has_valid:
                self._log(
                    stats_meta={"epoch": epoch, "lr": self._current_lr()},
                    train_stats=stats,
                )
                if self.checkpointer is not None:
                    self.checkpointer.save_and_keep_only(
                        meta={"loss": stage_loss, "epoch": epoch},
                        min_keys=["loss"],
                    )
            return

        summary, logged = self._summarize()
        stats.update(logged)
        if stage == sb.Stage.VALID:
            lr = self._current_lr()
            annealing = getattr(self.hparams, "lr_annealing", None)
            if annealing is not None and getattr(self, "optimizer", None):
                from speechbrain.nnet.schedulers import (
                    NewBobScheduler,
                    update_learning_rate,
                )

                if isinstance(annealing, NewBobScheduler):
                    score = float(summary["micro_auprc"]) if summary else None
                    metric = stage_loss if score is None else 1.0 - score
                    lr, new_lr = annealing(metric)
                else:
                    lr, new_lr = annealing(epoch)
                update_learning_rate(self.optimizer, new_lr)
            counter = getattr(self.hparams, "epoch_counter", None)
            if summary is not None and hasattr(counter, "update_metric"):
                counter.update_metric(1.0 - float(summary["micro_auprc"]))
            self._log(
                stats_meta={"epoch": epoch, "lr": lr},
                train_stats=self.train_stats,
                valid_stats=stats,
            )
            if self.checkpointer is not None:
                if summary is not None:
                    self.checkpointer.save_and_keep_only(
                        meta={
                            "micro_auprc": float(summary["micro_auprc"]),
                            "loss": stage_loss,
                            "epoch": epoch,
                        },
                        max_keys=["micro_auprc"],
                    )
                else:
                    self.checkpointer.save_and_keep_only(
                        meta={"loss": stage_loss, "epoch": epoch},
                        min_keys=["loss"],
                    )
        else:
            counter = getattr(self.hparams, "epoch_counter", None)
            meta = {"Epoch loaded": getattr(counter, "current", None)}
            self._log(stats_meta=meta, test_stats=stats)
            self.last_stats = summary if summary is not None else stats
            self.last_metric_stats = self.metric_stats


def _data(value):
    """The tensor of a PaddedData (or the value itself)."""
    return getattr(value, "data", value)


def _get(batch, key):
    """``batch.key`` or None when the batch has no such key."""
    try:
        return getattr(batch, key)
    except (AttributeError, KeyError):
        return None
