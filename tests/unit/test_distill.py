"""Tests for DistillationBrain, distillation terms, taps and the cache.

Authors
 * speechbrain-iusp developers 2026
"""

import functools
import glob
import os
import socket
import subprocess
import sys

import pytest
import torch
from distill_toy import (
    N_MELS,
    make_dataset,
    make_hparams,
    make_student,
    make_teacher,
)

import speechbrain as sb
from speechbrain.dataio.batch import PaddedBatch

from speechbrain_iusp.distill import (
    DistillationBrain,
    DistillTerm,
    TeacherCache,
    discard_incomplete_checkpoints,
    load_teacher,
    mixup,
    run_with_taps,
    teacher_fingerprint,
)
from speechbrain_iusp.losses import (
    KDLoss,
    iusp_loss,
    kd_loss,
    sp_loss,
    tagging_bce_loss,
)

LOADER = {"batch_size": 8, "shuffle": True}


pytestmark = pytest.mark.usefixtures("one_thread")


def _brain(out_dir, model, teacher=None, terms=(), run_opts=None, **kw):
    hparams = make_hparams(
        str(out_dir), model, teacher=teacher, distill_terms=list(terms), **kw
    )
    opts = {"device": "cpu", "noprogressbar": True}
    opts.update(run_opts or {})
    return DistillationBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=opts,
        checkpointer=hparams["checkpointer"],
    )


def _fit(brain, data):
    train, valid = data
    brain.fit(
        brain.hparams.epoch_counter,
        train,
        valid,
        train_loader_kwargs=dict(LOADER),
        valid_loader_kwargs={"batch_size": 8},
    )


def _log(out_dir):
    with open(os.path.join(out_dir, "train_log.txt")) as f:
        return f.read()


def _teacher_state(teacher):
    return {k: v.clone() for k, v in teacher.state_dict().items()}


def test_plain_tagger_fit_lowers_loss(tmp_path, data):
    model = make_student()
    brain = _brain(tmp_path, model, epochs=4, lr=0.02)
    assert brain.teacher is None and brain.terms == []
    _fit(brain, data)
    lines = _log(tmp_path).strip().splitlines()
    assert len(lines) == 4

    def train_loss(line):
        return float(line.split("train loss: ")[1].split(",")[0])

    assert train_loss(lines[-1]) < 0.8 * train_loss(lines[0])
    assert "task:" in lines[0] and "micro_auprc:" in lines[0]
    # evaluate keeps the stats for the recipe's prediction files
    brain.evaluate(data[1], max_key="micro_auprc")
    assert 0.0 <= brain.last_stats["micro_auprc"] <= 1.0
    assert len(brain.last_metric_stats.ids) == 16
    assert "test loss" in _log(tmp_path)


@pytest.mark.parametrize(
    "loss, tap, weight",
    [("iusp", "rnn", 10.0), ("sp", "conv2", 10.0), ("kd", "logits", 1.0)],
)
def test_distillation_with_each_loss(tmp_path, data, loss, tap, weight):
    teacher = make_teacher()
    before = _teacher_state(teacher)
    modes = []
    teacher.register_forward_pre_hook(
        lambda mod, args: modes.append(mod.training)
    )
    model = make_student()
    term = {"name": loss, "loss": loss, "weight": weight}
    term.update(teacher_tap=tap, student_tap=tap)
    brain = _brain(tmp_path, model, teacher, [term])
    _fit(brain, data)

    # the teacher is untouched, never trained, never in train mode
    assert modes and not any(modes)
    for name, value in teacher.state_dict().items():
        assert torch.equal(value, before[name]), name
    assert all(p.grad is None for p in teacher.parameters())
    assert all(not p.requires_grad for p in teacher.parameters())

    # every term is logged, for train and valid
    log = _log(tmp_path)
    for line in log.strip().splitlines():
        assert line.count(f"{loss}: ") == 2, line
        assert line.count("task: ") == 2, line

    # exactly one checkpoint, with the student's weights only
    ckpts = glob.glob(str(tmp_path / "save" / "CKPT*"))
    assert len(ckpts) == 1
    teacher_values = [v for v in before.values() if v.numel() > 1]
    student_keys = set(model.state_dict())
    for path in glob.glob(os.path.join(ckpts[0], "*.ckpt")):
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # plain-text recoverables (counter, brain)
            assert os.path.getsize(path) < 1000, path
            continue
        if os.path.basename(path) == "model.ckpt":
            assert set(saved) == student_keys
        tensors = [v for v in _flatten(saved) if torch.is_tensor(v)]
        for t in tensors:
            for tv in teacher_values:
                assert not (t.shape == tv.shape and torch.equal(t, tv))


def _flatten(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _flatten(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _flatten(v)
    else:
        yield obj


@pytest.mark.parametrize("precision, accumulation", [("bf16", 1), ("fp32", 2)])
def test_bf16_and_grad_accumulation(tmp_path, data, precision, accumulation):
    teacher = make_teacher()
    model = make_student()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    terms = [
        {"name": "iusp", "loss": "iusp", "weight": 5.0, "teacher_tap": "rnn"}
        | {"student_tap": "rnn"},
        {"loss": functools.partial(kd_loss, temperature=2.0)},
    ]
    brain = _brain(
        tmp_path,
        model,
        teacher,
        terms,
        run_opts={
            "precision": precision,
            "grad_accumulation_factor": accumulation,
        },
    )
    assert [t.name for t in brain.terms] == ["iusp", "kd_loss"]
    _fit(brain, data)
    log = _log(tmp_path)
    assert "iusp: " in log and "kd_loss: " in log
    assert "nan" not in log.lower()
    changed = any(
        not torch.equal(v, start[k]) for k, v in model.state_dict().items()
    )
    assert changed
    # 3 batches per epoch, 2 epochs; with accumulation 2 SpeechBrain steps
    # after batch 2 only (step % factor == 0); batch 3's gradient is flushed
    assert brain.optimizer_step == (6 if accumulation == 1 else 2)


def test_resume_restores_epoch_and_weights(tmp_path, data):
    model = make_student()
    brain = _brain(tmp_path, model, epochs=1)
    _fit(brain, data)
    saved = {k: v.clone() for k, v in model.state_dict().items()}

    class Probe(DistillationBrain):
        def on_fit_start(self):
            super().on_fit_start()
            self.start_state = {
                k: v.clone() for k, v in self.modules.model.state_dict().items()
            }
            self.start_epoch = self.hparams.epoch_counter.current

    model2 = make_student(seed=5)
    hp = make_hparams(str(tmp_path), model2, epochs=2)
    brain2 = Probe(
        modules=hp["modules"],
        opt_class=hp["opt_class"],
        hparams=hp,
        run_opts={"device": "cpu", "noprogressbar": True},
        checkpointer=hp["checkpointer"],
    )
    _fit(brain2, data)
    assert brain2.start_epoch == 1
    for k, v in saved.items():
        assert torch.equal(brain2.start_state[k], v), k
    epochs = [
        line.split(",")[0] for line in _log(tmp_path).strip().splitlines()
    ]
    assert epochs == ["epoch: 1", "epoch: 2"]
    assert hp["epoch_counter"].current == 2


class LogitsOnly(torch.nn.Module):
    """A model that returns logits only (no ``return_hidden``)."""

    def __init__(self, crnn):
        super().__init__()
        self.crnn = crnn

    def forward(self, x, lengths=None):
        return self.crnn(x, lengths)


@pytest.mark.parametrize("lengths", [[1.0, 1.0, 1.0], [1.0, 0.7, 0.45]])
def test_hook_tap_equals_named_tap(lengths):
    crnn = make_student().eval()
    x = torch.randn(3, 30, 16)
    lens = torch.tensor(lengths)
    with torch.no_grad():
        _, named = run_with_taps(crnn, x, lens, ["rnn"])
        _, hooked = run_with_taps(LogitsOnly(crnn), x, lens, ["crnn.rnn"])
    assert torch.equal(named["rnn"], hooked["crnn.rnn"])
    assert torch.equal(named["logits"], hooked["logits"])
    assert not crnn.rnn._forward_hooks  # removed after use


def test_wrong_tap_lists_valid_names(tmp_path, data):
    crnn = make_student()
    with pytest.raises(ValueError, match="valid taps") as err:
        run_with_taps(crnn, torch.randn(2, 20, 16), None, ["rnn_out"])
    for name in ("logits", "conv1", "conv2", "rnn", "conv_blocks.0.convs.0"):
        assert repr(name) in str(err.value)
    term = {"loss": "iusp", "teacher_tap": "nope", "student_tap": "rnn"}
    brain = _brain(tmp_path, make_student(), make_teacher(), [term])
    with pytest.raises(ValueError, match="unknown tap 'nope'"):
        _fit(brain, data)


def test_term_calls_the_loss_student_first():
    teacher = torch.tensor([[5.0, -5.0]])
    student = torch.tensor([[0.0, 0.0]])
    # a plain function is a term as it is, options as extra keys
    term = DistillTerm.from_config({"loss": kd_loss, "temperature": 1.0})
    expected = kd_loss(student_logits=student, teacher_logits=teacher)
    assert torch.equal(term(student, teacher), expected)
    assert not torch.equal(term(student, teacher), kd_loss(teacher, student))
    # the registry name and the module give the same value
    for loss in ("kd", KDLoss(temperature=1.0)):
        same = DistillTerm.from_config({"loss": loss}).build()
        assert torch.equal(same(student, teacher), expected)

    def bad(a, b):
        return (a - b).sum()

    with pytest.raises(TypeError, match=r"loss\(student, teacher, lengths"):
        DistillTerm.from_config({"loss": bad}).build()
    with pytest.raises(TypeError, match="temperatur=..."):
        DistillTerm.from_config({"loss": kd_loss, "temperatur": 2.0}).build()
    with pytest.raises(ValueError, match="constructor"):
        DistillTerm.from_config(
            {"loss": torch.nn.MSELoss(), "reduction": "sum"}
        ).build()


def test_teacher_must_stay_outside(tmp_path):
    teacher = make_teacher()
    with pytest.raises(ValueError, match="out of `modules`"):
        DistillationBrain(
            modules={"model": make_student(), "teacher": teacher},
            hparams={"teacher": teacher},
            run_opts={"device": "cpu"},
        )
    hp = make_hparams(str(tmp_path), make_student())
    hp["checkpointer"].add_recoverable("teacher", teacher)
    with pytest.raises(ValueError, match="recoverable 'teacher'"):
        DistillationBrain(
            modules=hp["modules"],
            hparams={**hp, "teacher": teacher},
            run_opts={"device": "cpu"},
            checkpointer=hp["checkpointer"],
        )
    with pytest.raises(ValueError, match="no teacher"):
        DistillationBrain(
            modules={"model": make_student()},
            hparams={"distill_terms": [{"loss": "kd"}]},
            run_opts={"device": "cpu"},
        )


def test_cache_matches_live_teacher_under_shuffling(tmp_path, data):
    teacher = make_teacher()
    terms = [
        {"name": "iusp", "loss": "iusp", "teacher_tap": "rnn"}
        | {"student_tap": "rnn"},
        {"name": "kd", "loss": "kd"},
    ]
    brain = _brain(tmp_path, make_student(), teacher, terms, teacher_cache=True)
    cache = brain.frozen_teacher.cache
    assert isinstance(cache, TeacherCache)
    _fit(brain, data)
    assert len(cache) == 40  # 24 train + 16 valid utterances
    assert cache.misses == 40 and cache.hits == 40  # epoch 2 all cached

    # a batch in another order and composition than any seen in training
    train = data[0]
    items = [train[i] for i in torch.randperm(len(train))[:6].tolist()]
    batch = PaddedBatch(items)
    feats, lens = batch.sig
    with torch.no_grad():
        _, live = run_with_taps(teacher.eval(), feats, lens, ["rnn"])
    cached = cache.fetch(batch.id, "cpu")
    assert set(cached) == {"logits", "rnn"}
    assert torch.allclose(cached["logits"], live["logits"], atol=1e-6)
    assert cached["rnn"].shape == live["rnn"].shape
    assert torch.allclose(cached["rnn"], live["rnn"], atol=1e-6)

    # another teacher (or tap set) never reuses these entries
    brain.frozen_teacher.prepare()
    assert len(cache) == 40
    with torch.no_grad():
        teacher.head.classifier.bias.add_(1.0)
    brain.frozen_teacher.prepare()
    assert len(cache) == 0


def test_cache_disabled_with_augmentation_and_persisted(tmp_path):
    teacher = make_teacher()
    terms = [{"loss": "kd"}]

    def augment(feats, lens):
        return feats + 0.1 * torch.randn_like(feats), lens

    brain = _brain(
        tmp_path,
        make_student(),
        teacher,
        terms,
        teacher_cache=True,
        augment=augment,
    )
    assert brain.frozen_teacher.cache is None

    path = str(tmp_path / "cache.pt")
    cache = TeacherCache(dtype="float16", path=path)
    cache.bind("fp")
    cache.store(["a"], {"logits": torch.ones(1, 3)}, torch.ones(1))
    cache.save()
    again = TeacherCache(path=path)
    again.bind("fp")
    assert again.fetch(["a"], "cpu")["logits"].dtype == torch.float16
    other = TeacherCache(path=path)
    other.bind("another-teacher")
    assert len(other) == 0


def test_feature_batches_train_like_waveform_batches(tmp_path):
    terms = [
        {"name": "iusp", "loss": "iusp", "teacher_tap": "rnn"}
        | {"student_tap": "rnn"}
    ]
    logs, weights, caches = [], [], []
    for key in ("sig", "feats"):
        out = tmp_path / key
        data = (
            make_dataset(24, seed=0, key=key),
            make_dataset(16, seed=1, prefix="val", key=key),
        )
        model = make_student()
        brain = _brain(out, model, make_teacher(), terms, teacher_cache=True)
        _fit(brain, data)
        logs.append(_log(out))
        weights.append(model.state_dict())
        caches.append(sorted(brain.frozen_teacher.cache.entries))
    assert logs[0] == logs[1]
    for name, value in weights[0].items():
        torch.testing.assert_close(weights[1][name], value, rtol=0, atol=0)
    # the teacher cache is keyed by the feature keys when batches carry them
    assert caches[0][0].startswith("utt") and caches[1][0].startswith("key-")


def test_teacher_cache_folder_keeps_one_file_per_fingerprint(tmp_path):
    folder = tmp_path / "teacher_cache"
    teacher = make_teacher()
    first = teacher_fingerprint(teacher, ["logits", "rnn"])
    cache = TeacherCache(folder=folder)
    cache.bind(first)
    cache.store(["a"], {"logits": torch.ones(1, 3)}, torch.ones(1))
    cache.save()
    again = TeacherCache(folder=folder)
    again.bind(first)
    assert again.has_all(["a"])
    # another tap set or another teacher gets its own, empty file
    other_taps = teacher_fingerprint(teacher, ["logits"])
    with torch.no_grad():
        teacher.head.classifier.bias.add_(1.0)
    other_teacher = teacher_fingerprint(teacher, ["logits", "rnn"])
    for fingerprint in (other_taps, other_teacher):
        other = TeacherCache(folder=folder)
        other.bind(fingerprint)
        assert len(other) == 0
        other.store(["b"], {"logits": torch.ones(1, 3)}, torch.ones(1))
        other.save()
    assert len(list(folder.iterdir())) == 3
    # a truncated file is ignored with a warning, not a crash
    path = next(folder.iterdir())
    path.write_bytes(path.read_bytes()[:20])
    TeacherCache(folder=folder).bind(path.stem)


def test_wav_augment_disables_the_cache_and_needs_waveforms(tmp_path):
    def wav_augment(wavs, lens):
        return wavs * 0.5, lens

    terms = [{"loss": "kd"}]
    brain = _brain(
        tmp_path,
        make_student(),
        make_teacher(),
        terms,
        teacher_cache=True,
        wav_augment=wav_augment,
    )
    assert brain.frozen_teacher.cache is None and brain.input_varies
    batch = PaddedBatch([make_dataset(1, seed=0, key="feats")[0]])
    with pytest.raises(ValueError, match="switch the feature cache off"):
        brain.compute_forward(batch, sb.Stage.TRAIN)
    batch = PaddedBatch([make_dataset(1, seed=0)[0]])
    scaled = brain.compute_forward(batch, sb.Stage.TRAIN)["logits"]
    assert scaled.shape == (1, 8)


def test_load_teacher_from_run_folder_and_file(tmp_path, data):
    trained = make_teacher(seed=3)
    hp = make_hparams(str(tmp_path), trained, epochs=1)
    brain = DistillationBrain(
        modules=hp["modules"],
        opt_class=hp["opt_class"],
        hparams=hp,
        run_opts={"device": "cpu", "noprogressbar": True},
        checkpointer=hp["checkpointer"],
    )
    _fit(brain, data)
    teacher = load_teacher(
        make_teacher(seed=4), tmp_path / "save", max_key="micro_auprc"
    )
    for k, v in trained.state_dict().items():
        assert torch.equal(teacher.state_dict()[k], v)
    assert not teacher.training

    ckpt_file = glob.glob(str(tmp_path / "save" / "CKPT*" / "model.ckpt"))[0]
    teacher2 = load_teacher(
        make_teacher(seed=4), ckpt_file, collect_in=str(tmp_path / "pt")
    )
    for k, v in trained.state_dict().items():
        assert torch.equal(teacher2.state_dict()[k], v)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="Train a teacher first"):
        load_teacher(make_teacher(), empty)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_two_processes(tmp_path):
    script = os.path.join(os.path.dirname(__file__), "ddp_distill_script.py")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("RANK", None)
    env.pop("LOCAL_RANK", None)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
        script,
        str(tmp_path),
    ]
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ckpts = glob.glob(str(tmp_path / "save" / "CKPT*"))
    assert len(ckpts) == 1
    with open(tmp_path / "result.txt") as f:
        result = f.read().split()
    assert result == ["teacher_unchanged", "trained", "2"]
    assert "iusp: " in _log(tmp_path)


def test_stage_enum_is_speechbrain():
    # DistillationBrain keeps SpeechBrain's batch loops (no override)
    for name in ("fit_batch", "evaluate_batch", "optimizers_step"):
        assert getattr(DistillationBrain, name) is getattr(sb.Brain, name)


def test_mixup_mixes_inputs_and_targets_and_disables_the_cache(tmp_path, data):
    brain = _brain(
        tmp_path,
        make_student(),
        make_teacher(),
        [{"loss": "kd"}],
        teacher_cache=True,
        mixup_alpha=0.4,
    )
    assert brain.frozen_teacher.cache is None
    batch = PaddedBatch([data[0][i] for i in range(6)])
    targets = batch.targets.data
    torch.manual_seed(0)
    out = brain.compute_forward(batch, sb.Stage.TRAIN)
    # the same draw, by hand: the Brain mixed the features it fed the model
    wavs, lens = batch.sig
    feats = brain.hparams.compute_features(wavs)
    torch.manual_seed(0)
    mixed, mlens, mtargets, _ = mixup(feats, lens, targets, None, 0.4)
    assert torch.allclose(out["targets"], mtargets)
    assert torch.equal(out["lengths"], mlens)
    assert not torch.equal(out["targets"], targets)
    brain.modules.model.eval()
    with torch.no_grad():
        again = brain.modules.model(mixed, mlens)
    brain.modules.model.train()
    assert again.shape == out["logits"].shape
    # evaluation is never mixed
    out = brain.compute_forward(batch, sb.Stage.VALID)
    assert torch.equal(out["targets"], targets)


def test_half_written_checkpoints_are_set_aside(tmp_path):
    from speechbrain.utils.checkpoints import Checkpointer
    from speechbrain.utils.epoch_loop import EpochCounter

    model = torch.nn.Linear(4, 4)
    ckp = Checkpointer(tmp_path, {"model": model, "counter": EpochCounter(3)})
    ckp.save_checkpoint(name="a")
    truncated = ckp.save_checkpoint(name="b")
    data = truncated.paramfiles["model"].read_bytes()
    truncated.paramfiles["model"].write_bytes(data[: len(data) // 2])
    no_meta = ckp.save_checkpoint(name="c")
    (no_meta.path / "CKPT.yaml").unlink()
    moved = discard_incomplete_checkpoints(ckp)
    assert sorted(p.name for p in moved) == [
        "incomplete-CKPT+b",
        "incomplete-CKPT+c",
    ]
    assert [c.path.name for c in ckp.list_checkpoints()] == ["CKPT+a"]
    assert ckp.recover_if_possible() is not None


def test_gradient_share_is_logged_and_matches_a_hand_computation(
    tmp_path, data
):
    terms = [
        {"name": "iusp", "loss": "iusp", "weight": 50.0}
        | {"teacher_tap": "rnn", "student_tap": "rnn"},
        {"name": "kd", "loss": "kd", "weight": 1.0},
    ]
    brain = _brain(
        tmp_path, make_student(), make_teacher(), terms, gradient_share=True
    )
    _fit(brain, data)
    for line in _log(tmp_path).strip().splitlines():
        assert "train iusp_share:" in line and "train kd_share:" in line
        assert "valid iusp_share" not in line
    # one batch by hand: |g_term| / (|g_term| + |g_task|) at the tap
    batch = PaddedBatch([data[0][i] for i in range(4)])
    brain.modules.train()
    torch.manual_seed(0)
    out = brain.compute_forward(batch, sb.Stage.TRAIN)
    brain._term_sums, brain._term_count = {}, 0
    brain.compute_objectives(out, batch, sb.Stage.TRAIN)
    rnn, logits = out["student"]["rnn"], out["logits"]
    task = tagging_bce_loss(logits, out["targets"], weight=out["target_weight"])
    iusp = 50.0 * iusp_loss(rnn, out["teacher"]["rnn"], out["lengths"])
    kd = kd_loss(logits, out["teacher"]["logits"])
    for name, value, act in (("iusp", iusp, rnn), ("kd", kd, logits)):
        (g_term,) = torch.autograd.grad(value, act, retain_graph=True)
        (g_task,) = torch.autograd.grad(task, act, retain_graph=True)
        expected = g_term.norm() / (g_term.norm() + g_task.norm())
        assert brain._term_sums[f"{name}_share"] == pytest.approx(
            float(expected), rel=1e-5
        )


def test_terms_see_the_exact_valid_frames_of_each_clip(tmp_path):
    # 23 of 32 input frames: 11 valid frames after the x2 time pooling, but
    # round(23 / 32 * 16) = 12; the term must use the model's 11
    frames, valid = 32, 23
    assert round(valid / frames * (frames // 2)) != valid // 2
    torch.manual_seed(0)
    items = [
        {"id": "a", "sig": torch.randn(frames, 16), "targets": torch.ones(8)},
        {"id": "b", "sig": torch.randn(valid, 16), "targets": torch.ones(8)},
    ]
    terms = [
        {"name": "iusp", "loss": "iusp"}
        | {"teacher_tap": "rnn", "student_tap": "rnn"}
    ]
    brain = _brain(tmp_path, make_student(), make_teacher(), terms)
    brain.modules.eval()

    def term_value(batch_items):
        batch = PaddedBatch(batch_items)
        out = brain.compute_forward(batch, sb.Stage.VALID)
        brain._term_sums, brain._term_count = {}, 0
        brain.compute_objectives(out, batch, sb.Stage.VALID)
        return brain._term_sums["iusp"]

    both = term_value(items)
    alone = (term_value(items[:1]) + term_value(items[1:])) / 2
    assert both == pytest.approx(alone, rel=1e-5)


def test_ensemble_teacher_averages_probabilities_and_member_losses(
    tmp_path, data
):
    """Logits of the mean probability; each term averaged over members."""
    from speechbrain_iusp.models import TeacherEnsemble

    members = [make_teacher(seed=1), make_teacher(seed=2)]
    ens = TeacherEnsemble(members).eval()
    x = torch.randn(3, 20, N_MELS)
    lengths = torch.tensor([1.0, 0.7, 0.5])
    with torch.no_grad():
        logits, hidden = ens(x, lengths, return_hidden=True)
        probs = [torch.sigmoid(m.eval()(x, lengths)) for m in members]
    torch.testing.assert_close(torch.sigmoid(logits), (probs[0] + probs[1]) / 2)
    assert {"rnn@0", "rnn@1", "conv1@0"} <= set(hidden)
    assert set(ens.tap_lengths(lengths, 20)) == set(ens.tap_names)

    terms = [
        {"name": "iusp", "loss": "iusp", "teacher_tap": "rnn"}
        | {"student_tap": "rnn"},
        {"name": "kd", "loss": "kd"},
    ]
    brain = _brain(tmp_path, make_student(), ens, terms, teacher_cache=True)
    teacher = brain.frozen_teacher
    assert teacher.member_taps("rnn") == ["rnn@0", "rnn@1"]
    assert teacher.taps == ["logits", "rnn@0", "rnn@1"]
    _fit(brain, data)
    assert teacher.cache.hits > 0  # the members' taps come from the cache
    assert "train iusp:" in _log(tmp_path)


@pytest.mark.parametrize("loss_name", ["iusp", "sp"])
def test_mean_of_member_losses_has_the_averaged_matrix_gradient(loss_name):
    """mean_k ||G_k - G_s||^2 = ||mean_k G_k - G_s||^2 + const (float64)."""
    torch.manual_seed(0)
    B, T = 4, 9
    lengths = torch.tensor([1.0, 0.8, 1.0, 0.6], dtype=torch.float64)
    teachers = [torch.randn(B, T, 6, dtype=torch.float64) for _ in range(3)]
    student = torch.randn(B, T, 5, dtype=torch.float64, requires_grad=True)
    fn = iusp_loss if loss_name == "iusp" else sp_loss
    mean_loss = sum(fn(student, t, lengths) for t in teachers) / 3
    (g_mean,) = torch.autograd.grad(mean_loss, student)

    frames = torch.round(lengths * T).long()

    def matrices(x):  # brute force, per utterance or per batch
        if loss_name == "iusp":
            out = []
            for b in range(B):
                f = x[b, : frames[b]]
                g = f @ f.T
                out.append(g / g.norm(dim=1, keepdim=True))
            return out
        mask = (torch.arange(T)[None, :] < frames[:, None]).to(x.dtype)
        q = (x * mask[..., None]).reshape(B, -1)
        g = q @ q.T
        return [g / g.norm(dim=1, keepdim=True)]

    avg = [sum(ms) / 3 for ms in zip(*map(matrices, teachers), strict=True)]
    ref = 0.0
    for gt, gs in zip(avg, matrices(student), strict=True):
        ref = ref + (gt - gs).square().sum() / gt.shape[0] ** 2
    ref = ref / len(avg)
    (g_ref,) = torch.autograd.grad(ref, student)
    torch.testing.assert_close(g_mean, g_ref, rtol=1e-9, atol=1e-12)
