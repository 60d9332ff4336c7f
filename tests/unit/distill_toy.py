"""A tiny learnable tagging problem for the distillation Brain tests.

Random "log-mel" features where each of 8 tags raises two frequency bins in
some frames; an identity ``compute_features`` feeds them to tiny CRNNs. Shared
by ``test_distill.py`` and the torchrun script ``ddp_distill_script.py``.

Authors
 * speechbrain-iusp developers 2026
"""

import functools

import torch

from speechbrain.dataio.dataset import DynamicItemDataset
from speechbrain.utils.checkpoints import Checkpointer
from speechbrain.utils.epoch_loop import EpochCounter
from speechbrain.utils.train_logger import FileTrainLogger

from speechbrain_iusp.models import CRNN
from speechbrain_iusp.sonyc.metrics import AUPRCStats
from speechbrain_iusp.sonyc.taxonomy import Taxonomy

N_MELS = 16
N_CLASSES = 8


def identity_features(wavs):
    """The toy data already holds features: ``compute_features`` is id."""
    return wavs


def make_dataset(
    n_clips, seed, min_frames=20, max_frames=32, prefix="utt", key="sig"
):
    """Clips of ``[T, 16]`` features with 1-3 of 8 tags each.

    Arguments
    ---------
    n_clips : int
        Number of clips.
    seed : int
        Random seed.
    min_frames : int
        Shortest clip.
    max_frames : int
        Longest clip.
    prefix : str
        ID prefix.
    key : str
        ``sig`` (inputs the Brain featurises, here with the identity) or
        ``feats`` (features, as from a feature cache, with a ``feats_key``
        per clip).

    Returns
    -------
    DynamicItemDataset
        With output keys ``id``, ``sig`` or ``feats`` (+ ``feats_key``),
        ``targets``, ``target_weight``.
    """
    gen = torch.Generator().manual_seed(seed)
    data = {}
    for i in range(n_clips):
        n = int(torch.randint(min_frames, max_frames + 1, (1,), generator=gen))
        feats = torch.randn(n, N_MELS, generator=gen)
        targets = torch.zeros(N_CLASSES)
        n_tags = int(torch.randint(1, 4, (1,), generator=gen))
        for c in torch.randperm(N_CLASSES, generator=gen)[:n_tags].tolist():
            targets[c] = 1.0
            frames = torch.rand(n, generator=gen) < 0.5
            feats[frames, 2 * c : 2 * c + 2] += 3.0
        data[f"{prefix}{i:03d}"] = {
            key: feats,
            "feats_key": f"key-{prefix}{i:03d}",
            "targets": targets,
            "target_weight": torch.ones(N_CLASSES),
        }
    dataset = DynamicItemDataset(data)
    keys = [key] + (["feats_key"] if key == "feats" else [])
    dataset.set_output_keys(["id", *keys, "targets", "target_weight"])
    return dataset


def make_student(seed=0, **kw):
    """A tiny CRNN student (x2 time pooling, bidirectional GRU)."""
    torch.manual_seed(seed)
    args = {
        "n_mels": N_MELS,
        "n_classes": N_CLASSES,
        "conv_channels": (4, 8),
        "time_pool": (2, 1),
        "freq_pool": (2, 2),
        "rnn_hidden": 8,
        "dropout": 0.0,
    }
    args.update(kw)
    return CRNN(**args)


def make_teacher(seed=1):
    """A (larger) CRNN teacher with the same frame rate at ``rnn``."""
    torch.manual_seed(seed)
    return CRNN(
        n_mels=N_MELS,
        n_classes=N_CLASSES,
        conv_channels=(8, 16),
        time_pool=(2, 1),
        freq_pool=(2, 2),
        rnn_hidden=12,
        dropout=0.1,
    )


def make_hparams(out_dir, model, epochs=2, lr=0.01, **extra):
    """hparams dict of a recipe-like run writing under ``out_dir``.

    Arguments
    ---------
    out_dir : str
        Experiment folder (``save``, ``train_log.txt``).
    model : torch.nn.Module
        The trained model.
    epochs : int
        Epoch limit.
    lr : float
        Adam learning rate.
    **extra
        More hparams (teacher, distill_terms, ...).

    Returns
    -------
    dict
        hparams including ``modules``, ``opt_class``, ``checkpointer``.
    """
    counter = EpochCounter(epochs)
    hparams = {
        "compute_features": identity_features,
        "epoch_counter": counter,
        "train_logger": FileTrainLogger(f"{out_dir}/train_log.txt"),
        "metric_stats": functools.partial(AUPRCStats, Taxonomy().coarse_labels),
        "metric_mode": "coarse",
        "selection_key": "micro_auprc",
        "logged_metrics": ["micro_auprc", "macro_auprc", "micro_f1"],
        "modules": {"model": model},
        "opt_class": functools.partial(torch.optim.Adam, lr=lr),
        "checkpointer": Checkpointer(
            f"{out_dir}/save", {"model": model, "counter": counter}
        ),
    }
    hparams.update(extra)
    return hparams
