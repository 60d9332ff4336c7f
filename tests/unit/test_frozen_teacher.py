"""Tests for FrozenTeacher: frozen, cached, fanned out, device, precision.

Authors
 * speechbrain-iusp developers 2026
"""

import pytest
import torch
from distill_toy import N_MELS, make_hparams, make_student, make_teacher

import speechbrain as sb
from speechbrain.dataio.batch import PaddedBatch

from speechbrain_iusp.distill import (
    DistillationBrain,
    FrozenTeacher,
    TeacherCache,
    run_with_taps,
)
from speechbrain_iusp.models import TeacherEnsemble

TRAIN, VALID = sb.Stage.TRAIN, sb.Stage.VALID


def _batch(n, seed, frames=24):
    gen = torch.Generator().manual_seed(seed)
    feats = torch.randn(n, frames, N_MELS, generator=gen)
    lens = torch.ones(n)
    lens[-1] = 0.75
    return feats, lens


def _count_forwards(module):
    modes = []
    module.register_forward_pre_hook(
        lambda mod, args: modes.append(mod.training)
    )
    return modes


def test_eval_mode_and_no_grad_whatever_train_is_called_on(tmp_path):
    teacher = make_teacher()
    modes = _count_forwards(teacher)
    terms = [{"name": "kd", "loss": "kd"}]
    hp = make_hparams(str(tmp_path), make_student(), teacher=teacher)
    brain = DistillationBrain(
        modules=hp["modules"],
        hparams={**hp, "distill_terms": terms},
        run_opts={"device": "cpu"},
    )
    assert brain.teacher is teacher is brain.frozen_teacher.module
    assert not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())
    brain.modules.train()
    teacher.train()  # even the teacher itself
    batch = PaddedBatch(
        [
            {
                "id": "a",
                "sig": torch.randn(20, N_MELS),
                "targets": torch.ones(8),
            },
            {
                "id": "b",
                "sig": torch.randn(16, N_MELS),
                "targets": torch.ones(8),
            },
        ]
    )
    out = brain.compute_forward(batch, TRAIN)
    assert modes == [False]
    assert not out["teacher"]["logits"].requires_grad
    assert out["logits"].requires_grad  # the student trains
    brain.compute_objectives(out, batch, TRAIN).backward()
    assert all(p.grad is None for p in teacher.parameters())


def test_second_epoch_comes_from_the_cache_in_any_order():
    teacher = make_teacher()
    modes = _count_forwards(teacher)
    frozen = FrozenTeacher(teacher, taps=["rnn"], cache=True)
    frozen.prepare()
    assert isinstance(frozen.cache, TeacherCache) and frozen.cache.fingerprint
    feats, lens = _batch(4, seed=0)
    ids = ["a", "b", "c", "d"]
    first = frozen.outputs(ids, feats, lens, TRAIN)
    assert len(modes) == 1 and (frozen.cache.misses, frozen.cache.hits) == (
        4,
        0,
    )
    order = [2, 0, 3, 1]
    again = frozen.outputs(
        [ids[i] for i in order], feats[order], lens[order], TRAIN
    )
    assert len(modes) == 1  # not run again
    assert (frozen.cache.misses, frozen.cache.hits) == (4, 4)
    assert set(again) == {"logits", "rnn"}
    torch.testing.assert_close(again["logits"], first["logits"][order])
    # the rnn tap is cut to each clip's valid frames, then re-padded
    n = teacher.tap_lengths(lens, feats.shape[1])["rnn"] * first["rnn"].shape[1]
    for row, i in enumerate(order):
        valid = int(round(float(n[i])))
        torch.testing.assert_close(
            again["rnn"][row, :valid], first["rnn"][i, :valid]
        )
    # feature-cache keys key the cache instead of the IDs
    frozen.outputs(ids, feats, lens, TRAIN, feats_keys=["k1", "k2", "k3", "k4"])
    assert len(modes) == 2 and "k1" in frozen.cache


def test_ensemble_taps_fan_out_and_terms_average_over_members():
    members = [make_teacher(seed=1), make_teacher(seed=2)]
    frozen = FrozenTeacher(TeacherEnsemble(members), taps=["rnn", "logits"])
    assert frozen.taps == ["logits", "rnn@0", "rnn@1"]
    assert frozen.member_taps("logits") == ["logits"]
    frozen.prepare()
    feats, lens = _batch(3, seed=1)
    out = frozen.outputs(["a", "b", "c"], feats, lens, VALID)
    with torch.no_grad():
        own = [
            run_with_taps(m, feats, lens, ["rnn"])[1]["rnn"] for m in members
        ]
    for k in range(2):
        torch.testing.assert_close(out[f"rnn@{k}"], own[k])
    value = frozen.member_mean(lambda act: act.square().mean(), out, "rnn")
    expected = (own[0].square().mean() + own[1].square().mean()) / 2
    torch.testing.assert_close(value, expected)
    # a single teacher: the tap itself
    single = FrozenTeacher(make_teacher(), taps=["rnn"])
    assert single.member_taps("rnn") == ["rnn"]
    assert (
        single.member_mean(lambda a: a * 2, {"rnn": torch.ones(1)}, "rnn") == 2
    )


def test_precision_is_the_teachers_own_per_stage():
    lin = torch.nn.Linear(N_MELS, 3)
    frozen = FrozenTeacher(lin, precision="bf16", eval_precision="fp32")
    frozen.prepare()
    x, lens = torch.randn(2, N_MELS), torch.ones(2)
    assert frozen.outputs(["a", "b"], x, lens, TRAIN)["logits"].dtype == (
        torch.bfloat16
    )
    # the caller's autocast does not leak into an fp32 stage
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = frozen.outputs(["a", "b"], x, lens, VALID)
    assert out["logits"].dtype == torch.float32
    torch.testing.assert_close(out["logits"], lin(x).detach())
    with pytest.raises(ValueError, match="autocast mode"):
        FrozenTeacher(lin, precision="half")


def test_device_moves_the_teacher_and_its_outputs():
    devices = ["meta"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        lin = torch.nn.Linear(N_MELS, 3)
        frozen = FrozenTeacher(lin, device=device)
        assert lin.weight.device.type == "cpu"  # moved at prepare only
        frozen.prepare()
        assert lin.weight.device.type == device
        x = torch.randn(2, N_MELS, device=device)
        out = frozen.outputs(["a", "b"], x, torch.ones(2, device=device), VALID)
        assert out["logits"].device.type == device
    if torch.cuda.is_available():  # cached outputs come back on the device
        frozen = FrozenTeacher(make_teacher(), taps=["rnn"], cache=True)
        frozen.device = "cuda"
        frozen.prepare()
        feats, lens = (t.cuda() for t in _batch(2, seed=2))
        live = frozen.outputs(["a", "b"], feats, lens, TRAIN)
        cached = frozen.outputs(["a", "b"], feats, lens, TRAIN)
        assert frozen.cache.hits == 2 and cached["rnn"].is_cuda
        torch.testing.assert_close(cached["logits"], live["logits"])
