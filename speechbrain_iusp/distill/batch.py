"""The batch contract of :class:`DistillationBrain`, and its tasks.

A batch is a SpeechBrain ``PaddedBatch`` with these keys:

==================  ========================================================
``id``              clip ids (list of str)
``sig``             waveforms ``[B, samples]`` (or whatever
                    ``hparams.compute_features`` takes, batch first) and
                    relative lengths ``[B]``, or
``feats``           features ``[B, T, ...]`` and relative lengths ``[B]``
                    (e.g. from a feature cache); then ``feats_key`` (one
                    entry key per clip) keys the teacher cache
``targets``         ``task: tagging``: multi-hot ``[B, C]`` in [0, 1];
                    ``task: classification``: class indices ``[B]`` or
                    ``[B, 1]`` (integers), or class probabilities ``[B, C]``
``target_weight``   optional: ``[B, C]`` for tagging (e.g. a mask of
                    unknown tags), ``[B]`` for classification
==================  ========================================================

Lengths are relative (SpeechBrain's convention): in (0, 1], the longest
clip 1. :func:`read_batch` checks every batch against the contract and
names the key and the fix when it does not hold.

Authors
 * speechbrain-iusp developers 2026
"""

from types import SimpleNamespace

import torch

from speechbrain_iusp.losses import classification_loss, tagging_bce_loss

TASKS = ("tagging", "classification")


class Task:
    """What the targets mean: multi-label tagging or single-label classes.

    * ``tagging``: targets multi-hot ``[B, C]``; scores ``sigmoid(logits)``;
      default task loss :func:`~speechbrain_iusp.losses.tagging_bce_loss`;
    * ``classification``: targets class indices (or probabilities); scores
      ``softmax(logits)``; default task loss
      :func:`~speechbrain_iusp.losses.classification_loss`. The metric
      object gets class indices ``[B]`` (SpeechBrain's
      ``classification_error`` takes them as they are).

    Arguments
    ---------
    name : str
        ``"tagging"`` or ``"classification"``.

    Example
    -------
    >>> task = Task("classification")
    >>> task.scores(torch.zeros(1, 4))
    tensor([[0.2500, 0.2500, 0.2500, 0.2500]])
    >>> task.metric_targets(torch.tensor([[0.0, 1.0, 0.0, 0.0]]))
    tensor([1])
    >>> Task("multiclass")
    Traceback (most recent call last):
    ...
    ValueError: hparams 'task' is 'multiclass'; choose 'tagging' ...
    """

    def __init__(self, name="tagging"):
        if name not in TASKS:
            raise ValueError(
                f"hparams 'task' is {name!r}; choose 'tagging' (multi-label, "
                "multi-hot targets) or 'classification' (single-label, "
                "class indices)."
            )
        self.name = name

    @property
    def default_loss(self):
        """The task loss used when ``hparams.task_loss`` is not set."""
        if self.name == "tagging":
            return tagging_bce_loss
        return classification_loss

    def scores(self, logits):
        """Scores given to the metric object: probabilities."""
        if self.name == "tagging":
            return torch.sigmoid(logits)
        return torch.softmax(logits, dim=-1)

    def loss_targets(self, targets):
        """Targets as the task loss takes them: floats for tagging, class
        indices ``[B]`` (or probabilities ``[B, C]``) for classification."""
        if self.name == "tagging" or targets.is_floating_point():
            return targets.float()
        return targets.reshape(-1).long()

    def metric_targets(self, targets):
        """Targets given to the metric object (class indices if single)."""
        if self.name == "tagging":
            return targets.float()
        if targets.dim() == 2 and targets.shape[1] > 1:
            return targets.argmax(dim=1)
        return targets.reshape(-1).long()


def read_batch(batch, task, has_features):
    """Checks a batch against the contract; returns its fields.

    Arguments
    ---------
    batch : PaddedBatch
        The batch (already on the device).
    task : Task
        The Brain's task.
    has_features : bool
        Whether ``hparams.compute_features`` is set (needed for ``sig``).

    Returns
    -------
    SimpleNamespace
        ``ids``, ``feats`` / ``sig`` (one of them, the other None), ``lens``,
        ``feats_key``, ``targets``, ``weight``.

    Example
    -------
    >>> from speechbrain.dataio.batch import PaddedBatch
    >>> batch = PaddedBatch([
    ...     {"id": "a", "sig": torch.randn(16), "targets": torch.tensor([3])},
    ...     {"id": "b", "sig": torch.randn(12), "targets": torch.tensor([1])},
    ... ])
    >>> read_batch(batch, Task("classification"), True).lens
    tensor([1.0000, 0.7500])
    >>> read_batch(batch, Task("tagging"), True)
    Traceback (most recent call last):
    ...
    ValueError: batch.targets: shape [2, 1] (class indices) with task ...
    """
    ids = _get(batch, "id")
    if ids is None:
        raise ValueError(
            "batch.id is missing: the dataset must provide an 'id' key per "
            "clip (DynamicItemDataset does)."
        )
    n = len(ids)
    feats, sig = _get(batch, "feats"), _get(batch, "sig")
    if feats is None and sig is None:
        raise ValueError(
            f"the batch has neither 'sig' nor 'feats' (keys: "
            f"{sorted(_keys(batch))}); add a dynamic item 'sig' "
            "(waveform) or 'feats' (features) to the dataset's output_keys."
        )
    key = "feats" if feats is not None else "sig"
    data, lens = _padded(feats if feats is not None else sig, key)
    _check_data(data, lens, key, n, ids)
    if key == "sig" and not has_features:
        raise ValueError(
            "the batch holds waveforms (batch.sig) but the hparams have no "
            "'compute_features' (e.g. !new:speechbrain.lobes.features.Fbank)"
            "; add one, or give features as batch.feats."
        )
    targets = _tensor(_get(batch, "targets"), "targets")
    weight = _get(batch, "target_weight")
    weight = None if weight is None else _tensor(weight, "target_weight")
    _check_targets(targets, weight, task, n, ids)
    return SimpleNamespace(
        ids=ids,
        feats=data if key == "feats" else None,
        sig=data if key == "sig" else None,
        lens=lens,
        feats_key=_get(batch, "feats_key") if key == "feats" else None,
        targets=targets,
        weight=weight,
    )


def _padded(value, key):
    """``(data, lengths)`` of a PaddedData; a clear error otherwise."""
    if isinstance(value, torch.Tensor) or not hasattr(value, "__len__"):
        raise ValueError(
            f"batch.{key} must be (data, relative lengths), as SpeechBrain's "
            f"PaddedBatch pads a tensor item, got {type(value).__name__}; "
            f"let PaddedBatch collate '{key}' (do not pre-pad it)."
        )
    data, lens = value
    return data, lens


def _check_data(data, lens, key, n, ids):
    """Shapes, dtypes and relative lengths of ``sig`` / ``feats``."""
    want = "[B, samples]" if key == "sig" else "[B, T, ...]"
    if not isinstance(data, torch.Tensor) or not data.is_floating_point():
        raise ValueError(
            f"batch.{key} must be a float tensor {want}, got {_describe(data)}."
        )
    if data.dim() < (2 if key == "sig" else 3):
        raise ValueError(
            f"batch.{key} has shape {list(data.shape)}; the contract is "
            f"{want} (a batch axis first"
            + (", then time)." if key == "sig" else ", then time, then more).")
        )
    if data.shape[0] != n:
        raise ValueError(
            f"batch.{key} holds {data.shape[0]} clips but batch.id {n}."
        )
    if not isinstance(lens, torch.Tensor) or tuple(lens.shape) != (n,):
        raise ValueError(
            f"batch.{key}'s lengths must be a tensor [B] = [{n}], got "
            f"{_describe(lens)}."
        )
    bad = ~((lens > 0) & (lens <= 1 + 1e-6))
    if bool(bad.any()):
        i = int(bad.nonzero()[0])
        raise ValueError(
            f"batch.{key}: clip {ids[i]!r} has length {float(lens[i])!r}; "
            "lengths are relative (SpeechBrain's convention: in (0, 1], the "
            "longest clip 1). Divide sample or frame counts by the padded "
            "length."
        )


def _check_targets(targets, weight, task, n, ids):
    """Targets and their weight against the task."""
    shape = list(targets.shape)
    if not shape or shape[0] != n:
        raise ValueError(
            f"batch.targets has shape {shape} for {n} clips; the first axis "
            "is the batch."
        )
    indices = targets.dim() == 1 or (targets.dim() == 2 and shape[1] == 1)
    if task.name == "tagging":
        if indices and not targets.is_floating_point():
            raise ValueError(
                f"batch.targets: shape {shape} (class indices) with task "
                "'tagging', which needs multi-hot targets [B, C]; set task: "
                "classification in the hparams for single-label targets."
            )
        if targets.dim() != 2:
            raise ValueError(
                f"batch.targets: shape {shape}; task 'tagging' needs "
                "multi-hot targets [B, C]."
            )
        out = (targets < 0) | (targets > 1)
        if bool(out.any()):
            i, c = (int(v) for v in out.nonzero()[0])
            raise ValueError(
                f"batch.targets: clip {ids[i]!r}, class {c} holds "
                f"{float(targets[i, c])!r}; tagging targets are in [0, 1]."
            )
        want_weight = shape
    else:
        if indices and targets.is_floating_point():
            raise ValueError(
                f"batch.targets: shape {shape} of {targets.dtype}; class "
                "indices must be integers (label_encoder.encode_label_torch "
                "gives them), or give probabilities [B, C]."
            )
        if not indices and targets.dim() != 2:
            raise ValueError(
                f"batch.targets: shape {shape}; task 'classification' takes "
                "class indices [B] or [B, 1], or probabilities [B, C]."
            )
        if indices and bool((targets < 0).any()):
            i = int((targets.reshape(-1) < 0).nonzero()[0])
            raise ValueError(
                f"batch.targets: clip {ids[i]!r} has class "
                f"{int(targets.reshape(-1)[i])}; class indices start at 0."
            )
        want_weight = [n]
    if weight is not None and list(weight.shape) not in (
        want_weight,
        [n, 1] if task.name == "classification" else want_weight,
    ):
        raise ValueError(
            f"batch.target_weight has shape {list(weight.shape)}; with task "
            f"{task.name!r} and targets {shape} it must be {want_weight}."
        )


def _tensor(value, key):
    """The tensor of a batch item (PaddedData's data); clear errors."""
    if value is None:
        raise ValueError(
            f"batch.{key} is missing: add a dynamic item '{key}' to the "
            "dataset's output_keys (see the batch contract)."
        )
    value = getattr(value, "data", value)
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], str):
        raise ValueError(
            f"batch.{key} holds strings ({value[0]!r}, ...); encode labels "
            "as tensors, e.g. with a CategoricalEncoder "
            "(label_encoder.encode_label_torch)."
        )
    if not isinstance(value, torch.Tensor):
        raise ValueError(
            f"batch.{key} must be a tensor, got {_describe(value)}."
        )
    return value


def _describe(x):
    """``shape [..] dtype`` of a tensor, else its type."""
    if isinstance(x, torch.Tensor):
        return f"a tensor {list(x.shape)} of {x.dtype}"
    return type(x).__name__


def _keys(batch):
    """The batch's keys (PaddedBatch keeps them in ``_PaddedBatch__keys``)."""
    return getattr(batch, "_PaddedBatch__keys", None) or [
        k for k in vars(batch) if not k.startswith("_")
    ]


def _get(batch, key):
    """``batch.key`` or None when the batch has no such key."""
    try:
        return getattr(batch, key)
    except (AttributeError, KeyError):
        return None
