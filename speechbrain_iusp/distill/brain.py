"""A SpeechBrain Brain for audio taggers with optional knowledge distillation.

Authors
 * speechbrain-iusp developers 2026
"""

import logging
from types import SimpleNamespace

import torch

import speechbrain as sb
from speechbrain.nnet.schedulers import NewBobScheduler, update_learning_rate
from speechbrain.utils.distributed import if_main_process, run_on_main

from speechbrain_iusp.distill.batch import Task, read_batch
from speechbrain_iusp.distill.checkpoints import (
    RandomState,
    discard_incomplete_checkpoints,
)
from speechbrain_iusp.distill.mixup import mixup
from speechbrain_iusp.distill.shares import gradient_shares
from speechbrain_iusp.distill.taps import UnknownTapError, run_with_taps
from speechbrain_iusp.distill.teacher import FrozenTeacher, tap_lengths
from speechbrain_iusp.distill.terms import DistillTerm
from speechbrain_iusp.losses.layouts import time_axis
from speechbrain_iusp.models.wrapping import unwrap
from speechbrain_iusp.runtime import resolve_precision

logger = logging.getLogger(__name__)

# hparams the Brain reads, with their defaults (see the class docstring).
_SETTINGS = {
    "wav_augment": None,
    "normalize": None,
    "augment": None,
    "mixup_alpha": 0.0,
    "teacher": None,
    "distill_terms": None,
    "task": "tagging",
    "task_loss": None,
    "metric_stats": None,
    "metric_mode": None,
    "selection_key": None,
    "selection_mode": "max",
    "logged_metrics": None,
    "lr_annealing": None,
    "train_logger": None,
    "epoch_counter": None,
    "teacher_cache": False,
    "gradient_share": False,
}


class DistillationBrain(sb.Brain):
    """Tagger or classifier Brain with a frozen teacher and distillation terms.

    The trained model is ``modules["model"]`` (the teacher itself when
    training a teacher, a student otherwise); the objective is
    ``task_loss + sum(weight * term)``. Without a teacher and terms it is a
    plain tagger.

    The teacher is a :class:`~speechbrain_iusp.distill.teacher.FrozenTeacher`
    (``self.frozen_teacher``; its module is ``self.teacher``), outside
    ``modules`` (SpeechBrain's frozen-model pattern): never optimised, never
    wrapped in DDP, never part of the checkpoints, always in eval mode, run
    under ``torch.no_grad()`` in the Brain's precision of the stage, its
    outputs cached when ``teacher_cache`` is set.

    Overridden methods, and why:

    * ``compute_forward`` / ``compute_objectives``: features, model, teacher
      taps; task loss plus the weighted terms. SpeechBrain's ``fit_batch``
      and ``evaluate_batch`` are kept, so AMP (``--precision``), gradient
      accumulation, resuming and DDP work as in any recipe;
    * ``on_stage_start`` / ``on_stage_end``: term averages, metrics,
      logging, learning-rate annealing, checkpoints (one helper per stage);
    * ``on_fit_start`` / ``on_evaluate_start``: set aside half-written
      checkpoints of a killed run before resuming, then move, freeze and
      fingerprint the teacher. The checkpointer also gets a
      :class:`~speechbrain_iusp.distill.checkpoints.RandomState`
      recoverable, so that a resumed run draws the same random numbers as an
      uninterrupted one;
    * ``fit``: records whether a validation set is given (without one the
      TRAIN stage saves the checkpoints);
    * ``_wrap_distributed`` (a private SpeechBrain method): on CPU (gloo) it
      wraps in DDP without SyncBatchNorm, which PyTorch refuses for CPU
      modules; GPU runs keep SpeechBrain's wrapping.

    Mistakes fail before the first optimisation step: both models run
    with every tap on the first batch (``compute_forward``), and a
    misspelt tap is refused naming its terms and the closest tap names;
    an error inside a term names the term, its taps, shapes and layouts.
    With the teacher cache, the terms' teacher layouts say where it cuts
    time (:class:`DistillTerm`).

    Batch contract (:mod:`speechbrain_iusp.distill.batch`, checked on every
    batch): ``batch.id``; either ``batch.feats`` (features ``[B, T, ...]``
    and relative lengths, e.g. from a
    :class:`~speechbrain_iusp.features.FeatureCache`, with their entry keys
    in ``batch.feats_key``, which then key the teacher cache) or
    ``batch.sig`` (waveforms ``[B, samples]`` and relative lengths,
    featurised here); ``batch.targets``: multi-hot ``[B, C]`` for
    ``task: tagging``, class indices ``[B]`` / ``[B, 1]`` or probabilities
    ``[B, C]`` for ``task: classification``; optionally
    ``batch.target_weight`` (``[B, C]`` for tagging, e.g. the SONYC-UST mask
    of fine tags under an "X" tag; ``[B]`` for classification).

    hparams read once at construction:

    * ``compute_features``: ``wavs -> feats [B, T, F]`` (e.g. ``Fbank``),
      needed for batches of waveforms (``batch.sig``);
    * ``wav_augment``: ``(wavs, lens) -> (wavs, lens)``, train only, on
      waveforms (needs ``batch.sig``: features from a cache cannot be
      augmented as waveforms);
    * ``normalize``: ``(feats, lens) -> feats``, a stateless normalisation
      (a global one that keeps updating would invalidate the teacher cache);
    * ``augment``: ``(feats, lens) -> (feats, lens)``, train only, before
      both models; if it grows the batch, labels are replicated with its
      ``replicate_labels``;
    * ``mixup_alpha``: train only, :func:`mixup` after ``augment``; 0 = off;
    * ``teacher``: the frozen teacher module (or ``teacher=`` here);
    * ``distill_terms``: list of :class:`DistillTerm` dicts;
    * ``task``: ``tagging`` (multi-label, the default) or
      ``classification`` (single-label); see :class:`~.batch.Task`;
    * ``task_loss``: ``(logits, targets, weight=None) -> loss`` (default:
      :func:`~speechbrain_iusp.losses.tagging_bce_loss` for tagging,
      :func:`~speechbrain_iusp.losses.classification_loss` for
      classification);
    * ``metric_stats``: factory of a stage accumulator for VALID / TEST
      (``append(ids, scores, targets)``, ``summarize(**kw) -> dict``), with
      ``metric_mode`` passed to ``summarize(mode=...)`` when set. Scores are
      probabilities (sigmoid for tagging, softmax for classification); for
      classification the targets are class indices ``[B]``, so
      SpeechBrain's ``MetricStats(metric=classification_error)`` (with
      ``reduction: batch``) works as it is;
    * ``selection_key``, ``selection_mode``: the key (of the metric
      summary, or a logged stage value such as ``loss``) whose ``max`` or
      ``min`` (default ``max``) keeps a checkpoint; also fed to
      ``NewBobScheduler`` and the epoch counter (``1 - value`` for a
      maximum). Without a key the lowest validation loss is kept.
      ``brain.selection`` gives the matching ``{"max_key": ...}`` or
      ``{"min_key": ...}`` for ``evaluate`` and ``load_teacher``;
    * ``logged_metrics``: summary keys logged per stage, as the metric
      object reports them (default: the selection key);
    * ``lr_annealing``: ``NewBobScheduler`` or an epoch-based scheduler;
    * ``train_logger``, ``epoch_counter``;
    * ``teacher_cache``: ``True`` / ``False`` or a :class:`TeacherCache`;
    * ``gradient_share``: log, per TRAIN stage, each term's share of the
      gradient at its student tap (``<name>_share``, see
      ``gradient_shares``), so that a weight can be read as "how hard the
      term pulls that layer against the task".

    Logged per stage (averages over the stage's batches): ``loss`` (the
    total), ``task`` and one entry per term name (unweighted). After TEST the
    summary and the metric object are on ``self.last_stats`` /
    ``self.last_metric_stats``; ``self.stage_terms`` holds the last stage's
    term averages.

    Arguments
    ---------
    modules : dict
        Must contain ``model``; must not contain the teacher.
    opt_class : callable
        Optimiser factory.
    hparams : dict
        See above.
    run_opts : dict
        SpeechBrain run options.
    checkpointer : Checkpointer
        Its recoverables must not contain the teacher.
    teacher : torch.nn.Module, optional
        Overrides ``hparams["teacher"]``.

    Example
    -------
    >>> from speechbrain.dataio.batch import PaddedBatch
    >>> model = torch.nn.Linear(8, 3)
    >>> brain = DistillationBrain(
    ...     modules={"model": model},
    ...     opt_class=lambda p: torch.optim.SGD(p, lr=0.1),
    ...     hparams={"compute_features": lambda w: w},
    ...     run_opts={"device": "cpu"},
    ... )
    >>> batch = PaddedBatch([
    ...     {"id": "a", "sig": torch.randn(8), "targets": torch.ones(3)}
    ... ])
    >>> out = brain.compute_forward(batch, sb.Stage.TRAIN)
    >>> out["logits"].shape
    torch.Size([1, 3])
    >>> brain.compute_objectives(out, batch, sb.Stage.TRAIN).shape
    torch.Size([])
    """

    def __init__(
        self,
        modules=None,
        opt_class=None,
        hparams=None,
        run_opts=None,
        checkpointer=None,
        teacher=None,
    ):
        if hparams is not None and hparams.get("precision") == "auto":
            hparams = dict(hparams)
            resolve_precision(hparams, run_opts)
        super().__init__(modules, opt_class, hparams, run_opts, checkpointer)
        if "model" not in self.modules:
            raise ValueError('DistillationBrain needs modules["model"]')
        cfg = SimpleNamespace(
            **{k: getattr(self.hparams, k, v) for k, v in _SETTINGS.items()}
        )
        cfg.mixup_alpha = float(cfg.mixup_alpha or 0.0)
        self.task = Task(cfg.task)
        cfg.task_loss = cfg.task_loss or self.task.default_loss
        if cfg.selection_mode not in ("max", "min"):
            raise ValueError(
                f"hparams 'selection_mode' is {cfg.selection_mode!r}; choose "
                "'max' (e.g. an AUPRC or accuracy) or 'min' (e.g. an error)"
            )
        cfg.logged_metrics = list(
            cfg.logged_metrics
            or ([cfg.selection_key] if cfg.selection_key else [])
        )
        self.cfg = cfg
        module = teacher if teacher is not None else cfg.teacher
        self.terms = [
            DistillTerm.from_config(t).build() for t in cfg.distill_terms or []
        ]
        names = [t.name for t in self.terms]
        if len(set(names)) != len(names) or {"task", "loss"} & set(names):
            raise ValueError(
                f"distill term names must be unique and not 'task'/'loss': "
                f"{names}"
            )
        if self.terms and module is None:
            raise ValueError(
                "distill_terms are set but there is no teacher: set "
                "hparams['teacher'] or pass teacher= to the Brain"
            )
        self.frozen_teacher = None
        if module is not None:
            cache = self._teacher_cache()
            self.frozen_teacher = FrozenTeacher(
                module,
                taps=[t.teacher_tap for t in self.terms],
                cache=cache,
                device=self.device,
                precision=self.precision,
                eval_precision=self.eval_precision,
                time_axes=self._teacher_time_axes(cache is not None),
            )
            self.frozen_teacher.check_outside(self.modules, self.checkpointer)
            self.frozen_teacher.freeze()
            if not self.terms:
                logger.warning("A teacher was given without distill_terms.")
        self.student_taps = sorted({t.student_tap for t in self.terms})
        self.metric_stats = None
        self.last_stats = None
        self.last_metric_stats = None
        self.stage_terms = {}
        self.train_stats = None
        self._term_sums = {}
        self._term_count = 0
        self._has_valid = True
        if (
            self.checkpointer is not None
            and "random_state" not in self.checkpointer.recoverables
        ):
            self.checkpointer.add_recoverable(
                "random_state", RandomState(), optional_load=True
            )

    # ---------------------------------------------------------------- setup
    @property
    def teacher(self):
        """The teacher module, or None (``frozen_teacher.module``)."""
        if self.frozen_teacher is None:
            return None
        return self.frozen_teacher.module

    @property
    def input_varies(self):
        """True when the training input changes from epoch to epoch."""
        cfg = self.cfg
        return (
            cfg.wav_augment is not None
            or cfg.augment is not None
            or cfg.mixup_alpha > 0
        )

    def _teacher_cache(self):
        """``hparams.teacher_cache``; None without terms or if input varies."""
        setting = self.cfg.teacher_cache
        # not `not setting`: an empty TeacherCache has len 0
        if setting is None or setting is False or not self.terms:
            return None
        if self.input_varies:
            logger.warning(
                "teacher_cache is disabled: with augmentation or mixup the "
                "teacher's input changes every epoch"
            )
            return None
        return setting

    def _teacher_time_axes(self, cached):
        """Teacher tap -> time axis, from the terms' teacher layouts.

        With the cache on, terms that read one tap with time on different
        axes are refused: the cache cuts each tap along one axis.
        """
        axes, readers = {}, {}
        for term in self.terms:
            tap, axis = term.teacher_tap, time_axis(term.layouts[1])
            if cached and axes.get(tap, axis) != axis:
                raise ValueError(
                    f"distill terms {readers[tap]!r} and {term.name!r} read "
                    f"the teacher tap {tap!r} with time on axes "
                    f"{axes[tap]} and {axis} (their teacher layouts): the "
                    "teacher cache cuts a tap along one time axis; give them "
                    "the same teacher_layout"
                )
            axes[tap], readers[tap] = axis, term.name
        return axes

    def _tap_error(self, err, side):
        """A misspelt tap: the terms that read it and the closest names."""
        tap, users = err.tap, []
        for term in self.terms:
            if side == "student" and term.student_tap == err.tap:
                users.append(term.name)
            elif side == "teacher" and err.tap in (
                self.frozen_teacher.member_taps(term.teacher_tap)
            ):
                users.append(term.name)
                tap = term.teacher_tap  # an ensemble's rnn, not rnn@0
        suffix = err.tap[len(tap) :]  # e.g. an ensemble member's "@0"
        close = err.suggestions(tap, suffix)
        hidden = [
            name[: len(name) - len(suffix)]
            for name in err.hidden
            if name.endswith(suffix)
        ]
        model = self.modules.model if side == "student" else self.teacher
        hint = f"did you mean {' or '.join(map(repr, close))}? "
        return ValueError(
            f"distill term(s) {', '.join(map(repr, users))}: unknown tap "
            f"{tap!r} of the {side} ({type(unwrap(model)).__name__}); "
            + (hint if close else "")
            + f"A tap is {'logits'!r}, a name of the model's hidden dict "
            f"({', '.join(hidden) or 'none'}) or one of its "
            f"{len(err.paths)} module paths (model.named_modules())."
        )

    def fit(self, epoch_counter, train_set, valid_set=None, *args, **kwargs):
        """Runs ``sb.Brain.fit``; remembers whether there is a valid set.

        Arguments
        ---------
        epoch_counter : iterable
            Epoch counter.
        train_set : Dataset or DataLoader
            Training data.
        valid_set : Dataset or DataLoader, optional
            Validation data.
        *args
            Passed to ``sb.Brain.fit``.
        **kwargs
            Passed to ``sb.Brain.fit``.
        """
        self._has_valid = valid_set is not None
        return super().fit(epoch_counter, train_set, valid_set, *args, **kwargs)

    def _wrap_distributed(self):
        """DDP-wraps the trainable modules; on CPU without SyncBatchNorm."""
        if not (self.distributed_launch and self.device_type == "cpu"):
            return super()._wrap_distributed()
        for name, module in self.modules.items():
            if any(p.requires_grad for p in module.parameters()):
                self.modules[name] = torch.nn.parallel.DistributedDataParallel(
                    module,
                    device_ids=None,
                    find_unused_parameters=self.find_unused_parameters,
                )

    def _discard_incomplete_checkpoints(self):
        """Sets aside half-written checkpoints (main process), if any."""
        if self.checkpointer is not None:
            run_on_main(
                discard_incomplete_checkpoints, args=[self.checkpointer]
            )

    def on_fit_start(self):
        """Sets aside half-written checkpoints, default start, teacher."""
        self._discard_incomplete_checkpoints()
        super().on_fit_start()
        if self.frozen_teacher is not None:
            self.frozen_teacher.check_outside(self.modules, self.checkpointer)
            self.frozen_teacher.prepare()

    def on_evaluate_start(self, max_key=None, min_key=None):
        """Loads the best checkpoint, then prepares the teacher.

        Arguments
        ---------
        max_key : str, optional
            Checkpoint meta key to maximise.
        min_key : str, optional
            Checkpoint meta key to minimise.
        """
        self._discard_incomplete_checkpoints()
        super().on_evaluate_start(max_key=max_key, min_key=min_key)
        if self.frozen_teacher is not None:
            self.frozen_teacher.prepare()

    # -------------------------------------------------------------- forward
    def compute_forward(self, batch, stage):
        """Features (+ normalisation, + train augmentation), model, teacher.

        Arguments
        ---------
        batch : PaddedBatch
            See the batch contract in the class docstring.
        stage : sb.Stage
            The stage.

        Returns
        -------
        dict
            ``logits``, ``student`` (tap -> activation), ``teacher``
            (tap -> activation, or None), ``lengths``, ``targets``,
            ``target_weight`` (the last two replicated if augmentation grew
            the batch).
        """
        cfg = self.cfg
        batch = batch.to(self.device)
        features = getattr(self.hparams, "compute_features", None)
        fields = read_batch(batch, self.task, features is not None)
        targets, weight, lens = fields.targets, fields.weight, fields.lens
        if fields.feats is not None:
            if stage == sb.Stage.TRAIN and cfg.wav_augment is not None:
                raise ValueError(
                    "wav_augment needs waveforms (batch.sig), but the batch "
                    "holds features (batch.feats): switch the feature cache "
                    "off to augment waveforms"
                )
            feats = fields.feats
        else:
            wavs = fields.sig
            if stage == sb.Stage.TRAIN and cfg.wav_augment is not None:
                wavs, lens = cfg.wav_augment(wavs, lens)
            feats = features(wavs)
        if cfg.normalize is not None:
            feats = cfg.normalize(feats, lens)
        if stage == sb.Stage.TRAIN and cfg.augment is not None:
            n_before = feats.shape[0]
            feats, lens = cfg.augment(feats, lens)
            if feats.shape[0] != n_before:
                if not hasattr(cfg.augment, "replicate_labels"):
                    raise ValueError(
                        "augment changed the batch size but has no "
                        "replicate_labels() to replicate the targets"
                    )
                targets = cfg.augment.replicate_labels(targets)
                if weight is not None:
                    weight = cfg.augment.replicate_labels(weight)
        if stage == sb.Stage.TRAIN and cfg.mixup_alpha > 0:
            if self.task.name == "classification" and (
                not targets.is_floating_point() or targets.shape[1] == 1
            ):
                raise ValueError(
                    "mixup_alpha > 0 mixes targets, so single-label targets "
                    "must be class probabilities [B, C] (one-hot), not "
                    "class indices; one-hot encode them in the dataset"
                )
            feats, lens, targets, weight = mixup(
                feats, lens, targets, weight, cfg.mixup_alpha
            )

        # A misspelt tap fails here on the first batch, before any step.
        try:
            logits, student = run_with_taps(
                self.modules.model, feats, lens, self.student_taps
            )
        except UnknownTapError as err:
            raise self._tap_error(err, "student") from err
        logits = _clip_logits(logits, targets)
        teacher = None
        if self.frozen_teacher is not None and self.terms:
            try:
                teacher = self.frozen_teacher.outputs(
                    fields.ids, feats, lens, stage, fields.feats_key
                )
            except UnknownTapError as err:
                raise self._tap_error(err, "teacher") from err
        taps = tap_lengths(
            self.modules.model, lens, feats.shape[1], self.student_taps
        )
        return {
            "logits": logits,
            "student": student,
            "teacher": teacher,
            "lengths": lens,
            "tap_lengths": taps,
            "targets": targets,
            "target_weight": weight,
        }

    def compute_objectives(self, predictions, batch, stage):
        """Task loss + weighted distillation terms; metrics on VALID/TEST.

        The terms are computed in float32 with autocast disabled (Gram
        matrices are fragile in bf16/fp16).

        Arguments
        ---------
        predictions : dict
            Output of ``compute_forward``.
        batch : PaddedBatch
            The batch.
        stage : sb.Stage
            The stage.

        Returns
        -------
        torch.Tensor
            The total objective.
        """
        logits = predictions["logits"].float()
        targets = predictions["targets"]
        task = self.cfg.task_loss(
            logits,
            self.task.loss_targets(targets),
            weight=predictions["target_weight"],
        )
        total = task
        values = {"task": task.detach()}
        weighted = []
        if predictions["teacher"] is not None:
            lens = predictions["lengths"]
            taps = predictions.get("tap_lengths") or {}
            with torch.autocast(device_type=self.device_type, enabled=False):
                for term in self.terms:
                    s_act = predictions["student"][term.student_tap].float()
                    s_lens = taps.get(term.student_tap, lens)
                    value = self._term_value(
                        term, s_act, predictions["teacher"], s_lens
                    )
                    values[term.name] = value.detach()
                    weighted.append((term, term.weight * value))
                    total = total + weighted[-1][1]
        if stage == sb.Stage.TRAIN and self.cfg.gradient_share and weighted:
            values.update(
                gradient_shares(task, weighted, predictions["student"])
            )
        for name, value in values.items():
            self._term_sums[name] = self._term_sums.get(name, 0.0) + float(
                value
            )
        self._term_count += 1

        if stage != sb.Stage.TRAIN and self.metric_stats is not None:
            self.metric_stats.append(
                batch.id,
                self.task.scores(logits).detach().cpu(),
                self.task.metric_targets(targets).cpu(),
            )
        return total

    def _term_value(self, term, student, teacher, lengths):
        """A term in float32, averaged over the teacher's ensemble members."""
        return self.frozen_teacher.member_mean(
            lambda act: term(student, act.float(), lengths),
            teacher,
            term.teacher_tap,
        )

    # --------------------------------------------------------------- stages
    def on_stage_start(self, stage, epoch=None):
        """Resets the term averages and the stage's metrics.

        Arguments
        ---------
        stage : sb.Stage
            The stage.
        epoch : int, optional
            The epoch.
        """
        self._term_sums, self._term_count = {}, 0
        factory = self.cfg.metric_stats
        if stage != sb.Stage.TRAIN and factory is not None:
            self.metric_stats = factory()
        else:
            self.metric_stats = None

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Logs the stage; anneals and keeps checkpoints after validation.

        Arguments
        ---------
        stage : sb.Stage
            The stage.
        stage_loss : float
            Average total objective over the stage.
        epoch : int, optional
            The epoch.
        """
        count = max(self._term_count, 1)
        self.stage_terms = {k: v / count for k, v in self._term_sums.items()}
        if self.frozen_teacher is not None:
            self.frozen_teacher.save_cache()
        stats = {"loss": stage_loss, **self.stage_terms}
        if stage == sb.Stage.TRAIN:
            self._end_train(stats, stage_loss, epoch)
        elif stage == sb.Stage.VALID:
            self._end_valid(stats, stage_loss, epoch)
        else:
            self._end_test(stats)

    def _summarize(self, stats):
        """Summarises the stage's metrics; adds the logged ones to stats."""
        if self.metric_stats is None:
            return None
        if self.cfg.metric_mode is None:
            summary = self.metric_stats.summarize()
        else:
            summary = self.metric_stats.summarize(mode=self.cfg.metric_mode)
        for key in self.cfg.logged_metrics:
            if key in summary:
                stats[key] = summary[key]
        return summary

    @property
    def selection(self):
        """``{"max_key": key}`` or ``{"min_key": key}`` (empty without one).

        For ``evaluate(**brain.selection)`` and ``load_teacher``.
        """
        key = self.cfg.selection_key
        if key is None:
            return {"min_key": "loss"} if self.checkpointer else {}
        return {f"{self.cfg.selection_mode}_key": key}

    def _score(self, summary, stats):
        """The selection value, from the summary or the stage stats."""
        key = self.cfg.selection_key
        if key is None:
            return None
        if summary is not None and key in summary:
            return float(summary[key])
        if key in stats:
            return float(stats[key])
        keys = sorted(set(summary or {}) | set(stats))
        raise KeyError(
            f"selection_key {key!r} is neither in the metric summary nor in "
            f"the stage's values (keys: {keys}); set selection_key to one of "
            "them"
        )

    def _as_loss(self, score):
        """The selection value as something to minimise (for schedulers)."""
        return 1.0 - score if self.cfg.selection_mode == "max" else score

    def _end_train(self, stats, stage_loss, epoch):
        """Keeps the train stats; saves here when there is no valid set."""
        self.train_stats = stats
        if self._has_valid:
            return
        self._log(
            stats_meta={"epoch": epoch, "lr": self._current_lr()},
            train_stats=stats,
        )
        self._save_checkpoint(None, stage_loss, epoch)

    def _end_valid(self, stats, stage_loss, epoch):
        """Anneals the learning rate, logs, keeps the best checkpoint."""
        score = self._score(self._summarize(stats), stats)
        lr = self._anneal(score, stage_loss, epoch)
        counter = self.cfg.epoch_counter
        if score is not None and hasattr(counter, "update_metric"):
            counter.update_metric(self._as_loss(score))
        self._log(
            stats_meta={"epoch": epoch, "lr": lr},
            train_stats=self.train_stats,
            valid_stats=stats,
        )
        self._save_checkpoint(score, stage_loss, epoch)

    def _end_test(self, stats):
        """Logs the test stats and keeps the summary for the caller."""
        summary = self._summarize(stats)
        counter = self.cfg.epoch_counter
        meta = {"Epoch loaded": getattr(counter, "current", None)}
        self._log(stats_meta=meta, test_stats=stats)
        self.last_stats = summary if summary is not None else stats
        self.last_metric_stats = self.metric_stats

    def _anneal(self, score, stage_loss, epoch):
        """Steps ``lr_annealing``; returns the learning rate of the epoch."""
        lr = self._current_lr()
        annealing = self.cfg.lr_annealing
        if annealing is None or getattr(self, "optimizer", None) is None:
            return lr
        if isinstance(annealing, NewBobScheduler):
            lr, new_lr = annealing(
                stage_loss if score is None else self._as_loss(score)
            )
        else:
            lr, new_lr = annealing(epoch)
        update_learning_rate(self.optimizer, new_lr)
        return lr

    def _save_checkpoint(self, score, stage_loss, epoch):
        """Saves, keeping the best by ``selection_key`` (else lowest loss)."""
        if self.checkpointer is None:
            return
        meta = {"loss": stage_loss, "epoch": epoch}
        if score is None:
            self.checkpointer.save_and_keep_only(meta=meta, min_keys=["loss"])
            return
        key = self.cfg.selection_key
        self.checkpointer.save_and_keep_only(
            meta={**meta, key: score},
            **{f"{self.cfg.selection_mode}_keys": [key]},
        )

    def _log(self, **kwargs):
        """Logs through ``hparams.train_logger`` if there is one."""
        if self.cfg.train_logger is not None:
            self.cfg.train_logger.log_stats(**kwargs)
        elif if_main_process():
            logger.info(str(kwargs))

    def _current_lr(self):
        """Learning rate of the first parameter group (or None)."""
        opt = getattr(self, "optimizer", None)
        if opt is None:
            return None
        return opt.param_groups[0]["lr"]


def _clip_logits(logits, targets):
    """Logits ``[B, C]``; ``[B, 1, C]`` (SpeechBrain classifiers) squeezed."""
    if logits.dim() == 3 and logits.shape[1] == 1:
        logits = logits[:, 0]
    if logits.dim() != 2 or logits.shape[0] != targets.shape[0]:
        raise ValueError(
            f"the model returned logits of shape {list(logits.shape)} for "
            f"{targets.shape[0]} clips; DistillationBrain needs clip logits "
            "[B, C] (or [B, 1, C]): pool frame outputs over time in the model"
        )
    return logits
