"""A study's runs as records: keys, digests, the records kept in git.

A job is a JSON-able dict (so that an Optuna worker on another machine can
run it); a finished job leaves a small record (its metrics and test scores,
keyed by everything that determines the run) in the study's records folder,
and a stamp with the same key in its run folder.

Authors
 * speechbrain-iusp developers 2026
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from speechbrain_iusp.runs import RunFolder


def file_digest(path):
    """sha256 of a file (hex, first 16 characters)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fin:
        for block in iter(lambda: fin.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def model_digest(ckpt):
    """sha256 of a state dict's tensors (names, shapes and bytes)."""
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].contiguous()
        digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()[:16]


def corpus_digest(data_folder):
    """Fingerprint of a corpus: its annotations and its audio listing."""
    folder = Path(data_folder)
    digest = hashlib.sha256(file_digest(folder / "annotations.csv").encode())
    for wav in sorted(folder.glob("audio*/**/*.wav")):
        digest.update(
            f"{wav.relative_to(folder)}:{wav.stat().st_size}".encode()
        )
    return digest.hexdigest()[:16]


def record_ok(job):
    """The saved record of a job, if it was made with the same settings."""
    path = Path(job["record"])
    if not path.is_file():
        return None
    saved = json.loads(path.read_text())
    return saved if saved.get("key") == job["key"] else None


def run_folder(job):
    """The run folder of a job (as train.py names it)."""
    overrides = job["overrides"]
    return (
        Path(job["output_root"])
        / overrides["experiment_name"]
        / str(overrides["seed"])
    )


def recorded_score(job):
    """A job's recorded validate score, or None."""
    saved = record_ok(job)
    return None if saved is None else saved["validate"]["coarse"]["micro_auprc"]


def write_record(job, folder):
    """Keep what the report needs of a finished run (atomically)."""
    run = RunFolder(folder)
    metrics = run.metrics()
    y_true, scores = run.coarse_scores("test")
    record = {
        "key": job["key"],
        "name": job["name"],
        "hparams": job["hparams"],
        "overrides": {
            k: v
            for k, v in job["overrides"].items()
            if k not in ("teacher_folder", "data_folder")
        },
        "params": metrics.get("params"),
        "macs": metrics.get("macs_per_10s"),
        "validate": metrics["validate"],
        "test": metrics["test"],
        "test_truth": hashlib.sha256(y_true.tobytes()).hexdigest()[:16],
        "test_scores": np.round(scores, 6).tolist(),
        "folder": str(folder),
    }
    path = Path(job["record"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record))
    tmp.replace(path)
    truth = path.parent.parent / "test_truth.json"
    if not truth.is_file():
        truth.write_text(json.dumps(y_true.astype(int).tolist()))
    return record
