"""The frozen teacher: loading, running, fingerprint and its output cache.

Authors
 * speechbrain-iusp developers 2026
"""

import contextlib
import hashlib
import logging
import os
import tempfile
import uuid

import torch

import speechbrain as sb
from speechbrain.utils.autocast import AMPConfig
from speechbrain.utils.checkpoints import Checkpointer
from speechbrain.utils.distributed import run_on_main

from speechbrain_iusp.distill.checkpoints import damaged_file_reason
from speechbrain_iusp.distill.taps import LOGITS, run_with_taps
from speechbrain_iusp.models.wrapping import unwrap

logger = logging.getLogger(__name__)


def _as_dtype(dtype):
    """Maps None, a torch.dtype or a name like "float16" to a dtype."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    value = getattr(torch, str(dtype).replace("torch.", ""), None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"not a torch dtype: {dtype!r}")
    return value


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
    for name, value in sorted(unwrap(teacher).state_dict().items()):
        digest.update(name.encode())
        data = value.detach().cpu().contiguous().reshape(-1)
        digest.update(str(data.dtype).encode())
        digest.update(data.view(torch.uint8).numpy().tobytes())
    digest.update(repr(sorted(set(taps))).encode())
    return digest.hexdigest()


def load_teacher(
    teacher,
    source,
    max_key=None,
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
        Checkpoint meta key to maximise (folders only), e.g. the teacher
        run's selection key (``micro_auprc`` in the DCASE2019 recipe).
    min_key : str, optional
        Checkpoint meta key to minimise (folders only).
    key : str
        Name of the model recoverable in the teacher run (``model``). A
        checkpoint without it is refused with the names it holds (e.g.
        ``embedding_model``), to pick one with ``key=``.
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
    >>> teacher = load_teacher(torch.nn.Linear(2, 2), str(tmp), "micro_auprc")
    >>> torch.equal(teacher.weight, trained.weight), teacher.training
    (True, False)
    """
    source = str(source)
    try:
        _load_weights(teacher, source, max_key, min_key, key, collect_in)
    except (FileNotFoundError, RecoverableNotFoundError):
        raise
    except Exception as err:  # torch/pickle errors of a bad file
        damaged = _damaged_teacher_file(source, max_key, min_key, key)
        if damaged is not None:
            path, reason = damaged
            raise RuntimeError(
                f"Cannot load the teacher from {source!r}: the checkpoint "
                f"file {path} is damaged ({reason} file, "
                f"{type(err).__name__}), "
                "e.g. by a run killed while saving or a full disk. Delete "
                f"its checkpoint folder {os.path.dirname(path)} (or the "
                "whole teacher run, so that it is trained again), or point "
                "the source at another teacher run."
            ) from err
        raise RuntimeError(
            f"Cannot load the teacher from {source!r} into "
            f"{type(teacher).__name__}: {type(err).__name__}: "
            f"{str(err)[:300]}. The checkpoint is damaged (e.g. an empty "
            "file), or it holds another model than the teacher architecture "
            "(e.g. a student run's folder given as the teacher). Point the "
            "source at a finished teacher run, or delete the teacher run to "
            "train it again."
        ) from err
    teacher.eval()
    teacher.requires_grad_(False)
    return teacher


class RecoverableNotFoundError(LookupError):
    """The teacher's checkpoint holds no recoverable named ``key``."""


def _check_key(checkpointer, source, max_key, min_key, key):
    """Refuses a checkpoint (or folder) without ``key``, listing its keys."""
    found = checkpointer.find_checkpoint(max_key=max_key, min_key=min_key)
    if found is not None:
        where, names = found.path, sorted(found.paramfiles)
    else:  # a model folder: <name>.ckpt files, e.g. from the hub
        where = source
        names = sorted(f[:-5] for f in os.listdir(source) if f[-5:] == ".ckpt")
    if key in names or not names:
        return
    models = [n for n in names if "model" in n]
    raise RecoverableNotFoundError(
        f"Cannot load the teacher from {source!r}: {where} holds no "
        f"recoverable {key!r}; it holds {', '.join(map(repr, names))}. "
        "Pick the teacher's with key=, e.g. load_teacher(teacher, source, "
        f"key={(models or names)[0]!r})."
    )


def _load_weights(teacher, source, max_key, min_key, key, collect_in):
    """Loads the weights of ``source`` into ``teacher`` (see load_teacher)."""
    if os.path.isdir(source):
        direct = os.path.join(source, f"{key}.ckpt")
        if os.path.isfile(direct):
            sb.utils.checkpoints.torch_parameter_transfer(teacher, direct)
            logger.info(f"Loaded teacher weights from {direct}")
            return
        checkpointer = Checkpointer(source, {key: teacher})
        _check_key(checkpointer, source, max_key, min_key, key)
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
        return
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


def _damaged_teacher_file(source, max_key, min_key, key):
    """The teacher file that load_teacher read and why it is damaged.

    Arguments
    ---------
    source, max_key, min_key, key
        As for :func:`load_teacher`.

    Returns
    -------
    tuple or None
        ``(path, reason)``, e.g. ``(".../CKPT+.../model.ckpt", "empty")``,
        or None if the file looks whole (or is not a local file).

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = Checkpointer(str(tmp), {"model": torch.nn.Linear(2, 2)})
    >>> (tmp / "model.ckpt").write_binary(b"")
    >>> path, reason = _damaged_teacher_file(str(tmp), None, None, "model")
    >>> os.path.basename(path), reason
    ('model.ckpt', 'empty')
    """
    path = None
    if os.path.isdir(source):
        path = os.path.join(source, f"{key}.ckpt")
        if not os.path.isfile(path):
            try:
                ckpt = Checkpointer(source).find_checkpoint(
                    max_key=max_key, min_key=min_key
                )
            except Exception:  # an unreadable CKPT.yaml
                ckpt = None
            if ckpt is None:
                return None
            path = ckpt.paramfiles.get(key) or os.path.join(
                ckpt.path, f"{key}.ckpt"
            )
    elif os.path.isfile(source):
        path = source
    if path is None:
        return None
    reason = damaged_file_reason(path)
    if reason is None:
        return None
    return os.path.abspath(str(path)), reason


class TeacherCache:
    """Teacher outputs computed once per clip and reused.

    Entries are keyed by a clip key (never by batch position): the
    utterance ID, or, when the batch carries one, the feature cache's entry
    key (``batch.feats_key``), which changes with the audio file and the
    feature setting. They are stored on
    CPU per utterance without padding, and re-padded with zeros on
    ``fetch`` (to the longest clip of the batch, which is the padded length
    of SpeechBrain batches), so shuffling and any batch composition work,
    as long as a clip's outputs do not depend on the other clips of its
    batch (a teacher that masks its padding, or clips of one length;
    ``docs/design.md``).
    Outputs with a time axis (``dim >= 3``) are cut to ``round(length *
    T)`` frames along it: axis 1 (``[B, T, ...]``), or the axis that
    ``time_axes`` (tap -> axis, set by :class:`FrozenTeacher` from the
    terms' teacher layouts) gives, e.g. 2 for ``[B, C, T]``; ``[B, D]``
    outputs (logits) are stored per row.

    The cache is bound to a fingerprint of the teacher's weights and of the
    cached taps (:func:`teacher_fingerprint`); binding another fingerprint
    empties it, so a cache built for one teacher or tap set is never reused
    for another. It is only valid when the teacher's input is the same every
    epoch: no augmentation (``DistillationBrain`` disables it otherwise) and
    deterministic features / normalisation.

    Persistence: with ``folder``, the cache of each fingerprint is its own
    file, ``<folder>/<fingerprint>.pt``, loaded at ``bind`` and written at
    ``save`` (atomically), so every run that distils the same teacher at the
    same taps reuses it. With ``path``, one file holds the cache of the last
    fingerprint. Under DDP (``RANK`` set) every process keeps its own file
    (``.rank<r>`` before the extension).

    ``hits`` and ``misses`` count the clips served by ``fetch`` and the clips
    stored by ``store`` (computed because their batch was not all cached).

    Arguments
    ---------
    dtype : torch.dtype or str, optional
        Storage dtype (e.g. "float16" to halve the memory); None keeps the
        computed dtype.
    path : str, optional
        File to persist the cache to (``save``) and reload it from (``bind``),
        e.g. ``<output_folder>/teacher_cache.pt``.
    folder : str, optional
        Folder of one file per fingerprint (instead of ``path``), e.g.
        ``<teacher run>/teacher_cache``.

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
    >>> cache.time_axes = {"blocks.2": 2}  # [B, C, T]
    >>> ecapa = torch.randn(2, 6, 4)
    >>> cache.store(["a", "b"], {"blocks.2": ecapa}, lengths)
    >>> cache.entries["b"]["blocks.2"].shape
    torch.Size([6, 2])
    >>> out = cache.fetch(["b", "a"], "cpu")["blocks.2"]
    >>> torch.equal(out[1], ecapa[0]), out[0, :, 2:].abs().max().item()
    (True, 0.0)
    """

    def __init__(self, dtype=None, path=None, folder=None):
        if path is not None and folder is not None:
            raise ValueError("TeacherCache: give path or folder, not both")
        self.dtype = _as_dtype(dtype)
        self.folder = None if folder is None else str(folder)
        self.path = None if path is None else _rank_file(str(path))
        self.fingerprint = None
        self.entries = {}
        self.dirty = False
        self.hits = 0
        self.misses = 0
        self.time_axes = {}  # tap -> time axis, where not 1 (FrozenTeacher)

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
        if self.folder is not None:
            name = f"{fingerprint[:24]}.pt"
            self.path = _rank_file(os.path.join(self.folder, name))
        if self.path is not None and os.path.isfile(self.path):
            try:
                saved = torch.load(
                    self.path, map_location="cpu", weights_only=True
                )
            except Exception as err:  # a truncated or foreign file
                logger.warning(
                    "Ignoring the unreadable teacher cache %s (%s)",
                    self.path,
                    err,
                )
                saved = {}
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
        lengths : torch.Tensor or dict
            Relative lengths ``[B]``, or tap -> relative lengths at that
            tap (e.g. the model's exact counts after pooling).
        """
        self.misses += len(ids)
        per_tap = {}
        for name, value in outputs.items():
            value = value.detach()
            if self.dtype is not None:
                value = value.to(self.dtype)
            value = value.cpu()
            axis = self.time_axes.get(name, 1)
            if value.dim() >= 3 and value.dim() > axis:
                lens = lengths[name] if isinstance(lengths, dict) else lengths
                lens = lens.detach().float().cpu()
                n = torch.round(lens * value.shape[axis]).long()
                n = n.clamp(1, value.shape[axis]).tolist()
                per_tap[name] = [
                    value[i].narrow(axis - 1, 0, n[i]).clone()
                    for i in range(len(n))
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
        self.hits += len(ids)
        entries = [self.entries[uid] for uid in ids]
        out = {}
        for name in entries[0]:
            values = [e[name] for e in entries]
            if values[0].dim() >= 2:
                axis = self.time_axes.get(name, 1) - 1  # in an entry
                axis = axis if values[0].dim() > axis else 0
                values = [v.movedim(axis, 0) for v in values]
                value = torch.nn.utils.rnn.pad_sequence(
                    values, batch_first=True
                )
                if axis:
                    value = value.movedim(1, axis + 1).contiguous()
            else:
                value = torch.stack(values)
            out[name] = value.to(device, non_blocking=True)
        return out

    def save(self):
        """Writes the cache to ``path`` (if set and changed)."""
        if self.path is None or not self.dirty:
            return
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        tmp = f"{self.path}.{uuid.uuid4().hex}.tmp"
        torch.save(
            {"fingerprint": self.fingerprint, "entries": self.entries}, tmp
        )
        os.replace(tmp, self.path)
        self.dirty = False


def _rank_file(path):
    """``path`` with ``.rank<r>`` before the extension under DDP."""
    rank = os.environ.get("RANK")
    if rank is None:
        return path
    root, ext = os.path.splitext(path)
    return f"{root}.rank{rank}{ext}"


class FrozenTeacher:
    """The teacher of a distillation run: frozen, on its device, cached.

    It keeps the teacher module out of training (SpeechBrain's frozen-model
    pattern: never in ``modules``, so never optimised, wrapped in DDP or
    checkpointed; see :meth:`check_outside`). :meth:`freeze` sets eval mode
    and ``requires_grad`` off (construction leaves the module as it is, so
    that :meth:`check_outside` can refuse it first); :meth:`prepare` also
    moves it to ``device`` and binds ``cache`` to its
    :func:`teacher_fingerprint`. Every forward runs in eval mode, under
    ``torch.no_grad()``, in the autocast precision of the stage
    (``precision`` for TRAIN, ``eval_precision`` for VALID and TEST); the
    outputs come from ``cache`` instead when every clip of the batch is
    there.

    An ensemble teacher (a module with ``member_taps``, e.g.
    :class:`~speechbrain_iusp.models.TeacherEnsemble`) has one tap per
    member for each tap asked: :meth:`member_taps` lists them and
    :meth:`member_mean` averages a term over them.

    Arguments
    ---------
    module : torch.nn.Module
        The trained teacher (e.g. from :func:`load_teacher`).
    taps : iterable of str
        Teacher taps the distillation terms read (``logits`` is always
        computed).
    cache : bool or TeacherCache, optional
        ``True`` for an in-memory :class:`TeacherCache`; None or False for
        none.
    device : str or torch.device
        Where the teacher runs and where its outputs go.
    precision : str
        Autocast of the TRAIN forward: ``fp32`` (off), ``bf16`` or ``fp16``.
    eval_precision : str
        The same for VALID and TEST.
    time_axes : dict, optional
        Tap -> its time axis where it is not 1 (e.g. 2 for a ``[B, C, T]``
        tap): where the cache cuts and pads; part of its fingerprint.

    Example
    -------
    >>> teacher = FrozenTeacher(torch.nn.Linear(4, 3), cache=True)
    >>> teacher.prepare()
    >>> feats, lens = torch.randn(2, 4), torch.ones(2)
    >>> out = teacher.outputs(["a", "b"], feats, lens, sb.Stage.TRAIN)
    >>> flipped = feats.flip(0)
    >>> again = teacher.outputs(["b", "a"], flipped, lens, sb.Stage.TRAIN)
    >>> torch.equal(again["logits"], out["logits"].flip(0))
    True
    >>> teacher.cache.misses, teacher.cache.hits, out["logits"].requires_grad
    (2, 2, False)
    """

    def __init__(
        self,
        module,
        taps=(),
        cache=None,
        device="cpu",
        precision="fp32",
        eval_precision="fp32",
        time_axes=None,
    ):
        self.module = module
        self.device = device
        self.train_dtype = AMPConfig.from_name(precision).dtype
        self.eval_dtype = AMPConfig.from_name(eval_precision).dtype
        self.taps = sorted({m for tap in taps for m in self.member_taps(tap)})
        self.time_axes = {
            member: axis
            for tap, axis in (time_axes or {}).items()
            if axis != 1
            for member in self.member_taps(tap)
        }
        if cache is None or isinstance(cache, TeacherCache):
            self.cache = cache
        else:
            self.cache = TeacherCache() if cache else None
        self._warned_ids = False

    def member_taps(self, tap):
        """The taps computed for ``tap``: one per member of an ensemble.

        Arguments
        ---------
        tap : str
            A teacher tap, e.g. ``rnn``.

        Returns
        -------
        list of str
            ``[tap]``, or the ensemble's ``member_taps(tap)``.
        """
        fan_out = getattr(unwrap(self.module), "member_taps", None)
        return fan_out(tap) if fan_out else [tap]

    def member_mean(self, fn, outputs, tap):
        """Mean of ``fn`` over the activations of ``tap`` (one per member).

        Arguments
        ---------
        fn : callable
            ``activation -> tensor``, e.g. a term against the student.
        outputs : dict
            Output of :meth:`outputs`.
        tap : str
            A teacher tap of the terms.

        Returns
        -------
        torch.Tensor
        """
        taps = self.member_taps(tap)
        return sum(fn(outputs[t]) for t in taps) / len(taps)

    def check_outside(self, modules, checkpointer=None):
        """Errors if the teacher is in ``modules`` or the checkpointer.

        Arguments
        ---------
        modules : dict
            The trained modules (name -> module).
        checkpointer : Checkpointer, optional
            The run's checkpointer.
        """
        params = {id(p) for p in self.module.parameters()}
        for name, module in modules.items():
            if any(id(p) in params for p in module.parameters()):
                raise ValueError(
                    f"the teacher shares parameters with modules[{name!r}]: "
                    "keep the teacher out of `modules` (it would be trained "
                    "and saved)"
                )
        if checkpointer is None:
            return
        for name, obj in checkpointer.recoverables.items():
            if obj is self.module or (
                isinstance(obj, torch.nn.Module)
                and any(id(p) in params for p in obj.parameters())
            ):
                raise ValueError(
                    f"the checkpointer recoverable {name!r} holds the "
                    "teacher: remove it, the student's checkpoints must "
                    "not contain the teacher"
                )

    def freeze(self):
        """Eval mode, ``requires_grad`` off."""
        self.module.eval()
        self.module.requires_grad_(False)

    def prepare(self):
        """Moves the teacher to its device, freezes it, binds the cache."""
        self.module.to(self.device)
        self.freeze()
        if self.cache is not None:
            axes = self.time_axes
            taps = [LOGITS] + [
                f"{t}|time_axis={axes[t]}" if t in axes else t
                for t in self.taps
            ]
            self.cache.time_axes = dict(axes)
            self.cache.bind(teacher_fingerprint(self.module, taps))

    def outputs(self, ids, feats, lens, stage, feats_keys=None):
        """The teacher's activations at its taps, live or from the cache.

        Arguments
        ---------
        ids : list of str
            Utterance IDs of the batch.
        feats : torch.Tensor
            Features ``[B, T, F]`` (as the student's).
        lens : torch.Tensor
            Relative lengths ``[B]``.
        stage : sb.Stage
            The stage (TRAIN runs in ``precision``, others in
            ``eval_precision``).
        feats_keys : list of str, optional
            The feature cache's keys of the clips; they key the teacher
            cache instead of the IDs.

        Returns
        -------
        dict
            Tap -> activation (``logits`` included), without gradient.
        """
        cache = self.cache
        if feats_keys is None and cache is not None and not self._warned_ids:
            self._warned_ids = True
            if cache.path is not None or cache.folder is not None:
                logger.warning(
                    "The teacher cache is kept across runs but keyed by "
                    "utterance ID (the batches carry no feats_key): it goes "
                    "stale if the audio or the features change"
                )
        keys = list(ids if feats_keys is None else feats_keys)
        if cache is not None and cache.has_all(keys):
            return cache.fetch(keys, self.device)
        self.module.eval()
        with torch.no_grad(), self._autocast(stage):
            _, acts = run_with_taps(self.module, feats, lens, self.taps)
        acts = {k: v.detach() for k, v in acts.items()}
        if cache is not None:
            lengths = tap_lengths(self.module, lens, feats.shape[1], acts)
            cache.store(keys, acts, lengths)
        return acts

    def save_cache(self):
        """Writes the cache to its file (if it has one and changed)."""
        if self.cache is not None:
            self.cache.save()

    def _autocast(self, stage):
        """The autocast context of the stage's precision (off for fp32)."""
        train = stage == sb.Stage.TRAIN
        dtype = self.train_dtype if train else self.eval_dtype
        device_type = torch.device(self.device).type
        fp32 = dtype == torch.float32
        if fp32 and not torch.amp.is_autocast_available(device_type):
            return contextlib.nullcontext()  # e.g. "meta"
        return torch.autocast(device_type, dtype=dtype, enabled=not fp32)


def tap_lengths(model, lengths, n_frames, taps):
    """Relative lengths at some taps: exact when the model can tell them.

    A model with ``tap_lengths(lengths, n_frames)`` (the CRNN) knows how
    many frames of each clip are valid after its pooling; recomputing them
    as ``round(lengths * T_tap)`` can be one frame off either way. Taps it
    does not know (module paths, other models) get the input lengths.

    Arguments
    ---------
    model : torch.nn.Module
        The model (wrappers are looked through).
    lengths : torch.Tensor
        Relative input lengths ``[B]``.
    n_frames : int
        Input frames.
    taps : iterable of str
        Tap names.

    Returns
    -------
    dict
        tap -> relative lengths ``[B]``.

    Example
    -------
    >>> lengths = torch.tensor([1.0, 0.5])
    >>> tap_lengths(torch.nn.Linear(2, 2), lengths, 10, ["0"])["0"] is lengths
    True
    """
    model = unwrap(model)
    exact = {}
    if hasattr(model, "tap_lengths"):
        exact = model.tap_lengths(lengths, n_frames)
    return {tap: exact.get(tap, lengths) for tap in taps}
