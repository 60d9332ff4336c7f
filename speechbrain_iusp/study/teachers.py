"""Teacher runs of a study: bigger generated corpora and ensembles.

Authors
 * speechbrain-iusp developers 2026
"""

import csv
import shutil
from pathlib import Path

import numpy as np
import torch

from speechbrain_iusp.runs import RunFolder
from speechbrain_iusp.runs.hparams import load_hparams
from speechbrain_iusp.sonyc.taxonomy import AUDIO_DIRS
from speechbrain_iusp.study.records import file_digest


def _eval_rows(folder):
    """Annotation rows and audio files of a corpus's non-train splits."""
    folder = Path(folder)
    train = list(AUDIO_DIRS)[0]
    with open(folder / "annotations.csv", newline="") as fin:
        rows = sorted(
            tuple(row.values())
            for row in csv.DictReader(fin)
            if row["split"] != train
        )
    wavs = sorted(
        (str(w.relative_to(folder)), file_digest(w))
        for split in list(AUDIO_DIRS)[1:]
        for w in (folder / AUDIO_DIRS[split]).glob("*.wav")
    )
    return rows, wavs


def check_superset(study_data, teacher_data):
    """Refuse a teacher corpus whose validate/test split is not the study's,
    or whose train split lacks a study train clip."""
    if _eval_rows(study_data) != _eval_rows(teacher_data):
        raise SystemExit(
            f"{teacher_data}: its validate/test clips or annotations differ "
            f"from the study corpus {study_data}; delete {teacher_data} so "
            "that it is generated again"
        )
    train_dir = AUDIO_DIRS[list(AUDIO_DIRS)[0]]
    ours = {w.name for w in (Path(study_data) / train_dir).glob("*.wav")}
    theirs = {w.name for w in (Path(teacher_data) / train_dir).glob("*.wav")}
    if ours - theirs:
        raise SystemExit(
            f"{teacher_data}: lacks study train clips such as "
            f"{sorted(ours - theirs)[0]}; delete it so that it is generated "
            "again"
        )


def build_ensemble_run(members, folder, data_folder, teacher_hparams):
    """A teacher run folder for an ensemble of finished teacher runs.

    It holds what a student run needs of a teacher run: a checkpoint of the
    :class:`~speechbrain_iusp.models.TeacherEnsemble` in ``save/`` (students
    load it with ``--teacher_members N``), ``model/model.ckpt``, the
    ensemble's predictions (the mean of the members' probabilities, which is
    what the ensemble computes) and ``metrics.json`` scored from them with
    the official metrics.

    Arguments
    ---------
    members : list of str
        Finished teacher run folders (teacher preset).
    folder : Path
        The ensemble's run folder.
    data_folder : str
        The data the members were trained on (``annotations.csv``).
    teacher_hparams : str
        The members' hparams file (``hparams/teacher.yaml``).
    """
    from speechbrain.utils.checkpoints import Checkpointer

    from speechbrain_iusp.evaluate import evaluate_files
    from speechbrain_iusp.models import teacher_model
    from speechbrain_iusp.sonyc import prediction_columns

    members = [RunFolder(m) for m in members]
    hp = load_hparams(teacher_hparams)
    ens = teacher_model(
        "teacher",
        members=len(members),
        n_mels=hp["n_mels"],
        n_classes=hp["n_classes"],
    )
    for member, run in zip(ens.members, members, strict=True):
        state = torch.load(
            run.model / "model.ckpt", map_location="cpu", weights_only=True
        )
        member.load_state_dict(state)
    run = RunFolder(folder)
    run.model.mkdir(parents=True, exist_ok=True)
    metrics = {}
    for split in ("validate", "test"):
        names, columns = None, []
        for member in members:
            got, fine, coarse = member.predictions(split)
            order = np.argsort(got)
            names = [got[i] for i in order]
            columns.append(np.concatenate([fine, coarse], axis=1)[order])
        run.write_predictions(
            split, names, np.mean(columns, axis=0), prediction_columns()
        )
        annotations = Path(data_folder) / "annotations.csv"
        metrics[split] = {
            mode: evaluate_files(
                run.predictions_path(split), annotations, mode=mode, split=split
            )
            for mode in ("coarse", "fine")
        }
    sizes = [member.metrics() for member in members]
    metrics.update(
        params=sum(m["params"] for m in sizes),
        macs_per_10s=sum(m["macs_per_10s"] for m in sizes),
        members=[str(m.path) for m in members],
    )
    shutil.copytree(
        members[0].save,
        run.save,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("CKPT*"),
    )
    Checkpointer(str(run.save), {"model": ens}).save_checkpoint(
        meta={"micro_auprc": metrics["validate"]["coarse"]["micro_auprc"]}
    )
    torch.save(ens.state_dict(), run.model / "model.ckpt")
    info = members[0].info()
    info.update(data_folder=str(data_folder), members=metrics["members"])
    run.write_info(**info)
    run.write_metrics(metrics)
