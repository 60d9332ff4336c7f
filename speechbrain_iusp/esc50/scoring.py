"""Single-label scores: classification error and accuracy, per split.

Authors
 * speechbrain-iusp developers 2026
"""

import csv
import functools
import io

import torch

import speechbrain as sb
from speechbrain.nnet.losses import classification_error
from speechbrain.utils.distributed import if_main_process
from speechbrain.utils.metric_stats import MetricStats

from speechbrain_iusp.runtime import atomic_write_text

EVAL_SPLITS = ("validate", "test")


class ClassificationStats(MetricStats):
    """SpeechBrain's ``MetricStats`` of ``classification_error`` (per clip),
    summarised as ``error`` and ``accuracy``; keeps the probabilities.

    The :class:`~speechbrain_iusp.distill.DistillationBrain` appends
    ``(ids, softmax scores [B, C], class indices [B])`` on VALID and TEST.

    Example
    -------
    >>> stats = ClassificationStats()
    >>> probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> stats.append(["a", "b", "c"], probs, torch.tensor([0, 0, 0]))
    >>> summary = stats.summarize()
    >>> round(summary["error"], 4), round(summary["accuracy"], 4)
    (0.3333, 0.6667)
    >>> stats.predicted().tolist()
    [0, 1, 0]
    """

    def __init__(self):
        super().__init__(
            metric=functools.partial(classification_error, reduction="batch")
        )

    def clear(self):
        """Forgets every clip."""
        super().clear()
        self.probabilities = []
        self.targets = []

    def append(self, ids, scores, targets):
        """Adds a batch.

        Arguments
        ---------
        ids : list of str
            Clip ids.
        scores : torch.Tensor
            Class probabilities ``[B, C]``.
        targets : torch.Tensor
            Class indices ``[B]``.
        """
        super().append(ids, scores, targets)
        self.probabilities.append(scores.detach().float().cpu())
        self.targets.append(targets.detach().reshape(-1).cpu())

    def predicted(self):
        """The predicted class of every clip, in order."""
        return torch.cat(self.probabilities).argmax(dim=1)

    def summarize(self, field=None):
        """``error`` and ``accuracy`` (fractions) and ``n_clips``.

        Arguments
        ---------
        field : str, optional
            Return only this key.

        Returns
        -------
        dict or float
        """
        error = float(super().summarize("average"))
        out = {
            "error": error,
            "accuracy": 1.0 - error,
            "n_clips": len(self.ids),
        }
        return out if field is None else out[field]


def predictions_csv(stats, names, categories):
    """The predictions of a split as CSV text.

    Arguments
    ---------
    stats : ClassificationStats
        A finished stage's statistics.
    names : dict
        clip id -> audio file name.
    categories : list of str
        Class names by index.

    Returns
    -------
    str
        ``filename, target, predicted``, then one probability per class.

    Example
    -------
    >>> stats = ClassificationStats()
    >>> stats.append(["a"], torch.tensor([[0.25, 0.75]]), torch.tensor([1]))
    >>> print(predictions_csv(stats, {"a": "1-1-A-1.wav"}, ["dog", "cat"]))
    filename,target,predicted,dog,cat
    1-1-A-1.wav,cat,cat,0.250000,0.750000
    <BLANKLINE>
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["filename", "target", "predicted", *categories])
    probs = torch.cat(stats.probabilities)
    targets = torch.cat(stats.targets)
    for i, uid in enumerate(stats.ids):
        writer.writerow(
            [
                names[uid],
                categories[int(targets[i])],
                categories[int(probs[i].argmax())],
                *(f"{float(p):.6f}" for p in probs[i]),
            ]
        )
    return buf.getvalue()


def score_classification(brain, run, datasets, categories, loader_kwargs):
    """The best checkpoint on validate and test; writes the predictions.

    Arguments
    ---------
    brain : DistillationBrain
        The trained Brain (``metric_stats`` a :class:`ClassificationStats`).
    run : RunFolder
        The run's folder (its manifests name the clips).
    datasets : dict
        split -> dataset; the evaluation splits present are scored.
    categories : list of str
        Class names by index.
    loader_kwargs : dict
        Test dataloader options.

    Returns
    -------
    dict
        ``{split: {"error", "accuracy", "n_clips"}}``.
    """
    report = {}
    for split in EVAL_SPLITS:
        if split not in datasets:
            continue
        brain.evaluate(
            datasets[split], test_loader_kwargs=loader_kwargs, **brain.selection
        )
        stats = brain.last_metric_stats
        if if_main_process():
            names = {
                k: v["audio_filename"] for k, v in run.manifest(split).items()
            }
            atomic_write_text(
                run.predictions_path(split),
                predictions_csv(stats, names, categories),
            )
        sb.utils.distributed.ddp_barrier()
        report[split] = stats.summarize()
    return report
