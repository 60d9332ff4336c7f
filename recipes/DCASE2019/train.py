#!/usr/bin/env python3
"""Recipe for distilling urban sound taggers on DCASE 2019 Task 5 (SONYC-UST).

It trains a teacher CRNN, or a student CRNN with the tagging loss plus
distillation terms (KD, SP, IUSP) from a frozen teacher, on log-mel features.
Model selection uses the validate split; the official coarse and fine
metrics are reported on validate and test, with prediction CSVs in the
official format, and the run ends with a self-contained model folder.

Without ``--data_folder`` it generates the built-in corpus (a synthetic corpus
in the SONYC-UST layout, NOT the real data) on first use. A student run whose
teacher run has not finished trains the teacher first with
``hparams/teacher.yaml``.

To run this recipe, do the following:
> python train.py hparams/iusp.yaml
> python train.py hparams/iusp.yaml --student_size tiny
> python train.py hparams/iusp.yaml --data_folder /path/to/SONYC-UST

Authors
 * speechbrain-iusp developers 2026
"""

import logging
import os
import sys
import time
from pathlib import Path

import torch

import speechbrain as sb
from speechbrain.utils.distributed import if_main_process, run_on_main

from speechbrain_iusp.demo import ensure_generated_corpus
from speechbrain_iusp.distill import DistillationBrain
from speechbrain_iusp.export import export_run
from speechbrain_iusp.features import feature_cache_from_hparams
from speechbrain_iusp.models import count_params_macs
from speechbrain_iusp.runs import RunFolder, TeacherRun, eval_digest
from speechbrain_iusp.runs.hparams import resolved_text
from speechbrain_iusp.runs.launch import run_recipe
from speechbrain_iusp.runs.scoring import score_splits
from speechbrain_iusp.runs.teacher import teacher_command
from speechbrain_iusp.sonyc.dataio import manifest_audio, sonyc_datasets
from speechbrain_iusp.sonyc.prepare import prepare_sonyc_ust

RECIPE_DIR = Path(__file__).resolve().parent

logger = logging.getLogger(__name__)


def resolve_data_folder(hparams):
    """``data_folder``, or the generated corpus (made on first use)."""
    if not hparams["data_folder"]:
        hparams["data_folder"] = hparams["generated_corpus_folder"]
        run_on_main(
            ensure_generated_corpus,
            args=[hparams["data_folder"]],
            kwargs={
                "size": hparams["generated_corpus_size"],
                "seed": hparams["generated_corpus_seed"],
            },
        )
    return hparams["data_folder"]


def dataio_prep(hparams):
    """Prepare the data; the manifests and the train/valid/test datasets.

    With the feature cache the datasets give ``feats``, computed once per
    clip and setting before training; otherwise ``sig``, the waveform.
    """
    data_folder = resolve_data_folder(hparams)
    prepare = {
        "data_folder": data_folder,
        "save_folder": hparams["save_folder"],
    }
    run_on_main(
        prepare_sonyc_ust,
        kwargs={
            **prepare,
            "download": hparams["download"],
            "version": hparams["version"],
            "bad_audio": hparams["bad_audio"],
        },
    )
    # Every process reads the manifest paths (the preparation is done).
    manifests = prepare_sonyc_ust(**prepare, skip_prep=True)
    cache = feature_cache_from_hparams(hparams)
    if cache is not None:
        paths = [
            wav
            for path in manifests.values()
            for wav in manifest_audio(path, data_folder)
        ]
        run_on_main(cache.fill, args=[paths])
    datasets = sonyc_datasets(
        manifests, data_folder, hparams["sample_rate"], cache
    )
    return manifests, datasets


def main(argv):
    """Run one experiment (teacher, baseline or distilled student)."""
    return run_recipe(argv, RECIPE_DIR, run)


def run(hparams_file, run_opts, overrides, hparams, argv, start):
    """One experiment, in its locked output folder (see :func:`main`)."""
    sb.create_experiment_directory(hparams["output_folder"])
    folder = RunFolder(hparams["output_folder"])
    if if_main_process():
        text = resolved_text(hparams_file, overrides, [RECIPE_DIR / "hparams"])
        folder.write_hparams(text, hparams_file)
    manifests, datasets = dataio_prep(hparams)
    eval_splits = eval_digest(manifests)

    if hparams.get("teacher") is not None:
        command = teacher_command(__file__, hparams, argv)
        teacher = TeacherRun(hparams["teacher_folder"], command)
        teacher.ensure()
        teacher.check_fits(eval_splits)
        teacher.load(hparams["teacher"], hparams["selection_key"])

    if if_main_process():
        folder.write_info(
            data_folder=os.path.abspath(hparams["data_folder"]),
            hparams_file=hparams_file,
            overrides=overrides,
            precision=hparams.get("precision", "fp32"),
            eval_splits=eval_splits,
        )

    brain = DistillationBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    brain.fit(
        hparams["epoch_counter"],
        datasets["train"],
        datasets["validate"],
        train_loader_kwargs=hparams["train_dataloader_options"],
        valid_loader_kwargs=hparams["test_dataloader_options"],
    )

    report = score_splits(
        brain,
        folder,
        datasets,
        hparams["selection_key"],
        hparams["test_dataloader_options"],
    )
    n_frames = hparams["compute_features"](
        torch.zeros(1, 10 * hparams["sample_rate"])
    ).shape[1]
    size = count_params_macs(
        hparams["model"], n_mels=hparams["n_mels"], n_frames=n_frames
    )
    report.update(
        params=size["params"],
        macs_per_10s=size["macs"],
        wall_time_s=round(time.time() - start, 1),
    )
    if if_main_process():
        folder.write_metrics(report)
        logger.info("Metrics written to %s", folder.metrics_path)
        export_run(
            folder.path,
            folder.model,
            save_folder=hparams["checkpointer"].checkpoints_dir,
        )
        logger.info(
            "Model folder written to %s. Tag a recording with it:\n"
            "  python -m speechbrain_iusp.tag --model %s RECORDING.wav",
            folder.model,
            folder.model,
        )
        for split in ("validate", "test"):
            c = report[split]["coarse"]
            logger.info(
                "%s coarse: micro-AUPRC %.4f, macro-AUPRC %.4f, micro-F1 %.4f",
                split,
                c["micro_auprc"],
                c["macro_auprc"],
                c["micro_f1"],
            )
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
