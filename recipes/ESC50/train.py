#!/usr/bin/env python3
"""Recipe for distilling environmental sound classifiers on ESC-50.

It trains an ECAPA-TDNN teacher, or a small 1-D conv student with
cross-entropy plus distillation terms (softmax KD, SP, IUSP between
``[B, C, T]`` maps) from the frozen teacher, on log-mels. The checkpoint of
the lowest validation error is kept; the error and accuracy on the
validation and test folds go to ``metrics.json``, the class probabilities
to ``predictions_{validate,test}.csv``.

Without ``--data_folder`` it uses the built-in stand-in, generated on first
use: SYNTHETIC clips in the ESC-50 layout, NOT ESC-50 (the teacher's has 4x
the students' train clips and the same validation and test clips). A
student run whose teacher run has not finished trains the teacher first
with ``hparams/teacher.yaml``.

To run this recipe, do the following:
> python train.py hparams/iusp.yaml
> python train.py hparams/iusp.yaml --data_folder /path/to/ESC-50 \
      --n_classes 50

Authors
 * speechbrain-iusp developers 2026
"""

import json
import logging
import os
import sys
import time
from pathlib import Path

import speechbrain as sb
from speechbrain.utils.distributed import if_main_process, run_on_main

from speechbrain_iusp.demo.esc50_standin import ensure_standin
from speechbrain_iusp.distill import DistillationBrain, load_teacher
from speechbrain_iusp.esc50 import (
    esc50_datasets,
    find_release,
    label_encoder,
    manifest_audio,
    prepare_esc50,
    resolve_folds,
    score_classification,
)
from speechbrain_iusp.features import feature_cache_from_hparams
from speechbrain_iusp.models import count_params
from speechbrain_iusp.runs import RunFolder, TeacherRun, eval_digest
from speechbrain_iusp.runs.hparams import resolved_text
from speechbrain_iusp.runs.launch import run_recipe
from speechbrain_iusp.runs.teacher import teacher_command

RECIPE_DIR = Path(__file__).resolve().parent
STANDIN = "built-in stand-in (synthetic, NOT ESC-50)"
# Settings a student hands on to the teacher it trains (the stand-in's
# only without data_folder; the teacher keeps its own train_factor).
TEACHER_SHARES = ("n_classes", "test_fold", "valid_fold", "train_folds")
STANDIN_SHARES = (
    "standin_eval_per_class",
    "standin_train_per_class",
    "standin_seconds",
    "standin_seed",
)

logger = logging.getLogger(__name__)


def student_teacher_command(hparams, argv):
    """The command that trains this student's teacher (same folds, same
    classes; the teacher's own stand-in when there is no data_folder)."""
    shared = TEACHER_SHARES
    if not hparams["data_folder"]:
        shared += STANDIN_SHARES
    cmd = teacher_command(__file__, hparams, argv)
    cmd += [f"--{k}={json.dumps(hparams[k])}" for k in shared]
    if not hparams["data_folder"]:
        cmd.append(f"--standin_folder={hparams['teacher_standin_folder']}")
    return cmd


def resolve_data_folder(hparams):
    """``data_folder``, or the stand-in (generated on first use)."""
    if hparams["data_folder"]:
        return hparams["data_folder"], "ESC-50"
    folds = resolve_folds(
        hparams["test_fold"], hparams["valid_fold"], hparams["train_folds"]
    )
    options = {
        "eval_per_class": hparams["standin_eval_per_class"],
        "train_per_class": hparams["standin_train_per_class"],
        "train_factor": hparams["standin_train_factor"],
        "train_folds": folds["train"],
        "seconds": hparams["standin_seconds"],
        "sample_rate": hparams["sample_rate"],
        "seed": hparams["standin_seed"],
    }
    run_on_main(
        ensure_standin, args=[hparams["standin_folder"]], kwargs=options
    )
    hparams["data_folder"] = hparams["standin_folder"]
    return hparams["data_folder"], STANDIN


def dataio_prep(hparams):
    """The manifests, datasets and label encoder of the run's folds."""
    data_folder, label = resolve_data_folder(hparams)
    save = hparams["save_folder"]
    folds = {k: hparams[k] for k in ("test_fold", "valid_fold", "train_folds")}
    download = {
        "download": hparams["download"],
        "url": hparams["download_url"],
        "md5": hparams["download_md5"],
    }
    run_on_main(
        prepare_esc50,
        kwargs={"data_folder": data_folder, "save_folder": save}
        | folds
        | download,
    )
    manifests = prepare_esc50(data_folder, save, skip_prep=True)
    release = find_release(data_folder)
    encoder = label_encoder(
        manifests, Path(save) / "label_encoder.txt", hparams["n_classes"]
    )
    cache = feature_cache_from_hparams(hparams)
    if cache is not None:
        run_on_main(cache.fill, args=[manifest_audio(manifests, release)])
    datasets = esc50_datasets(
        manifests, release, hparams["sample_rate"], encoder, cache
    )
    return manifests, datasets, encoder, label


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
    distilled = hparams.get("teacher") is not None
    command = student_teacher_command(hparams, argv) if distilled else None
    manifests, datasets, encoder, data_label = dataio_prep(hparams)
    eval_splits = eval_digest(manifests)
    selection = {f"{hparams['selection_mode']}_key": hparams["selection_key"]}

    if distilled:
        teacher = TeacherRun(hparams["teacher_folder"], command)
        teacher.ensure()
        teacher.check_fits(eval_splits)
        load_teacher(hparams["teacher"], teacher.run.save, **selection)

    if if_main_process():
        folder.write_info(
            data_folder=os.path.abspath(hparams["data_folder"]),
            data=data_label,
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

    categories = [encoder.ind2lab[i] for i in range(len(encoder))]
    report = score_classification(
        brain,
        folder,
        datasets,
        categories,
        hparams["test_dataloader_options"],
    )
    report.update(
        data=data_label,
        n_train_clips=len(datasets["train"]),
        params=count_params(hparams["model"]),
        wall_time_s=round(time.time() - start, 1),
    )
    if if_main_process():
        folder.write_metrics(report)
        for split in ("validate", "test"):
            logger.info(
                "%s: accuracy %.2f%% (%d clips; data: %s)",
                split,
                100 * report[split]["accuracy"],
                report[split]["n_clips"],
                data_label,
            )
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
