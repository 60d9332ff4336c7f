"""A recipe of its own, outside the package's models: SpeechBrain's
ECAPA-TDNN teacher, tapped at ``[B, C, T]`` blocks by module path, distils a
1-D conv student with IUSP through the teacher cache, single-label.

Authors
 * speechbrain-iusp developers 2026
"""

import functools

import pytest
import torch

from speechbrain.dataio.dataset import DynamicItemDataset
from speechbrain.lobes.models.ECAPA_TDNN import ECAPA_TDNN
from speechbrain.utils.checkpoints import Checkpointer
from speechbrain.utils.epoch_loop import EpochCounter
from speechbrain.utils.train_logger import FileTrainLogger

from speechbrain_iusp.distill import DistillationBrain
from speechbrain_iusp.esc50 import ClassificationStats
from speechbrain_iusp.models import ConvClassifier, EcapaClassifier

N_MELS, N_CLASSES = 12, 3

pytestmark = pytest.mark.usefixtures("one_thread")


class Teacher(torch.nn.Module):
    """A user's teacher: ECAPA-TDNN and a linear head."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.ecapa = ECAPA_TDNN(
            N_MELS,
            channels=[8, 8, 8, 8, 24],
            lin_neurons=8,
            attention_channels=4,
            res2net_scale=2,
            se_channels=4,
        )
        self.head = torch.nn.Linear(8, N_CLASSES)

    def forward(self, x, lengths=None):
        return self.head(self.ecapa(x, lengths).squeeze(1))


class Student(torch.nn.Module):
    """A user's student: one dilated conv block ``[B, C, T]``."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Sequential(
            torch.nn.Conv1d(N_MELS, 6, 3, padding=2, dilation=2),
            torch.nn.ReLU(),
        )
        self.head = torch.nn.Linear(6, N_CLASSES)

    def forward(self, x, lengths=None):
        return self.head(self.conv(x.transpose(1, 2)).mean(-1))


def dataset(n, seed, prefix):
    """Ragged clips whose class raises four bands."""
    gen = torch.Generator().manual_seed(seed)
    data = {}
    for i in range(n):
        frames = int(torch.randint(14, 21, (1,), generator=gen))
        target = i % N_CLASSES
        feats = torch.randn(frames, N_MELS, generator=gen)
        feats[:, 4 * target : 4 * target + 4] += 2.0
        data[f"{prefix}{i}"] = {"sig": feats, "targets": torch.tensor([target])}
    ds = DynamicItemDataset(data)
    ds.set_output_keys(["id", "sig", "targets"])
    return ds


def fit(out, cached):
    """3 epochs of IUSP from the ECAPA's blocks.2 into the conv block."""
    student, counter = Student(), EpochCounter(3)
    hparams = {
        "compute_features": lambda x: x,
        "task": "classification",
        "metric_stats": ClassificationStats,
        "selection_key": "error",
        "selection_mode": "min",
        "teacher": Teacher().eval(),
        "teacher_cache": cached,
        "distill_terms": [
            {"name": "iusp", "loss": "iusp", "weight": 10.0}
            | {"student_tap": "conv", "teacher_tap": "ecapa.blocks.2"}
            | {"layout": "bct"}
        ],
        "epoch_counter": counter,
        "train_logger": FileTrainLogger(f"{out}/train_log.txt"),
    }
    brain = DistillationBrain(
        modules={"model": student},
        opt_class=functools.partial(torch.optim.Adam, lr=0.01),
        hparams=hparams,
        run_opts={"device": "cpu", "noprogressbar": True},
        checkpointer=Checkpointer(f"{out}/save", {"model": student}),
    )
    brain.fit(
        counter,
        dataset(12, 0, "tr"),
        dataset(6, 1, "va"),
        # the same batches every epoch: SpeechBrain's TDNN layers pad by
        # reflection, so the last frames of a clip shorter than its batch's
        # longest depend on the batch (ESC-50's clips all last 5 s)
        train_loader_kwargs={"batch_size": 4, "shuffle": False},
        valid_loader_kwargs={"batch_size": 4},
    )
    return brain, student


def test_ecapa_teacher_iusp_through_the_cache_equals_uncached(tmp_path):
    """Ragged clips, 3 epochs: the cached run is the uncached run."""
    runs = [fit(tmp_path / str(c), c) for c in (False, True)]
    logs = [(tmp_path / str(c) / "train_log.txt").read_text() for c in
            (False, True)]  # fmt: skip
    assert "train iusp:" in logs[0] and "valid error:" in logs[0]
    assert logs[0] == logs[1]
    for name, value in runs[0][1].state_dict().items():
        torch.testing.assert_close(runs[1][1].state_dict()[name], value,
                                   rtol=0, atol=0)  # fmt: skip
    cache = runs[1][0].frozen_teacher.cache
    assert cache.time_axes == {"ecapa.blocks.2": 2}
    assert cache.misses == 12 + 6 and cache.hits == 2 * (12 + 6)
    widths = {e["ecapa.blocks.2"].shape for e in cache.entries.values()}
    assert {w[0] for w in widths} == {8} and len({w[1] for w in widths}) > 1


def test_the_package_classifiers_give_bct_maps():
    x, lengths = torch.randn(2, 25, 20), torch.tensor([1.0, 0.6])
    teacher = EcapaClassifier(
        20, 4, channels=[8, 8, 8, 8, 24], embedding=8,
        attention_channels=4, res2net_scale=2, se_channels=4,
    )  # fmt: skip
    student = ConvClassifier(20, 4, channels=[6, 6], kernel_sizes=[3, 3],
                             dilations=[1, 2])  # fmt: skip
    from speechbrain_iusp.distill.taps import run_with_taps

    _, t = run_with_taps(teacher, x, lengths, ["encoder.blocks.3"])
    logits, s = run_with_taps(student, x, lengths, ["blocks.1"])
    assert t["encoder.blocks.3"].shape == (2, 8, 25)
    assert s["blocks.1"].shape == (2, 6, 25) and logits.shape == (2, 4)
    # padded frames never reach the valid ones of the student
    y = x.clone()
    y[1, 15:] = 100.0
    student.eval()
    assert torch.allclose(student(x, lengths)[1], student(y, lengths)[1])
