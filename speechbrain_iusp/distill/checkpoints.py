"""Checkpoints that resume exactly: repair of half-written ones, and the
random generators' state.

Authors
 * speechbrain-iusp developers 2026
"""

import logging
import pickle
import random
import zipfile
from pathlib import Path

import numpy as np
import torch
import yaml

from speechbrain.utils.checkpoints import (
    mark_as_loader,
    mark_as_saver,
    register_checkpoint_hooks,
)
from speechbrain.utils.distributed import if_main_process

logger = logging.getLogger(__name__)


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
    >>> import torch
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
        reason = damaged_file_reason(path)
        if reason is not None:
            return f"{reason} {path.name}"
    return None


def damaged_file_reason(path):
    """Why a checkpoint file is damaged, or None if it looks whole.

    Arguments
    ---------
    path : str or pathlib.Path
        A ``.ckpt`` (or other torch) file.

    Returns
    -------
    str or None
        ``"missing"``, ``"empty"`` (0 bytes), ``"truncated"`` (a torch zip
        archive without its end), or None.

    Example
    -------
    >>> path = getfixture("tmpdir") / "model.ckpt"
    >>> path.write_binary(b"")
    >>> damaged_file_reason(path)
    'empty'
    >>> torch.save({"w": torch.ones(2)}, str(path))
    >>> damaged_file_reason(path) is None
    True
    """
    path = Path(path)
    if not path.is_file():
        return "missing"
    if path.stat().st_size == 0:
        return "empty"
    with open(path, "rb") as fin:
        is_zip_header = fin.read(4) == b"PK\x03\x04"
    if is_zip_header and not zipfile.is_zipfile(path):
        return "truncated"
    return None


@register_checkpoint_hooks
class RandomState:
    """The random generators' state as a checkpoint recoverable.

    SpeechBrain restores the model, the optimiser and the epoch counter, but
    not the state of the random generators (dropout masks, augmentation,
    mixup), so a resumed run drew other random numbers than an uninterrupted
    one. With this recoverable (the :class:`DistillationBrain` adds it to
    its checkpointer), a run killed after an epoch's checkpoint and resumed
    gives the same numbers as one that was never stopped. It saves the CPU
    torch generator, the CUDA generators, numpy's and Python's. Under DDP
    the main process's state is saved and every process gets it back.

    The file holds plain data only (tensors, numbers, strings), and is read
    with ``torch.load(..., weights_only=True)``, so a run folder from
    elsewhere cannot run code when resumed. A file that would need pickle
    (the format of earlier versions) is not loaded: a warning names it and
    the run goes on with the current random state.

    Example
    -------
    >>> import os
    >>> state = RandomState()
    >>> path = os.path.join(getfixture("tmpdir"), "random_state.ckpt")
    >>> state._save(path)
    >>> a = torch.rand(3)
    >>> state._recover(path, end_of_epoch=True)
    >>> torch.equal(torch.rand(3), a)
    True
    """

    @mark_as_saver
    def _save(self, path):
        """Saves every generator's state to ``path``."""
        torch.save(_random_state(), path)

    @mark_as_loader
    def _recover(self, path, end_of_epoch):
        """Restores the generators from ``path``."""
        del end_of_epoch  # the state is the same at any point
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:
            logger.warning(
                "Random state %s was not loaded: reading it would need "
                "pickle (a file of an earlier version, or from elsewhere), "
                "which could run code. The resumed run draws other random "
                "numbers than an uninterrupted one.",
                path,
            )
            return
        _set_random_state(state)


def _random_state():
    """The state of every generator, as plain data (see RandomState)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, words, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": (
            torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
        ),
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": {
            "version": int(version),
            "words": torch.tensor(words, dtype=torch.int64),
            "gauss_next": gauss_next,
        },
    }


def _set_random_state(state):
    """Restores the generators from :func:`_random_state`'s output."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    rng = state["numpy"]
    np.random.set_state(
        (
            rng["kind"],
            rng["keys"].numpy().astype(np.uint32),
            rng["pos"],
            rng["has_gauss"],
            rng["cached_gaussian"],
        )
    )
    rng = state["python"]
    words = tuple(int(w) for w in rng["words"].tolist())
    random.setstate((rng["version"], words, rng["gauss_next"]))
