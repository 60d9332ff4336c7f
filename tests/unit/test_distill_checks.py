"""Mistakes refused before training, and channel-first teacher taps.

A misspelt tap fails on the first batch, before any optimisation step,
naming its term and the closest names; an error inside a term names the
term; load_teacher lists the recoverables of a checkpoint without the
requested key; the teacher cache cuts a ``[B, C, T]`` tap along time.

Authors
 * speechbrain-iusp developers 2026
"""

import os

import pytest
import torch
from distill_toy import (
    N_CLASSES,
    N_MELS,
    make_hparams,
    make_student,
    make_teacher,
)

import speechbrain as sb
from speechbrain.utils.checkpoints import Checkpointer

from speechbrain_iusp.distill import (
    DistillationBrain,
    DistillTerm,
    FrozenTeacher,
    load_teacher,
)
from speechbrain_iusp.distill.teacher import RecoverableNotFoundError
from speechbrain_iusp.models import TeacherEnsemble

LOADER = {"batch_size": 8, "shuffle": True}


pytestmark = pytest.mark.usefixtures("one_thread")


class ChannelFirstTeacher(torch.nn.Module):
    """A TDNN-like teacher: ``block`` gives ``[B, C, T]`` (like ECAPA)."""

    def __init__(self, channels=12):
        super().__init__()
        torch.manual_seed(5)
        self.block = torch.nn.Sequential(
            torch.nn.Conv1d(N_MELS, channels, 3, padding=1), torch.nn.ReLU()
        )
        self.head = torch.nn.Linear(channels, N_CLASSES)

    def forward(self, x, lengths=None):
        return self.head(self.block(x.transpose(1, 2)).amax(-1))


class HiddenOnly(torch.nn.Module):
    """Returns a ``hidden`` dict but does not list its tap names."""

    def __init__(self):
        super().__init__()
        self.crnn = make_student()

    def forward(self, x, lengths=None, return_hidden=False):
        return self.crnn(x, lengths, return_hidden=return_hidden)


def _brain(out_dir, model, teacher, terms, **kw):
    hparams = make_hparams(
        str(out_dir), model, teacher=teacher, distill_terms=terms, **kw
    )
    return DistillationBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts={"device": "cpu", "noprogressbar": True},
        checkpointer=hparams["checkpointer"],
    )


def _fit(brain, data):
    brain.fit(
        brain.hparams.epoch_counter,
        data[0],
        data[1],
        train_loader_kwargs=dict(LOADER),
        valid_loader_kwargs={"batch_size": 8},
    )


def _state(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def _unchanged(model, before):
    return all(torch.equal(v, before[k]) for k, v in model.named_parameters())


# ---------------------------------------------------------------- the cache

ECAPA_TERMS = [
    {"name": "iusp", "loss": "iusp", "weight": 10.0, "student_tap": "rnn"}
    | {"teacher_tap": "block", "teacher_layout": "bct"},
    {"name": "sp", "loss": "sp", "student_tap": "rnn", "teacher_tap": "block"}
    | {"layout": ["btd", "bct"]},
]


def test_cache_cuts_a_channel_first_tap_along_time(tmp_path, data):
    """3 epochs of ragged clips: the cached run is the uncached run."""
    logs, weights = [], []
    for cached in (False, True):
        out = tmp_path / str(cached)
        student = make_student(time_pool=(1, 1))  # rnn: [B, T, 16]
        brain = _brain(
            out,
            student,
            ChannelFirstTeacher(),
            ECAPA_TERMS,
            epochs=3,
            teacher_cache=cached,
        )
        _fit(brain, data)
        with open(os.path.join(out, "train_log.txt")) as f:
            logs.append(f.read())
        weights.append(student.state_dict())
        if cached:
            cache = brain.frozen_teacher.cache
            assert cache.hits == 2 * 40 and cache.misses == 40
            assert cache.time_axes == {"block": 2}
            lengths = {e["block"].shape[1] for e in cache.entries.values()}
            assert len(lengths) > 1  # cut along time, to each clip
            assert {e["block"].shape[0] for e in cache.entries.values()} == {12}
    assert "train iusp:" in logs[0] and logs[0] == logs[1]
    for name, value in weights[0].items():
        torch.testing.assert_close(weights[1][name], value, rtol=0, atol=0)


def test_the_teacher_layout_is_part_of_the_cache_fingerprint():
    fingerprints = []
    for axes in (None, {"block": 1}, {"block": 2}):
        teacher = FrozenTeacher(
            ChannelFirstTeacher(), ["block"], cache=True, time_axes=axes
        )
        teacher.prepare()
        fingerprints.append(teacher.cache.fingerprint)
    assert fingerprints[0] == fingerprints[1] != fingerprints[2]


def test_terms_cutting_one_cached_tap_two_ways_are_refused(tmp_path):
    terms = [
        ECAPA_TERMS[0],
        {"name": "sp", "loss": "sp", "student_tap": "rnn"}
        | {"teacher_tap": "block"},
    ]
    student = make_student(time_pool=(1, 1))
    with pytest.raises(ValueError, match="'iusp' and 'sp'.*teacher_layout"):
        _brain(tmp_path, student, ChannelFirstTeacher(), terms, teacher_cache=1)
    # without the cache each loss reads the tap its own way
    assert _brain(tmp_path, student, ChannelFirstTeacher(), terms).terms


# ----------------------------------------------------------- misspelt taps


@pytest.mark.parametrize(
    "side, tap, expected",
    [
        ("student", "rnm", "rnn"),  # a name of the hidden dict
        ("student", "conv_blocks.0.conv.0", "conv_blocks.0.convs.0"),  # path
        ("teacher", "blok", "block"),  # a hooked module path
    ],
)
def test_a_misspelt_tap_is_refused_before_any_step(
    tmp_path, data, side, tap, expected
):
    term = dict(ECAPA_TERMS[0], name="frames")
    term[f"{side}_tap"] = tap
    student = make_student(time_pool=(1, 1))
    before = _state(student)
    brain = _brain(tmp_path, student, ChannelFirstTeacher(), [term])
    with pytest.raises(ValueError) as err:
        _fit(brain, data)
    message = str(err.value)
    assert message.startswith("distill term(s) 'frames': unknown tap")
    assert f"of the {side}" in message
    assert f"did you mean {expected!r}" in message
    assert "head.attention" not in message  # no list of every path
    assert _unchanged(student, before)
    assert brain.optimizer.state == {}  # not one optimisation step


def test_an_unlisted_hidden_tap_and_an_ensemble_member_tap(tmp_path, data):
    term = {"name": "iusp", "loss": "iusp", "student_tap": "rnm"}
    term["teacher_tap"] = "rnn"
    brain = _brain(tmp_path / "a", HiddenOnly(), make_teacher(), [term])
    with pytest.raises(ValueError, match="did you mean 'rnn'"):
        _fit(brain, data)
    ensemble = TeacherEnsemble([make_teacher(1), make_teacher(2)])
    term = {"name": "iusp", "loss": "iusp", "student_tap": "rnn"}
    term["teacher_tap"] = "rnm"
    brain = _brain(tmp_path / "b", make_student(), ensemble, [term])
    with pytest.raises(ValueError) as err:
        _fit(brain, data)
    assert "unknown tap 'rnm' of the teacher" in str(err.value)
    assert "did you mean 'rnn'?" in str(err.value)


# ------------------------------------------------------ errors inside terms


def test_an_error_inside_a_term_names_the_term(tmp_path, data):
    # a [B, C, T] teacher tap read with the default layout is refused,
    # and the term says which term, taps, shapes and layouts
    term = dict(ECAPA_TERMS[0], name="ecapa_iusp", teacher_layout=None)
    student = make_student(time_pool=(1, 1))
    before = _state(student)
    brain = _brain(tmp_path, student, ChannelFirstTeacher(), [term])
    with pytest.raises(ValueError) as err:
        _fit(brain, data)
    message = str(err.value)
    assert message.startswith("distill term 'ecapa_iusp' (loss iusp)")
    assert "student tap 'rnn' shape (8, " in message
    assert "teacher tap 'block' shape (8, 12, " in message
    assert "layout default" in message
    assert "cannot tell where time is" in message
    assert isinstance(err.value.__cause__, ValueError)
    assert _unchanged(student, before)


def test_a_term_keeps_the_cause_of_any_error():
    def broken(student, teacher, lengths=None):
        return {"no": "tensor"}["loss"]

    term = DistillTerm.from_config(
        {"name": "mine", "loss": broken, "student_tap": "rnn"}
        | {"teacher_tap": "block", "teacher_layout": "bct"}
    )
    with pytest.raises(TypeError, match="layout=..."):
        term.build()  # the loss does not take the layout
    term = DistillTerm.from_config({"name": "mine", "loss": broken})
    with pytest.raises(RuntimeError) as err:
        term(torch.zeros(2, 3), torch.zeros(2, 5, 4, dtype=torch.float64))
    message = str(err.value)
    assert "distill term 'mine' (loss broken)" in message
    assert "teacher tap 'logits' shape (2, 5, 4) float64" in message
    assert "KeyError: 'loss'" in message
    assert isinstance(err.value.__cause__, KeyError)


# ----------------------------------------------------------- load_teacher


def test_load_teacher_lists_the_recoverables(tmp_path):
    trained = make_teacher(seed=3)
    counter = sb.utils.epoch_loop.EpochCounter(1)
    run = tmp_path / "run"
    recoverables = {"embedding_model": trained, "counter": counter}
    Checkpointer(str(run), recoverables).save_checkpoint(meta={"error": 0.5})
    with pytest.raises(RecoverableNotFoundError) as err:
        load_teacher(make_teacher(seed=4), run, min_key="error")
    message = str(err.value)
    assert "holds no recoverable 'model'" in message
    assert "'counter', 'embedding_model'" in message
    assert "key='embedding_model'" in message
    assert "damaged" not in message
    loaded = load_teacher(
        make_teacher(seed=4), run, min_key="error", key="embedding_model"
    )
    for name, value in trained.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value)

    # a model folder (e.g. from the hub): <name>.ckpt files
    folder = tmp_path / "pretrained"
    folder.mkdir()
    torch.save(trained.state_dict(), folder / "embedding_model.ckpt")
    with pytest.raises(RecoverableNotFoundError, match="'embedding_model'"):
        load_teacher(make_teacher(seed=4), folder)
    loaded = load_teacher(make_teacher(seed=4), folder, key="embedding_model")
    assert torch.equal(
        loaded.head.classifier.bias, trained.head.classifier.bias
    )


def test_a_term_reports_its_layouts():
    term = DistillTerm.from_config(ECAPA_TERMS[1]).build()
    assert term.layouts == ("btd", "bct")
    assert term._fn.kwargs == {"layout": ("btd", "bct")}
    module = DistillTerm.from_config(
        {"loss": torch.nn.Identity(), "layout": "bct"}
    )
    with pytest.raises(ValueError, match="constructor"):
        module.build()
    with pytest.raises(ValueError, match="'bad'.*teacher_layout='tbd'"):
        DistillTerm.from_config(
            {"name": "bad", "loss": "iusp", "teacher_layout": "tbd"}
        ).build()
    x = torch.randn(2, 3, 4)
    out = DistillTerm.from_config({"loss": "iusp", "layout": "bct"})(x, x)
    assert out == 0.0
