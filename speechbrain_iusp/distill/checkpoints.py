"""Checkpoint repair: set aside the half-written checkpoints of a killed run.

Authors
 * speechbrain-iusp developers 2026
"""

import logging
import zipfile
from pathlib import Path

import yaml

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
        if path.stat().st_size == 0:
            return f"empty {path.name}"
        with open(path, "rb") as fin:
            is_zip_header = fin.read(4) == b"PK\x03\x04"
        if is_zip_header and not zipfile.is_zipfile(path):
            return f"truncated {path.name}"
    return None
