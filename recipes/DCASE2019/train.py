#!/usr/bin/env python3
"""Recipe for distilling urban sound taggers on DCASE 2019 Task 5 (SONYC-UST).

It trains a teacher CRNN, or a student CRNN with the tagging loss plus
distillation terms (KD, SP, IUSP) from a frozen teacher, on log-mel features
computed on the fly. Model selection uses the validate split; the official
coarse and fine metrics are reported on validate and test, with prediction
CSVs in the official format.

Without ``--data_folder`` it generates the built-in corpus (a synthetic corpus
in the SONYC-UST layout, NOT the real data) on first use. A student run whose
teacher checkpoint is missing trains the teacher first with
``hparams/teacher.yaml``.

To run this recipe, do the following:
> python train.py hparams/iusp.yaml
> python train.py hparams/iusp.yaml --student_size tiny
> python train.py hparams/iusp.yaml --data_folder /path/to/SONYC-UST

Authors
 * speechbrain-iusp developers 2026
"""

import contextlib
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from hyperpyyaml import load_hyperpyyaml
from sonyc_ust_prepare import prepare_sonyc_ust

import speechbrain as sb
from speechbrain.utils.distributed import if_main_process, run_on_main

from speechbrain_iusp.demo import generate_corpus, read_corpus_info
from speechbrain_iusp.distill import DistillationBrain, load_teacher
from speechbrain_iusp.export import export_run
from speechbrain_iusp.features import FeatureCache
from speechbrain_iusp.models import count_params_macs
from speechbrain_iusp.runtime import (
    check_run_opts,
    die_with_parent,
    folder_lock,
    resolve_precision,
    tune_cpu_allocator,
)
from speechbrain_iusp.sonyc import (
    Taxonomy,
    prediction_columns,
    write_predictions_csv,
)
from speechbrain_iusp.sonyc.dataio import manifest_audio, sonyc_datasets

RECIPE_DIR = Path(__file__).resolve().parent

logger = logging.getLogger(__name__)

# Run options forwarded to the teacher run that a student run starts.
FORWARDED_RUN_OPTS = ("--device", "--precision", "--eval_precision")
FORWARDED_FLAGS = ("--debug", "--debug_persistently", "--noprogressbar")


def resolve_hparams_file(path):
    """Find a hparams file given relative to the cwd or to this recipe."""
    candidates = [Path(path), RECIPE_DIR / path]
    for cand in candidates:
        if cand.is_file():
            return str(cand)
    raise FileNotFoundError(
        f"Hyperparameter file '{path}' not found in the current folder "
        f"or in {RECIPE_DIR}. Use e.g. hparams/iusp.yaml."
    )


def resolve_data_folder(hparams):
    """Return the data folder, generating the built-in corpus if needed."""
    if hparams["data_folder"]:
        return hparams["data_folder"]
    folder = hparams["generated_corpus_folder"]
    if read_corpus_info(folder) is None:
        banner = "=" * 78
        logger.warning(
            "\n%s\nNo --data_folder given: generating the built-in corpus "
            "(synthetic urban sounds in the SONYC-UST layout, NOT the real "
            "SONYC-UST data) in %s.\nFor the real data pass --data_folder "
            "/path/to/SONYC-UST (or --download True).\n%s",
            banner,
            folder,
            banner,
        )
    else:
        logger.info("Using the generated corpus in %s", folder)
    # Reuses a complete corpus made with the same options.
    run_on_main(
        generate_corpus,
        kwargs={
            "out_dir": folder,
            "size": hparams["generated_corpus_size"],
            "seed": hparams["generated_corpus_seed"],
        },
    )
    return folder


def feature_cache(hparams):
    """The recipe's FeatureCache, or None when the features are computed
    every batch (``feature_cache: False``, or waveform augmentation)."""
    if not hparams["feature_cache"]:
        return None
    if hparams.get("wav_augment") is not None:
        logger.info(
            "Feature cache bypassed: wav_augment changes the waveforms "
            "every epoch, so the features are computed for every batch."
        )
        return None
    return FeatureCache(
        hparams["feature_cache_folder"],
        hparams["compute_features"],
        hparams["sample_rate"],
        memory_mb=hparams.get("feature_cache_memory_mb", 1024),
    )


def dataio_prep(hparams, manifests, data_folder):
    """Create the train/valid/test datasets from the JSON manifests.

    With the feature cache the datasets give ``feats`` (and ``feats_key``),
    computed once per clip and setting, before training; otherwise ``sig``,
    the waveform.
    """
    cache = feature_cache(hparams)
    if cache is not None:
        paths = [
            wav
            for path in manifests.values()
            for wav in manifest_audio(path, data_folder)
        ]
        run_on_main(cache.fill, args=[paths])
    return sonyc_datasets(manifests, data_folder, hparams["sample_rate"], cache)


def load_hparams(hparams_file, overrides):
    """Load a hparams file (relative to the cwd or to this recipe).

    Arguments
    ---------
    hparams_file : str
        E.g. ``hparams/iusp.yaml``.
    overrides : str or dict
        hyperpyyaml overrides, as returned by ``sb.parse_arguments``.

    Returns
    -------
    hparams_file : str
        The resolved path.
    hparams : dict
        The loaded hparams.
    """
    hparams_file = resolve_hparams_file(hparams_file)
    with open(hparams_file) as fin:
        hparams = load_hyperpyyaml(fin, overrides)
    return hparams_file, hparams


def teacher_ready(hparams):
    """True when the teacher run finished (it wrote its metrics.json)."""
    return (Path(hparams["teacher_folder"]) / "metrics.json").is_file()


def teacher_command(hparams, argv):
    """The train.py command that trains (or resumes) this run's teacher.

    The one definition of "the teacher of a student run": its hparams file,
    seed and folder come from the student's hparams (``teacher_*`` keys),
    and it shares the student's data and run options.

    Arguments
    ---------
    hparams : dict
        The student run's hparams (``data_folder`` already resolved).
    argv : list of str
        The student's command line; its run options are forwarded.

    Returns
    -------
    list of str
        The command.
    """
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        resolve_hparams_file(hparams["teacher_hparams_file"]),
        f"--data_folder={hparams['data_folder']}",
        f"--generated_corpus_folder={hparams['generated_corpus_folder']}",
        f"--output_root={hparams['output_root']}",
        f"--output_folder={hparams['teacher_folder']}",
        f"--seed={hparams['teacher_seed']}",
    ]
    return cmd + forwarded_options(argv)


def ensure_teacher(hparams, argv, run=None):
    """Train the teacher with teacher.yaml unless its run has finished.

    A teacher counts as ready when its run wrote ``metrics.json``; an
    interrupted teacher run is resumed from its last checkpoint (by the same
    command), never used half-trained. Runs that need the same teacher at
    the same time take turns (a lock next to the teacher folder): one trains
    it, the others wait and then use it. The teacher run started here dies
    with this process.

    Arguments
    ---------
    hparams : dict
        The student run's hparams.
    argv : list of str
        The student's command line (run options are forwarded).
    run : callable, optional
        Runs a command to its end (default: a child process that stops when
        this one dies).
    """
    folder = Path(hparams["teacher_folder"])
    if if_main_process() and not teacher_ready(hparams):
        step = folder.parent / f".{folder.name}.teacher_step"
        with folder_lock(step, wait=True, what="teacher training"):
            if not teacher_ready(hparams):
                logger.warning(
                    "No finished teacher run in %s: training the teacher "
                    "first with %s.",
                    folder,
                    hparams["teacher_hparams_file"],
                )
                (run or run_child)(teacher_command(hparams, argv))
    sb.utils.distributed.ddp_barrier()
    check_run_info(folder, hparams)


def run_child(cmd):
    """Runs a command to its end; it is stopped if this process dies."""
    with subprocess.Popen(cmd, preexec_fn=die_with_parent) as proc:
        try:
            code = proc.wait()
        except BaseException:  # KeyboardInterrupt, SystemExit: stop it too
            proc.terminate()
            proc.wait()
            raise
    if code != 0:
        raise subprocess.CalledProcessError(code, cmd)


def forwarded_options(argv):
    """Run options of this command that the teacher run must share."""
    out = []
    for i, arg in enumerate(argv):
        key = arg.split("=", 1)[0]
        if key in FORWARDED_FLAGS:
            out.append(arg)
        elif key in FORWARDED_RUN_OPTS:
            if "=" in arg:
                out.append(arg)
            elif i + 1 < len(argv):
                out += [arg, argv[i + 1]]
    return out


def run_info_path(output_folder):
    """Where a run records the data it was trained on."""
    return Path(output_folder) / "run_info.json"


def check_run_info(teacher_folder, hparams):
    """Refuse a teacher trained on other data than this run's.

    A teacher trained on a bigger corpus whose validate and test splits are
    this run's (``shares_eval_with`` in its ``run_info.json``, which the
    study runner writes after checking the splits) is accepted.
    """
    path = run_info_path(teacher_folder)
    if not path.exists():
        return
    info = json.loads(path.read_text())
    theirs = os.path.abspath(info.get("data_folder", ""))
    ours = os.path.abspath(hparams["data_folder"])
    shared = {os.path.abspath(p) for p in info.get("shares_eval_with", [])}
    if theirs != ours and ours in shared:
        logger.info(
            "The teacher in %s was trained on %s, which has the validate and "
            "test splits of %s and more train clips.",
            teacher_folder,
            theirs,
            ours,
        )
    elif theirs != ours:
        raise RuntimeError(
            f"The teacher in {teacher_folder} was trained on {theirs}, but "
            f"this run uses {ours}. Pass --output_root to keep runs on "
            "different data apart, or --teacher_folder to pick a teacher."
        )


def write_reports(brain, hparams, datasets, manifests):
    """Evaluate the best checkpoint; write predictions and the metrics.

    Each split is scored once, from the scores the Brain collected; the
    prediction CSVs hold the same scores in the official format.
    """
    taxonomy = Taxonomy()
    labels = prediction_columns(taxonomy)
    out = Path(hparams["output_folder"])
    report = {}
    for name in ("validate", "test"):
        if name not in datasets:
            continue
        brain.evaluate(
            datasets[name],
            max_key=hparams["selection_key"],
            test_loader_kwargs=hparams["test_dataloader_options"],
        )
        stats = brain.last_metric_stats
        with open(manifests[name]) as fin:
            files = {k: v["audio_filename"] for k, v in json.load(fin).items()}
        if if_main_process():
            write_predictions_csv(
                out / f"predictions_{name}.csv",
                [files[i] for i in stats.ids],
                stats.scores,
                labels,
                taxonomy,
            )
        sb.utils.distributed.ddp_barrier()
        report[name] = {}
        for mode in ("coarse", "fine"):
            result = stats.summarize(mode=mode)
            result.update(mode=mode, split=name, n_clips=len(stats.ids))
            report[name][mode] = result
    return report


def main(argv):
    """Run one experiment (teacher, baseline or distilled student)."""
    start = time.time()
    tune_cpu_allocator()
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
    check_run_opts(run_opts)
    sb.utils.distributed.ddp_init_group(run_opts)
    hparams_file, hparams = load_hparams(hparams_file, overrides)
    resolve_precision(hparams, run_opts)
    lock = (
        folder_lock(hparams["output_folder"])
        if if_main_process()
        else contextlib.nullcontext()
    )
    with lock:
        return run(hparams_file, run_opts, overrides, hparams, argv, start)


def run(hparams_file, run_opts, overrides, hparams, argv, start):
    """One experiment, in its locked output folder (see :func:`main`)."""
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=hparams_file,
        overrides=overrides,
    )

    data_folder = resolve_data_folder(hparams)
    hparams["data_folder"] = data_folder
    run_on_main(
        prepare_sonyc_ust,
        kwargs={
            "data_folder": data_folder,
            "save_folder": hparams["save_folder"],
            "download": hparams["download"],
            "version": hparams["version"],
            "bad_audio": hparams["bad_audio"],
        },
    )
    # Every process reads the manifest paths (the preparation is done).
    manifests = prepare_sonyc_ust(
        data_folder=data_folder,
        save_folder=hparams["save_folder"],
        skip_prep=True,
    )
    datasets = dataio_prep(hparams, manifests, data_folder)

    teacher = hparams.get("teacher")
    if teacher is not None:
        ensure_teacher(hparams, argv)
        load_teacher(
            teacher,
            Path(hparams["teacher_folder"]) / "save",
            max_key=hparams["selection_key"],
        )

    if if_main_process():
        info = {
            "data_folder": os.path.abspath(data_folder),
            "hparams_file": hparams_file,
            "overrides": overrides,
            "precision": hparams.get("precision", "fp32"),
        }
        run_info_path(hparams["output_folder"]).write_text(
            json.dumps(info, indent=2)
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

    report = write_reports(brain, hparams, datasets, manifests)
    clip = torch.zeros(1, 10 * hparams["sample_rate"])
    n_frames = hparams["compute_features"](clip).shape[1]
    size = count_params_macs(
        hparams["model"], n_mels=hparams["n_mels"], n_frames=n_frames
    )
    report.update(
        params=size["params"],
        macs_per_10s=size["macs"],
        wall_time_s=round(time.time() - start, 1),
    )
    if if_main_process():
        path = Path(hparams["output_folder"]) / "metrics.json"
        path.write_text(json.dumps(report, indent=2))
        logger.info("Metrics written to %s", path)
        model_dir = Path(hparams["output_folder"]) / "model"
        export_run(
            hparams["output_folder"],
            model_dir,
            save_folder=hparams["checkpointer"].checkpoints_dir,
        )
        logger.info(
            "Model folder written to %s. Tag a recording with it:\n"
            "  python -m speechbrain_iusp.tag --model %s RECORDING.wav",
            model_dir,
            model_dir,
        )
        for split in ("validate", "test"):
            if split in report:
                c = report[split]["coarse"]
                logger.info(
                    "%s coarse: micro-AUPRC %.4f, macro-AUPRC %.4f, "
                    "micro-F1 %.4f",
                    split,
                    c["micro_auprc"],
                    c["macro_auprc"],
                    c["micro_f1"],
                )
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
