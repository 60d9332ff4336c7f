"""Single-label tasks in DistillationBrain, its batch contract, and the
single-label task loss against a float64 reference.

Authors
 * speechbrain-iusp developers 2026
"""

import functools
import math
import re

import pytest
import torch
from distill_toy import N_MELS, identity_features, make_hparams, make_student

import speechbrain as sb
from speechbrain.dataio.batch import PaddedBatch
from speechbrain.dataio.dataset import DynamicItemDataset
from speechbrain.nnet.losses import classification_error
from speechbrain.utils.metric_stats import MetricStats

from speechbrain_iusp.distill import DistillationBrain
from speechbrain_iusp.distill.batch import Task, read_batch
from speechbrain_iusp.losses import classification_loss

N_CLASSES = 4


# ------------------------------------------------------------ the task loss
def ref_cross_entropy(logits, targets, weight=None):
    """Loss and d loss / d logits by loops; targets are probability rows."""
    n = len(logits)
    weight = weight or [1.0] * n
    total_w = sum(weight)
    loss, grad = 0.0, []
    for b in range(n):
        top = max(logits[b])
        log_z = top + math.log(sum(math.exp(v - top) for v in logits[b]))
        p = [math.exp(v - log_z) for v in logits[b]]
        loss -= weight[b] * sum(
            t * (v - log_z) for v, t in zip(logits[b], targets[b], strict=True)
        )
        grad.append(
            [
                weight[b] * (pc * sum(targets[b]) - t) / total_w
                for pc, t in zip(p, targets[b], strict=True)
            ]
        )
    return loss / total_w, grad


@pytest.mark.parametrize("form", ["indices", "column", "probabilities"])
@pytest.mark.parametrize("weighted", [False, True])
def test_classification_loss_matches_reference(form, weighted):
    torch.manual_seed(0)
    logits = (torch.randn(6, 5, dtype=torch.float64) * 3).requires_grad_()
    classes = torch.tensor([0, 4, 2, 2, 1, 3])
    rows = torch.nn.functional.one_hot(classes, 5).double()
    if form == "probabilities":  # soft rows, as mixup makes them
        rows = 0.7 * rows + 0.3 * rows.roll(1, dims=0)
    targets = {
        "indices": classes,
        "column": classes[:, None],
        "probabilities": rows,
    }[form]
    weight = [1.0, 0.0, 2.0, 0.5, 1.0, 3.0] if weighted else None
    want, want_grad = ref_cross_entropy(logits.tolist(), rows.tolist(), weight)
    got = classification_loss(
        logits,
        targets,
        weight=None if weight is None else torch.tensor(weight),
    )
    assert got.dtype == torch.float64
    assert got.item() == pytest.approx(want, rel=1e-12)
    got.backward()
    assert torch.allclose(
        logits.grad, torch.tensor(want_grad, dtype=torch.float64), atol=1e-12
    )


def test_classification_loss_gradcheck():
    logits = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    soft = torch.softmax(torch.randn(3, 4, dtype=torch.float64), dim=1)
    assert torch.autograd.gradcheck(
        lambda z: classification_loss(z, soft, weight=torch.tensor([1, 2, 0])),
        (logits,),
    )


@pytest.mark.parametrize(
    "targets, weight, says",
    [
        (torch.tensor([0.0, 1.0]), None, "must be integer class indices"),
        (torch.tensor([0, 5]), None, "class 5 is out of range for 3"),
        (torch.zeros(2, 2), None, r"fit neither class indices \[2\]"),
        (torch.tensor([0, 1]), torch.ones(2, 3), r"one per example \(\[2\]\)"),
    ],
)
def test_classification_loss_refuses(targets, weight, says):
    with pytest.raises(ValueError, match=says):
        classification_loss(torch.zeros(2, 3), targets, weight=weight)


# -------------------------------------------------------- a single-label Brain
def make_classes(n_clips, seed, prefix="utt"):
    """Clips of ``[T, 16]`` features of one of 4 classes (index ``[1]``)."""
    gen = torch.Generator().manual_seed(seed)
    data = {}
    for i in range(n_clips):
        n = int(torch.randint(20, 33, (1,), generator=gen))
        feats = torch.randn(n, N_MELS, generator=gen)
        c = int(torch.randint(0, N_CLASSES, (1,), generator=gen))
        feats[:, 3 * c : 3 * c + 3] += 1.0
        data[f"{prefix}{i:03d}"] = {"sig": feats, "targets": torch.tensor([c])}
    dataset = DynamicItemDataset(data)
    dataset.set_output_keys(["id", "sig", "targets"])
    return dataset


def single_label_hparams(out_dir, student, teacher, epochs):
    """A user's single-label setup: error rate kept at its minimum."""
    return make_hparams(
        out_dir,
        student,
        epochs=epochs,
        task="classification",
        metric_stats=functools.partial(
            MetricStats,
            metric=functools.partial(classification_error, reduction="batch"),
        ),
        metric_mode=None,
        selection_key="average",
        selection_mode="min",
        logged_metrics=["average"],
        teacher=teacher,
        distill_terms=[
            {"name": "kd", "loss": "kd", "mode": "softmax", "temperature": 2},
            {"name": "iusp", "loss": "iusp", "weight": 10.0,
             "student_tap": "rnn", "teacher_tap": "rnn"},
        ],
    )  # fmt: skip


def test_single_label_brain_keeps_the_minimum_error(tmp_path, one_thread):
    train, valid = make_classes(24, 0), make_classes(16, 1, "val")
    student = make_student(seed=0, n_classes=N_CLASSES)
    teacher = make_student(seed=5, n_classes=N_CLASSES, rnn_hidden=12)
    hparams = single_label_hparams(tmp_path, student, teacher, epochs=4)
    brain = DistillationBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts={"device": "cpu"},
        checkpointer=hparams["checkpointer"],
    )
    loader = {"batch_size": 8}
    brain.fit(
        hparams["epoch_counter"],
        train,
        valid,
        train_loader_kwargs=loader,
        valid_loader_kwargs=loader,
    )
    log = (tmp_path / "train_log.txt").read_text()
    # Logged as the metric object reports it: an error rate in [0, 1].
    errors = [
        float(v) for v in re.findall(r"valid loss: \S+ .*?average: (\S+)", log)
    ]
    assert len(errors) == 4 and all(0.0 <= e <= 1.0 for e in errors), log
    assert brain.selection == {"min_key": "average"}
    best = hparams["checkpointer"].find_checkpoint(min_key="average")
    assert best.meta["average"] == pytest.approx(min(errors), abs=1e-4)
    brain.evaluate(valid, test_loader_kwargs=loader, **brain.selection)
    assert brain.last_stats["average"] == pytest.approx(min(errors), abs=1e-4)


def test_selection_mode_is_checked(tmp_path):
    hparams = make_hparams(tmp_path, make_student(), selection_mode="lowest")
    with pytest.raises(ValueError, match="'selection_mode' is 'lowest'"):
        DistillationBrain(
            modules=hparams["modules"],
            hparams=hparams,
            run_opts={"device": "cpu"},
        )


def test_selection_on_a_stage_value(tmp_path, one_thread):
    """``selection_key`` may name a logged stage value, e.g. ``task``."""
    train, valid = make_classes(16, 0), make_classes(8, 1, "val")
    student = make_student(seed=0, n_classes=N_CLASSES)
    hparams = make_hparams(
        tmp_path,
        student,
        epochs=2,
        task="classification",
        metric_stats=None,
        selection_key="task",
        selection_mode="min",
    )
    brain = DistillationBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts={"device": "cpu"},
        checkpointer=hparams["checkpointer"],
    )
    brain.fit(hparams["epoch_counter"], train, valid)
    tasks = [
        float(v)
        for v in re.findall(
            r"valid task: ([^,\s]+)",
            (tmp_path / "train_log.txt").read_text(),
        )
    ]
    best = hparams["checkpointer"].find_checkpoint(min_key="task")
    assert len(tasks) == 2
    assert best.meta["task"] == pytest.approx(min(tasks), rel=1e-2)


# ------------------------------------------------------- the batch contract
def _batch(**items):
    """A two-clip PaddedBatch from per-key value pairs."""
    keys = ["id", *items]
    rows = [
        {"id": name, **{k: v[i] for k, v in items.items()}}
        for i, name in enumerate(["a", "b"])
    ]
    return PaddedBatch(rows), keys


WAVS = [torch.randn(16), torch.randn(12)]


@pytest.mark.parametrize(
    "items, task, says",
    [
        (
            {"sig": WAVS, "targets": [torch.tensor([1]), torch.tensor([0])]},
            "tagging",
            "set task: classification",
        ),
        (
            {"sig": WAVS, "targets": [torch.tensor([1.5]), torch.tensor([0])]},
            "classification",
            "class indices must be integers",
        ),
        (
            {"sig": WAVS, "targets": [torch.tensor([1.0, 2.0])] * 2},
            "tagging",
            r"clip 'a', class 1 holds 2\.0; tagging targets are in \[0, 1\]",
        ),
        (
            {"sig": WAVS, "targets": ["dog", "cat"]},
            "classification",
            "holds strings .* CategoricalEncoder",
        ),
        (
            {"sig": WAVS},
            "classification",
            "batch.targets is missing",
        ),
        (
            {"wav": WAVS, "targets": [torch.tensor([1])] * 2},
            "classification",
            "neither 'sig' nor 'feats'",
        ),
        (
            {
                "sig": WAVS,
                "targets": [torch.tensor([1])] * 2,
                "target_weight": [torch.ones(3)] * 2,
            },
            "classification",
            r"target_weight has shape \[2, 3\]; .* must be \[2\]",
        ),
    ],
)
def test_batch_contract_refuses(items, task, says):
    batch, _ = _batch(**items)
    with pytest.raises(ValueError, match=says):
        read_batch(batch, Task(task), True)


def test_integer_lengths_are_refused():
    batch, _ = _batch(sig=WAVS, targets=[torch.tensor([1])] * 2)
    batch.sig = type(batch.sig)(batch.sig.data, torch.tensor([16.0, 12.0]))
    with pytest.raises(ValueError, match="clip 'a' has length 16.0; .*"):
        read_batch(batch, Task("classification"), True)


def test_waveforms_need_compute_features():
    batch, _ = _batch(sig=WAVS, targets=[torch.tensor([1])] * 2)
    with pytest.raises(ValueError, match="no 'compute_features'"):
        read_batch(batch, Task("classification"), False)


def _two_clips():
    """Two clips of toy features, classes 1 and 2 (``[1]`` each)."""
    return PaddedBatch(
        [
            {
                "id": i,
                "sig": torch.randn(n, N_MELS),
                "targets": torch.tensor([c]),
            }
            for i, n, c in (("a", 20, 1), ("b", 24, 2))
        ]
    )


def test_mixup_needs_class_probabilities(tmp_path):
    hparams = make_hparams(
        tmp_path,
        make_student(n_classes=N_CLASSES),
        task="classification",
        mixup_alpha=0.2,
        compute_features=identity_features,
    )
    brain = DistillationBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts={"device": "cpu"},
    )
    batch = _two_clips()
    with pytest.raises(ValueError, match="one-hot encode them"):
        brain.compute_forward(batch, sb.Stage.TRAIN)


class ThreeD(torch.nn.Module):
    """Logits ``[B, 1, C]`` as SpeechBrain's classifiers give them, or
    frame logits ``[B, T, C]`` (not clip logits)."""

    def __init__(self, frames=False):
        super().__init__()
        self.frames = frames
        self.linear = torch.nn.Linear(N_MELS, N_CLASSES)

    def forward(self, x, lengths=None):
        out = self.linear(x)
        return out if self.frames else out.mean(1, keepdim=True)


@pytest.mark.parametrize("frames", [False, True])
def test_clip_logits_b1c_are_squeezed_frame_logits_refused(tmp_path, frames):
    model = ThreeD(frames)
    hparams = make_hparams(tmp_path, model, task="classification")
    brain = DistillationBrain(
        modules=hparams["modules"],
        hparams=hparams,
        run_opts={"device": "cpu"},
    )
    batch = _two_clips()
    if frames:
        with pytest.raises(ValueError, match=r"logits of shape \[2, 24, 4\]"):
            brain.compute_forward(batch, sb.Stage.TRAIN)
        return
    out = brain.compute_forward(batch, sb.Stage.TRAIN)
    assert out["logits"].shape == (2, N_CLASSES)
    loss = brain.compute_objectives(out, batch, sb.Stage.TRAIN)
    want = classification_loss(out["logits"], torch.tensor([1, 2]))
    assert torch.equal(loss, want)


def test_a_users_task_loss_gets_class_indices(tmp_path):
    """SpeechBrain's nll_loss (on log-probabilities) works as a task loss."""
    from speechbrain.nnet.losses import nll_loss

    def task_loss(logits, targets, weight=None):
        assert targets.shape == (2,) and targets.dtype == torch.long
        return nll_loss(torch.log_softmax(logits, dim=-1), targets)

    hparams = make_hparams(
        tmp_path,
        ThreeD(),
        task="classification",
        task_loss=task_loss,
    )
    brain = DistillationBrain(
        modules=hparams["modules"],
        hparams=hparams,
        run_opts={"device": "cpu"},
    )
    batch = _two_clips()
    out = brain.compute_forward(batch, sb.Stage.TRAIN)
    loss = brain.compute_objectives(out, batch, sb.Stage.TRAIN)
    want = classification_loss(out["logits"], torch.tensor([1, 2]))
    torch.testing.assert_close(loss, want)
