"""The end of a run: its best checkpoint scored on each evaluation split.

Authors
 * speechbrain-iusp developers 2026
"""

import speechbrain as sb
from speechbrain.utils.distributed import if_main_process

from speechbrain_iusp.runs.folder import EVAL_SPLITS
from speechbrain_iusp.sonyc import Taxonomy, prediction_columns


def score_splits(brain, run, datasets, selection_key, loader_kwargs):
    """Scores the best checkpoint on validate and test; writes predictions.

    Each split is scored once, from the scores the Brain collected in its
    :class:`~speechbrain_iusp.sonyc.AUPRCStats`; the run's prediction CSVs
    hold the same scores in the official format.

    Arguments
    ---------
    brain : DistillationBrain
        The trained Brain (its checkpointer holds the run's checkpoints).
    run : RunFolder
        The run's folder (its manifests name the clips).
    datasets : dict
        Split name -> dataset; the evaluation splits present are scored.
    selection_key : str
        The checkpoint meta key to maximise.
    loader_kwargs : dict
        Test dataloader options.

    Returns
    -------
    dict
        ``{split: {"coarse": metrics, "fine": metrics}}``.
    """
    taxonomy = Taxonomy()
    labels = prediction_columns(taxonomy)
    report = {}
    for split in EVAL_SPLITS:
        if split not in datasets:
            continue
        brain.evaluate(
            datasets[split],
            max_key=selection_key,
            test_loader_kwargs=loader_kwargs,
        )
        stats = brain.last_metric_stats
        files = {k: v["audio_filename"] for k, v in run.manifest(split).items()}
        if if_main_process():
            run.write_predictions(
                split, [files[i] for i in stats.ids], stats.scores, labels
            )
        sb.utils.distributed.ddp_barrier()
        report[split] = {}
        for mode in ("coarse", "fine"):
            result = stats.summarize(mode=mode)
            result.update(mode=mode, split=split, n_clips=len(stats.ids))
            report[split][mode] = result
    return report
